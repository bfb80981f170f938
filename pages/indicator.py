"""/dashboard/<id> — one indicator per municipality over time: areas compared with the
prefecture, a ranking, the natural breakdown, the data as a table, downloads of exactly
that data, and where every number comes from."""
from __future__ import annotations

import functools

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from components.data_table import next_sort, sortable_table
from components.dropdown import dropdown
from components.indicator_charts import (breakdown_figure, choropleth_figure, empty_figure, pyramid_figure,
                                        ranking_figure, series_figure, tile_grid_figure)
from components.notices import dataset_notice, local_time
from components.dataset_labels import sample_badge_if, titled
from components.embed_code import embed_code
from components.shell import href, is_embedded, shell
from data_sources import SourceError, SourceLoading
from i18n import LANGUAGES, lang_or_default, t, text_of
from request_limits import PAGE_AREAS, clamped
from registry import IndicatorSpec
from request_guard import ANY, BadCallbackInput, checked
from services import indicator_math as im
from services.context import context
from services.indicator_view import PRESETS, IndicatorView, parse_view, preset_window, with_measure
from services.indicators import BadQuery, spec_unit
from services.tile_grid import tile_positions

def _exists(indicator_id: str | None = None, **_) -> bool:
    """Whether /dashboard/<indicator_id> is a page (else it answers 404 with the not-found text)."""
    return context().deployment.indicator(indicator_id or "") is not None


dash.register_page(__name__, path_template="/dashboard/<indicator_id>", title="指標 — 見える化", name="indicator",
                   exists=_exists)


class ids:
    VIEW = "ind-view"
    META = "ind-meta"
    MEASURE = "ind-measure"
    AREAS = "ind-areas"
    PRESET = "ind-preset"
    FROM = "ind-from"
    TO = "ind-to"
    PER_CAPITA = "ind-pc"
    SERIES = "ind-series"
    RANKING = "ind-ranking"
    BREAKDOWN = "ind-breakdown"
    MAP = "ind-map"
    TABLE = "ind-table-wrap"
    TABLE_ID = "ind-table"
    SORT = "ind-sort"
    CSV = "ind-csv"
    JSON = "ind-json"
    LIMIT = "ind-limit"


