"""Real data and sample data side by side: on a deployment where the AED layer and the
street-crime indicator come from files (real data, the rest sample), every page, the API
and the downloads say which entries are sample, each on its own, and give every entry's
credit and data date. On the default deployment (all sample) the pages still say so.

The live deployment runs in this process as a plain Flask app holding its own context:
the page layouts read the context of the current app (services/context.py), so they can
be called for it without a second Dash app (Dash Pages allows one per process)."""
from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import json
import os

import pytest
from dash import html
from dash.development.base_component import Component
from flask import Flask

import api
from registry import load_deployment
from services.areas import AreaTable
from services.context import Context
from services.indicators import IndicatorService
from services.layers import LayerService
from settings import Settings
from tests.component_text import text_of, walk
from tests.fakes.servers import aed_rows, crime_row, csv_bytes
from tests.live_config import live_config

REAL_DATE = "2025-10-27"
CREDIT = {"ja": "豊中市", "en": "Toyonaka City"}
BADGE_JA, BADGE_EN = "サンプルデータ（架空）", "Sample data (fictitious)"
CRIME_TABLE = {"area": "市区町村コード（発生地）", "period": "発生年月日（始期）", "count": "street_crimes", "breakdown": "手口"}


def _dated(path, data: bytes):
    path.write_bytes(data)
    moment = dt.datetime(2025, 10, 27, 3, 0, tzinfo=dt.timezone.utc).timestamp()  # 12:00 in Osaka
    os.utime(path, (moment, moment))
    return str(path)


@pytest.fixture(scope="module")
def live(tmp_path_factory, dash_app):
    """(Flask app, context) of the deployment with a real AED layer and crime indicator."""
    tmp = tmp_path_factory.mktemp("real")
    aed = _dated(tmp / "aed.csv", csv_bytes(aed_rows(3), "cp932"))
    crimes = [crime_row("272051", "2025/09/03", "自転車盗")] * 3 + [crime_row("272035", "2025/10/01", "ひったくり")]
    crime = _dated(tmp / "crime.csv", csv_bytes(crimes, "cp932"))
    config = live_config(tmp, {
        "aed": {"kind": "file", "path": aed, "credit": CREDIT},
        "crime": {"kind": "file", "path": crime, "table": CRIME_TABLE,
                  "credit": {"ja": "大阪府警察", "en": "Osaka Prefectural Police"}},
    }, base="osaka-sample.toml")
    deployment = load_deployment(config)
    areas = AreaTable.from_csv(deployment.area_table)
    settings = Settings(cache_dir=tmp / "cache")
    layers = LayerService(deployment, areas, settings)
    indicators = IndicatorService(deployment, areas, settings, store=layers.store)
    server = Flask("real-and-sample")
    server.extensions["mieruka"] = context = Context(settings, deployment, areas, layers, indicators)
    api.register(server)
    return server, context


def page(server, name: str, **params):
    module = importlib.import_module(f"pages.{name}")
    with server.test_request_context("/"):
        return module.layout(**params)


def by_class(node, cls: str) -> list[Component]:
    return [n for n in walk(node) if isinstance(n, Component) and cls in (getattr(n, "className", None) or "").split()]


def by_id(node, component_id) -> Component:
    [found] = [n for n in walk(node) if isinstance(n, Component) and getattr(n, "id", None) == component_id]
    return found


def banner(tree) -> str:
    return text_of(by_class(tree, "mk-sample"))


# ---- the map: the legend and a place's details

def test_the_legend_marks_the_sample_layers_not_the_real_one(live):
    server, ctx = live
    tree = page(server, "map")
    [toggle] = [n for n in walk(tree) if getattr(n, "id", None) == "layer-toggle"]
    labels = {o["value"]: o["label"] for o in toggle.options}
    assert set(labels) == set(ctx.deployment.layer_ids)
    assert not by_class(labels["aed"], "mk-sample-badge")
    for lid in set(labels) - {"aed"}:
        assert text_of(by_class(labels[lid], "mk-sample-badge")) == BADGE_JA, lid
    # each layer's credit and data date, folded under the legend
    sources = by_id(tree, "layer-sources")
    aed = text_of(by_id(sources, "layer-source-aed"))
    assert f"出典: 豊中市 (CC BY 4.0) · データ時点: {REAL_DATE}" in aed and "サンプル" not in aed
    toilets = text_of(by_id(sources, "layer-source-toilets"))
    assert BADGE_JA in toilets and "出典: サンプルデータ（見える化 生成）" in toilets
    # a mixed page: the notice explains the badge, and never says that everything is sample
    assert "「サンプル」と表示した項目は架空のサンプルデータです。" in banner(tree)
    assert "サンプルデータを表示しています" not in text_of(tree)


