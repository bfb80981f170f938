"""Controls of the map page: layer switches with legend and counts, filters per layer,
search, municipality, base map and view mode. Pure factories of Dash components."""
from __future__ import annotations

from dash import dcc, html

from components.dataset_labels import credit_line, sample_badge_if, titled
from components.dropdown import dropdown
from components.shell import href
from i18n import t, text_of
from registry import LayerSpec
from services.areas import AreaTable

FLAG_KINDS = ("flag", "open_now", "open_24h")


class ids:
    STATE = "map-state"
    META = "map-meta"
    SELECTED = "map-selected"
    LANG = "map-lang"
    CLICK = "map-click"  # named in assets/mieruka-map-view.js too
    VIEWPORT = "map-viewport"  # named in assets/mieruka-map-view.js too
    POSITION = "map-position"
    SORT = "list-sort"
    LAYERS = "layer-toggle"
    SEARCH = "map-search"
    PLACES = "map-places"  # places by name as the search is typed (assets/mieruka-map-view.js)
    AREA = "map-area"
    BASEMAP = "map-basemap"
    VIEW = "map-view"
    NEAR = "near-me"
    NEAR_LIST = "near-list"
    COUNT = "count-summary"
    MAP = "map"
    LIST = "list"
    DETAILS = "details"
    PAGE = "map-page"
    PANEL = "map-panel"
    SOURCES = "layer-sources"

    @staticmethod
    def layer_count(lid: str) -> dict:
        return {"type": "layer-count", "id": lid}

    @staticmethod
    def filter(lid: str, fid: str, part: str) -> dict:
        return {"type": "filter", "layer": lid, "filter": fid, "part": part}

    @staticmethod
    def details_close() -> dict:
        return {"type": "details-close", "key": "x"}


def marker_badge(layer: LayerSpec):
    """The legend's copy of the layer's map icon: shape, colour and glyph."""
    return html.Span(layer.icon, className=f"mk-badge mk-shape-{layer.shape}",
                     style={"--mk-colour": layer.colour}, **{"aria-hidden": "true"})


def layer_switches(snapshots, on: list[str], lang: str):
    """The legend: a switch per layer (`snapshots`: the shown layers' LayerSnapshots, in
    order) with its icon, name, "サンプル" badge when its data is sample, and count; under
    it, folded away, each layer's credit, licence and data date with a link to its /data
    entry."""
    options = [{
        "value": snap.layer.id,
        "label": html.Span(className="mk-layer-label", children=[
            marker_badge(snap.layer),
            # the badge flows with the name (a column of its own would squeeze the names)
            html.Span(titled(text_of(snap.layer.title, lang), snap.sample, lang), className="mk-layer-title"),
            html.Span("…", id=ids.layer_count(snap.layer.id), className="mk-layer-count"),
        ]),
    } for snap in snapshots]
    return html.Fieldset(className="mk-fieldset", children=[
        html.Legend(t("map.layers", lang)),
        dcc.Checklist(id=ids.LAYERS, options=options, value=on, className="mk-layers",
                      inputClassName="mk-check", labelClassName="mk-layer-row"),
        html.P(id=ids.COUNT, className="mk-count-summary", **{"aria-live": "polite"}),
        layer_sources(snapshots, lang),
    ])


def layer_sources(snapshots, lang: str):
    """"出典とデータ時点": per layer its name, badge, credit, licence and data date, and a
    link to its entry on /data."""
    return html.Details(id=ids.SOURCES, className="mk-layer-sources", children=[
        html.Summary(t("dataset.sources", lang)),
        html.Ul([html.Li(id=f"layer-source-{snap.layer.id}", children=[
            html.A(text_of(snap.layer.title, lang), href=href("/data", lang) + f"#dataset-{snap.layer.id}"), " ",
            sample_badge_if(snap.sample, lang), html.Br(),
            credit_line(snap.layer, snap.data_date, lang),
        ]) for snap in snapshots]),
    ])


def _radio(component_id, options, value, lang_label: str):
    """Radio buttons named `lang_label` for screen readers (see nameChoiceLists in mieruka-base.js)."""
    return html.Div(title=lang_label, children=dcc.RadioItems(
        id=component_id, options=options, value=value, className="mk-radios",
        inputClassName="mk-radio", labelClassName="mk-radio-label"))