def layout(indicator_id: str | None = None, **params):
    c = context()
    lang = lang_or_default(params.get("lang"))
    spec = c.deployment.indicator(indicator_id or "")

    def message_page(title: str, notice=None):  # no such indicator, or no data for it
        content = html.Article(className="mk-prose", children=[
            html.H1(title), notice, html.P(html.A(t("kpi.title", lang), href=href("/dashboard", lang)))])
        return shell(lang, "dashboard", content, title=title, path=f"/dashboard/{indicator_id}", params=params,
                     sample=False)

    if spec is None:
        return message_page(t("ind.not_found", lang))
    try:
        snap = c.indicators.snapshot(spec.id)
    except SourceError as exc:
        title = text_of(spec.title, lang)
        return message_page(title, dataset_notice(spec.id, title, None, c.deployment.timezone, lang,
                                                  loading=isinstance(exc, SourceLoading)))
    prefecture = c.deployment.prefecture["code"]
    view, options, ignored = parse_view(params, spec, snap, c.areas, prefecture, lang)
    parts = render(spec, view, None)
    measure = spec.measure(view.measure)
    controls = html.Div(className="mk-controls", children=[
        html.Div([
            html.Label(t("ind.measure", lang), htmlFor=ids.MEASURE, className="mk-label"),
            dcc.RadioItems(id=ids.MEASURE, value=view.measure, className="mk-radios", inputClassName="mk-radio",
                           labelClassName="mk-radio-label",
                           options=[{"label": text_of(m.title, lang), "value": m.id} for m in options.measures]),
        ]),
        html.Div([
            html.Label(t("ind.areas", lang), htmlFor=ids.AREAS, className="mk-label"),
            dropdown(lang, id=ids.AREAS, multi=True, value=list(view.areas), options=area_options(options.areas, lang),
                         placeholder=t("ind.areas_placeholder", lang)),
        ]),
        html.Div([
            html.Label(t("ind.window", lang), htmlFor=ids.PRESET, className="mk-label"),
            dcc.RadioItems(id=ids.PRESET, value=None, className="mk-radios", inputClassName="mk-radio",
                           labelClassName="mk-radio-label", options=preset_options(measure.frequency, lang)),
            html.Div(className="mk-range", children=[
                html.Label([t("map.date_from", lang), dropdown(lang, id=ids.FROM, value=view.start, clearable=False,
                                                                   options=period_options(options.periods, lang))]),
                html.Label([t("map.date_to", lang), dropdown(lang, id=ids.TO, value=view.end, clearable=False,
                                                                 options=period_options(options.periods, lang))]),
            ]),
        ]),
        html.Div([
            html.Label(t("ind.per_capita_label", lang), htmlFor=ids.PER_CAPITA, className="mk-label"),
            dcc.Checklist(id=ids.PER_CAPITA, value=["1"] if view.per_capita else [],
                          options=[{"label": t("ind.per_capita", lang), "value": "1",
                                    "disabled": not measure.per_capita}],
                          inputClassName="mk-check", labelClassName="mk-check-label"),
        ]),
    ])
    notices = [dataset_notice(spec.id, text_of(spec.title, lang), snap, c.deployment.timezone, lang)]
    if ignored:
        notices.append(html.P(t("map.ignored", lang, items=", ".join(ignored)), className="mk-notice", role="status"))
    content = html.Div(className="mk-indicator", children=[
        dcc.Store(id=ids.VIEW, data=view_store(view)),
        dcc.Store(id=ids.META, data={"id": spec.id, "lang": lang}),
        dcc.Store(id=ids.SORT, data=None),
        html.P(html.A("‹ " + t("kpi.title", lang), href=dashboard_href(view, prefecture, lang))),
        html.H1(titled(text_of(spec.title, lang), snap.sample, lang)),
        html.P(text_of(spec.description, lang), className="mk-lead"),
        *[n for n in notices if n is not None],
        controls,
        html.Div(None, id=ids.LIMIT, role="status"),  # says so when more areas came than the page compares
        html.Div(className="mk-charts", children=[
            html.Div(dcc.Graph(id=ids.SERIES, figure=parts["series"], config=GRAPH_CONFIG), className="mk-chart mk-chart-wide"),
            html.Div(dcc.Graph(id=ids.MAP, figure=parts["map"], config=GRAPH_CONFIG), className="mk-chart"),
            html.Div(dcc.Graph(id=ids.RANKING, figure=parts["ranking"], config=GRAPH_CONFIG), className="mk-chart"),
            html.Div(dcc.Graph(id=ids.BREAKDOWN, figure=parts["breakdown"], config=GRAPH_CONFIG),
                     className="mk-chart mk-chart-wide"),
        ]),
        html.H2(t("ind.data", lang)),
        html.Div(className="mk-downloads", children=[
            html.Span(t("ind.download", lang)),
            html.A("CSV", id=ids.CSV, href=parts["csv"], className="mk-button", download=""),
            html.A("JSON", id=ids.JSON, href=parts["json"], className="mk-button"),
        ]),
        html.Div(parts["table"], id=ids.TABLE),
        provenance(spec, snap, lang, c.deployment.timezone),
        None if is_embedded(params) else embed_code(lang, t("embed.page_title", lang, name=text_of(spec.title, lang))),
    ])
    return shell(lang, "dashboard", content, title=text_of(spec.title, lang), path=f"/dashboard/{spec.id}",
                 params=params, sample=snap.sample)


# topojsonURL: plotly fetches base-map topology for geo charts from a CDN by default; the
# choropleth draws its own boundaries, so an empty topology served by the app suffices.
GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "topojsonURL": "/assets/topojson/",
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}


