/* Mieruka map: the Leaflet map itself — tiles, clustered markers per layer, selection.
 *
 * Plain Leaflet and supercluster (assets/vendor/, served by the app), driven by the
 * clientside callbacks in mieruka-map.js: they hand each layer's shown features here
 * (m.view.show) and this draws only what is in view, reusing the markers that stay. Moves,
 * clicks and the viewport go back to Dash through dash_clientside.set_props on two stores
 * (ids in components/map_controls.py): "map-viewport" and "map-click".
 */
(function () {
  "use strict";
  var m = window.mieruka;  // made by mieruka-base.js

  var MIN_ZOOM = 7, MAX_ZOOM = 18;  // the map's zoom range
  // supercluster: clusters from the map's farthest zoom (no index for zooms it cannot show: a
  // third less work per filter change) up to z17, single points at z18
  var CLUSTER = { radius: 90, minZoom: MIN_ZOOM, maxZoom: MAX_ZOOM - 1 };
  var SPIDER_MAX = 60;                         // leaves fanned out around a cluster that cannot split
  var BOOT = "mk-boot-map";  // the map's box in the page's static copy (components/static_html.py)
  var map = null, host = null, pane = null, tiles = null, here = null, spider = null;
  var layers = {};  // layer id → {hideout, index, group, pane, hidden, markers: Map(key → marker)}
  var clicks = 0;
  var indexes = new WeakMap();  // features array → its supercluster index

  // a big layer's summary cells (mieruka-map.js cellsOf) weigh as many places as their `n`
  var WEIGHTED = Object.assign({
    map: function (p) { return { n: p.n }; },
    reduce: function (into, p) { into.n += p.n; },
  }, CLUSTER);

  /** The index of a features array, built once (m.load builds it for the unfiltered layer as
   * soon as the data arrives, while Dash is still starting). */
  m.clusterIndex = function (features) {
    var index = indexes.get(features);
    if (!index) { index = new Supercluster(features.weighted ? WEIGHTED : CLUSTER).load(features); indexes.set(features, index); }
    return index;
  };

  /** How many places a cluster or a summary's cell stands for. */
  function placesOf(p) {
    return p.n !== undefined ? p.n : p.point_count;
  }

  function setProps(id, props) {
    var dc = window.dash_clientside;
    if (dc && dc.set_props) dc.set_props(id, props);
  }

  /** Tell Dash a place was chosen (`fly`: move the map to it too, as from the list). */
  m.select = function (sel, fly) {
    clicks += 1;
    setProps("map-click", { data: { sel: sel, fly: !!fly, n: clicks } });
  };

  function report() {
    var c = map.getCenter(), b = map.getBounds();
    setProps("map-viewport", { data: {
      lat: c.lat, lon: c.lng, z: map.getZoom(),
      bounds: [[b.getSouth(), b.getWest()], [b.getNorth(), b.getEast()]],
    } });
  }

  /* Enter or Space on a focused marker acts as a click (Leaflet makes markers focusable). */
  function onKey(e) {
    var key = e.originalEvent.key;
    if (key !== "Enter" && key !== " ") return;
    e.originalEvent.preventDefault();
    this.fire("click", { originalEvent: e.originalEvent, latlng: this.getLatLng() });
  }

  /** `marker` acting on a click, or on Enter or Space (the handlers as an object: Leaflet
   * splits a string of event names anew on every call). */
  function acting(marker, onClick) {
    return marker.on({ click: onClick, keydown: onKey });
  }

  function pointMarker(entry, feature, latlng) {
    var h = entry.hideout, p = feature.properties;
    return acting(L.marker(latlng, { icon: m.markerIcon(h), title: p.name + " (" + h.title + ")", alt: p.name,
                                     keyboard: true, riseOnHover: true, pane: entry.pane }),
                  function () { m.select(h.id + ":" + p.id, false); });
  }

  function clusterMarker(entry, feature, latlng) {
    var h = entry.hideout, count = placesOf(feature.properties), id = feature.properties.cluster_id;
    return acting(L.marker(latlng, { icon: m.clusterIcon(h, count), title: m.count(count) + " " + h.title, keyboard: true,
                                     pane: entry.pane }),
                  function () {
                    if (!feature.properties.cluster) return map.setView(latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));  // a summary's cell
                    var zoom = entry.index.getClusterExpansionZoom(id);
                    if (zoom > CLUSTER.maxZoom || map.getZoom() >= CLUSTER.maxZoom) fanOut(entry, id, latlng);
                    else map.setView(latlng, Math.min(zoom, map.getMaxZoom()));
                  });
  }

  /* A cluster of places at (nearly) one spot: its places around it, each on a short leg. */
  function fanOut(entry, id, latlng) {
    closeFan();
    var leaves = entry.index.getLeaves(id, SPIDER_MAX), n = leaves.length;
    var centre = map.latLngToLayerPoint(latlng), radius = Math.max(36, n * 5), parts = [];
    leaves.forEach(function (leaf, i) {
      var angle = 2 * Math.PI * i / n - Math.PI / 2;
      var at = map.layerPointToLatLng(L.point(centre.x + radius * Math.cos(angle), centre.y + radius * Math.sin(angle)));
      parts.push(L.polyline([latlng, at], { color: entry.hideout.colour, weight: 2, opacity: 0.8, interactive: false }));
      parts.push(pointMarker(entry, leaf, at));
    });
    spider = L.layerGroup(parts).addTo(map);
    var first = parts[1] && parts[1].getElement && parts[1].getElement();
    if (first) first.focus();
  }

  function closeFan() {
    if (spider) { map.removeLayer(spider); spider = null; }
  }

  function keyOf(feature) {
    var p = feature.properties;
    return p.cluster ? "c" + p.cluster_id : p.id !== undefined ? "p" + p.id : "w" + feature.geometry.coordinates.join(",");
  }

  /** A summary's cell of several places is drawn as a cluster; any other feature as a place. */
  function grouped(p) {
    return p.cluster || p.n > 1;
  }

  /** Draw the clusters and places of one layer that fall in view (nothing off screen to tab to). */
  function redraw(entry) {
    var b = map.getBounds(), zoom = Math.round(map.getZoom());
    var west = Math.max(-180, b.getWest()), east = Math.min(180, b.getEast());
    var south = Math.max(-85, b.getSouth()), north = Math.min(85, b.getNorth());
    var next = new Map(), fresh = [];
    entry.index.getClusters([west, south, east, north], zoom).forEach(function (f) {
      var key = keyOf(f), marker = entry.markers.get(key);
      if (!marker) {
        var c = f.geometry.coordinates, latlng = [c[1], c[0]];
        marker = grouped(f.properties) ? clusterMarker(entry, f, latlng) : pointMarker(entry, f, latlng);
        fresh.push(marker);
      }
      next.set(key, marker);
    });
    entry.markers.forEach(function (marker, key) { if (!next.has(key)) entry.group.removeLayer(marker); });
    fresh.forEach(function (marker) { entry.group.addLayer(marker); });
    entry.markers = next;
  }

  function redrawAll() {
    closeFan();
    Object.keys(layers).forEach(function (id) {
      if (layers[id].index && !layers[id].hidden) redraw(layers[id]);  // hidden ones catch up when shown
    });
  }

  /* Each layer's markers in a pane of their own inside Leaflet's marker pane: hiding a layer is
   * hiding its pane (display: none — out of sight, of the tab order and of the accessibility
   * tree), and showing it again only shows the pane, instead of taking every marker out of the
   * document and making it anew. The pane makes no stacking context (z-index auto), so the
   * markers of all layers still overlap by latitude as Leaflet orders them. */
  function newLayer(id) {
    var name = "mk-layer-" + id;
    (map.getPane(name) || map.createPane(name, map.getPane("markerPane"))).style.zIndex = "auto";
    return { group: L.layerGroup().addTo(map), pane: name, hidden: false, markers: new Map() };
  }

  function reveal(entry, shown) {
    entry.hidden = !shown;
    map.getPane(entry.pane).style.display = shown ? "" : "none";
  }

  /* The page Dash has made is on the screen: the map drawn in the static copy moves into it,
   * as it is (Leaflet keeps its layers and events across a move), and the copy goes. */
  function adopt(el) {
    m.foldPanel(document.getElementById("map-panel"));  // folded on a phone now, not a moment later
    el.appendChild(pane);
    host = el;
    removeBoot();
    map.invalidateSize({ pan: false });
    report();
  }

  /** Is the map still the one drawn in the static copy? */
  function early() {
    return !!map && !!host && host.id === BOOT;
  }

  function removeBoot() {
    var boot = document.querySelector(".mk-boot");
    if (boot) boot.remove();
  }

  m.view = {
    /** The map in #map, made once per page render (Dash Pages makes a new element each time);
     * before Dash has started, in the static copy's box. */
    ensure: function (meta, state) {
      var el = document.getElementById("map");
      if (el && early()) adopt(el);
      if (el && map && host === el) return true;
      var target = el || document.getElementById(BOOT);
      if (!target) return false;
      if (map) { map.remove(); pane.remove(); layers = {}; here = null; spider = null; }
      host = target;
      pane = document.createElement("div");
      pane.className = "mk-leaflet-pane";
      target.appendChild(pane);
      map = L.map(pane, { center: meta.view.center, zoom: meta.view.zoom, minZoom: MIN_ZOOM, maxZoom: MAX_ZOOM, keyboard: true });
      tiles = L.tileLayer(meta.tiles[state.base] || meta.tiles.pale, { attribution: meta.attribution, maxZoom: MAX_ZOOM }).addTo(map);
      L.control.scale({ position: "bottomleft", imperial: false }).addTo(map);
      map.on("moveend", function () {
        redrawAll();
        report();
        if (m.onMove) m.onMove();  // big layers load what the new view needs (mieruka-map.js)
      });
      map.on("zoomstart click", closeFan);
      report();
      return true;
    },

    /** Show `features` (already filtered) of a layer drawn as hideout `h` says; the same
     * array again is left as it is drawn. */
    show: function (h, features) {
      if (!map) return;
      var entry = layers[h.id];
      if (!entry) entry = layers[h.id] = newLayer(h.id);
      if (entry.features === features && entry.index) {
        if (entry.hidden) {  // hidden, then shown as it was: its markers back, kept up with the view
          reveal(entry, true);
          redraw(entry);
        }
        return;
      }
      entry.features = features;
      entry.group.clearLayers();
      entry.markers = new Map();
      entry.hideout = h;
      entry.index = m.clusterIndex(features);
      reveal(entry, true);
      redraw(entry);
    },

    /** Take a layer off the map; its markers are kept, out of sight and of the tab order, for
     * when it is shown again unchanged. */
    hide: function (id) {
      var entry = layers[id];
      if (entry && map) reveal(entry, false);
    },

    /** {zoom, bounds: {s, w, n, e}} of the map now, or null before there is one. */
    viewport: function () {
      if (!map) return null;
      var b = map.getBounds();
      return { zoom: Math.round(map.getZoom()),
               bounds: { s: Math.max(-85, b.getSouth()), w: Math.max(-180, b.getWest()),
                         n: Math.min(85, b.getNorth()), e: Math.min(180, b.getEast()) } };
    },

    /** Move to {center, zoom} or {bounds}. */
    go: function (viewport) {
      if (!map || !viewport) return;
      if (viewport.bounds) map.flyToBounds(viewport.bounds, { duration: 0.6 });
      else map.flyTo(viewport.center, viewport.zoom, { duration: 0.6 });
    },

    /** The visitor's position, as a blue dot (it stays in the browser). */
    here: function (position) {
      if (!map) return;
      if (here) map.removeLayer(here);
      here = L.circleMarker([position.lat, position.lon], {
        radius: 9, color: "#fff", weight: 3, fillColor: "#1a5fb4", fillOpacity: 1, interactive: false,
      }).addTo(map);
    },

    base: function (url) {
      if (tiles && tiles._url !== url) tiles.setUrl(url);
    },

    /** Dash's page has mounted: the early map moves into it, or (no map there) the copy goes. */
    settle: function () {
      var el = document.getElementById("map");
      if (el && early()) adopt(el);
      else removeBoot();
    },

    /** After the map's box changed size (list view, panel): let Leaflet measure it again. */
    invalidate: function () {
      if (map) requestAnimationFrame(function () { map.invalidateSize(); });
    },
  };

  /* A static copy of the page stands in while Dash starts (app.py boot_shell): once Dash's
   * own page is in the document, it takes over. */
  var entry = document.getElementById("react-entry-point");
  if (entry && document.querySelector(".mk-boot")) {
    var watch = new MutationObserver(function () {
      if (!entry.querySelector(".mk-app")) return;
      watch.disconnect();
      m.view.settle();
    });
    watch.observe(entry, { childList: true, subtree: true });
  }

  /** A place's "share" (components/details.py place_actions): the system's share sheet where
   * there is one, else the place's link copied, else shown to be copied by hand. */
  function share(button) {
    var url = new URL(button.getAttribute("data-mk-share"), window.location.href).href;
    var note = button.parentNode.querySelector(".mk-share-note");
    var shown = function () { note.textContent = url; };
    var copied = function () { note.textContent = button.getAttribute("data-mk-copied"); };
    if (navigator.share) navigator.share({ title: button.getAttribute("data-mk-title"), url: url }).catch(function () {});
    else m.copy(url).then(copied, shown);
  }

  /** A place's report of a mistake (components/details.py report_form; its action names the
   * place): sent as JSON, the form replaced by the thanks, or a message saying why it was not
   * taken (the form stays, the note kept). */
  function sendReport(form, button) {
    var status = form.querySelector(".mk-report-status"), buttons = form.querySelectorAll("button");
    var fields = { kind: button ? button.value : "" };
    new FormData(form).forEach(function (value, key) { fields[key] = value; });
    var enable = function (on) { Array.prototype.forEach.call(buttons, function (b) { b.disabled = !on; }); };
    enable(false);
    fetch(form.action, { method: "POST", credentials: "same-origin", body: JSON.stringify(fields),
                         headers: { "Content-Type": "application/json", Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 201) {
          var thanks = document.createElement("p");
          thanks.className = "mk-report-status";
          thanks.setAttribute("role", "status");
          thanks.textContent = form.getAttribute("data-mk-thanks");
          form.replaceWith(thanks);
          return;
        }
        status.textContent = form.getAttribute(r.status === 429 ? "data-mk-too-many" : "data-mk-failed");
        enable(true);
      }, function () {
        status.textContent = form.getAttribute("data-mk-failed");
        enable(true);
      });
  }

  document.addEventListener("submit", function (e) {
    if (!e.target.classList || !e.target.classList.contains("mk-report-form")) return;
    e.preventDefault();
    sendReport(e.target, e.submitter);  // the button pressed says what is wrong
  });

  /* ---------- places by name: the search box's suggestions (api.py places, services/gazetteer.py) ---------- */

  var placeTimer = null, placeAsked = "";

  function showPlaces(box, results) {
    box.replaceChildren();
    if (!results.length) return;
    var heading = document.createElement("p"), list = document.createElement("ul");
    heading.className = "mk-hint";
    heading.textContent = box.getAttribute("data-mk-heading");
    list.className = "mk-places-list";
    results.forEach(function (r) {
      var item = document.createElement("li"), button = document.createElement("button");
      button.type = "button";
      button.className = "mk-link";
      button.setAttribute("data-mk-go", [r.lat, r.lon, r.zoom].join(","));
      button.textContent = r.name;
      item.appendChild(button);
      list.appendChild(item);
    });
    box.append(heading, list);
  }

  /** As the search box is typed in (two characters or more), the places of that name after a
   * pause; the answer to an earlier text is dropped. */
  function suggestPlaces(input) {
    clearTimeout(placeTimer);
    placeTimer = setTimeout(function () {
      var box = document.getElementById("map-places"), q = input.value.trim();
      if (!box) return;
      if (q.length < 2) { placeAsked = ""; box.replaceChildren(); return; }
      if (q === placeAsked) return;
      placeAsked = q;
      var lang = document.documentElement.lang === "en" ? "&lang=en" : "";
      m.fetchJson("/api/v1/places?q=" + encodeURIComponent(q) + lang)
        .then(function (body) { if (placeAsked === q) showPlaces(box, body.results || []); })
        .catch(function () {});  // no places offered: the search by name still works
    }, 200);
  }

  document.addEventListener("input", function (e) {
    if (e.target && e.target.id === "map-search") suggestPlaces(e.target);
  });

  /** A place picked from the suggestions: the map goes there, and the box is cleared (its text
   * was a place to go to, not a name to narrow the markers to). */
  function goToPlace(button) {
    var at = button.getAttribute("data-mk-go").split(",").map(Number), input = document.getElementById("map-search");
    m.view.go({ center: [at[0], at[1]], zoom: at[2] });
    if (input) {  // emptied as by the keyboard: Dash's box (and its pending debounce) follows, the list goes
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, "");
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  /* Buttons drawn by the list view and "near me" carry data-mk-sel (a place) or data-mk-sort
   * (a column), a place's details data-mk-share, the search's places data-mk-go: one listener
   * for all of them, so that no row is a Dash component of its own. */
  document.addEventListener("click", function (e) {
    var target = e.target.closest && e.target.closest("[data-mk-sel], [data-mk-sort], [data-mk-share], [data-mk-go]");
    if (!target) return;
    if (target.hasAttribute("data-mk-sel")) m.select(target.getAttribute("data-mk-sel"), true);
    else if (target.hasAttribute("data-mk-share")) share(target);
    else if (target.hasAttribute("data-mk-go")) goToPlace(target);
    else m.sortBy(target);
  });
})();