def filter_controls(layer: LayerSpec, values: dict[str, str], lang: str,
                    data_options: dict[str, tuple[str, ...]], months: tuple[str, ...],
                    level_names: list[str], unfolded: bool = False):
    """One <details> of filters for a layer, open when `unfolded` or a filter is set; control
    ids from `ids.filter`.

    Values are composed back into one string per filter by `mieruka.cb.state`
    (assets/mieruka-map-state.js) — the inverse of `_parts` below.
    """
    lid = layer.id
    any_label = t("map.choice_any", lang)
    blocks = []
    flags = [f for f in layer.filters if f.kind in FLAG_KINDS and not (f.kind == "flag" and f.options)]
    if flags:
        blocks.append(html.Div(title=t("map.filters", lang), children=dcc.Checklist(
            id=ids.filter(lid, "_flags", "flags"),
            options=[{"label": text_of(f.label, lang), "value": f.id} for f in flags],
            value=[f.id for f in flags if values.get(f.id)],
            className="mk-checks", inputClassName="mk-check", labelClassName="mk-check-label")))
    for spec in layer.filters:
        if spec in flags:
            continue
        label = text_of(spec.label, lang)
        parts = _parts(spec.kind, values.get(spec.id, ""))
        # the options the config names (with their labels), else the values found in the data
        options = [{"label": text_of(o.label, lang), "value": o.value} for o in spec.options] or \
            [{"label": v, "value": v} for v in data_options.get(spec.id, ())]
        if spec.kind in ("flag", "choice"):
            control = _radio(ids.filter(lid, spec.id, "value"), [{"label": any_label, "value": ""}] + options,
                             parts["value"], label)
        elif spec.kind == "contains":
            control = dropdown(lang, id=ids.filter(lid, spec.id, "value"), value=parts["value"] or None,
                               options=options, placeholder=any_label, clearable=True, searchable=True)
        elif spec.kind == "vacancy":
            control = html.Div([
                _radio(ids.filter(lid, spec.id, "age"),
                       [{"label": t("map.age_any", lang), "value": ""}] +
                       [{"label": text_of(o.label, lang), "value": o.value} for o in spec.options],
                       parts["age"], label),
                html.Label(t("map.month", lang), className="mk-label"),
                dropdown(lang, id=ids.filter(lid, spec.id, "month"), value=parts["month"] or (months[-1] if months else None),
                             options=[{"label": m, "value": m} for m in reversed(months)], clearable=False,
                             searchable=False),
            ])
        elif spec.kind == "air_level":
            pollutants = [p.id for p in layer.readings.pollutants] if layer.readings else []
            control = html.Div([
                _radio(ids.filter(lid, spec.id, "pollutant"),
                       [{"label": any_label, "value": ""}] + [{"label": p, "value": p} for p in pollutants],
                       parts["pollutant"], t("map.pollutant", lang)),
                html.Span(t("map.level_min", lang), className="mk-label"),
                _radio(ids.filter(lid, spec.id, "level"),
                       [{"label": t("map.level_any", lang) if i == 0 else t("map.level_at_least", lang, level=name),
                         "value": str(i + 1)} for i, name in enumerate(level_names)],
                       parts["level"], t("map.level_min", lang)),
            ])
        elif spec.kind == "date_window":
            control = html.Div([
                _radio(ids.filter(lid, spec.id, "mode"), [
                    {"label": t("map.date_any", lang), "value": ""},
                    {"label": t("map.date_today", lang), "value": "today"},
                    {"label": t("map.date_week", lang), "value": "week"},
                    {"label": t("map.date_range", lang), "value": "range"},
                ], parts["mode"], label),
                html.Div(className="mk-range", children=[
                    html.Label([t("map.date_from", lang),
                                dcc.Input(id=ids.filter(lid, spec.id, "from"), type="date", value=parts["from"],
                                          debounce=True)]),
                    html.Label([t("map.date_to", lang),
                                dcc.Input(id=ids.filter(lid, spec.id, "to"), type="date", value=parts["to"],
                                          debounce=True)]),
                ]),
            ])
        else:
            continue
        blocks.append(html.Div([html.Span(label, className="mk-filter-label"), control], className="mk-filter"))
    if not blocks:
        return None
    return html.Details(id=f"filters-{lid}", className="mk-filters", open=unfolded or bool(values), children=[
        html.Summary([marker_badge(layer), " ", text_of(layer.title, lang), html.Span(f" — {t('map.filters', lang)}")]),
        *blocks,
    ])


def _parts(kind: str, value: str) -> dict[str, str]:
    """A filter's URL value → the values of its controls."""
    if kind == "vacancy":
        age, _, month = value.partition("@")
        return {"age": age, "month": month}
    if kind == "air_level":
        pollutant, _, level = value.partition(":")
        return {"pollutant": pollutant, "level": level or "1"}
    if kind == "date_window":
        if value in ("today", "week", ""):
            return {"mode": value, "from": "", "to": ""}
        start, _, end = value.partition("..")
        return {"mode": "range", "from": start, "to": end}
    return {"value": value}


def area_options(areas: AreaTable, lang: str) -> list[dict]:
    options = []
    for area in areas.municipalities:
        options.append({"label": area.name(lang), "value": area.code})
        for ward in areas.wards(area.code):
            label = areas.full_name(ward, lang)
            options.append({"label": f"　{label}" if lang == "ja" else f"  {label}", "value": ward.code})
    return options
