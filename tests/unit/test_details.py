"""Tests for the detail panel (components/details.py, pages.map.details_panel) and the CSV
export's defence against spreadsheet formulas (services.layers.csv_bytes)."""

from __future__ import annotations

import csv
import importlib
import io
from types import SimpleNamespace

import pytest
from dash import html

from components.details import feature_details, phone_link, url_link, vacancies_table, yes_no
from services.layers import csv_bytes

from tests.component_text import text_of, walk  # noqa: E402

HOSTILE = "<script>alert(1)</script>"




def find(node, kind: type) -> list:
    return [n for n in walk(node) if isinstance(n, kind)]


@pytest.fixture(scope="module")
def map_page(dash_app):
    return importlib.import_module("pages.map")  # the module Dash Pages loaded, not a second copy


@pytest.fixture(scope="module")
def toilets(ctx):
    return ctx.layers.snapshot("toilets")


def test_details_panel_shows_the_record(dash_app, map_page, toilets) -> None:
    record = toilets.records[0]
    with dash_app.server.app_context():
        children, class_name = map_page.details_panel(f"toilets:{record['id']}", "ja")
    assert "mk-open" in class_name.split()
    titles = find(children, html.H2)
    assert len(titles) == 1 and titles[0].children == record["name"]
    labels = [d.children for d in find(children, html.Dt)]
    assert "市区町村" in labels and "車椅子使用者用トイレ" in labels
    assert record["area_name"] in text_of(children)
    # the area leads to its own dashboard: the nine indicators for that municipality or ward
    (link,) = [a for a in find(children, html.A) if "mk-area-link" in (a.className or "")]
    assert link.href == f"/dashboard?area={record['area_code']}" and link.children == "この地域の指標"


def test_details_panel_in_english(dash_app, map_page, ctx) -> None:
    record = ctx.layers.snapshot("aed").records[0]
    with dash_app.server.app_context():
        children, _ = map_page.details_panel(f"aed:{record['id']}", "en")
    labels = [d.children for d in find(children, html.Dt)]
    assert "Municipality" in labels
    area = ctx.areas.get(record["area_code"])
    assert area.name_en in text_of(children)


@pytest.mark.parametrize("selected", ["toilets:no-such-id", "nope:1"])
def test_details_panel_not_found(dash_app, map_page, selected: str) -> None:
    with dash_app.server.app_context():
        children, class_name = map_page.details_panel(selected, "ja")
    assert text_of(children) == "選択した場所は見つかりませんでした。"
    assert "mk-open" in class_name.split()
    with dash_app.server.app_context():
        children, _ = map_page.details_panel(selected, "en")
    assert text_of(children) == "The selected place was not found."


def test_details_panel_closed_without_selection(dash_app, map_page) -> None:
    with dash_app.server.app_context():
        children, class_name = map_page.details_panel(None, "ja")
    assert children is None and "mk-open" not in class_name.split()


def test_hostile_name_stays_text(ctx, toilets) -> None:
    record = {**toilets.records[0], "name": HOSTILE, "note": HOSTILE, "url": "javascript:alert(1)"}
    layer = ctx.deployment.layer("toilets")
    panel = feature_details(layer, record, ctx.deployment, ctx.areas, "ja", {"type": "details-close", "key": "x"})
    (title,) = find(panel, html.H2)
    assert title.children == HOSTILE
    assert HOSTILE in [d.children for d in find(panel, html.Dd)]
    assert not find(panel, html.Script)
    # the only link is the app's own, to the area's dashboard; the javascript: URL stays text
    assert [a.href for a in find(panel, html.A)] == [f"/dashboard?area={record['area_code']}"]
    assert "dangerously_allow_html" not in str(panel.to_plotly_json())


@pytest.mark.parametrize("value", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<b>x</b>",
                                   " javascript:alert(1)", "//evil.example/"])
def test_url_link_refuses_non_http(value: str) -> None:
    shown = url_link(value, "ja")
    assert shown == value and not isinstance(shown, html.A)


@pytest.mark.parametrize("value", ["https://example.org/a?b=1", "HTTP://example.org/"])
def test_url_link_makes_safe_links(value: str) -> None:
    link = url_link(value, "ja")
    assert isinstance(link, html.A)
    assert link.href == value and link.children == value
    assert "noopener" in link.rel.split() and link.target == "_blank"


