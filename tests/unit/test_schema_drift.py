"""Schema drift: a source whose rows still load but no longer fit the mapping (a few columns
or attributes renamed, a field's values all blank, most rows gone) must not replace the last
good data. Each test refreshes a live layer or indicator twice against a local upstream
(tests/fakes) whose second edition drifted, and checks that the second refresh failed with
the reason, that the stored rows are the first ones, and that the health says so."""
from __future__ import annotations

import pytest

from data_sources import drift
from data_sources.store import FileStore
from registry import load_deployment
from services.areas import AreaTable
from services.indicators import IndicatorService
from services.layers import LayerService
from settings import Settings
from tests.fakes.servers import (TOILET_TYPE, CkanServer, NgsiLdServer, ResourceFile, aed_rows, csv_bytes,
                                 population_row, toilet_entities)
from tests.live_config import ROOT, live_config
from tests.unit.test_live_layers import Clock, utc

AREAS = AreaTable.from_csv(ROOT / "data" / "real" / "areas" / "27.csv")
AED_ROWS = 30
RENAMED = {"小児対応設備の有無": "小児用パッドの有無", "利用可能曜日": "利用曜日"}  # a new edition's headers


def renamed(rows: list[dict[str, str]], names: dict[str, str]) -> list[dict[str, str]]:
    return [{names.get(k, k): v for k, v in row.items()} for row in rows]


def publish_aed(ckan: CkanServer, rows: list[dict[str, str]], day: int) -> None:
    """The AED dataset's edition of 2026-04-`day` (the same package and resource, new bytes)."""
    ckan.publish("aed-toyonaka", "AED設置場所一覧（豊中市）", organization=("toyonaka-city", "豊中市"),
                 modified=utc(2026, 4, day), resources=[ResourceFile(
                     "AED一覧", "CSV", "aed.csv", csv_bytes(rows, "cp932"), "text/csv", utc(2026, 4, day))])


@pytest.fixture
def ckan():
    with CkanServer() as server:
        publish_aed(server, aed_rows(AED_ROWS), 1)
        yield server


def layers_on(tmp_path, sources: dict) -> LayerService:
    dep = load_deployment(live_config(tmp_path, sources))
    return LayerService(dep, AREAS, Settings(cache_dir=tmp_path / "cache"), store=FileStore(tmp_path / "store"),
                        clock=Clock(), background=lambda job: job())


def aed_layers(tmp_path, ckan) -> LayerService:
    return layers_on(tmp_path, {"aed": {"kind": "ckan", "url": ckan.url, "dataset": "aed-toyonaka", "ttl": 600}})


def assert_kept(layers: LayerService, layer_id: str, first, result: dict, *reasons: str) -> None:
    """The second refresh failed with `reasons`; the first fetch's rows are served; the health
    (what /healthz and /data show) says stale, with the reason."""
    assert result["status"] == "stale" and result["rows"] == first.count
    assert result["error"].startswith("SchemaDrift: ")
    for reason in reasons:
        assert reason in result["error"]
    snap = layers.snapshot(layer_id)
    assert snap.records == first.records and snap.fetched_at == first.fetched_at
    health = layers.health()[layer_id]
    assert health["status"] == "stale" and health["code"] == "refresh_failed"
    assert health["detail"] == result["error"] and result["error"] in health["reason"]
    assert snap.health["status"] == "stale"


# --------------------------------------------------------------------------- a catalog's CSV

def test_renamed_columns_of_a_csv_fail_the_refresh_and_keep_the_last_good_data(tmp_path, ckan):
    layers = aed_layers(tmp_path, ckan)
    assert layers.refresh("aed")["status"] == "ok"
    first = layers.snapshot("aed")
    assert first.count == AED_ROWS and all(r["child_pads"] is True for r in first.records)
    meta = layers.store.get(layers.dataset_key(layers.layer("aed"))).meta
    assert meta["profile"]["filled"]["child_pads"] == AED_ROWS and meta["profile"]["filled"]["phone"] == AED_ROWS
    assert "child_pads" not in meta["profile"]["absent"] and "name" not in meta["profile"]["absent"]

    publish_aed(ckan, renamed(aed_rows(AED_ROWS), RENAMED), 2)  # the rows still load: every child_pads blank
    result = layers.refresh("aed")
    assert_kept(layers, "aed", first, result, "mapped field(s) gone from the source: child_pads, days")


def test_a_column_emptied_in_the_new_edition_is_drift_too(tmp_path, ckan):
    layers = aed_layers(tmp_path, ckan)
    layers.refresh("aed")
    first = layers.snapshot("aed")
    emptied = [{**row, "電話番号": "", "小児対応設備の有無": ""} for row in aed_rows(AED_ROWS)]
    publish_aed(ckan, emptied, 2)
    result = layers.refresh("aed")
    assert_kept(layers, "aed", first, result, "filled share collapsed: ", "child_pads 100% → 0%", "phone 100% → 0%")


