"""/map — nine open-data layers on one Leaflet map, with filters, search, municipality,
"near me", a list view and the whole view in the URL."""
from __future__ import annotations


import dash
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html

from components.details import feature_details
from components.dropdown import dropdown
from components.map_controls import (area_options, filter_controls, ids, layer_switches)
from components.notices import dataset_notice
from components.embed_code import embed_code
from components.shell import href, is_embedded, sample_of, shell
from i18n import lang_or_default, t, text_of
from request_guard import checked
from services.map_state import LayerFacts, area_members, area_view, layer_meta, parse_view
from services.context import GSI_ATTRIBUTION, context
from services.layers import map_data_url, map_tiles
from services.map_index import local_now

dash.register_page(__name__, path="/map", title="地図 — 見える化", name="map")


def layout(**params):
    ctx = context()
    dep = ctx.deployment
    lang = lang_or_default(params.get("lang"))
    snapshots = {s.layer.id: s for s in ctx.layers.snapshots()}
    facts = {lid: LayerFacts(s.options, s.months) for lid, s in snapshots.items()}
    state, ignored = parse_view(params, dep, ctx.areas, facts)
    lang = state.lang

    # layers whose source has never delivered are left off the map, with a notice
    shown = tuple(layer for layer in dep.layers if layer.id in snapshots)
    layers_meta = [layer_meta(layer, lang, map_data_url(snapshots[layer.id]), map_data_url(snapshots[layer.id], "text"),
                              snapshots[layer.id].months, snapshots[layer.id].count, snapshots[layer.id].coverage,
                              map_tiles(snapshots[layer.id]))
                   for layer in shown]
    meta = {
        "lang": lang, "tz": dep.timezone, "layers": layers_meta,
        "areaMembers": area_members(ctx.areas), "areaView": area_view(ctx.areas),
        "areaNames": {a.code: ctx.areas.full_name(a, lang) for a in ctx.areas},
        "tiles": ctx.tile_urls(), "attribution": GSI_ATTRIBUTION,
        "text": {
            "count": t("map.count", lang), "name": text_of(dep.field_labels["name"], lang),
            "layer": t("map.list_layer", lang), "area": text_of(dep.field_labels["area_name"], lang),
            "address": text_of(dep.field_labels["address"], lang), "sortBy": t("map.sort_by", lang),
            "distance": t("map.distance", lang),
            "listCaption": t("map.list_caption", lang), "listEmpty": t("map.list_empty", lang),
            "listMore": t("map.list_more", lang), "listZoomIn": t("map.list_zoom_in", lang), "nearTitle": t("map.near_title", lang),
            "nearNone": t("map.near_none", lang), "geoError": t("map.geo_error", lang),
            "geoUnsupported": t("map.geo_unsupported", lang),
            "uncovered": t("map.uncovered", lang),
        },
    }
    view = dep.default_view
    center = [state.lat, state.lon] if state.lat is not None else [view.lat, view.lon]
    zoom = state.z if state.z is not None else view.zoom
    if state.lat is None and state.area:
        lat, lon, zoom = meta["areaView"][state.area]
        center = [lat, lon]
    meta["view"] = {"center": center, "zoom": zoom}
    # the map itself is drawn in the browser (assets/mieruka-map-view.js): plain Leaflet
    the_map = html.Div(id=ids.MAP, className="mk-leaflet")

    # the one layer shown (as the home page's choices open the map): its filters unfolded, first
    only = state.layers[0] if len(state.layers) == 1 else None
    filters = {layer.id: filter_controls(layer, state.filters.get(layer.id, {}), lang, snapshots[layer.id].options,
                                         snapshots[layer.id].months,
                                         [text_of(l, lang) for l in (layer.readings.levels if layer.readings else ())],
                                         unfolded=layer.id == only)
               for layer in shown}
    first = filters.pop(only, None)  # None: Dash leaves it out

    panel = html.Details(id=ids.PANEL, open=True, className="mk-panel", children=[
        html.Summary(t("map.panel", lang), className="mk-panel-summary"),
        first,
        html.Div(className="mk-control", children=[
            html.Label(t("map.search", lang), htmlFor=ids.SEARCH, className="mk-label"),
            dcc.Input(id=ids.SEARCH, type="search", value=state.q, debounce=0.4, maxLength=100,
                      placeholder=t("map.search_placeholder", lang), className="mk-input", autoComplete="off"),
            # places by name as you type (assets/mieruka-map-view.js, api.places): a tap goes there
            html.Div(id=ids.PLACES, className="mk-places", **{"aria-live": "polite",
                                                                 "data-mk-heading": t("map.places_heading", lang)}),
        ]),
        html.Div(className="mk-control", children=[
            html.Label(t("map.area", lang), htmlFor=ids.AREA, className="mk-label"),
            dropdown(lang, id=ids.AREA, options=area_options(ctx.areas, lang), value=state.area,
                         placeholder=t("map.area_all", lang), clearable=True, searchable=True),
        ]),
        html.Div(className="mk-control", children=[
            # near=1 (the home page's "near me"): the position is asked for as the page opens
            html.Button(t("map.near_me", lang), id=ids.NEAR, n_clicks=1 if params.get("near") == "1" else 0,
                        className="mk-button"),
            html.P(t("map.near_me_note", lang), className="mk-hint"),
            html.Div(id=ids.NEAR_LIST, **{"aria-live": "polite"}),
        ]),
        layer_switches([snapshots[layer.id] for layer in shown], state.layers, lang),
        *[f for f in filters.values() if f is not None],
        html.Fieldset(className="mk-fieldset", children=[
            html.Legend(t("map.basemap", lang)),
            dcc.RadioItems(id=ids.BASEMAP, value=state.base, className="mk-radios", inputClassName="mk-radio",
                           labelClassName="mk-radio-label",
                           options=[{"label": t(f"map.basemap.{b}", lang), "value": b} for b in ("pale", "std", "photo")]),
        ]),
        None if is_embedded(params) else embed_code(lang, t("embed.page_title", lang, name=t("nav.map", lang))),
    ])

    # which missing layers are still loading (health looks every layer up again: only when one is missing)
    health = ctx.layers.health() if len(snapshots) < len(dep.layers) else {}
    notices = data_notices(dep, snapshots, health, lang) + coverage_notices(
        [layer for layer in shown if layer.id in state.layers], snapshots, ctx.areas, state.area, lang)
    if ignored:
        notices.append(html.P(t("map.ignored", lang, items=", ".join(ignored)), className="mk-notice", role="status"))

    # a shared link opens with its place shown (reported=1: back from a report sent without script)
    details, details_class = details_panel(state.sel, lang, reported=params.get("reported") == "1")
    content = html.Div(id=ids.PAGE, className=f"mk-map-page mk-view-{state.view}", children=[
        dcc.Store(id=ids.STATE, data=state.as_store()),
        dcc.Store(id=ids.META, data=meta),
        dcc.Store(id=ids.SELECTED, data=state.sel),
        dcc.Store(id=ids.LANG, data=lang),
        dcc.Store(id=ids.CLICK),  # a place picked on the map, in the list or near me (mieruka-map-view.js)
        dcc.Store(id=ids.VIEWPORT),  # where the map is (mieruka-map-view.js)
        dcc.Store(id=ids.POSITION, storage_type="memory"),
        # the list's order: by name until a column is chosen, or by distance once near me knows where
        dcc.Store(id=ids.SORT, data={"key": "name", "dir": "asc", "auto": True}),
        html.H1(t("map.title", lang), className="mk-visually-hidden"),
        html.Div(notices, className="mk-notices"),
        html.Div(className="mk-view-switch", children=[
            html.Label(t("map.view_switch", lang), htmlFor=ids.VIEW, className="mk-visually-hidden"),
            dcc.RadioItems(id=ids.VIEW, value=state.view, className="mk-tabs", inputClassName="mk-tab-input",
                           labelClassName="mk-tab",
                           options=[{"label": t("map.view_map", lang), "value": "map"},
                                    {"label": t("map.view_list", lang), "value": "list"}]),
        ]),
        panel,
        html.Div(className="mk-stage", children=[
            html.Div(the_map, className="mk-map-wrap", role="region", **{"aria-label": t("map.region", lang)}),
            html.Div(id=ids.LIST, className="mk-list", **{"aria-live": "polite"}),
        ]),
        html.Aside(details, id=ids.DETAILS, className=details_class, **{"aria-live": "polite"},
                   **{"aria-label": t("map.details", lang)}),
    ])
    return shell(lang, "map", content, title=t("map.title", lang), path="/map", params=params, sample=sample_of(s.sample for s in snapshots.values()),
                 wide=True)


