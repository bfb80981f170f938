"""Tests for the indicator detail page (pages/indicator.py): its figures, its table and
its downloads for every indicator, the not-found page, and table sorting."""

from __future__ import annotations

import importlib
from urllib.parse import parse_qsl, urlsplit

import pytest
from dash import html

from components.data_table import next_sort
from services.indicator_view import IndicatorView, parse_view

INDICATOR_IDS = ["population", "health", "crime", "economy", "childcare", "tourism", "traffic", "air",
                 "emergency"]
PREF = "270008"
OSAKA_CITY, SAKAI, TOYONAKA = "271004", "271403", "272035"


@pytest.fixture(scope="module")
def page(dash_app):
    return importlib.import_module("pages.indicator")  # the module Dash Pages loaded, not a second copy


@pytest.fixture(scope="module")
def months(client) -> list[str]:
    """The months the monthly sample data covers (they follow today's date)."""
    response = client.get(f"/api/v1/indicators/crime.json?area={PREF}&breakdown=")
    return sorted(r["period"] for r in response.get_json()["records"])


def ja_month(period: str) -> str:
    return f"{int(period[:4])}年{int(period[5:7])}月"


def en_month(period: str) -> str:
    return "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[int(period[5:7]) - 1] + " " + period[:4]


@pytest.fixture
def request_ctx(dash_app):
    with dash_app.server.test_request_context():
        yield


def default_view(ctx, indicator_id: str, params: dict | None = None, lang: str = "ja") -> IndicatorView:
    spec = ctx.deployment.indicator(indicator_id)
    view, _options, ignored = parse_view(params or {}, spec, ctx.indicators.snapshot(indicator_id), ctx.areas,
                                         PREF, lang)
    assert ignored == []
    return view


def all_views(ctx) -> list[tuple[str, dict]]:
    """(indicator, params): the default view of each indicator, every other measure it offers,
    and per capita where a measure allows it."""
    out = []
    for spec in ctx.deployment.indicators:
        snap = ctx.indicators.snapshot(spec.id)
        out.append((spec.id, {}))
        for m in spec.measures:
            if not snap.areas(m.id):
                continue
            out.append((spec.id, {"measure": m.id}))
            if m.per_capita:
                out.append((spec.id, {"measure": m.id, "pc": "1"}))
    return out


# --------------------------------------------------------------------------- reading dicts


def element_children(node) -> list:
    children = node["props"].get("children") if isinstance(node, dict) else getattr(node, "children", None)
    if children is None:
        return []
    return list(children) if isinstance(children, (list, tuple)) else [children]


def find_type(node, tag: str) -> list[dict]:
    found = []
    if isinstance(node, dict) and "type" in node:
        if node["type"] == tag:
            found.append(node)
        for child in element_children(node):
            found += find_type(child, tag)
    elif isinstance(node, (list, tuple)):
        for child in node:
            found += find_type(child, tag)
    return found


def plain(node) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, (int, float)):
        return str(node)
    if isinstance(node, (list, tuple)):
        return "".join(plain(n) for n in node)
    if isinstance(node, dict) and "props" in node:
        return "".join(plain(c) for c in element_children(node))
    return ""


def body_rows(table: dict) -> list[list[str]]:
    """The cells of every body row, as the reader sees them."""
    (tbody,) = find_type(table, "Tbody")
    return [[plain(cell) for cell in element_children(tr)] for tr in element_children(tbody)]


def header_labels(table: dict) -> list[str]:
    (thead,) = find_type(table, "Thead")
    return [plain(th).rstrip(" ▲▼↕") for th in find_type(thead, "Th")]


def api_records(client, href: str) -> list[dict]:
    response = client.get(href)
    assert response.status_code == 200, (href, response.get_data(as_text=True)[:200])
    return response.get_json()["records"]


def visible_axes(figure: dict) -> list[tuple[str, dict]]:
    layout = figure["layout"]
    return [(k, v) for k, v in layout.items()
            if (k.startswith("xaxis") or k.startswith("yaxis")) and v.get("visible", True) is not False]


from tests.component_text import text_of as text, walk  # noqa: E402


def y_title(figure: dict) -> str:
    """The vertical axis's title: the annotation level above the axis's top left."""
    found = [a["text"] for a in figure["layout"].get("annotations", [])
             if (a.get("xref"), a.get("yref"), a.get("x"), a.get("y")) == ("paper", "paper", 0, 1)]
    return found[0] if len(found) == 1 else ""


# --------------------------------------------------------------------------- figures


