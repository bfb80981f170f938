"""The real open data bundled under data/real/, imported as the default deployment serves it.

Expectations are computed from the publishers' own files in ../shared/real-data/ (never
from the bundled copies or the importer), so a row lost or miscounted anywhere between the
two shows here. Without ../shared (a clone elsewhere) these tests skip, saying why; CI has it.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from collections import Counter

import pytest

from data_sources import snapshots
from tests.conftest import real_file

TOILET_FILES = "toilets-osaka"
TIME_COLUMNS = ("利用開始時間", "利用終了時間")


@pytest.fixture(scope="module")
def toilet_rows() -> list[dict[str, str]]:
    """Every row of the municipalities' own toilet files."""
    rows = []
    for path in sorted(real_file(TOILET_FILES).glob("27*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows += [{**row, "_file": path.name} for row in csv.DictReader(fh)]
    return rows


@pytest.fixture(scope="module")
def gsi_features() -> dict[str, list[dict]]:
    return {kind: json.loads(real_file(f"gsi-hinanbasho/osaka-{kind}.geojson").read_text(encoding="utf-8"))["features"]
            for kind in ("emergency", "evacuation")}


@pytest.fixture(scope="module")
def toilets(ctx):
    return ctx.layers.snapshot("toilets")


@pytest.fixture(scope="module")
def evacuation(ctx):
    return ctx.layers.snapshot("evacuation-sites")


# --------------------------------------------------------------------------- provenance


@pytest.mark.parametrize("dataset", ["gsi-evacuation", "toilets"])
def test_each_snapshot_names_its_inputs_by_their_sha256(dataset) -> None:
    import hashlib

    meta = snapshots.meta(dataset)
    assert meta["credit"]["ja"] and meta["licence"]["url"].startswith("https://") and meta["retrieved"]
    for entry in meta["inputs"]:
        digest = hashlib.sha256(real_file(entry["file"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{entry['file']} changed: run python -m tools.real_data"


@pytest.mark.parametrize("builder", ["gsi", "toilets"])
def test_the_build_step_reproduces_the_bundled_snapshot_byte_for_byte(builder, tmp_path) -> None:
    import importlib

    module = importlib.import_module(f"tools.real_data.{builder}")
    module.build(real_file(""), tmp_path)
    built, bundled = tmp_path / module.ID, snapshots.FOLDER / module.ID
    assert sorted(p.name for p in built.iterdir()) == sorted(p.name for p in bundled.iterdir())
    for path in built.iterdir():
        assert path.read_bytes() == (bundled / path.name).read_bytes(), f"{path.name} differs: rebuild and commit"


# --------------------------------------------------------------------------- toilets


def test_every_toilet_with_a_position_is_kept(toilet_rows, toilets) -> None:
    placed = [r for r in toilet_rows if r["緯度"].strip() and r["経度"].strip()]
    assert len(toilet_rows) == 719
    assert toilets.count == len(placed) == 709
    assert toilets.report.rejected == {"missing coordinates": len(toilet_rows) - len(placed)}
    assert all("27203" in e for e in toilets.report.examples["missing coordinates"])  # 豊中市's file
    assert toilets.sample is False


def test_toilets_without_an_id_keep_one_of_their_own(toilet_rows, toilets) -> None:
    """堺市 and 東大阪市 leave the ID column empty; 豊中市's IDs are zero-padded text."""
    blank = sum(1 for r in toilet_rows if not r["ID"].strip())
    assert blank == 71
    assert toilets.report.derived["id made from the name and position (the source gives none)"] == blank
    assert len({r["id"] for r in toilets.records}) == toilets.count
    padded = [r["ID"] for r in toilet_rows if r["ID"].startswith("0") and r["緯度"]]
    assert padded and all(toilets.record(i) is not None for i in padded)


def test_names_split_over_lines_are_joined(toilet_rows, toilets) -> None:
    split = [r["名称"] for r in toilet_rows if "\n" in r["名称"]]
    assert len(split) == toilets.report.repaired["line break in name"] == 6
    names = {r["name"] for r in toilets.records}
    for name in split:
        assert "".join(name.split()) in names  # 「宿院\n公衆便所」 → 宿院公衆便所
    assert not any("\n" in r["name"] for r in toilets.records)


def test_placeholders_and_ranges_in_time_fields(toilet_rows, toilets) -> None:
    dashes = sum(1 for r in toilet_rows for c in TIME_COLUMNS if r[c].strip() == "ー")
    assert dashes == toilets.report.repaired["placeholder read as blank"] == 70
    ranged = [r for r in toilet_rows if "ー" in r["利用開始時間"] and ":" in r["利用開始時間"]]
    assert [r["利用開始時間"] for r in ranged] == ["9:00ー17:00"]
    assert toilets.report.repaired["opening and closing time in one field"] == 1
    record = next(r for r in toilets.records if r["name"] == ranged[0]["名称"])
    assert (record["open_time"], record["close_time"]) == ("09:00", "17:00")
    assert not toilets.report.repaired.get("unreadable open_time") and not toilets.report.repaired.get("unreadable close_time")


def test_totals_smaller_than_their_parts_show_the_sum(toilet_rows, toilets) -> None:
    parts = {"男性トイレ総数": ("男性トイレ数（小便器）", "男性トイレ数（和式）", "男性トイレ数（洋式）"),
             "女性トイレ総数": ("女性トイレ数（和式）", "女性トイレ数（洋式）"),
             "男女共用トイレ総数": ("男女共用トイレ数（和式）", "男女共用トイレ数（洋式）")}

    def number(text: str) -> int:
        return int(text) if text.strip().isdigit() else 0

    short = [(r, total) for r in toilet_rows for total, cols in parts.items()
             if r[total].strip().isdigit() and number(r[total]) < sum(number(r[c]) for c in cols)]
    assert short and toilets.report.repaired["total smaller than the sum of its parts (the sum shown)"] == len(short)
    row, total = next((r, t) for r, t in short if r["緯度"])
    record = next(r for r in toilets.records if r["id"] == row["ID"])
    field = {"男性トイレ総数": "male_toilets", "女性トイレ総数": "female_toilets", "男女共用トイレ総数": "unisex_toilets"}[total]
    assert record[field] == sum(number(row[c]) for c in parts[total])


def test_many_toilets_on_one_point_are_all_kept(toilet_rows, toilets) -> None:
    """枚方市 lists a building's toilets floor by floor, at one position."""
    points = Counter((r["緯度"], r["経度"]) for r in toilet_rows if r["緯度"])
    (lat, lon), n = points.most_common(1)[0]
    assert n >= 10
    kept = [r for r in toilets.records if (r["lat"], r["lon"]) == (round(float(lat), 6), round(float(lon), 6))]
    assert len(kept) == n


def test_the_toilet_layer_covers_the_municipalities_that_publish(ctx, toilets) -> None:
    covered = [a.name_ja for a in toilets.covered_municipalities(ctx.areas)]
    assert covered == ["大阪市", "堺市", "豊中市", "吹田市", "高槻市", "枚方市", "東大阪市", "千早赤阪村"]
    published = {r["area_code"] for r in toilets.records}
    assert published <= set(toilets.coverage)


# --------------------------------------------------------------------------- GSI evacuation sites


def test_every_gsi_site_and_shelter_is_on_the_layer(gsi_features, evacuation) -> None:
    kinds = Counter(k for r in evacuation.records for k in r["kind"])
    assert kinds["指定緊急避難場所"] == len(gsi_features["emergency"]) == 5455
    assert kinds["指定避難所"] == len(gsi_features["evacuation"]) == 2975
    both = sum(1 for r in evacuation.records if len(r["kind"]) == 2)
    assert evacuation.report.derived["listed as both an evacuation site and a shelter"] == both > 1500
    assert evacuation.count == 5455 + 2975 - both
    assert evacuation.report.rejected == {}
    assert evacuation.sample is False


@pytest.mark.parametrize("hazard,field", [("洪水", "flood"), ("崖崩れ、土石流及び地滑り", "landslide"), ("高潮", "storm_surge"),
                                          ("地震", "earthquake"), ("津波", "tsunami"), ("大規模な火事", "fire"),
                                          ("内水氾濫", "inland_flood"), ("火山現象", "volcano")])
def test_each_hazard_flag_is_kept(gsi_features, evacuation, hazard, field) -> None:
    flagged = sum(1 for f in gsi_features["emergency"] if f["properties"][hazard] == "1")
    assert sum(1 for r in evacuation.records if r.get(field)) == flagged


def test_who_a_shelter_takes_in_is_kept(gsi_features, evacuation) -> None:
    given = Counter(f["properties"]["受入対象者"] for f in gsi_features["evacuation"] if f["properties"]["受入対象者"])
    kept = Counter(r["accepted"] for r in evacuation.records if r.get("accepted"))
    assert kept == given and kept["要配慮者"] > 500


def test_every_site_gets_its_municipality_or_ward(ctx, gsi_features, evacuation) -> None:
    """GSI names only the city for Osaka and Sakai: each place still gets its ward (from
    its address, else its position), and every place has a municipality or ward of its own."""
    kinds = Counter(ctx.areas.get(r["area_code"]).kind for r in evacuation.records)
    assert kinds["designated_city"] == 0 and sum(kinds.values()) == evacuation.count
    osaka_city = [f for f in gsi_features["emergency"] if f["properties"]["都道府県名及び市町村名"] == "大阪府大阪市"]
    assert len(osaka_city) > 3000
    by_id = {r["id"]: r for r in evacuation.records}
    for feature in osaka_city:
        record = by_id[feature["properties"]["共通ID"]]
        ward = ctx.areas.get(record["area_code"])
        assert ward.parent_code == "271004"
        address = "".join(feature["properties"]["住所"].split()).removeprefix("大阪府").removeprefix("大阪市")
        named = [w for w in ctx.areas.wards("271004") if address.startswith(w.name_ja)]
        if named:  # (GSI also lists the city's sites in other cities: 大阪市吹田市西御旅町)
            assert named == [ward], (address, ward.name_ja)
    report = evacuation.report
    placed = report.derived["ward from the address (the source names only the city)"] + \
        report.derived.get("ward from the position (the source names only the city)", 0) + \
        report.repaired.get("the address names another ward than the position (the address's taken)", 0) + \
        report.repaired.get("position outside the named city's wards; its nearest ward taken", 0)
    in_cities = sum(1 for r in evacuation.records if ctx.areas.get(r["area_code"]).parent_code in ("271004", "271403"))
    assert placed == in_cities
    assert report.examples["position lies in another municipality than the one named"]  # counted, with examples


def test_the_map_says_which_municipalities_the_toilets_cover_and_when_one_is_not(dash_app) -> None:
    import importlib

    from tests.component_text import text_of

    map_page = importlib.import_module("pages.map")
    with dash_app.server.test_request_context("/map"):
        covered = text_of(map_page.layout(layers="toilets"))
        ikeda = text_of(map_page.layout(layers="toilets", area="272043"))  # 池田市 publishes, not bundled
        suita = text_of(map_page.layout(layers="toilets", area="272051"))
        aed_only = text_of(map_page.layout(layers="aed"))
    assert "公衆トイレ：大阪府の43市町村のうち、データを公開している8市町村（大阪市、堺市、豊中市、吹田市、高槻市、枚方市、東大阪市、千早赤阪村）" in covered
    assert "池田市の公衆トイレのデータはありません" in ikeda and "8市町村" not in ikeda
    assert "8市町村" in suita and "データはありません" not in suita
    assert "公衆トイレ：" not in aed_only  # the line goes with the layer


# --------------------------------------------------------------------------- the national deployment


def test_the_national_layer_keeps_every_place_in_japan_in_its_municipality(settings) -> None:
    """config/national.toml: GSI's nationwide lists (../shared/real-data) as one layer of all Japan:
    every site and shelter kept, each in a municipality or ward of its own prefecture, Osaka's
    placed exactly as the bundled Osaka snapshot places them."""
    import datetime as dt
    import gzip

    from data_sources import pipeline
    from registry import load_deployment
    from services.areas import AreaTable, find_in_japan
    from services.boundaries import bundled_boundaries_path
    from services.locate import AreaLocator

    features = {kind: json.loads(gzip.decompress(real_file(f"gsi-hinanbasho/japan-{kind}.geojson.gz").read_bytes()))["features"]
                for kind in ("emergency", "evacuation")}
    root = Path(__file__).resolve().parents[2]
    deployment = load_deployment(root / "config" / "national.toml")
    layer = deployment.layer("evacuation-sites")
    areas = AreaTable.from_csv(deployment.area_table)
    locate = AreaLocator.for_prefecture(areas, bundled_boundaries_path("27"))
    payload, meta = pipeline.layer_payload(layer, deployment, areas, settings, dt.date(2026, 12, 2), locate=locate)
    records = payload["records"]
    kinds = Counter(k for r in records for k in r["kind"])
    assert kinds["指定緊急避難場所"] == len(features["emergency"]) > 110_000
    assert kinds["指定避難所"] == len(features["evacuation"]) > 80_000
    assert meta["rejects"]["rejected"] == {}
    assert all(r["area_code"] for r in records)
    prefectures = Counter(r["area_code"][:2] for r in records)
    assert len(prefectures) == 47
    elsewhere = [r for r in records if not r["area_code"].startswith("27")]
    by_id = {r["id"]: r for r in elsewhere}
    assert by_id["E0110000001202"]["area_name"] == "北海道札幌市厚別区"  # GSI says 北海道札幌市: the ward from the address
    assert all(find_in_japan(r["area_code"]) is not None for r in elsewhere)
    assert meta["rejects"]["derived"]["area in another prefecture (a layer of all Japan)"] == len(elsewhere)
    osaka = load_deployment(root / "config" / "osaka.toml")
    bundled, _ = pipeline.layer_payload(osaka.layer("evacuation-sites"), osaka, areas, settings, dt.date(2026, 12, 2),
                                        locate=locate)
    assert {(r["id"], r["area_code"]) for r in records if r["area_code"].startswith("27")} == \
        {(r["id"], r["area_code"]) for r in bundled["records"]}


def test_no_site_address_gets_a_second_place_name_before_it(ctx, evacuation) -> None:
    """A site's address keeps what GSI wrote; the municipality is put before it only when it names
    none (an address naming 和泉市 at a position in 泉大津市 read 「泉大津市大阪府和泉市…」)."""
    municipalities = tuple(a.name_ja for a in ctx.areas if a.is_municipality)
    names = (ctx.areas.prefecture.name_ja, *municipalities)
    doubled = [address for address in (r.get("address") or "" for r in evacuation.records)
               if any(address.startswith(m) and address[len(m):].startswith(names) for m in municipalities)]
    assert doubled == []
