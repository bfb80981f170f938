/* Mieruka map: the view state, composed in the browser from the page's controls.
 * Every control change lands here first; the hideouts, counts, list, URL and the
 * detail panel all follow from the one state object (see services/map_state.py).
 */
(function () {
  "use strict";
  var m = window.mieruka;  // made by mieruka-base.js

  /** Filter control parts → one string value per filter (inverse of map_controls._parts). */
  function compose(kind, parts) {
    if (kind === "vacancy") return parts.age ? parts.age + (parts.month ? "@" + parts.month : "") : "";
    if (kind === "air_level") return parts.pollutant ? parts.pollutant + ":" + (parts.level || "1") : "";
    if (kind === "date_window") {
      if (parts.mode === "range") return (parts.from || parts.to) ? (parts.from || "") + ".." + (parts.to || "") : "";
      return parts.mode || "";
    }
    return parts.value || "";
  }
  m.compose = compose;

  function centerOf(center) {
    if (!center) return null;
    if (Array.isArray(center)) return { lat: center[0], lon: center[1] };
    if (center.lat != null) return { lat: center.lat, lon: center.lng != null ? center.lng : center.lon };
    return null;
  }

  function findFeature(meta, selected) {
    var lid = selected.split(":")[0], rid = selected.slice(lid.length + 1);
    var layer = meta.layers.filter(function (l) { return l.id === lid; })[0];
    if (!layer) return Promise.resolve(null);
    return m.load(layer.url).then(function (fc) {
      return fc.features.filter(function (f) { return String(f.properties.id) === rid; })[0] || null;
    });
  }

  /**
   * All controls → [state, selected, viewport].
   * Inputs (in order): layers, filter parts (ALL), search, area, base map, view mode,
   * layer clicks (ALL), list/near selections (ALL), details close (ALL), map center, map zoom.
   */
  m.cb.state = function (layers, filterParts, q, area, base, view, clicks, picks, closes, center, zoom, state, meta) {
    var dc = window.dash_clientside, nc = dc.no_update, ctx = dc.callback_context;
    var next = Object.assign({}, state);
    next.layers = meta.layers.map(function (l) { return l.id; }).filter(function (id) { return (layers || []).indexOf(id) >= 0; });

    // filters: gather parts per layer and filter, then compose
    var grouped = {};
    (ctx.inputs_list[1] || []).forEach(function (input) {
      var id = input.id, lid = id.layer;
      grouped[lid] = grouped[lid] || {};
      if (id.part === "flags") {
        (input.value || []).forEach(function (fid) { grouped[lid][fid] = { value: "1" }; });
        return;
      }
      grouped[lid][id.filter] = grouped[lid][id.filter] || {};
      grouped[lid][id.filter][id.part] = input.value;
    });
    var filters = {};
    meta.layers.forEach(function (l) {
      l.filters.forEach(function (f) {
        var parts = (grouped[l.id] || {})[f.id];
        var value = parts ? compose(f.kind, parts) : "";
        if (value) { filters[l.id] = filters[l.id] || {}; filters[l.id][f.id] = value; }
      });
    });
    next.filters = filters;
    next.q = (q || "").slice(0, 100);
    next.area = area || null;
    next.base = base || "pale";
    next.view = view || "map";
    var c = centerOf(center);
    if (c && zoom != null) { next.lat = c.lat; next.lon = c.lon; next.z = zoom; }

    var triggered = ctx.triggered.map(function (t) { return t.prop_id; });
    var selected = nc, viewport = nc;
    triggered.forEach(function (prop) {
      var idPart = prop.slice(0, prop.lastIndexOf("."));  // "<id>.<property>": a place's id may hold a "."
      if (idPart.charAt(0) !== "{") {
        if (idPart === "map-area" && area && meta.areaView[area]) {
          var v = meta.areaView[area];
          viewport = { center: [v[0], v[1]], zoom: v[2], transition: "flyTo" };
        }
        return;
      }
      var id = JSON.parse(idPart), trig = ctx.triggered.filter(function (t) { return t.prop_id === prop; })[0];
      if (id.type === "layer" && trig.value && trig.value.properties && !trig.value.properties.cluster) {
        selected = id.id + ":" + trig.value.properties.id;
      } else if (id.type === "list-select" && trig.value) {
        selected = id.key;
        viewport = findFeature(meta, id.key).then(function (f) {
          if (!f) return nc;
          var c = f.geometry.coordinates;
          return { center: [c[1], c[0]], zoom: Math.max(next.z || 0, 17), transition: "flyTo" };
        });
      } else if (id.type === "details-close" && trig.value) {
        selected = null;
      }
    });
    if (selected !== nc) next.sel = selected;
    return Promise.resolve(viewport).then(function (vp) { return [next, selected, vp]; });
  };

  /** On a phone the controls start folded, so that the map comes first. */
  m.cb.panel = function () {
    return !window.matchMedia("(max-width: 899px)").matches;
  };

  /** View state → base map tiles, page classes (map or list view). */
  m.cb.view = function (state, meta) {
    return [meta.tiles[state.base] || meta.tiles.pale, "mk-map-page mk-view-" + state.view, state.view + (state.base || "")];
  };
})();
