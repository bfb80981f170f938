/* Mieruka map: layer data, marker styling, client-side filters, counts, list view and
 * "near me".
 *
 * Everything a filter click changes runs here, in the browser, without a request to the
 * server. Each layer is downloaded once, as columns (services/layers.map_bodies), and its
 * features shared by the markers (mieruka-map-view.js), the counts, the list and near me.
 */
(function () {
  "use strict";
  var m = window.mieruka;  // made by mieruka-base.js

  /* ---------- text ---------- */

  // NFKC, katakana → hiragana, lower case, no white space: full-width, half-width kana and
  // katakana typed all find the same places.
  m.searchKey = function (text) {
    if (!text) return "";
    var s = String(text).normalize("NFKC");
    var out = "";
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      out += c >= 0x30a1 && c <= 0x30f6 ? String.fromCharCode(c - 0x60) : s[i];
    }
    return out.toLowerCase().replace(/\s+/g, "");
  };

  /** A count as the browser's language writes it (one formatter: making one per number costs
   * more than drawing the marker that shows it). */
  var counts = new Intl.NumberFormat();
  m.count = function (n) { return counts.format(n); };

  m.escape = function (text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };

  /* ---------- time in the deployment's time zone ---------- */

  // one formatter per time zone: making one costs more than a layer's filtering on a phone
  var clocks = {};
  m.nowParts = function (timeZone) {
    var tz = timeZone || "Asia/Tokyo", parts = {};
    if (!clocks[tz]) {
      clocks[tz] = new Intl.DateTimeFormat("en-GB", {
        timeZone: tz, weekday: "short", year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      });
    }
    clocks[tz].formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    var weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(parts.weekday);
    return {
      weekday: weekday,
      minutes: parseInt(parts.hour, 10) * 60 + parseInt(parts.minute, 10),
      date: parts.year + "-" + parts.month + "-" + parts.day,
    };
  };

  function minutesOf(hhmm) {
    if (!hhmm) return null;
    var p = hhmm.split(":");
    return parseInt(p[0], 10) * 60 + parseInt(p[1], 10);
  }

  function addDays(isoDate, days) {
    var d = new Date(isoDate + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function isOpen(p, now) {
    if (p.days && p.days.indexOf(now.weekday) < 0) return false;
    var open = minutesOf(p.open_time), close = minutesOf(p.close_time);
    if (open == null || close == null) return false;
    if (close <= open) return now.minutes >= open || now.minutes < close; // overnight
    return now.minutes >= open && now.minutes < close;
  }

  function is24h(p) {
    var allDays = !p.days || [0, 1, 2, 3, 4, 5, 6].every(function (d) { return p.days.indexOf(d) >= 0; });
    return allDays && p.open_time === "00:00" && (p.close_time === "24:00" || p.close_time === "23:59");
  }

  /* ---------- filters: one predicate per filter kind ---------- */

  var kinds = {
    // "1" → the filter's own field; otherwise the chosen option names the field (hazards)
    flag: function (p, f) { return p[f.value === "1" ? f.fields[0] : f.value] === true; },
    open_now: function (p, f, now) { return isOpen(p, now); },
    open_24h: function (p) { return is24h(p); },
    choice: function (p, f) { return p[f.fields[0]] === f.value; },
    contains: function (p, f) { var v = p[f.fields[0]]; return !!v && v.indexOf(f.value) >= 0; },
    vacancy: function (p, f) {
      // value "age@YYYY-MM": a free place in that age class that month
      var parts = f.value.split("@"), series = p[f.fields[0]] || {};
      var month = parts[1] || f.latest, v = series[month];
      if (!v) return false;
      if (parts[0] === "" || parts[0] === "any") return v.some(function (x) { return x > 0; });
      return v[parseInt(parts[0], 10)] > 0;
    },
    air_level: function (p, f) {
      // value "POLLUTANT:minLevel"
      var parts = f.value.split(":"), r = (p.readings || {})[parts[0]];
      return !!r && r.level >= parseInt(parts[1] || "1", 10);
    },
    date_window: function (p, f, now) {
      var from, to;
      if (f.value === "today") { from = to = now.date; }
      else if (f.value === "week") { from = now.date; to = addDays(now.date, 6); }
      else { var r = f.value.split(".."); from = r[0] || "0000-00-00"; to = r[1] || "9999-99-99"; }
      var start = p[f.fields[0]], end = p[f.fields[1]] || start;
      return !!start && start <= to && end >= from;
    },
  };

  /** Does feature properties `p` pass every active filter in hideout `h`? */
  m.match = function (p, h, now) {
    if (h.areas && h.areas.indexOf(p.area_code) < 0) return false;
    if (h.q) {
      if (p._q === undefined) p._q = m.searchKey([p.name, p.name_kana, p.address].join(" "));
      if (p._q.indexOf(h.q) < 0) return false;
    }
    var filters = h.filters || [];
    for (var i = 0; i < filters.length; i++) {
      var f = filters[i], test = kinds[f.kind];
      if (test && !test(p, f, now)) return false;
    }
    return true;
  };

  function isActive(h) {
    return !!(h.q || h.areas || (h.filters && h.filters.length));
  }

  /* ---------- marker icons ---------- */

  var shapes = {
    circle: '<circle cx="14" cy="14" r="12"/>',
    square: '<rect x="2.5" y="2.5" width="23" height="23" rx="3"/>',
    diamond: '<path d="M14 1 27 14 14 27 1 14z"/>',
    triangle: '<path d="M14 1.5 27 25.5H1z"/>',
    hexagon: '<path d="M7.5 2h13L27 14l-6.5 12h-13L1 14z"/>',
    cross: '<path d="M9.5 1.5h9v8h8v9h-8v8h-9v-8h-8v-9h8z"/>',
    star: '<path d="M14 1l3.6 8.2 8.9.9-6.7 6 1.9 8.8L14 20.4 6.3 24.9l1.9-8.8-6.7-6 8.9-.9z"/>',
  };

  function textColour(hex) {
    var n = parseInt(hex.slice(1), 16), r = n >> 16, g = (n >> 8) & 255, b = n & 255;
    return (0.299 * r + 0.587 * g + 0.114 * b) > 150 ? "#000" : "#fff";
  }

  var iconCache = {};
  m.markerIcon = function (h) {
    var key = h.id;
    if (!iconCache[key]) {
      var glyph = m.escape(h.icon), small = h.icon.length > 2 ? 8 : h.icon.length > 1 ? 10 : 13;
      var svg = '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28" viewBox="0 0 28 28" aria-hidden="true">' +
        '<g fill="' + h.colour + '" stroke="#fff" stroke-width="1.5">' + (shapes[h.shape] || shapes.circle) + "</g>" +
        '<text x="14" y="' + (h.shape === "triangle" ? 20 : 18) + '" text-anchor="middle" font-size="' + small +
        '" font-weight="700" fill="' + textColour(h.colour) + '">' + glyph + "</text></svg>";
      iconCache[key] = L.divIcon({ html: svg, className: "mk-marker mk-marker-" + h.id, iconSize: [28, 28], iconAnchor: [14, 14] });
    }
    return iconCache[key];
  };

  m.clusterIcon = function (h, count) {
    var label = count >= 10000 ? Math.round(count / 1000) + "k" : count >= 1000 ? (count / 1000).toFixed(1) + "k" : String(count);
    var size = count < 10 ? 30 : count < 100 ? 36 : count < 1000 ? 42 : 48;
    return L.divIcon({
      html: '<div style="background:' + h.colour + ";color:" + textColour(h.colour) + ";width:" + size + "px;height:" + size +
        "px;line-height:" + size + 'px" data-count="' + count + '"><span>' + label + "</span></div>",
      className: "mk-cluster mk-cluster-" + h.id, iconSize: [size, size],
    });
  };

  /* ---------- layer data: one download per layer, shared by markers, counts, list and near me ---------- */

  // url → Promise of the layer's features, made from the columns the server sends
  // (services/layers.map_bodies): GeoJSON-like objects, as supercluster reads them.
  var data = {}, texts = {};

  var fetchOk = m.fetchOk, fetchJson = m.fetchJson;  // mieruka-base.js

  function decode(body) {
    var n = body.n, scale = body.scale, cols = body.columns, names = Object.keys(cols);
    var features = new Array(n), x = 0, y = 0;
    for (var i = 0; i < n; i++) {
      x += body.lon[i]; y += body.lat[i];
      var p = {};
      for (var k = 0; k < names.length; k++) {
        var v = cols[names[k]][i];
        if (v !== null) p[names[k]] = v;
      }
      features[i] = { type: "Feature", geometry: { type: "Point", coordinates: [x / scale, y / scale] }, properties: p };
    }
    return features;
  }

  /* Whole layers' bodies are taken in as bytes when they arrive and parsed here, in turn: the
   * first to arrive at once, so that its markers are drawn (and painted) before any other layer
   * is parsed; those arriving meanwhile together, in tasks of about SLICE_MS (each layer drawn
   * as soon as its task is over), so that the page is never held for long nor repainted per layer. */
  var SLICE_MS = 50;
  var waiting = [], slicing = false, first = true, utf8 = new TextDecoder();
  var channel = null, afterTask = [];  // made when first needed: an open channel keeps node's tests running
  function nextTask(fn) {
    if (!channel) {
      channel = new MessageChannel();
      channel.port1.onmessage = function () { afterTask.shift()(); };
    }
    afterTask.push(fn);
    channel.port2.postMessage(0);
  }

  function readSlice() {
    var start = performance.now();
    do {
      var job = waiting.shift();
      try { job.resolve(decode(JSON.parse(utf8.decode(job.bytes)))); } catch (err) { job.reject(err); }
    } while (waiting.length && performance.now() - start < SLICE_MS);
    slicing = waiting.length > 0;
    if (slicing) nextTask(readSlice);
  }

  function readInTurn(url) {
    return fetchOk(url).then(function (r) { return r.arrayBuffer(); }).then(function (bytes) {
      return new Promise(function (resolve, reject) {
        waiting.push({ bytes: bytes, resolve: resolve, reject: reject });
        if (slicing) return;
        slicing = true;
        if (first) { first = false; readSlice(); } else { nextTask(readSlice); }
      });
    });
  }

  m.load = function (url) {
    if (!data[url]) {
      data[url] = readInTurn(url).then(function (features) {
        // cluster it while Dash fetches its layout: once the scripts have run (the preloads
        // arrive before them)
        if (document.readyState === "loading") {
          document.addEventListener("DOMContentLoaded", function () { m.clusterIndex(features); });
        } else {
          m.clusterIndex(features);
        }
        return features;
      }).catch(function (err) { delete data[url]; throw err; });
    }
    return data[url];
  };

  /** A layer's features with their text (kana, address) merged in: for search and the list. */
  function withText(layer) {
    if (!texts[layer.textUrl]) {
      texts[layer.textUrl] = Promise.all([m.load(layer.url), fetchJson(layer.textUrl)]).then(function (both) {
        var features = both[0], cols = both[1].columns;
        Object.keys(cols).forEach(function (name) {
          var values = cols[name];
          for (var i = 0; i < features.length; i++) {
            if (values[i] !== null) features[i].properties[name] = values[i];
            delete features[i].properties._q;
          }
        });
        return features;
      }).catch(function (err) { delete texts[layer.textUrl]; throw err; });
    }
    return texts[layer.textUrl];
  }

  /* ---------- big layers: chunks in view, and the server's summary below DETAIL_Z ---------- */

  // A layer with `tiles` in its meta (services/layers.map_tiles) is never downloaded whole: once
  // the view is zoomed in to tiles.detail, the chunks (tiles of zoom tiles.z) in view are loaded
  // and filtered, clustered and listed here like a small layer; below that, the server's summary
  // of the view (the filtered places counted per cell) is drawn as weighted clusters. Either
  // way the count while a filter is on is the summary's (the whole layer's, not the view's).

  function tileX(lon, z) { return Math.min(Math.pow(2, z) - 1, Math.max(0, Math.floor((lon + 180) / 360 * Math.pow(2, z)))); }
  function tileY(lat, z) {
    var r = Math.max(-85.05112878, Math.min(85.05112878, lat)) * Math.PI / 180;
    var y = Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * Math.pow(2, z));
    return Math.min(Math.pow(2, z) - 1, Math.max(0, y));
  }

  /** Tiles x0..x1, y0..y1 of zoom z under bounds {s, w, n, e}, `pad` more on every side. */
  function tileBox(b, z, pad) {
    var last = Math.pow(2, z) - 1;
    return { z: z, x0: Math.max(0, tileX(b.w, z) - pad), x1: Math.min(last, tileX(b.e, z) + pad),
             y0: Math.max(0, tileY(b.n, z) - pad), y1: Math.min(last, tileY(b.s, z) + pad) };
  }

  /** Does a summary of tiles `box` serve a view of bounds `b` at `zoom`? Its cells are fine
   * enough for one zoom step in (services/map_index.CELL_DEPTH), and they must cover the view. */
  function serves(box, b, zoom) {
    if (zoom < box.z || zoom > box.z + 1) return false;
    var need = tileBox(b, box.z, 0);
    return need.x0 >= box.x0 && need.x1 <= box.x1 && need.y0 >= box.y0 && need.y1 <= box.y1;
  }

  var chunkData = {}, chunkSets = {}, summaries = {};

  /** The features of the chunks of `layer` among tiles `box`: one array per set of chunks. */
  function chunksIn(layer, box) {
    var t = layer.tiles, urls = [];
    t.chunks.forEach(function (c) {
      if (c[0] >= box.x0 && c[0] <= box.x1 && c[1] >= box.y0 && c[1] <= box.y1) {
        urls.push(t.chunk.replace("{x}", c[0]).replace("{y}", c[1]));
      }
    });
    var key = urls.join(" "), set = chunkSets[layer.id];
    if (set && set.key === key) return set.promise;
    var promise = Promise.all(urls.map(function (url) {
      if (!chunkData[url]) {
        chunkData[url] = fetchJson(url).then(decode).catch(function (err) { delete chunkData[url]; throw err; });
      }
      return chunkData[url];
    })).then(function (parts) { return [].concat.apply([], parts); });
    // a chunk that failed is asked for again at the next view change, not remembered as failed
    promise.catch(function () { if (chunkSets[layer.id] && chunkSets[layer.id].promise === promise) delete chunkSets[layer.id]; });
    chunkSets[layer.id] = { key: key, promise: promise };
    return promise;
  }

  /** The summary query of a layer's filters, area and search (api.layer_summary). */
  function summaryQuery(state, layer) {
    var q = new URLSearchParams(), values = (state.filters || {})[layer.id] || {};
    Object.keys(values).sort().forEach(function (fid) {
      var v = values[fid];
      if (v !== undefined && v !== null && v !== "" && v !== false) q.set("f." + fid, v === true ? "1" : String(v));
    });
    if (state.area) q.set("area", state.area);
    if (state.q) q.set("q", state.q);
    return q.toString();
  }

  /** The server's summary of `layer` for the view (z, its tiles padded by one), reused while
   * it serves the view and the filters are the same (`countOnly`: while the filters are the
   * same, wherever the view is: the count is the whole layer's). */
  function summaryOf(layer, state, view, countOnly) {
    var query = summaryQuery(state, layer), last = summaries[layer.id];
    if (last && last.query === query && (countOnly || serves(last.box, view.bounds, view.zoom))) return last.promise;
    var box = tileBox(view.bounds, view.zoom, 1);
    var url = layer.tiles.summary + "&z=" + box.z + "&bbox=" + [box.x0, box.y0, box.x1, box.y1].join(",") + (query ? "&" + query : "");
    var promise = fetchJson(url).then(function (body) { return { count: body.count, total: body.total, cells: cellsOf(body.cells) }; });
    promise.catch(function () { if (summaries[layer.id] && summaries[layer.id].promise === promise) delete summaries[layer.id]; });
    summaries[layer.id] = { query: query, box: box, promise: promise };
    return promise;
  }

  /** A summary's cells as weighted points (m.clusterIndex sums their `n`); a cell of one place
   * carries its id and name, and is drawn as that place. */
  function cellsOf(cells) {
    var out = cells.n.map(function (n, i) {
      var p = { n: n };
      if (cells.id[i] !== null) { p.id = cells.id[i]; p.name = cells.name[i]; }
      return { type: "Feature", geometry: { type: "Point", coordinates: [cells.lon[i], cells.lat[i]] }, properties: p };
    });
    out.weighted = true;
    return out;
  }

  /** A big layer's entry for the view: {all, shown, count, total}. */
  function tiledEntry(layer, h, state, now) {
    var view = m.view.viewport();
    if (!view) return Promise.resolve({ all: [], shown: [], count: 0, total: layer.count });
    var filtered = isActive(h);
    if (view.zoom < layer.tiles.detail) {
      return summaryOf(layer, state, view).then(function (s) {
        return { all: s.cells, shown: s.cells, count: s.count, total: layer.count };
      });
    }
    var box = tileBox(view.bounds, layer.tiles.z, 0);
    return Promise.all([chunksIn(layer, box), filtered ? summaryOf(layer, state, view, true) : null]).then(function (both) {
      return { all: both[0], shown: filteredOf(layer, h, both[0], now, ""), count: filtered ? both[1].count : layer.count,
               total: layer.count };
    });
  }

  /** The features of a big layer near a position: its chunk and the eight around it. */
  function tiledNear(layer, position) {
    var z = layer.tiles.z, x = tileX(position.lon, z), y = tileY(position.lat, z);
    return chunksIn(layer, { z: z, x0: x - 1, x1: x + 1, y0: y - 1, y1: y + 1 });
  }

  /** The features of a big layer loaded so far. */
  function tiledLoaded(layer) {
    var prefix = layer.tiles.chunk.split("{x}")[0];
    return Promise.all(Object.keys(chunkData).filter(function (url) { return url.indexOf(prefix) === 0; })
      .map(function (url) { return chunkData[url].catch(function () { return []; }); }))
      .then(function (parts) { return [].concat.apply([], parts); });
  }

  // Start downloading the layers the page's <link rel=preload> names (app.py) at once: they
  // are decoded while Dash is still starting.
  // Dash's scripts are asked for once these are in (mieruka-base.js m.fetchDash).
  var preloaded = Array.prototype.map.call(
    document.querySelectorAll('link[rel="preload"][as="fetch"][href*=".points.json"]'),
    function (link) { return m.load(link.getAttribute("href")).catch(function () {}); });
  if (document.getElementById("mk-boot-data")) Promise.all(preloaded).then(m.fetchDash);

  function onLayers(state, meta) {
    return meta.layers.filter(function (l) { return state.layers.indexOf(l.id) >= 0; });
  }

  function timeDependent(h) {
    return (h.filters || []).some(function (f) { return f.kind === "open_now" || f.kind === "date_window"; });
  }

  // layer id → {key, all, shown}: the filtered features of the last hideout, reused by every view
  var shownCache = {};

  /** `all` after hideout `h`'s filters: the same array again while they and `all` stay the same
   * (`suffix` tells apart features whose text has been merged in since). */
  function filteredOf(layer, h, all, now, suffix) {
    var key = JSON.stringify(h) + suffix + (timeDependent(h) ? now.date + now.minutes : "");
    var cached = shownCache[layer.id];
    if (!cached || cached.key !== key || cached.all !== all) {
      var shown = isActive(h) ? all.filter(function (f) { return m.match(f.properties, h, now); }) : all;
      cached = shownCache[layer.id] = { key: key, all: all, shown: shown };
    }
    return cached.shown;
  }

  /**
   * The shown layers with their features after the filters: Promise of [{layer, hideout,
   * all, shown}]; `shown` is the same array while the layer's filters stay the same. Text
   * is fetched first when the search or the list needs it.
   */
  function shownOf(state, meta, needText) {
    return Promise.all(shownEach(state, meta, needText));
  }

  /** shownOf's entries, one promise per layer: each settles when its own data is in. */
  function shownEach(state, meta, needText) {
    var wanted = onLayers(state, meta).map(function (layer) { return { layer: layer, h: m.layerView(state, meta, layer) }; });
    // the clock only where a filter needs it: its first reading loads the time zone's rules
    var now = wanted.some(function (s) { return timeDependent(s.h); }) ? m.nowParts(meta.tz) : null;
    return wanted.map(function (s) {
      var layer = s.layer, h = s.h;
      if (layer.tiles) {
        return tiledEntry(layer, h, state, now).then(function (e) { return Object.assign(e, { layer: layer, hideout: h }); });
      }
      var text = needText || !!h.q;
      return (text ? withText(layer) : m.load(layer.url)).then(function (all) {
        var shown = filteredOf(layer, h, all, now, text ? "+text" : "");
        return { layer: layer, hideout: h, all: all, shown: shown, count: shown.length, total: all.length };
      });
    });
  }

  /** The loaded feature `layer:id`, or null. */
  m.findFeature = function (meta, selected) {
    var lid = selected.split(":")[0], rid = selected.slice(lid.length + 1);
    var layer = meta.layers.filter(function (l) { return l.id === lid; })[0];
    if (!layer) return Promise.resolve(null);
    return (layer.tiles ? tiledLoaded(layer) : m.load(layer.url)).then(function (features) {
      return features.filter(function (f) { return String(f.properties.id) === rid; })[0] || null;
    });
  };

  function haversine(lat1, lon1, lat2, lon2) {
    var R = 6371008.8, rad = Math.PI / 180;
    var dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * R * Math.asin(Math.sqrt(a));
  }
  m.distance = haversine;

  function formatDistance(metres, lang) {
    if (metres < 1000) return Math.round(metres) + " m";
    return (metres / 1000).toLocaleString(lang === "en" ? "en-GB" : "ja-JP", { maximumFractionDigits: 1 }) + " km";
  }

  /* ---------- Dash component builders (returned by clientside callbacks) ---------- */

  function el(type, props, children) {
    props = props || {};
    if (children !== undefined) props.children = children;
    return { type: type, namespace: "dash_html_components", props: props };
  }

  function swatch(h) {
    return el("Span", { className: "mk-swatch", style: { background: h.colour }, "aria-hidden": "true" }, "");
  }

  /* ---------- the map drawn from a view state ---------- */

  var drawn = null;  // {state, meta} the map shows (or is about to): from the last render or quick change

  /** The markers of a view state: layers off hidden, each of the others drawn after its
   * filters as soon as its own data is in. Promise of shownOf's entries; a later call wins
   * over one still waiting for its data. */
  function draw(state, meta) {
    var mine = drawn = { state: state, meta: meta };
    m.view.ensure(meta, state);
    meta.layers.forEach(function (l) { if (state.layers.indexOf(l.id) < 0) m.view.hide(l.id); });
    var each = shownEach(state, meta, false);
    each.forEach(function (one) {
      one.then(function (e) { if (drawn === mine) m.view.show(e.hideout, e.shown); }, function () {});
    });
    return Promise.all(each);
  }

  /* A big layer's data depends on the view: after a move its chunks or summary follow at once
   * (Dash's callbacks, told of the move, then find the same arrays drawn). */
  m.onMove = function () {
    if (drawn && onLayers(drawn.state, drawn.meta).some(function (l) { return l.tiles; })) draw(drawn.state, drawn.meta);
  };

  /* A layer switch or a filter's checkbox redraws the map at once, from the box as it now
   * stands, without waiting for Dash's callbacks: they compose the same state a moment later
   * (mieruka-map-state.js), and render finds it drawn (shownOf keeps the filtered array, which
   * m.view.show leaves as it is). Capture phase: before React puts a controlled box back. */
  function quickState(input, state, meta) {
    if (input.closest("#layer-toggle")) {
      var on = state.layers.filter(function (id) { return id !== input.value; });
      if (input.checked) on.push(input.value);
      return Object.assign({}, state, { layers: m.layersOn(meta, on) });
    }
    var id;
    try { id = JSON.parse(input.name); } catch (err) { return null; }
    if (!id || id.type !== "filter" || id.part !== "flags") return null;
    var filters = Object.assign({}, state.filters), values = Object.assign({}, filters[id.layer]);
    if (input.checked) values[input.value] = "1"; else delete values[input.value];
    filters[id.layer] = values;
    return Object.assign({}, state, { filters: filters });
  }

  /** Is `input` a box whose change quickState draws at once (a layer switch, a filter flag)? */
  function quickBox(input) {
    return !!drawn && !!input && input.type === "checkbox" && !!input.closest("#map-page") &&
      !!quickState(input, drawn.state, drawn.meta);
  }

  document.addEventListener("change", function (e) {
    if (quickBox(e.target)) draw(quickState(e.target, drawn.state, drawn.meta), drawn.meta);
  }, true);

  /* Dash hears of such a click after the frame that shows its markers: its own handling of a
   * click (the checklist's update, the callbacks it starts, ≈ 7 ms) would otherwise run before
   * that frame. The click goes on (the box changes, the listener above redraws), but not on to
   * Dash's page; after the next frame the box is set back and clicked again for Dash, which
   * toggles the option as it does on every click it sees (the redraw then finds the same state). */
  var replaying = false;
  document.addEventListener("click", function (e) {
    var input = e.target;
    if (replaying || !window.dash_clientside || !window.dash_clientside.set_props || !quickBox(input)) return;
    e.stopPropagation();
    requestAnimationFrame(function () {
      setTimeout(function () {
        replaying = true;
        try { input.checked = !input.checked; input.click(); } finally { replaying = false; }
      }, 0);
    });
  }, true);

  /* ---------- clientside callbacks ---------- */

  var lastNear = null;

  /** A sort header's click (delegated in mieruka-map-view.js): the column sorted ascending
   * (its header's aria-sort says so) reverses, any other sorts ascending. The header is the
   * one record of the order shown, so a new page render cannot leave a stale copy. */
  m.sortBy = function (button) {
    var header = button.closest("th"), ascending = header && header.getAttribute("aria-sort") === "ascending";
    window.dash_clientside.set_props("list-sort", { data: { key: button.getAttribute("data-mk-sort"),
                                                            dir: ascending ? "desc" : "asc" } });
  };

  Object.assign(m.cb, {
    /**
     * View state → the map's markers (layers whose filters changed are clustered anew) and
     * the counts: shown / total per layer and in all. Layers that are off show their total
     * without loading their data.
     */
    render: function (state, meta) {
      return draw(state, meta).then(function (entries) {
        var shown = 0, total = 0, counted = {};
        entries.forEach(function (e) {
          shown += e.count; total += e.total;
          counted[e.layer.id] = m.count(e.count) + " / " + m.count(e.total);
        });
        var on = entries.map(function (e) { return e.layer; });
        var perLayer = meta.layers.map(function (l) { return counted[l.id] || m.count(l.count); });
        var summary = meta.text.count.replace("{shown}", m.count(shown)).replace("{total}", m.count(total));
        // a layer that only some municipalities publish says so for an area it has no data of
        var members = state.area ? (meta.areaMembers[state.area] || [state.area]) : null;
        if (members) {
          on.forEach(function (l) {
            if (l.coverage && !members.some(function (code) { return l.coverage.indexOf(code) >= 0; })) {
              summary += " " + meta.text.uncovered.replace("{layer}", l.title).replace("{area}", meta.areaNames[state.area] || state.area);
            }
          });
        }
        return [perLayer, summary];
      }).catch(function () {
        return [meta.layers.map(function () { return "—"; }), "—"];
      });
    },

    /** The features in view, after filters, as an accessible sortable table. */
    listView: function (state, viewport, sort, position, meta) {
      if (state.view !== "list") return window.dash_clientside.no_update;
      var lang = meta.lang, b = boundsOf(viewport);
      var here = position && typeof position.lat === "number" ? position : null;  // near me's, once known
      return shownOf(state, meta, true).then(function (entries) {
        var rows = [], zoomIn = [];
        entries.forEach(function (entry) {
          if (entry.shown.weighted) { zoomIn.push(entry.layer.title); return; }  // counted per cell, not yet listed
          entry.shown.forEach(function (f) {
            var c = f.geometry.coordinates;
            if (b && (c[1] < b.s || c[1] > b.n || c[0] < b.w || c[0] > b.e)) return;
            rows.push({ layer: entry.layer, p: f.properties, d: here ? haversine(here.lat, here.lon, c[1], c[0]) : null });
          });
        });
        // nearest first once the position is known, unless a column has been chosen since
        var key = here && (!sort || sort.auto) ? "distance" : sort && sort.key || "name";
        if (key === "distance" && !here) key = "name";
        var dir = sort && !sort.auto && sort.dir === "desc" ? -1 : 1;
        var collator = new Intl.Collator(lang === "en" ? "en" : "ja");
        var value = function (r) {
          if (key === "layer") return r.layer.title;
          if (key === "area") return areaName(meta, r.p);
          return r.p[key] || "";
        };
        rows.sort(key === "distance" ? function (a, c) { return dir * (a.d - c.d); }
                                     : function (a, c) { return dir * collator.compare(String(value(a)), String(value(c))); });
        var limit = 200, total = rows.length;
        rows = rows.slice(0, limit);
        var columns = [["name", meta.text.name]].concat(here ? [["distance", meta.text.distance]] : [],
          [["layer", meta.text.layer], ["area", meta.text.area], ["address", meta.text.address]]);
        // roles spelled out: on a phone the rows are laid out as cards (mieruka.css), still a table to a screen reader
        var head = el("Tr", { role: "row" }, columns.map(function (col) {
          var sorted = key === col[0];
          return el("Th", { scope: "col", role: "columnheader", "aria-sort": sorted ? (dir > 0 ? "ascending" : "descending") : "none" }, [
            el("Button", { "data-mk-sort": col[0], className: "mk-sort", type: "button",
                           title: meta.text.sortBy.replace("{column}", col[1]) },
               [col[1], el("Span", { "aria-hidden": "true" }, sorted ? (dir > 0 ? " ▲" : " ▼") : " ↕")]),
          ]);
        }));
        var body = rows.map(function (r) {
          var selectId = r.layer.id + ":" + r.p.id;
          return el("Tr", { key: selectId, role: "row" }, [
            el("Th", { scope: "row", role: "rowheader" }, el("Button", { "data-mk-sel": selectId, className: "mk-link", type: "button" },
                                                          [swatch(r.layer), r.p.name])),
          ].concat(here ? [el("Td", { role: "cell", className: "mk-dist" }, formatDistance(r.d, lang))] : [], [
            el("Td", { role: "cell", className: "mk-list-layer" }, r.layer.title),
            el("Td", { role: "cell", className: "mk-list-area" }, areaName(meta, r.p) || "—"),
            el("Td", { role: "cell", className: "mk-list-address" }, r.p.address || "—"),
          ]));
        });
        var caption = meta.text.listCaption.replace("{count}", m.count(total));
        var out = [el("Table", { className: "mk-table mk-list-table", id: "list-table", role: "table" },
                      [el("Caption", {}, caption), el("Thead", { role: "rowgroup" }, head), el("Tbody", { role: "rowgroup" }, body)])];
        if (!total) out.push(el("P", { className: "mk-empty" }, meta.text.listEmpty));
        if (total > limit) out.push(el("P", { className: "mk-more" }, meta.text.listMore.replace("{count}", m.count(total - limit))));
        // first, where it is read before the rows: which layers the list leaves out until zoomed in
        if (zoomIn.length) out.unshift(el("P", { className: "mk-more" }, meta.text.listZoomIn.replace("{layers}", zoomIn.join(meta.lang === "en" ? ", " : "、"))));
        return out;
      });
    },

    /** Geolocation, asked only on a click; the position stays in the browser. */
    locate: function (n) {
      if (!n) return window.dash_clientside.no_update;
      return new Promise(function (resolve) {
        if (!navigator.geolocation) return resolve({ error: "unsupported" });
        navigator.geolocation.getCurrentPosition(
          function (pos) { resolve({ lat: pos.coords.latitude, lon: pos.coords.longitude, at: Date.now() }); },
          function (err) { resolve({ error: err.message || "denied" }); },
          { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
        );
      });
    },

    /** The nearest places to the position, among shown layers and filters; the map goes there. */
    nearest: function (position, state, meta) {
      var nc = window.dash_clientside.no_update;
      if (!position) return nc;
      // only what is shown matters, not where the map is panned to
      var key = JSON.stringify([position, state.layers, state.filters, state.q, state.area]);
      if (key === lastNear) return nc;
      lastNear = key;
      if (position.error) {
        var msg = position.error === "unsupported" ? meta.text.geoUnsupported : meta.text.geoError;
        return el("P", { className: "mk-error", role: "alert" }, msg);
      }
      var now = m.nowParts(meta.tz);
      return shownOf(state, meta, false).then(function (entries) {
        // a big layer: its places around the position, not the view's
        return Promise.all(entries.map(function (entry) {
          if (!entry.layer.tiles) return entry;
          return tiledNear(entry.layer, position).then(function (all) {
            return Object.assign({}, entry, { shown: all.filter(function (f) { return m.match(f.properties, entry.hideout, now); }) });
          });
        }));
      }).then(function (entries) {
        var best = [];
        entries.forEach(function (entry) {
          entry.shown.forEach(function (f) {
            var c = f.geometry.coordinates;
            best.push({ layer: entry.layer, p: f.properties, d: haversine(position.lat, position.lon, c[1], c[0]) });
          });
        });
        best.sort(function (a, b) { return a.d - b.d; });
        best = best.slice(0, 10);
        m.view.here(position);
        if (!best.length) return el("P", {}, meta.text.nearNone);
        var list = el("Ol", { className: "mk-near" }, best.map(function (r) {
          return el("Li", { key: r.layer.id + r.p.id }, [
            el("Button", { "data-mk-sel": r.layer.id + ":" + r.p.id, className: "mk-link", type: "button" },
               [swatch(r.layer), r.p.name]),
            el("Span", { className: "mk-dist" }, " " + formatDistance(r.d, meta.lang)),
          ]);
        }));
        var panel = document.getElementById("map-panel");
        if (panel) panel.open = true;  // folded on a phone: the list asked for is shown
        var reach = Math.max(best[best.length - 1].d, 200), dLat = reach / 111000, dLon = reach / 91000;
        m.view.go({ bounds: [[position.lat - dLat, position.lon - dLon], [position.lat + dLat, position.lon + dLon]] });
        return [el("H3", {}, meta.text.nearTitle), list];
      });
    },

    /** View state → address bar (replaceState: no history entry per pan) and language link. */
    url: function (state, meta) {
      var query = m.withPageFlags(m.queryOf(state, meta));
      var path = window.location.pathname;
      var search = query ? "?" + query : "";
      if (window.location.search !== search) window.history.replaceState(window.history.state, "", path + search);
      var other = Object.assign({}, state, { lang: state.lang === "en" ? "ja" : "en" });
      document.documentElement.lang = state.lang || "ja";
      return path + "?" + m.withPageFlags(m.queryOf(other, meta));
    },
  });

  function areaName(meta, p) {
    return meta.areaNames[p.area_code] || p.area_name || "";
  }

  function boundsOf(viewport) {
    var b = viewport && viewport.bounds;  // [[south, west], [north, east]] (mieruka-map-view.js)
    return b ? { s: b[0][0], w: b[0][1], n: b[1][0], e: b[1][1] } : null;
  }

  /** How one layer is drawn and filtered in a view state (what the map and counts read). */
  m.layerView = function (state, meta, layer) {
    var filters = [];
    var values = (state.filters || {})[layer.id] || {};
    layer.filters.forEach(function (spec) {
      var v = values[spec.id];
      if (v === undefined || v === null || v === "" || v === false) return;
      filters.push({ id: spec.id, kind: spec.kind, fields: spec.fields, value: v === true ? "1" : String(v), latest: layer.latest });
    });
    var areas = state.area ? (meta.areaMembers[state.area] || [state.area]) : null;
    return {
      id: layer.id, title: layer.title, icon: layer.icon, shape: layer.shape, colour: layer.colour, tz: meta.tz,
      on: state.layers.indexOf(layer.id) >= 0, q: m.searchKey(state.q), areas: areas, filters: filters,
    };
  };

  /** The URL query of a view state; keys documented in services/map_state.py. */
  m.queryOf = function (state, meta) {
    var q = new URLSearchParams();
    if (state.lang && state.lang !== "ja") q.set("lang", state.lang);
    var all = meta.layers.map(function (l) { return l.id; });
    if (state.layers.length !== all.length) q.set("layers", state.layers.join(","));
    Object.keys(state.filters || {}).sort().forEach(function (lid) {
      var values = state.filters[lid];
      Object.keys(values).sort().forEach(function (fid) {
        var v = values[fid];
        if (v === undefined || v === null || v === "" || v === false) return;
        q.set("f." + lid + "." + fid, v === true ? "1" : String(v));
      });
    });
    if (state.area) q.set("area", state.area);
    if (state.q) q.set("q", state.q);
    if (state.base && state.base !== "pale") q.set("base", state.base);
    if (state.view && state.view !== "map") q.set("view", state.view);
    if (state.sel) q.set("sel", state.sel);
    if (state.lat != null) { q.set("lat", state.lat.toFixed(5)); q.set("lon", state.lon.toFixed(5)); q.set("z", String(state.z)); }
    return q.toString();
  };

  // The page's static copy (app.py boot_shell) carries its view state: the map is drawn in it
  // now, from the preloaded layers, while Dash is still starting; Dash's first render then
  // finds the same features drawn and leaves them (m.view.show).
  var boot = document.getElementById("mk-boot-data");
  if (boot) {
    try {
      var start = JSON.parse(boot.textContent);
      m.foldPanel(document.querySelector(".mk-boot .mk-panel"));  // as Dash's page will have it
      // Dash's scripts run after the frame that shows every layer's markers (mieruka-base.js)
      var then = function () { requestAnimationFrame(function () { setTimeout(m.startDash, 0); }); };
      m.cb.render(start.state, start.meta).then(then, then);
    } catch (err) {
      m.startDash();  // the page starts as any other
    }
  }
})();