def test_phone_link() -> None:
    link = phone_link("06-0000-1234")
    assert isinstance(link, html.A)
    assert link.href == "tel:0600001234" and link.children == "06-0000-1234"
    assert phone_link("０６－００００－１２３４").href == "tel:0600001234"
    assert phone_link("+81 6 0000 1234").href == "tel:+81600001234"
    assert phone_link("内線123") == "内線123"
    assert phone_link("javascript:alert(1)") == "javascript:alert(1)"
    assert phone_link(None) is None


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [(True, "ja", "あり"), (False, "ja", "なし"), (None, "ja", "不明"),
     (True, "en", "Yes"), (False, "en", "No"), (None, "en", "Unknown")],
)
def test_yes_no(value, lang: str, expected: str) -> None:
    shown = yes_no(value, lang)
    assert text_of(shown).endswith(expected)
    # the meaning does not rest on colour alone: a yes and a no differ in text and icon
    if value is not None:
        other = yes_no(not value, lang)
        assert text_of(other) != text_of(shown)


def test_vacancies_table() -> None:
    series = {"2026-09": [9, 9, 9, 9, 9, 9], "2026-10": [1, 0, None, 2, 0, 0], "2026-11": [0, 3, None, None, 1, 0],
              "2026-08": [7, 7, 7, 7, 7, 7]}
    table = vacancies_table(series, "ja")
    rows = find(table, html.Tbody)[0].children
    assert len(rows) == 3, "the three latest months"
    assert [text_of(r.children[0]) for r in rows] == ["2026年11月1日現在", "2026年10月1日現在", "2026年9月1日現在"]
    cells = [text_of(c) for c in rows[0].children[1:]]
    assert cells == ["空きなし", "3", "クラスなし", "クラスなし", "1", "空きなし"]
    assert [c.className for c in rows[0].children[1:3]] == ["mk-full", "mk-free"]
    latest_en = find(vacancies_table(series, "en"), html.Tbody)[0].children[0]
    assert text_of(latest_en.children[0]) == "as of 1 Nov 2026"
    cells_en = [text_of(c) for c in latest_en.children[1:]]
    assert cells_en == ["full", "3", "no class", "no class", "1", "full"]
    assert vacancies_table({}, "ja") is None


# --------------------------------------------------------------------------- CSV formulas


def _csv_rows(snapshot) -> list[dict[str, str]]:
    raw = csv_bytes(snapshot)
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_neutralises_formulas(ctx) -> None:
    record = {"id": "T1", "name": '=HYPERLINK("http://evil.example","x")', "note": "+1+cmd", "address": "@SUM(1)",
              "location_detail": "-2+3", "lat": 34.7, "lon": 135.5, "area_code": "272035", "wheelchair": True,
              "baby_facilities": False, "ostomate": None, "area_name": "豊中市"}
    rows = _csv_rows(SimpleNamespace(layer=ctx.deployment.layer("toilets"), records=(record,)))
    (row,) = rows
    assert row["name"] == "'" + record["name"]
    assert row["note"] == "'+1+cmd" and row["address"] == "'@SUM(1)" and row["location_detail"] == "'-2+3"
    assert (row["wheelchair"], row["baby_facilities"], row["ostomate"]) == ("有", "無", "")
    assert row["lat"] == "34.7" and row["area_code"] == "272035"


def test_csv_neutralises_formulas_in_lists(ctx) -> None:
    record = {"id": "M1", "name": "医院", "lat": 34.7, "lon": 135.5, "area_code": "272035",
              "departments": ['=HYPERLINK("http://evil.example")', "内科"]}
    (row,) = _csv_rows(SimpleNamespace(layer=ctx.deployment.layer("medical"), records=(record,)))
    assert row["departments"].startswith("'=") and row["departments"].endswith(";内科")


def test_readings_show_the_time_in_the_deployment_zone_whatever_the_source_wrote(ctx) -> None:
    layer = ctx.deployment.layer("air-quality")
    readings = {"PM2.5": {"value": 41.5, "time": "2026-11-25T02:00:00Z", "unit": "µg/m³", "level": 3},
                "NO2": {"value": 0.013, "time": "2026-11-25T11:00:00+09:00", "unit": "ppm", "level": 1}}
    record = {"id": "1", "name": "国設大阪", "readings": readings}
    text = text_of(feature_details(layer, record, ctx.deployment, ctx.areas, "ja", {"type": "x"}))
    assert "41.5 µg/m³" in text and "高い" in text
    assert text.count("11-25 11:00") == 2  # 02:00 UTC is 11:00 in Osaka