def test_every_visible_axis_has_a_title(ctx, page, request_ctx) -> None:
    for indicator_id, params in all_views(ctx):
        spec = ctx.deployment.indicator(indicator_id)
        for lang in ("ja", "en"):
            view = default_view(ctx, indicator_id, params, lang)
            parts = page.render(spec, view, None)
            figures = {k: v for k, v in parts.items() if isinstance(v, dict) and {"data", "layout"} <= set(v)}
            assert {"series", "ranking", "breakdown"} <= set(figures)
            for name, figure in figures.items():
                axes = visible_axes(figure)
                if figure["data"] and name in ("series", "ranking", "breakdown"):
                    assert axes, (indicator_id, params, name)
                for key, axis in axes:
                    if (name, key) == ("ranking", "yaxis"):
                        continue  # its labels are the areas' names
                    title = (axis.get("title") or {}).get("text", "")
                    if key.startswith("yaxis"):  # written level above the axis, not turned on its side
                        assert not title, (indicator_id, params, lang, name, key)
                        title = y_title(figure)
                    assert title.strip(), (indicator_id, params, lang, name, key)


@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_series_has_one_line_per_area_and_a_reference(ctx, client, page, request_ctx, indicator_id) -> None:
    spec = ctx.deployment.indicator(indicator_id)
    view = default_view(ctx, indicator_id)
    parts = page.render(spec, view, None)
    traces = parts["series"]["data"]
    measure = spec.measure(view.measure)
    names = {r["area_code"]: r["area_name"] for r in api_records(client, parts["json"])}
    assert set(names) == set(view.areas)
    prefecture_has_it = PREF in ctx.indicators.snapshot(indicator_id).areas(measure.id)
    if measure.is_count and len(ctx.indicators.snapshot(indicator_id).areas(measure.id)) > 1:
        reference = "府内市町村の平均"  # counts: compared with the mean of the municipalities
    elif prefecture_has_it and PREF not in view.areas:
        reference = "大阪府"
    else:
        reference = None
    expected = [names[a] for a in view.areas] + ([reference] if reference else [])
    assert [t["name"] for t in traces] == expected
    assert len(traces) == len(view.areas) + (1 if reference else 0)


def test_series_reference_for_a_rate_without_the_prefecture(ctx, page, request_ctx) -> None:
    spec = ctx.deployment.indicator("health")
    view = default_view(ctx, "health", {"area": f"{OSAKA_CITY},{TOYONAKA}"})
    traces = page.render(spec, view, None)["series"]["data"]
    assert [t["name"] for t in traces] == ["大阪市", "豊中市", "大阪府"]
    assert traces[-1]["line"]["dash"] == "dash"


def test_series_per_capita_compares_with_the_prefecture(ctx, client, page, request_ctx) -> None:
    spec = ctx.deployment.indicator("crime")
    view = default_view(ctx, "crime", {"area": f"{OSAKA_CITY},{SAKAI}", "pc": "1"})
    parts = page.render(spec, view, None)
    traces = parts["series"]["data"]
    assert [t["name"] for t in traces] == ["大阪市", "堺市", "大阪府"]
    assert y_title(parts["series"]) == "件（人口10万人あたり）"
    prefecture = api_records(client, f"/api/v1/indicators/crime.json?area={PREF}&per_capita=1&breakdown=")
    assert traces[-1]["y"] == [r["value"] for r in prefecture]


def test_series_values_are_the_download(ctx, client, page, request_ctx, months) -> None:
    spec = ctx.deployment.indicator("traffic")
    window = months[-18:-12]
    view = default_view(ctx, "traffic", {"measure": "injuries", "area": SAKAI, "from": window[0], "to": window[-1]})
    parts = page.render(spec, view, None)
    rows = api_records(client, parts["json"])
    assert [r["period"] for r in rows] == window
    first = parts["series"]["data"][0]
    assert first["name"] == "堺市"
    assert first["y"] == [r["value"] for r in rows]
    # the reference line of a count: the plain mean of the municipalities, month by month
    every = api_records(client, f"/api/v1/indicators/traffic.json?measure=injuries&from={window[0]}&to={window[-1]}"
                                "&breakdown=")
    municipal = [r for r in every if r["area_code"] != PREF]
    assert len({r["area_code"] for r in municipal}) == 43
    reference = parts["series"]["data"][-1]
    for period, y in zip(reference["x"], reference["y"]):
        values = [r["value"] for r in municipal if r["period"] == period[:7] and r["value"] is not None]
        assert y == pytest.approx(sum(values) / len(values))


# --------------------------------------------------------------------------- table and downloads