def coverage_notices(shown, snapshots: dict, areas, area_code: str | None, lang: str) -> list:
    """A layer on the map that only some municipalities publish says which they are; for an
    area chosen that it has no data of, it says so (the count line says it again as the
    choice changes in the browser)."""
    notices = []
    chosen = areas.get(area_code) if area_code else None
    for layer in shown:
        snapshot = snapshots[layer.id]
        if snapshot.coverage is None:
            continue
        title = text_of(layer.title, lang)
        members = {chosen.code, *(w.code for w in areas.wards(chosen.code))} if chosen else set()
        if chosen and not members & set(snapshot.coverage):
            notices.append(html.P(t("map.uncovered", lang, layer=title, area=areas.full_name(chosen, lang)),
                                  className="mk-coverage", role="note"))
            continue
        covered = snapshot.covered_municipalities(areas)
        notices.append(html.P(t("map.coverage", lang, layer=title, n=len(covered),
                                of=len(areas.municipalities), prefecture=areas.prefecture.name(lang),
                                names=t("list.sep", lang).join(a.name(lang) for a in covered)),
                              className="mk-coverage", role="note"))  # what the data covers, not a problem
    return notices


def data_notices(dep, snapshots: dict, health: dict, lang: str) -> list:
    """Notices for layers whose data is old, missing or still loading (stale-but-safe)."""
    notices = [dataset_notice(layer.id, text_of(layer.title, lang), snapshots.get(layer.id), dep.timezone, lang,
                              loading=health.get(layer.id, {}).get("status") == "loading")
               for layer in dep.layers]
    return [n for n in notices if n is not None]