def test_a_real_place_has_its_credit_and_no_badge_a_sample_place_has_both(live):
    server, ctx = live
    map_page = importlib.import_module("pages.map")
    with server.test_request_context("/"):
        real, _ = map_page.details_panel(f"aed:{ctx.layers.snapshot('aed').records[0]['id']}", "en")
        sample, _ = map_page.details_panel(f"toilets:{ctx.layers.snapshot('toilets').records[0]['id']}", "en")
    assert not by_class(real, "mk-sample-badge")
    assert f"Source: Toyonaka City (CC BY 4.0) · Data as of {REAL_DATE}" in text_of(real)
    assert text_of(by_class(sample, "mk-sample-badge")) == BADGE_EN
    assert "Source: Sample data generated by Mieruka" in text_of(sample)


# ---- / and /dashboard and the indicator page

def test_the_home_cards_mark_only_the_sample_layers_and_credit_every_one(live):
    server, ctx = live
    tree = page(server, "home", lang="en")
    cards = {card.children[0].children[0].href: card for card in by_class(tree, "mk-card")}
    aed = cards["/map?lang=en&layers=aed"]
    assert not by_class(aed, "mk-sample-badge")
    assert f"Source: Toyonaka City · Data as of {REAL_DATE}" in text_of(aed)
    wifi = cards["/map?lang=en&layers=wifi"]
    assert text_of(by_class(wifi, "mk-sample-badge")) == BADGE_EN
    assert "Items marked \"Sample\" are fictitious sample data" in banner(tree)


def test_the_home_choices_open_the_map_on_one_layer_and_mark_only_the_sample_ones(live):
    server, ctx = live
    tree = page(server, "home", lang="en")
    [near] = [a for a in walk(tree) if getattr(a, "id", None) == "home-near"]
    assert near.href == "/map?lang=en&near=1"
    choices = {a.href: a for a in by_class(tree, "mk-choice")}
    assert list(choices) == [f"/map?lang=en&layers={s.layer.id}" for s in ctx.layers.snapshots()]
    assert not by_class(choices["/map?lang=en&layers=aed"], "mk-sample-badge")
    aed = ctx.layers.snapshot("aed")
    assert f"{aed.count:,} places" in text_of(choices["/map?lang=en&layers=aed"])
    assert text_of(by_class(choices["/map?lang=en&layers=wifi"], "mk-sample-badge")) == BADGE_EN


def test_the_dashboard_marks_the_sample_cards_and_the_real_indicator_page_has_no_badge(live):
    server, ctx = live
    tree = page(server, "dashboard")
    cards = {card.children[0].children[0].href: card for card in by_class(tree, "mk-kpi")}
    assert not by_class(cards["/dashboard/crime"], "mk-sample-badge")
    assert f"出典: 大阪府警察 · データ時点: {REAL_DATE}" in text_of(cards["/dashboard/crime"])
    assert by_class(cards["/dashboard/population"], "mk-sample-badge")
    assert "「サンプル」と表示した項目" in banner(tree)
    crime = page(server, "indicator", indicator_id="crime")
    assert not by_class(crime, "mk-sample-badge") and banner(crime) == ""  # all real: no notice at all
    population = page(server, "indicator", indicator_id="population")
    [heading] = [h for h in walk(population) if isinstance(h, html.H1)]
    assert text_of(heading) == f"人口 {BADGE_JA}"
    assert "サンプルデータを表示しています" in banner(population)  # everything on that page is sample


# ---- /about and /data

def test_about_lists_which_entries_are_sample_and_which_real(live):
    server, ctx = live
    tree = page(server, "about", lang="en")
    status = text_of(by_id(tree, "sample-status"))
    sample_part, real_part = status.split("Real data:")
    assert "AEDs" not in sample_part and "Street crime" not in sample_part
    assert "Public toilets" in sample_part and "Population" in sample_part
    assert "AEDs" in real_part and "Street crime" in real_part and "Public toilets" not in real_part
    rows = {text_of(r.children[0]): r for r in walk(tree) if isinstance(r, html.Tr)}
    assert "AEDs" in rows and f"Toyonaka City · Data as of {REAL_DATE}" in text_of(rows["AEDs"])
    assert f"Public toilets {BADGE_EN}" in rows