def dashboard_href(view: IndicatorView, prefecture: str, lang: str) -> str:
    """Back to the dashboard: of the one municipality or ward this page shows, if so (a card
    of an area's dashboard leads here), else of the prefecture."""
    one = view.areas[0] if len(view.areas) == 1 and view.areas[0] != prefecture else None
    return href("/dashboard", lang, area=one)


def view_store(view: IndicatorView) -> dict:
    return {"measure": view.measure, "areas": list(view.areas), "start": view.start, "end": view.end,
            "per_capita": view.per_capita, "lang": view.lang, "query": view.query()}


def area_options(codes, lang: str) -> list[dict]:
    c = context()
    snap_stations = {}
    for s in c.indicators.snapshots():
        snap_stations.update(s.stations)
    return [{"label": c.indicators.area_name(code, lang, snap_stations), "value": code} for code in codes]


def period_options(periods, lang: str) -> list[dict]:
    return [{"label": im.format_period(p, lang), "value": p} for p in periods]


def preset_options(frequency: str, lang: str) -> list[dict]:
    unit = {"monthly": "months", "yearly": "years", "daily": "days"}[frequency]
    return ([{"label": t(f"ind.last_{unit}", lang, n=n), "value": str(n)} for n in PRESETS[frequency]]
            + [{"label": t("ind.all", lang), "value": "all"}])


def unchanged_without_data(callback_function):
    """A callback of a page whose data has gone (the store was emptied under it) leaves the
    page as it is instead of failing; the next page load shows the notice."""
    @functools.wraps(callback_function)
    def wrapper(*args, **kwargs):
        try:
            return callback_function(*args, **kwargs)
        except SourceError:
            raise PreventUpdate from None
    return wrapper