def test_most_rows_gone_is_drift(tmp_path, ckan):
    layers = aed_layers(tmp_path, ckan)
    layers.refresh("aed")
    first = layers.snapshot("aed")
    publish_aed(ckan, aed_rows(AED_ROWS)[:12], 2)
    result = layers.refresh("aed")
    assert_kept(layers, "aed", first, result, "rows fell from 30 to 12")


def test_an_operator_accepts_a_real_change_with_the_worker(tmp_path, ckan):
    import os
    import subprocess
    import sys

    layers = aed_layers(tmp_path, ckan)
    env = dict(os.environ, MIERUKA_CONFIG=str(layers.deployment.path), MIERUKA_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("MIERUKA_REDIS_URL", None)
    env.pop("MIERUKA_PREFECTURE", None)

    def worker(*args):
        return subprocess.run([sys.executable, "worker.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)

    assert worker("--only", "aed").returncode == 0
    publish_aed(ckan, aed_rows(AED_ROWS)[:12], 2)  # the publisher withdrew most sites, for real
    refused = worker("--only", "aed")
    assert "aed: stale, 30 rows" in refused.stderr and "SchemaDrift" in refused.stderr
    accepted = worker("--accept-drift", "aed")
    assert accepted.returncode == 0 and "aed: ok, 12 rows (drift accepted)" in accepted.stderr
    assert worker("--only", "aed").returncode == 0  # the new edition is now the last good data
    served = LayerService(layers.deployment, AREAS, Settings(cache_dir=tmp_path / "cache"))
    assert served.snapshot("aed").count == 12


def test_ordinary_changes_are_not_drift(tmp_path, ckan):
    layers = aed_layers(tmp_path, ckan)
    layers.refresh("aed")
    rows = aed_rows(AED_ROWS)[:20]  # a third fewer rows, a few phone numbers gone, a column renamed to an alias
    for row in rows[:8]:
        row["電話番号"] = ""
    publish_aed(ckan, renamed(rows, {"住所": "所在地_連結表記"}), 2)
    result = layers.refresh("aed")
    assert result["status"] == "ok" and result["rows"] == 20 and result["error"] is None
    assert layers.snapshot("aed").count == 20


# --------------------------------------------------------------------------- a broker's attributes

def test_attributes_renamed_on_a_broker_fail_the_refresh(tmp_path):
    n = 40
    with NgsiLdServer() as broker:
        broker.add(toilet_entities(n), tenant="osaka")
        layers = layers_on(tmp_path, {"toilets": {"kind": "ngsi-ld", "url": broker.url, "entity_type": TOILET_TYPE,
                                                  "tenant": "osaka", "context": broker.context_url, "ttl": 600}})
        assert layers.refresh("toilets")["status"] == "ok"
        first = layers.snapshot("toilets")
        assert first.count == n and sum(r["wheelchair"] is not None for r in first.records) == n
        # the next edition of the data model: 車椅子… renamed on every entity, オストメイト… on all but two
        edition = []
        for i, entity in enumerate(toilet_entities(n)):
            entity["車椅子使用可トイレ有無"] = entity.pop("車椅子使用者用トイレ有無")
            if i >= 2:
                entity["オストメイト対応トイレ有無"] = entity.pop("オストメイト設置トイレ有無")
            edition.append(entity)
        broker.replace(edition, tenant="osaka")
        result = layers.refresh("toilets")
        assert_kept(layers, "toilets", first, result, "gone from the source: wheelchair",
                    "filled share collapsed: ostomate 100% → 5%")


def test_a_broker_capping_its_pages_is_paged_not_a_collapse(tmp_path):
    with NgsiLdServer() as broker:
        broker.add(toilet_entities(250), tenant="osaka")
        layers = layers_on(tmp_path, {"toilets": {"kind": "ngsi-ld", "url": broker.url, "entity_type": TOILET_TYPE,
                                                  "tenant": "osaka", "context": broker.context_url, "ttl": 600,
                                                  "page_size": 200}})
        assert layers.refresh("toilets")["rows"] == 250
        broker.quirks.cap, broker.quirks.send_count = 50, False  # a broker now capping limit at 50, no count
        result = layers.refresh("toilets")
        assert result["status"] == "ok" and result["rows"] == 250


# --------------------------------------------------------------------------- an indicator's table

def population_csv(rename: dict[str, str] | None = None) -> bytes:
    rows = [population_row(area.code, date, 20_000 + 37 * i) for date in ("2026-09-01", "2026-10-01")
            for i, area in enumerate(AREAS.leaves)]
    return csv_bytes(renamed(rows, rename or {}), "cp932")


def test_a_renamed_breakdown_column_of_an_indicator_fails_its_refresh(tmp_path):
    live = load_deployment(ROOT / "config" / "osaka-live.toml").indicator("population").source.table
    with CkanServer() as ckan:
        def publish(data: bytes, day: int) -> None:
            ckan.publish("population-osaka", "地域・年齢別人口（大阪府）", organization=("osaka-pref", "大阪府"),
                         modified=utc(2026, 10, day), resources=[ResourceFile(
                             "地域・年齢別人口", "CSV", "population.csv", data, "text/csv", utc(2026, 10, day))])

        publish(population_csv(), 15)
        source = {"kind": "ckan", "url": ckan.url, "dataset": "population-osaka", "ttl": 600,
                  "table": {"area": list(live.area), "period": list(live.period), "sum": True,
                            "values": live.values, "breakdowns": live.breakdowns}}
        dep = load_deployment(live_config(tmp_path, {"population": source}))
        service = IndicatorService(dep, AREAS, Settings(cache_dir=tmp_path / "cache"),
                                   store=FileStore(tmp_path / "store"), clock=Clock(), background=lambda job: job())
        assert service.refresh("population")["status"] == "ok"
        first = service.snapshot("population")
        publish(population_csv({"85歳以上の女性": "85歳以上女性", "85歳以上の男性": "85歳以上男性"}), 16)
        result = service.refresh("population")
        assert result["status"] == "stale" and result["error"].startswith("SchemaDrift: ")
        assert "gone from the source: female/85+, male/85+" in result["error"]
        snap = service.snapshot("population")
        assert snap.records == first.records
        assert service.health()["population"]["status"] == "stale"


# --------------------------------------------------------------------------- the rules, as a function

def meta(rows: int, filled: dict[str, int] | None = None, absent=(), of=None) -> dict:
    out = {"rows": rows}
    if filled is not None:
        out["profile"] = {"filled": filled, "absent": list(absent), **({"of": of} if of else {})}
    return out


def test_check_rules_and_thresholds():
    before = meta(100, {"name": 100, "note": 30, "flag": 60, "gone_empty": 0})
    assert drift.check(None, before) is None
    assert drift.check(before, before) is None
    assert drift.check(before, meta(100, {"name": 100, "note": 0, "flag": 55, "gone_empty": 0})) is None  # note was mostly empty
    assert drift.check(before, meta(100, {"name": 100, "note": 30, "flag": 9, "gone_empty": 0})) == (
        "filled share collapsed: flag 60% → 9%")
    assert drift.check(before, meta(100, {"name": 100, "note": 30, "flag": 10, "gone_empty": 0})) is None
    assert drift.check(before, meta(100, {"name": 100, "note": 0, "flag": 60, "gone_empty": 0},
                                    absent=["note", "gone_empty"])) == (
        "mapped field(s) gone from the source: note")
    assert drift.check(before, meta(49, {"name": 49, "note": 14, "flag": 30, "gone_empty": 0})) == (
        "rows fell from 100 to 49 (under 50% of the last good data)")
    assert drift.check(before, meta(50, {"name": 50, "note": 14, "flag": 30, "gone_empty": 0})) is None
    # absent before too: the source never had it; a field new in the config: nothing to compare
    assert drift.check(meta(100, {"a": 0}, absent=["a"]), meta(100, {"a": 0, "b": 0}, absent=["a", "b"])) is None
    # a snapshot stored before profiles: its row count still counts
    assert drift.check(meta(100), meta(100, {"a": 0}, absent=["a"])) is None
    assert "rows fell" in drift.check(meta(100), meta(10, {"a": 10}))


def test_small_datasets_swing_without_being_drift():
    assert drift.check(meta(19, {"x": 19}), meta(3, {"x": 0})) is None  # under MIN_ROWS: churn
    assert drift.check(meta(19, {"x": 19}), meta(19, {"x": 0}, absent=["x"])) is not None  # but a vanished field is not
    # an indicator's measure counts over its own records
    before = meta(1000, {"m": 40, "m/b": 40}, of={"m": 40, "m/b": 40})
    assert "m/b 100% → 0%" in drift.check(before, meta(1000, {"m": 40, "m/b": 0}, of={"m": 40, "m/b": 40}))
    assert drift.check(before, meta(1000, {"m": 40, "m/b": 3}, of={"m": 40, "m/b": 3})) is None  # 3 of 3


def test_data_page_says_the_source_drifted_in_the_pages_language(tmp_path, ckan, dash_app):
    import importlib

    from tests.component_text import text_of

    layers = aed_layers(tmp_path, ckan)
    layers.refresh("aed")
    publish_aed(ckan, renamed(aed_rows(AED_ROWS), RENAMED), 2)
    layers.refresh("aed")
    snap = layers.snapshot("aed")
    data = importlib.import_module("pages.data")
    with dash_app.server.test_request_context("/data"):
        ja = text_of(data._section(layers.layer("aed"), snap, None, "layers", "ja", "Asia/Tokyo"))
        en = text_of(data._section(layers.layer("aed"), snap, None, "layers", "en", "Asia/Tokyo"))
    assert "直近1回の更新に失敗しました。 データ元の列や属性が設定の対応づけと合わなくなりました" in ja
    assert "SchemaDrift: mapped field(s) gone from the source: child_pads, days" in ja  # the detail, as monitors see it
    assert f"{AED_ROWS:,}" in ja  # the last good rows are still listed
    assert "The last 1 refresh(es) failed. The source no longer fits its column mapping" in en