@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_table_holds_the_query_rows_and_sorts(ctx, client, page, request_ctx, indicator_id) -> None:
    spec = ctx.deployment.indicator(indicator_id)
    view = default_view(ctx, indicator_id)
    measure = spec.measure(view.measure)
    parts = page.render(spec, view, None)
    records = api_records(client, parts["json"])
    assert records
    rows = body_rows(parts["table"])
    assert len(rows) == len(records)
    assert header_labels(parts["table"]) == ["市区町村", "期間", "値", "単位"]
    caption = plain(find_type(parts["table"], "Caption")[0])
    assert f"{len(records):,}行" in caption

    desc = body_rows(page.render(spec, view, {"key": "value", "dir": "desc"})["table"])
    values = [r["value"] for r in records if r["value"] is not None]
    top = max(values)
    assert desc[0][2] == f"{top:,.{measure.decimals}f}"
    best = next(r for r in records if r["value"] == top)
    assert desc[0][0] == best["area_name"]
    asc = body_rows(page.render(spec, view, {"key": "value", "dir": "asc"})["table"])
    assert asc[0][2] == f"{min(values):,.{measure.decimals}f}"


def test_table_rows_read_like_the_download(ctx, client, page, request_ctx, months) -> None:
    spec = ctx.deployment.indicator("crime")
    window = months[-12:-9]
    view = default_view(ctx, "crime", {"area": OSAKA_CITY, "from": window[0], "to": window[-1]})
    parts = page.render(spec, view, None)
    records = api_records(client, parts["json"])
    rows = body_rows(parts["table"])
    assert [r[:2] for r in rows] == [["大阪市", ja_month(p)] for p in window]
    assert [r[2] for r in rows] == [f"{r['value']:,.0f}" for r in records]
    assert {r[3] for r in rows} == {"件"}


def test_per_capita_table_has_one_more_decimal(ctx, client, page, request_ctx, months) -> None:
    spec = ctx.deployment.indicator("crime")
    view = default_view(ctx, "crime", {"area": SAKAI, "pc": "1", "from": months[-12], "to": months[-12]})
    parts = page.render(spec, view, None)
    (record,) = api_records(client, parts["json"])
    (row,) = body_rows(parts["table"])
    assert row[2] == f"{record['value']:,.1f}" and row[3] == "件（人口10万人あたり）"


@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_downloads_are_the_view_without_breakdowns(ctx, client, page, request_ctx, indicator_id) -> None:
    spec = ctx.deployment.indicator(indicator_id)
    view = default_view(ctx, indicator_id)
    parts = page.render(spec, view, None)
    for kind in ("csv", "json"):
        url = urlsplit(parts[kind])
        assert url.path == f"/api/v1/indicators/{indicator_id}.{kind}"
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        assert query["measure"] == view.measure and query["breakdown"] == ""
        assert query["area"].split(",") == list(view.areas)
        assert (query["from"], query["to"]) == (view.start, view.end)
    records = api_records(client, parts["json"])
    assert {r["breakdown"] for r in records} == {""}
    assert {r["measure"] for r in records} == {view.measure}
    assert all(view.start <= r["period"] <= view.end for r in records)
    csv = client.get(parts["csv"])
    assert csv.status_code == 200
    assert len(csv.get_data().decode("utf-8-sig").strip().splitlines()) == len(records) + 1


def test_english_table(ctx, page, request_ctx, months) -> None:
    spec = ctx.deployment.indicator("crime")
    month = months[-13]
    view = default_view(ctx, "crime", {"area": OSAKA_CITY, "from": month, "to": month}, lang="en")
    parts = page.render(spec, view, None)
    (row,) = body_rows(parts["table"])
    assert row[0] == "Osaka City" and row[1] == en_month(month) and row[3] == "crimes"
    assert "lang=en" in parts["json"]


# --------------------------------------------------------------------------- the page


def test_unknown_indicator_shows_not_found(page, request_ctx) -> None:
    tree = page.layout(indicator_id="nope")
    headings = [n for n in walk(tree) if isinstance(n, html.H1)]
    assert [text(h) for h in headings] == ["指標が見つかりません"]
    links = [n for n in walk(tree) if isinstance(n, html.A) and getattr(n, "href", None) == "/dashboard"]
    assert links
    english = page.layout(indicator_id="nope", lang="en")
    assert [text(h) for h in walk(english) if isinstance(h, html.H1)] == ["Indicator not found"]


def test_page_lists_what_it_ignored(page, request_ctx) -> None:
    tree = page.layout(indicator_id="crime", area="99999", pc="x")
    notices = [n for n in walk(tree) if isinstance(n, html.P) and "mk-notice" in (getattr(n, "className", None) or "")]
    assert len(notices) == 1
    assert "area=99999" in text(notices[0]) and "pc=x" in text(notices[0])
    assert [text(h) for h in walk(tree) if isinstance(h, html.H1)] == ["街頭犯罪 サンプルデータ（架空）"]  # sample: its badge


def test_page_without_problems_has_no_notice(page, request_ctx) -> None:
    tree = page.layout(indicator_id="health")
    assert not [n for n in walk(tree) if isinstance(n, html.P) and "mk-notice" in (getattr(n, "className", None) or "")]