# ---- clientside: everything a filter or layer click changes runs in the browser ----

clientside_callback(
    ClientsideFunction("mieruka", "state"),
    Output(ids.STATE, "data"), Output(ids.SELECTED, "data"),
    Input(ids.LAYERS, "value"),
    Input({"type": "filter", "layer": ALL, "filter": ALL, "part": ALL}, "value"),
    Input(ids.SEARCH, "value"), Input(ids.AREA, "value"), Input(ids.BASEMAP, "value"), Input(ids.VIEW, "value"),
    Input(ids.CLICK, "data"),
    Input({"type": "details-close", "key": ALL}, "n_clicks"),
    Input(ids.VIEWPORT, "data"),
    State(ids.STATE, "data"), State(ids.META, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction("mieruka", "panel"),
    Output(ids.PANEL, "open"),
    Input(ids.META, "data"),
)

clientside_callback(
    ClientsideFunction("mieruka", "render"),
    Output({"type": "layer-count", "id": ALL}, "children"), Output(ids.COUNT, "children"),
    Input(ids.STATE, "data"), State(ids.META, "data"),
)

clientside_callback(
    ClientsideFunction("mieruka", "url"),
    Output("lang-link", "href"),
    Input(ids.STATE, "data"), State(ids.META, "data"),
)

clientside_callback(
    ClientsideFunction("mieruka", "view"),
    Output(ids.PAGE, "className"),
    Input(ids.STATE, "data"), State(ids.META, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction("mieruka", "listView"),
    Output(ids.LIST, "children"),
    Input(ids.STATE, "data"), Input(ids.VIEWPORT, "data"), Input(ids.SORT, "data"), Input(ids.POSITION, "data"),
    State(ids.META, "data"),
)

clientside_callback(
    ClientsideFunction("mieruka", "locate"),
    Output(ids.POSITION, "data"),
    Input(ids.NEAR, "n_clicks"),  # called on load too: 1 there means the page was opened with near=1
)

clientside_callback(
    ClientsideFunction("mieruka", "nearest"),
    Output(ids.NEAR_LIST, "children"),
    Input(ids.POSITION, "data"), Input(ids.STATE, "data"), State(ids.META, "data"),
    prevent_initial_call=True,
)


# ---- server: the detail panel of the selected feature ----

@callback(
    Output(ids.DETAILS, "children"), Output(ids.DETAILS, "className"),
    Input(ids.SELECTED, "data"), State(ids.LANG, "data"),
    prevent_initial_call=True,  # the layout has the panel of the place in the URL
)
@checked((str, None), (str, None))
def show_details(selected: str | None, lang: str | None):
    return details_panel(selected, lang_or_default(lang))


def details_panel(selected: str | None, lang: str, reported: bool = False):
    """(children, className) of the detail panel for a `layer:id` selection."""
    if not selected:
        return None, "mk-details-wrap"
    ctx = context()
    lid, _, rid = selected.partition(":")
    layer = ctx.deployment.layer(lid)
    snap = ctx.layers.snapshot(lid) if layer else None
    record = snap.record(rid) if snap else None
    if record is None:
        return html.P(t("map.not_found", lang), className="mk-notice", role="status"), "mk-details-wrap mk-open"
    now = local_now(ctx.deployment.timezone, ctx.layers.views.clock())  # the layers' clock (tests inject one)
    return (feature_details(layer, record, ctx.deployment, ctx.areas, lang, ids.details_close(), sample=snap.sample,
                            data_date=snap.data_date, now=now, permalink=href("/map", lang, sel=selected), reported=reported),
            "mk-details-wrap mk-open")