def test_data_marks_each_sample_entry_on_its_heading(live):
    server, ctx = live
    tree = page(server, "data")
    aed, toilets = by_id(tree, "dataset-aed"), by_id(tree, "dataset-toilets")
    assert not by_class(aed, "mk-sample-badge") and "豊中市" in text_of(aed) and REAL_DATE in text_of(aed)
    assert by_class(toilets.children[0], "mk-sample-badge")


# ---- the API and the downloads

def test_the_listings_say_which_entries_are_sample_with_credit_licence_and_date(live):
    server, ctx = live
    client = server.test_client()
    layers = {entry["id"]: entry for entry in client.get("/api/v1/layers").get_json()["layers"]}
    assert {lid for lid, entry in layers.items() if not entry["sample"]} == {"aed"}
    assert layers["aed"]["credit"] == CREDIT and layers["aed"]["data_date"] == REAL_DATE
    assert layers["aed"]["licence"]["name"] == "CC BY 4.0"
    indicators = {entry["id"]: entry for entry in client.get("/api/v1/indicators").get_json()["indicators"]}
    assert {iid for iid, entry in indicators.items() if not entry["sample"]} == {"crime"}
    assert indicators["crime"]["data_date"] == REAL_DATE and indicators["crime"]["credit"]["en"] == "Osaka Prefectural Police"


def test_the_geojson_download_says_what_it_is_the_map_body_stays_slim(live):
    server, ctx = live
    client = server.test_client()
    full = client.get("/api/v1/layers/aed.geojson").get_json()
    assert full["metadata"] == {
        "title": dict(ctx.deployment.layer("aed").title), "credit": CREDIT,
        "licence": dict(ctx.deployment.layer("aed").licence), "data_date": REAL_DATE,
        "source": {"kind": "file", "name": "aed.csv", "url": "aed.csv"}, "sample": False, "about": "/data#dataset-aed"}
    assert len(full["features"]) == 3
    assert client.get("/api/v1/layers/toilets.geojson").get_json()["metadata"]["sample"] is True
    assert "metadata" not in client.get("/api/v1/layers/aed.geojson?profile=map").get_json()


def test_csv_downloads_name_their_date_and_link_their_description(live):
    server, ctx = live
    client = server.test_client()
    layer = client.get("/api/v1/layers/aed.csv")
    assert layer.headers["Content-Disposition"] == f'attachment; filename="aed-{REAL_DATE}.csv"'
    links = layer.headers["Link"]
    assert '</data#dataset-aed>; rel="describedby"' in links
    assert '<https://creativecommons.org/licenses/by/4.0/>; rel="license"' in links
    assert len(list(csv.reader(io.StringIO(layer.get_data(as_text=True).lstrip("\ufeff"))))) == 4  # header + 3: no metadata rows
    indicator = client.get("/api/v1/indicators/crime.csv")
    assert indicator.headers["Content-Disposition"] == f'attachment; filename="crime-{REAL_DATE}.csv"'
    assert '</data#dataset-crime>; rel="describedby"' in indicator.headers["Link"]
    body = client.get("/api/v1/indicators/crime.json").get_json()
    assert body["metadata"]["credit"]["ja"] == "大阪府警察" and body["metadata"]["sample"] is False
    assert body["metadata"]["data_date"] == REAL_DATE


# ---- the default deployment: real where it exists, and each sample entry says so

def test_on_the_default_deployment_the_real_layers_carry_their_publishers_credit(dash_app, client):
    for name in ("home", "map", "about", "data"):  # pages showing real and sample entries
        tree = page(dash_app.server, name)
        assert "「サンプル」と表示した項目は架空のサンプルデータです。" in banner(tree), name
        assert "サンプルデータを表示しています" not in text_of(tree), name
    # the indicators are all sample yet: that page says so of all it shows
    assert "サンプルデータを表示しています" in banner(page(dash_app.server, "dashboard"))
    layers = {entry["id"]: entry for entry in client.get("/api/v1/layers").get_json()["layers"]}
    assert {lid for lid, entry in layers.items() if not entry["sample"]} == {"evacuation-sites", "toilets"}
    body = json.loads(client.get("/api/v1/layers/evacuation-sites.geojson").get_data())
    assert body["metadata"]["sample"] is False
    assert body["metadata"]["credit"]["ja"] == "出典：国土地理院 指定緊急避難場所・指定避難所データ"
    assert body["metadata"]["data_date"] == "2025-10-27"
    body = json.loads(client.get("/api/v1/layers/aed.geojson").get_data())
    assert body["metadata"]["sample"] is True and body["metadata"]["credit"]["ja"] == "サンプルデータ（見える化 生成）"