def render(spec: IndicatorSpec, view: IndicatorView, sort: dict | None) -> dict:
    """Figures, table and download links for a view — what the page shows, in one place."""
    c = context()
    lang = view.lang
    service = c.indicators
    snap = service.snapshot(spec.id)
    measure = spec.measure(view.measure)
    unit = spec_unit(measure, lang, view.per_capita)
    prefecture = c.deployment.prefecture["code"]
    rows = service.query(spec.id, measure=measure.id, areas=view.areas, start=view.start, end=view.end,
                         per_capita=view.per_capita, breakdown="", lang=lang)
    series_title = text_of(measure.title, lang)
    if unit:
        series_title += f"（{unit}）" if lang == "ja" else f" ({unit})"
    axis_unit = unit or text_of(measure.title, lang)  # a unitless measure (a 0/1 flag) names its axis by its title

    # the reference line: the prefecture for rates; the mean of municipalities for raw counts
    compare_codes = [code for code in snap.areas(measure.id) if code != prefecture
                     and (c.areas.get(code) is None or c.areas.get(code).is_municipality)]
    if measure.is_count and not view.per_capita:
        everyone = service.query(spec.id, measure=measure.id, areas=compare_codes, start=view.start, end=view.end,
                                 breakdown="", lang=lang)
        by_period: dict[str, list] = {}
        for r in everyone:
            by_period.setdefault(r["period"], []).append(r["value"])
        reference = [{"period": p, "value": im.mean(v)} for p, v in sorted(by_period.items())]
        reference_name = t("ind.municipal_mean", lang)
    else:
        reference = [r for r in service.query(spec.id, measure=measure.id, areas=[prefecture], start=view.start,
                                              end=view.end, per_capita=view.per_capita, breakdown="", lang=lang)] \
            if prefecture in snap.areas(measure.id) and prefecture not in view.areas else []
        reference_name = c.deployment.prefecture[lang]
    series = series_figure(rows, reference, reference_name, series_title, axis_unit, measure.frequency, lang,
                           measure.decimals)

    # ranking of municipalities (or stations) in the last period of the window
    # the last period of the window first (one row per area); the whole window only if it is empty
    ranked_rows = service.query(spec.id, measure=measure.id, areas=compare_codes, start=view.end, end=view.end,
                                per_capita=view.per_capita, breakdown="", lang=lang)
    if im.latest_period(ranked_rows) is None:
        ranked_rows = service.query(spec.id, measure=measure.id, areas=compare_codes, start=view.start,
                                    end=view.end, per_capita=view.per_capita, breakdown="", lang=lang)
    last = im.latest_period(ranked_rows)
    values = {code: None for code in compare_codes}
    names = {}
    for r in ranked_rows:
        names[r["area_code"]] = r["area_name"]
        if r["period"] == last:
            values[r["area_code"]] = r["value"]
    for code in compare_codes:
        names.setdefault(code, service.area_name(code, lang, snap.stations))
    pref_value = next((r["value"] for r in reference if r["period"] == last), None) if reference else None
    map_title = t("ind.map_title", lang, period=im.format_period(last, lang) if last else "—")
    geojson = c.boundaries()
    municipal = [code for code in compare_codes if c.areas.get(code) is not None]
    if not municipal:
        area_map = empty_figure(t("ind.no_map", lang))
    elif geojson is not None:
        credit_date = c.boundaries_date()
        credit = t("ind.map_credit", lang, date=credit_date) if credit_date else None
        area_map = choropleth_figure(values, names, geojson, map_title, unit, lang, measure.decimals, credit)
    else:
        short = {code: short_name(c.areas.get(code), lang) for code in municipal}
        area_map = tile_grid_figure({k: values[k] for k in municipal}, names, short,
                                    tile_positions(c.areas.get(code) for code in municipal), map_title, unit, lang,
                                    measure.decimals)
    ranking_title = t("ind.ranking_title", lang, period=im.format_period(last, lang) if last else "—")
    ranking = ranking_figure(values, names, pref_value, reference_name, ranking_title, axis_unit, lang, measure.decimals,
                             descending=True)

    # the natural breakdown
    first_area = (view.areas or (prefecture,))[0]
    if spec.id == "population":
        latest = im.latest_period(rows) or view.end
        male = {r["breakdown"]: r["value"] for r in service.query(spec.id, measure="male", areas=[first_area],
                                                                  start=latest, end=latest, lang=lang) if r["breakdown"]}
        female = {r["breakdown"]: r["value"] for r in service.query(spec.id, measure="female", areas=[first_area],
                                                                    start=latest, end=latest, lang=lang) if r["breakdown"]}
        bins = snap.breakdowns("male")
        breakdown = pyramid_figure(male, female, bins, t("ind.pyramid_title", lang, area=service.area_name(first_area, lang),
                                                         period=im.format_period(latest, lang) if latest else "—"), lang)
    elif snap.breakdowns(measure.id):
        parts = [{**r, "breakdown": spec.breakdown_label(value, lang)} for value in snap.breakdowns(measure.id)
                 for r in service.query(spec.id, measure=measure.id, areas=[first_area], start=view.start,
                                        end=view.end, per_capita=view.per_capita, breakdown=value, lang=lang)]
        breakdown = breakdown_figure(parts, t("ind.breakdown_title", lang, area=service.area_name(first_area, lang),
                                              by=text_of(spec.breakdown, lang)),
                                     axis_unit, measure.frequency, lang, text_of(spec.breakdown, lang))
    else:
        others = [m for m in spec.measures if m.id != measure.id and snap.areas(m.id) and m.frequency == measure.frequency]
        if others:
            other = others[0]
            other_rows = service.query(spec.id, measure=other.id, areas=[first_area], start=view.start, end=view.end,
                                       per_capita=view.per_capita and other.per_capita, breakdown="", lang=lang)
            other_unit = spec_unit(other, lang, view.per_capita and other.per_capita) or text_of(other.title, lang)
            breakdown = series_figure(other_rows, [], "", f"{text_of(other.title, lang)} — {service.area_name(first_area, lang)}",
                                      other_unit, other.frequency, lang, other.decimals)
        else:
            breakdown = series_figure([], [], "", "", axis_unit, measure.frequency, lang, measure.decimals)

    columns = [("area_name", t("chart.area", lang)), ("period", t("chart.period", lang)),
               ("value", t("ind.value", lang)), ("unit", t("ind.unit", lang))]
    table = sortable_table(ids.TABLE_ID, columns, rows, sort or {"key": "period", "dir": "asc"}, lang,
                           t("ind.table_caption", lang, measure=text_of(measure.title, lang), count=f"{len(rows):,}"),
                           render={"value": lambda v: im.format_number(v, lang, measure.decimals + (1 if view.per_capita else 0)),
                                   "period": lambda p: im.format_period(p, lang)},
                           numeric=("value",))
    query = view.query(extra={"breakdown": ""})
    return {"series": series, "ranking": ranking, "breakdown": breakdown, "map": area_map, "table": table,
            "csv": f"/api/v1/indicators/{spec.id}.csv?{query}", "json": f"/api/v1/indicators/{spec.id}.json?{query}"}


