/* Mieruka map: marker styling, client-side filters, counts, list view and "near me".
 *
 * Everything a filter click changes runs here, in the browser, without a request to the
 * server. dash-leaflet calls the functions in `mieruka.map` with a context whose
 * `hideout` holds the layer's state (see services/map_state.py, which writes it).
 * Feature data is shared with dash-leaflet through the browser's HTTP cache: the layer
 * URL carries a version, and is fetched once more here for counts and the list view.
 */
(function () {
  "use strict";
  var m = window.mieruka;  // made by mieruka-base.js

  /* ---------- text ---------- */

  // Keep in step with data_sources/text.py search_key.
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

  m.escape = function (text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };

  /* ---------- time in the deployment's time zone ---------- */

  m.nowParts = function (timeZone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: timeZone || "Asia/Tokyo", weekday: "short", year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
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

  function clusterIcon(h, count) {
    var label = count >= 10000 ? Math.round(count / 1000) + "k" : count >= 1000 ? (count / 1000).toFixed(1) + "k" : String(count);
    var size = count < 10 ? 30 : count < 100 ? 36 : count < 1000 ? 42 : 48;
    return L.divIcon({
      html: '<div style="background:' + h.colour + ";color:" + textColour(h.colour) + ";width:" + size + "px;height:" + size +
        "px;line-height:" + size + 'px" data-count="' + count + '"><span>' + label + "</span></div>",
      className: "mk-cluster mk-cluster-" + h.id, iconSize: [size, size],
    });
  }

  /* ---------- functions handed to dash-leaflet ---------- */

  // Enter or Space on a focused marker acts as a click (Leaflet only makes it focusable);
  // propagated so that the layer reports it, as it does a mouse click.
  function keyboardClick(marker) {
    marker.on("keydown", function (e) {
      var key = e.originalEvent.key;
      if (key !== "Enter" && key !== " ") return;
      e.originalEvent.preventDefault();
      this.fire("click", { originalEvent: e.originalEvent, latlng: this.getLatLng() }, true);
    });
    return marker;
  }

  m.map = {
    pointToLayer: function (feature, latlng, context) {
      var h = context.hideout, p = feature.properties;
      return keyboardClick(L.marker(latlng, { icon: m.markerIcon(h), title: p.name + " (" + h.title + ")", alt: p.name, keyboard: true, riseOnHover: true }));
    },
    filter: function (feature, context) {
      var h = context.hideout;
      if (!h.on) return false;
      if (feature.properties.cluster) return true; // recounted in clusterToLayer
      return !isActive(h) || m.match(feature.properties, h, m.nowParts(h.tz));
    },
    clusterToLayer: function (feature, latlng, index, context) {
      var h = context.hideout, count = feature.properties.point_count;
      if (isActive(h)) {
        var now = m.nowParts(h.tz);
        count = index.getLeaves(feature.properties.cluster_id, Infinity).filter(function (leaf) {
          return m.match(leaf.properties, h, now);
        }).length;
        if (!count) return null;
      }
      return keyboardClick(L.marker(latlng, { icon: clusterIcon(h, count), title: count + " " + h.title, keyboard: true }));
    },
  };

  /* ---------- layer data, shared with the list view and counts ---------- */

  var data = {};
  m.load = function (url) {
    if (!data[url]) {
      data[url] = fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error(url + ": " + r.status);
        return r.json();
      }).catch(function (err) { delete data[url]; throw err; });
    }
    return data[url];
  };

  function loadAll(layers) {
    return Promise.all(layers.map(function (l) {
      return m.load(l.url).then(function (fc) { return { layer: l, features: fc.features }; });
    }));
  }

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

  /* ---------- clientside callbacks ---------- */

  var last = {}, lastNear = null;

  Object.assign(m.cb, {
    /** Control values → hideout of every layer; unchanged layers get no_update. */
    hideouts: function (state, meta) {
      var nc = window.dash_clientside.no_update;
      return meta.layers.map(function (l) {
        var h = m.hideoutOf(state, meta, l);
        var key = JSON.stringify(h);
        if (last[l.id] === key) return nc;
        last[l.id] = key;
        return h;
      });
    },

    /** Shown / total per layer and in all, once the data has loaded. */
    counts: function (state, meta) {
      // layers that are off show their total without loading their data
      var on = meta.layers.filter(function (l) { return state.layers.indexOf(l.id) >= 0; });
      var now = m.nowParts(meta.tz);
      return loadAll(on).then(function (all) {
        var shown = 0, total = 0, counted = {};
        all.forEach(function (entry) {
          var h = m.hideoutOf(state, meta, entry.layer);
          var n = entry.features.filter(function (f) { return m.match(f.properties, h, now); }).length;
          shown += n; total += entry.features.length;
          counted[entry.layer.id] = n.toLocaleString() + " / " + entry.features.length.toLocaleString();
        });
        var perLayer = meta.layers.map(function (l) { return counted[l.id] || l.count.toLocaleString(); });
        var summary = meta.text.count.replace("{shown}", shown.toLocaleString()).replace("{total}", total.toLocaleString());
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
    listView: function (state, bounds, sort, meta) {
      if (state.view !== "list") return window.dash_clientside.no_update;
      var on = meta.layers.filter(function (l) { return state.layers.indexOf(l.id) >= 0; });
      var now = m.nowParts(meta.tz), lang = meta.lang;
      var b = normaliseBounds(bounds);
      return loadAll(on).then(function (all) {
        var rows = [];
        all.forEach(function (entry) {
          var h = m.hideoutOf(state, meta, entry.layer);
          entry.features.forEach(function (f) {
            var c = f.geometry.coordinates, p = f.properties;
            if (b && (c[1] < b.s || c[1] > b.n || c[0] < b.w || c[0] > b.e)) return;
            if (!m.match(p, h, now)) return;
            rows.push({ layer: entry.layer, p: p, lat: c[1], lon: c[0] });
          });
        });
        var key = sort && sort.key || "name", dir = sort && sort.dir === "desc" ? -1 : 1;
        var collator = new Intl.Collator(lang === "en" ? "en" : "ja");
        var value = function (r) {
          if (key === "layer") return r.layer.title;
          if (key === "area") return areaName(meta, r.p);
          return r.p[key] || "";
        };
        rows.sort(function (a, c) { return dir * collator.compare(String(value(a)), String(value(c))); });
        var limit = 200, total = rows.length;
        rows = rows.slice(0, limit);
        var columns = [["name", meta.text.name], ["layer", meta.text.layer], ["area", meta.text.area], ["address", meta.text.address]];
        var head = el("Tr", {}, columns.map(function (col) {
          var sorted = key === col[0];
          return el("Th", { scope: "col", "aria-sort": sorted ? (dir > 0 ? "ascending" : "descending") : "none" }, [
            el("Button", {
              id: { type: "list-sort", key: col[0] }, className: "mk-sort", n_clicks: 0,
              title: meta.text.sortBy.replace("{column}", col[1]),
            }, [col[1], el("Span", { "aria-hidden": "true" }, sorted ? (dir > 0 ? " ▲" : " ▼") : " ↕")]),
          ]);
        }));
        var body = rows.map(function (r) {
          var selectId = r.layer.id + ":" + r.p.id;
          return el("Tr", { key: selectId }, [
            el("Th", { scope: "row" }, el("Button", {
              id: { type: "list-select", key: selectId }, className: "mk-link", n_clicks: 0,
            }, [swatch(r.layer), r.p.name])),
            el("Td", {}, r.layer.title),
            el("Td", {}, areaName(meta, r.p) || "—"),
            el("Td", {}, r.p.address || "—"),
          ]);
        });
        var caption = meta.text.listCaption.replace("{count}", total.toLocaleString());
        var parts = [el("Caption", {}, caption)];
        parts.push(el("Thead", {}, head));
        parts.push(el("Tbody", {}, body));
        var out = [el("Table", { className: "mk-table", id: "list-table" }, parts)];
        if (!total) out.push(el("P", { className: "mk-empty" }, meta.text.listEmpty));
        if (total > limit) out.push(el("P", { className: "mk-more" }, meta.text.listMore.replace("{count}", (total - limit).toLocaleString())));
        return out;
      });
    },

    /** Sort header clicks → sort state (toggle direction on the same column). */
    sort: function (clicks, sort) {
      var ctx = window.dash_clientside.callback_context;
      if (!ctx.triggered.length || !ctx.triggered[0].value) return window.dash_clientside.no_update;
      var key = JSON.parse(ctx.triggered[0].prop_id.split(".")[0]).key;
      var dir = sort && sort.key === key && sort.dir === "asc" ? "desc" : "asc";
      return { key: key, dir: dir };
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

    /** The nearest places to the position, among shown layers and filters. */
    nearest: function (position, state, meta) {
      var nc = window.dash_clientside.no_update;
      if (!position) return [nc, nc, nc];
      // only what is shown matters, not where the map is panned to
      var key = JSON.stringify([position, state.layers, state.filters, state.q, state.area]);
      if (key === lastNear) return [nc, nc, nc];
      lastNear = key;
      if (position.error) {
        var msg = position.error === "unsupported" ? meta.text.geoUnsupported : meta.text.geoError;
        return [el("P", { className: "mk-error", role: "alert" }, msg), [], nc];
      }
      var on = meta.layers.filter(function (l) { return state.layers.indexOf(l.id) >= 0; });
      var now = m.nowParts(meta.tz);
      return loadAll(on).then(function (all) {
        var best = [];
        all.forEach(function (entry) {
          var h = m.hideoutOf(state, meta, entry.layer);
          entry.features.forEach(function (f) {
            if (!m.match(f.properties, h, now)) return;
            var c = f.geometry.coordinates;
            best.push({ layer: entry.layer, p: f.properties, d: haversine(position.lat, position.lon, c[1], c[0]) });
          });
        });
        best.sort(function (a, b) { return a.d - b.d; });
        best = best.slice(0, 10);
        var here = { type: "CircleMarker", namespace: "dash_leaflet", props: {
          center: [position.lat, position.lon], radius: 9, color: "#fff", weight: 3, fillColor: "#1a5fb4", fillOpacity: 1,
        } };
        if (!best.length) return [el("P", {}, meta.text.nearNone), [here], nc];
        var list = el("Ol", { className: "mk-near" }, best.map(function (r) {
          return el("Li", { key: r.layer.id + r.p.id }, [
            el("Button", { id: { type: "list-select", key: r.layer.id + ":" + r.p.id }, className: "mk-link", n_clicks: 0 },
              [swatch(r.layer), r.p.name]),
            el("Span", { className: "mk-dist" }, " " + formatDistance(r.d, meta.lang)),
          ]);
        }));
        var reach = Math.max(best[best.length - 1].d, 200), dLat = reach / 111000, dLon = reach / 91000;
        var viewport = { bounds: [[position.lat - dLat, position.lon - dLon], [position.lat + dLat, position.lon + dLon]],
                         transition: "flyToBounds" };
        return [[el("H3", {}, meta.text.nearTitle), list], [here], viewport];
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

  function normaliseBounds(bounds) {
    if (!bounds) return null;
    // dash-leaflet reports [[south, west], [north, east]]
    if (Array.isArray(bounds)) return { s: bounds[0][0], w: bounds[0][1], n: bounds[1][0], e: bounds[1][1] };
    return null;
  }

  /** The hideout of one layer for a view state (what the leaflet functions read). */
  m.hideoutOf = function (state, meta, layer) {
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
})();