# --------------------------------------------------------------------------- sorting


def test_next_sort_toggles() -> None:
    first = next_sort(None, "value")
    assert first == {"key": "value", "dir": "asc"}
    second = next_sort(first, "value")
    assert second == {"key": "value", "dir": "desc"}
    assert next_sort(second, "value") == {"key": "value", "dir": "asc"}
    assert next_sort(second, "period") == {"key": "period", "dir": "asc"}


def test_header_says_how_the_table_is_sorted(ctx, page, request_ctx) -> None:
    spec = ctx.deployment.indicator("crime")
    view = default_view(ctx, "crime")
    table = page.render(spec, view, {"key": "value", "dir": "desc"})["table"]
    states = {plain(th).rstrip(" ▲▼↕"): th["props"]["aria-sort"] for th in find_type(table, "Th")
              if "aria-sort" in th["props"]}
    assert states == {"市区町村": "none", "期間": "none", "値": "descending", "単位": "none"}


def test_breakdown_names_from_a_source_reach_plotly_as_text_not_markup() -> None:
    from components.indicator_charts import breakdown_figure

    rows = [{"period": "2026-10", "breakdown": '<a href="javascript:alert(1)">手口</a>', "value": 3.0},
            {"period": "2026-10", "breakdown": "自転車盗", "value": 5.0}]
    figure = breakdown_figure(rows, "title", "件", "monthly", "ja", "手口")
    names = [trace["name"] for trace in figure["data"]]
    assert names == ['&lt;a href="javascript:alert(1)"&gt;手口&lt;/a&gt;', "自転車盗"]
    assert all("%{fullData.name}" in trace["hovertemplate"] and "javascript" not in trace["hovertemplate"]
               for trace in figure["data"])


def test_a_short_series_gets_one_tick_per_period_not_repeated_labels() -> None:
    from components.indicator_charts import series_figure

    rows = [{"area_code": "272051", "area_name": "吹田市", "period": p, "value": 1.0} for p in ("2026-09", "2026-10")]
    short = series_figure(rows, [], "", "title", "人", "monthly", "ja", 0)
    assert short["layout"]["xaxis"]["dtick"] == "M1"
    assert short["layout"]["xaxis"]["range"] == ["2026-08-17", "2026-10-16"]  # room for both end labels
    months = [f"{2024 + k // 12}-{k % 12 + 1:02d}" for k in range(24)]
    long = series_figure([dict(rows[0], period=p) for p in months], [], "", "title", "人", "monthly", "ja", 0)
    assert "dtick" not in long["layout"]["xaxis"] and "range" not in long["layout"]["xaxis"]  # plotly's own


def test_a_callback_whose_data_has_gone_leaves_the_page_as_it_is(page) -> None:
    from dash.exceptions import PreventUpdate

    from data_sources import SourceUnavailable

    def lost(*_args):
        raise SourceUnavailable("indicator crime: connection refused")

    with pytest.raises(PreventUpdate):
        page.unchanged_without_data(lost)("2026-01", "2026-10")
    assert page.unchanged_without_data(lambda x: x + 1)(1) == 2


def test_the_pyramids_scale_is_in_round_numbers() -> None:
    from components.indicator_charts import pyramid_figure

    figure = pyramid_figure({"0-4": 108_625, "5-9": 90_000}, {"0-4": 101_000, "5-9": 95_000}, ["0-4", "5-9"],
                            "ピラミッド", "ja")
    axis = figure["layout"]["xaxis"]
    assert axis["tickvals"] == [-100_000, -50_000, 0, 50_000, 100_000]
    assert axis["ticktext"] == ["100,000", "50,000", "0", "50,000", "100,000"]


@pytest.mark.parametrize("lang, credit", [
    ("ja", "境界: 国土数値情報（行政区域データ）（国土交通省）を加工して作成（2021-01-01時点）"),
    ("en", "Boundaries: Based on MLIT National Land Numerical Information (Administrative Areas), as of 2021-01-01"),
])
def test_the_map_is_a_credited_choropleth_of_the_municipalities_by_default(ctx, page, request_ctx, lang, credit) -> None:
    """Without MIERUKA_BOUNDARIES the bundled boundaries of Osaka are drawn, one shape per
    municipality (wards dissolved into their city), with MLIT's credit and date under it."""
    assert ctx.settings.boundaries is None
    spec = ctx.deployment.indicator("population")
    figure = page.render(spec, default_view(ctx, "population", lang=lang), None)["map"]
    assert [trace["type"] for trace in figure["data"]][:1] == ["choropleth"]
    codes = {f["properties"]["code"] for f in figure["data"][0]["geojson"]["features"]}
    assert codes == {a.code for a in ctx.areas.municipalities}
    assert credit in [note["text"] for note in figure["layout"].get("annotations", [])]