def short_name(area, lang: str) -> str:
    """A tile's label: 豊中 for 豊中市, Toyon… for Toyonaka City."""
    if lang == "ja":
        name = area.name_ja
        name = name[:-1] if len(name) > 2 and name[-1] in "市町村" else name
        return name[:3]
    return area.name_en.split(" ")[0][:5]


def provenance(spec: IndicatorSpec, snap, lang: str, timezone: str):
    items = [
        ("ind.definition", text_of(spec.definition, lang)),
        ("ind.numerator", text_of(spec.numerator, lang)),
        ("ind.denominator", text_of(spec.denominator, lang) if spec.denominator else None),
        ("ind.frequency", t(f"ind.freq.{spec.frequency}", lang)),
        ("ind.source", [sample_badge_if(snap.sample, lang), " " if snap.sample else "", text_of(spec.credit, lang)]),
        ("ind.licence", html.A(spec.licence["name"], href=spec.licence["url"], rel="license noopener", target="_blank")),
        ("ind.retrieved", local_time(snap.fetched_at, timezone)),
        ("ind.as_of", snap.source_modified.isoformat()),
        ("ind.caveats", text_of(spec.caveats, lang) if spec.caveats else None),
    ]
    rows = []
    for key, value in items:
        if value:
            rows += [html.Dt(t(key, lang)), html.Dd(value)]
    return html.Details(open=True, className="mk-provenance", id="provenance", children=[
        html.Summary(t("ind.provenance", lang)), html.Dl(rows)])


# ---- callbacks: thin — read inputs, call the service, build with the factories ----

@callback(
    Output(ids.AREAS, "options"), Output(ids.AREAS, "value"), Output(ids.FROM, "options"), Output(ids.TO, "options"),
    Output(ids.FROM, "value", allow_duplicate=True), Output(ids.TO, "value", allow_duplicate=True),
    Output(ids.PRESET, "options"), Output(ids.PER_CAPITA, "options"), Output(ids.PER_CAPITA, "value"),
    Input(ids.MEASURE, "value"), State(ids.VIEW, "data"), State(ids.META, "data"),
    prevent_initial_call=True,
)
@checked(str, {"measure": str, "areas": [str], "start": (str, None), "end": (str, None), "per_capita": bool},
         {"id": str, "lang": str})
@unchanged_without_data
def measure_changed(measure: str, current: dict, meta: dict):
    c = context()
    spec, lang = page_of(meta)
    if spec.measure(measure) is None:
        raise BadCallbackInput(f"measure_changed: {spec.id} has no measure {measure[:40]!r}")
    snap = c.indicators.snapshot(spec.id)
    areas, _ = clamped(current["areas"], PAGE_AREAS)
    view = IndicatorView(current["measure"], tuple(areas), current["start"], current["end"],
                         current["per_capita"], lang)
    view, options = with_measure(view, spec, snap, c.areas, c.deployment.prefecture["code"], measure)
    m = spec.measure(measure)
    periods = period_options(options.periods, lang)
    return (area_options(options.areas, lang), list(view.areas), periods, periods, view.start, view.end,
            preset_options(m.frequency, lang),
            [{"label": t("ind.per_capita", lang), "value": "1", "disabled": not m.per_capita}],
            ["1"] if view.per_capita else [])


