/* Mieruka map: the view state, composed in the browser from the page's controls.
 * Every control change lands here first; the markers, counts, list, URL and the
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

  /** The layers switched on, in the deployment's order (the order the view state keeps). */
  m.layersOn = function (meta, on) {
    return meta.layers.map(function (l) { return l.id; }).filter(function (id) { return (on || []).indexOf(id) >= 0; });
  };

  /** A panel element set as m.cb.panel says, at once (the static copy's, and Dash's page's
   * when it takes the map over, before its own callback has run). */
  m.foldPanel = function (panel) {
    if (panel) panel.open = m.cb.panel();
  };

  /**
   * All controls → [state, selected]; the map moves where a choice asks it to (a
   * municipality, a place picked from the list or near me).
   * Inputs (in order): layers, filter parts (ALL), search, area, base map, view mode,
   * a place picked (map-click), details close (ALL), the map's viewport (map-viewport).
   */
  m.cb.state = function (layers, filterParts, q, area, base, view, click, closes, viewport, state, meta) {
    var dc = window.dash_clientside, nc = dc.no_update, ctx = dc.callback_context;
    var next = Object.assign({}, state);
    next.layers = m.layersOn(meta, layers);

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
    if (viewport && viewport.z != null) { next.lat = viewport.lat; next.lon = viewport.lon; next.z = viewport.z; }

    var selected = nc;
    ctx.triggered.forEach(function (trig) {
      var prop = trig.prop_id, idPart = prop.slice(0, prop.lastIndexOf("."));  // "<id>.<property>"
      if (idPart === "map-area" && area && meta.areaView[area]) {
        var v = meta.areaView[area];
        m.view.go({ center: [v[0], v[1]], zoom: v[2] });
      } else if (idPart === "map-click" && click && click.sel) {
        selected = click.sel;
        if (click.fly) {
          m.findFeature(meta, click.sel).then(function (f) {
            if (f) m.view.go({ center: [f.geometry.coordinates[1], f.geometry.coordinates[0]], zoom: Math.max(next.z || 0, 17) });
          });
        }
      } else if (idPart.charAt(0) === "{" && JSON.parse(idPart).type === "details-close" && trig.value) {
        selected = null;
      }
    });
    if (selected !== nc) next.sel = selected;
    return [next, selected];
  };

  /** On a phone the controls start folded, so that the map comes first. */
  m.cb.panel = function () {
    return !window.matchMedia("(max-width: 899px)").matches;
  };

  /** View state → base map tiles and page classes (map or list view: the map's box changes). */
  m.cb.view = function (state, meta) {
    m.view.base(meta.tiles[state.base] || meta.tiles.pale);
    m.view.invalidate();
    return "mk-map-page mk-view-" + state.view;
  };
})();