@callback(
    Output(ids.FROM, "value"), Output(ids.TO, "value"),
    Input(ids.PRESET, "value"), State(ids.FROM, "options"),
    prevent_initial_call=True,
)
@checked((str, None), [{"value": str}])
def preset_chosen(preset: str | None, options: list[dict]):
    periods = tuple(o["value"] for o in options)
    if not preset:
        return dash.no_update, dash.no_update
    if preset != "all" and not (preset.isdigit() and len(preset) <= 4):
        raise BadCallbackInput(f"preset_chosen: {preset[:20]!r} is not a window")
    return preset_window("", periods, None if preset == "all" else int(preset))


@callback(
    Output(ids.SORT, "data"),
    Input({"type": "table-sort", "table": ids.TABLE_ID, "key": ALL}, "n_clicks"), State(ids.SORT, "data"),
    prevent_initial_call=True,
)
@checked(ANY, ({"key": str, "dir": str}, None))
def sort_clicked(_clicks, current):
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        return dash.no_update
    key = ctx.triggered_id.get("key") if isinstance(ctx.triggered_id, dict) else None
    if not isinstance(key, str):
        raise BadCallbackInput("sort_clicked: no column was clicked")
    return next_sort(current, key)


@callback(
    Output(ids.SERIES, "figure"), Output(ids.RANKING, "figure"), Output(ids.BREAKDOWN, "figure"), Output(ids.MAP, "figure"),
    Output(ids.TABLE, "children"), Output(ids.CSV, "href"), Output(ids.JSON, "href"), Output(ids.VIEW, "data"),
    Output(ids.LIMIT, "children"),
    Input(ids.AREAS, "value"), Input(ids.FROM, "value"), Input(ids.TO, "value"), Input(ids.PER_CAPITA, "value"),
    Input(ids.SORT, "data"), State(ids.MEASURE, "value"), State(ids.META, "data"),
    prevent_initial_call=True,
)
@checked(([str], str, None), (str, None), (str, None), ([str], None), ({"key": str, "dir": str}, None), str,
         {"id": str, "lang": str})
@unchanged_without_data
def view_changed(areas, start, end, per_capita, sort, measure, meta):
    spec, lang = page_of(meta)
    m = spec.measure(measure)
    if m is None:
        raise BadCallbackInput(f"view_changed: {spec.id} has no measure {measure[:40]!r}")
    if start and end and start > end:
        start, end = end, start
    shown, left_out = clamped([areas] if isinstance(areas, str) else areas or (), PAGE_AREAS)
    view = IndicatorView(measure, tuple(shown), start, end, bool(per_capita) and m.per_capita, lang)
    try:
        parts = render(spec, view, sort)
    except BadQuery as exc:  # a period or area no picker of the page offers
        raise BadCallbackInput(f"view_changed: {exc}") from None
    notice = html.P(t("ind.too_many_areas", lang, n=PAGE_AREAS), className="mk-notice") if left_out else None
    return (parts["series"], parts["ranking"], parts["breakdown"], parts["map"], parts["table"], parts["csv"],
            parts["json"], view_store(view), notice)


def page_of(meta: dict) -> tuple[IndicatorSpec, str]:
    """The indicator and language a callback's page shows (its META store), or BadCallbackInput."""
    spec = context().deployment.indicator(meta["id"])
    if spec is None or meta["lang"] not in LANGUAGES:
        raise BadCallbackInput(f"no indicator page {str(meta['id'])[:40]!r} in {str(meta['lang'])[:10]!r}")
    return spec, meta["lang"]


clientside_callback(
    ClientsideFunction("mieruka", "pageUrl"),
    Output("lang-link", "href", allow_duplicate=True),
    Input(ids.VIEW, "data"),
    prevent_initial_call=True,
)
