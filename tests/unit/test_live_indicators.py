"""Indicators and air-quality readings from live upstreams through the shared store: the
population standard dataset from a CKAN catalog (CP932), a police incident list from a URL,
AirQualityObserved entities from an NGSI-LD broker. Kept when the upstream fails, counted
once for many cold callers, and honest when there has never been data."""
from __future__ import annotations

import re

import pytest

from data_sources import SourceUnavailable
from data_sources.store import FileStore, open_store
from registry import load_deployment
from services.areas import AreaTable
from services.indicators import IndicatorService
from services.layers import LayerService
from settings import Settings
from tests.fakes.servers import (AIR_TYPE, CkanServer, FileServer, NgsiLdServer, ResourceFile, air_quality_entities,
                                 crime_row, csv_bytes, population_row)
from tests.live_config import ROOT, live_config
from tests.redis_server import RedisServer, at_once, redis_server_binary
from tests.unit.test_live_layers import Clock, utc

AREAS = AreaTable.from_csv(ROOT / "data" / "real" / "areas" / "27.csv")
PREF = "270008"
LIVE_POPULATION = load_deployment(ROOT / "config" / "osaka-live.toml").indicator("population")


def population_rows() -> list[dict[str, str]]:
    """Every municipality (Osaka and Sakai by ward) on two survey dates, plus broken rows."""
    rows = [population_row(code, date, 20_000 + 37 * i) for date in ("2026-09-01", "2026-10-01")
            for i, code in enumerate(a.code for a in AREAS.leaves)]
    rows.append(population_row("27999", "2026-10-01", 10))  # no such municipality
    rows.append(population_row("272051", "2026年13月", 10))  # no such month
    return rows


@pytest.fixture
def ckan():
    with CkanServer() as server:
        server.publish("population-osaka", "地域・年齢別人口（大阪府）", organization=("osaka-pref", "大阪府"),
                       modified=utc(2026, 10, 15), resources=[ResourceFile(
                           "地域・年齢別人口", "CSV", "population.csv", csv_bytes(population_rows(), "cp932"), "text/csv",
                           utc(2026, 10, 15))])
        yield server


def population_source(ckan_url: str, ttl: int = 600) -> dict:
    table = LIVE_POPULATION.source.table
    return {"kind": "ckan", "url": ckan_url, "dataset": "population-osaka", "ttl": ttl,
            "table": {"area": list(table.area), "period": list(table.period), "sum": True, "values": table.values,
                      "breakdowns": table.breakdowns}}


def indicators_of(tmp_path, sources: dict, clock=None, store=None) -> IndicatorService:
    dep = load_deployment(live_config(tmp_path, sources))
    return IndicatorService(dep, AreaTable.from_csv(dep.area_table), Settings(cache_dir=tmp_path / "cache"),
                            store=store or FileStore(tmp_path / "store"), clock=clock or Clock(),
                            background=lambda job: job())


def downloads(server, name: str) -> int:
    return sum(1 for r in server.requests if r.path.endswith(name))


def test_population_from_the_catalog_feeds_the_dashboard(tmp_path, ckan):
    service = indicators_of(tmp_path, {"population": population_source(ckan.url)})
    snap = service.snapshot("population")
    assert snap.sample is False and snap.health["status"] == "ok"
    assert snap.source_url.startswith(ckan.url) and snap.data_date == "2026-10-15"
    october = [r for r in population_rows()[:-2] if r["調査年月日"] == "2026-10-01"]
    expected = sum(int(r["総人口"].replace(",", "")) for r in october)
    kpi = service.kpi("population")
    assert (kpi.period, kpi.value) == ("2026-10", expected)
    assert kpi.vs_previous.absolute == 0  # the same rows on both dates
    wards = {w.code for w in AREAS.wards("271004")}
    city = service.query("population", measure="total", areas=["271004"], start="2026-10", end="2026-10")
    assert city[0]["value"] == sum(int(r["総人口"].replace(",", "")) for r in october
                                   if r["都道府県コード又は市区町村コード"] in wards)
    assert dict(snap.report.rejected) == {"unknown or missing area code": 1, "bad or missing period": 1}
    assert service.health()["population"]["status"] == "ok"
    assert service.health()["crime"]["status"] == "ok"  # still the sample


def test_twenty_cold_requests_fetch_the_table_once(tmp_path, ckan):
    service = indicators_of(tmp_path, {"population": population_source(ckan.url)})
    values = at_once(20, lambda: service.kpi("population").value)
    assert len(values) == 20 and len(set(values)) == 1
    assert downloads(ckan, "/population.csv") == 1


def test_a_failing_catalog_keeps_the_last_good_figures(tmp_path, ckan):
    clock = Clock()
    service = indicators_of(tmp_path, {"population": population_source(ckan.url)}, clock=clock)
    before = service.kpi("population").value
    ckan.fail_always("500")
    clock.advance(601)
    service.snapshot("population")  # the refresh runs (inline here) and fails
    clock.advance(31)
    snap = service.snapshot("population")
    assert service.kpi("population").value == before
    assert snap.health["status"] == "stale" and "500" in snap.health["reason"]
    assert service.health()["population"]["status"] == "stale"


def test_an_indicator_that_never_had_data_says_so(tmp_path):
    with CkanServer() as dead:
        url = dead.url
    service = indicators_of(tmp_path, {"population": population_source(url)})
    with pytest.raises(SourceUnavailable, match="population"):
        service.snapshot("population")
    assert service.health()["population"]["status"] == "failing"
    assert "population" not in [s.indicator.id for s in service.snapshots()]
    # per-capita figures have nothing to divide by, and say so with None rather than failing
    rows = service.query("crime", per_capita=True, areas=["272051"])
    assert rows and all(r["value"] is None for r in rows)


def test_street_crimes_from_an_incident_list_per_capita_of_the_live_population(tmp_path, ckan):
    incidents = ([crime_row("272051", "2026/10/03", "自転車盗")] * 4 + [crime_row("272051", "2026/10/09", "ひったくり")]
                 + [crime_row("271276", "2026/09/30", "車上ねらい")])
    with FileServer() as files:
        url = files.add_file("/crime.csv", csv_bytes(incidents, "cp932"), "text/csv")
        crime = {"kind": "url", "url": url, "ttl": 600,
                 "table": {"area": "市区町村コード（発生地）", "period": "発生年月日（始期）", "count": "street_crimes",
                           "breakdown": "手口"}}
        service = indicators_of(tmp_path, {"population": population_source(ckan.url), "crime": crime})
        rows = {(r["area_code"], r["period"], r["breakdown"]): r["value"]
                for r in service.query("crime", areas=["272051", "271004", PREF])}
        assert rows[("272051", "2026-10", "")] == 5 and rows[("272051", "2026-10", "自転車盗")] == 4
        assert rows[("272051", "2026-09", "")] == 0
        assert rows[("271004", "2026-09", "車上ねらい")] == 1
        assert rows[(PREF, "2026-10", "")] == 5
        suita = service.query("population", measure="total", areas=["272051"], start="2026-10", end="2026-10")[0]["value"]
        per_capita = service.query("crime", per_capita=True, areas=["272051"], start="2026-10", end="2026-10")
        assert next(r["value"] for r in per_capita if r["breakdown"] == "") == pytest.approx(5 / suita * 100_000)


# --------------------------------------------------------------------------- air quality from a broker

STATIONS = [("27227010", "東大阪市役所", "東大阪市", 34.6794, 135.6008),
            ("27100100", "国設大阪", "大阪市中央区", 34.6810, 135.5230),
            ("27140010", "堺市役所", "堺市堺区", 34.5733, 135.4829)]


def test_air_quality_stations_and_their_readings_come_from_the_broker(tmp_path):
    observed = utc(2026, 11, 25, 2, 0)
    with NgsiLdServer() as broker:
        broker.add(air_quality_entities(STATIONS, observed, pm25=[8.0, 41.5, None]), tenant="osaka")
        source = {"kind": "ngsi-ld", "url": broker.url, "entity_type": AIR_TYPE, "tenant": "osaka",
                  "context": broker.context_url, "ttl": 900}
        dep = load_deployment(live_config(tmp_path, {"air-quality": source}))
        layers = LayerService(dep, AREAS, Settings(cache_dir=tmp_path / "cache"), store=FileStore(tmp_path / "store"),
                              clock=Clock(), background=lambda job: job())
        snap = layers.snapshot("air-quality")
    stations = {r["id"]: r for r in snap.records}
    assert set(stations) == {code for code, *_ in STATIONS}
    assert stations["27227010"]["area_code"] == "272272"  # 東大阪市, from areaServed
    assert stations["27100100"]["area_code"] == "271284"  # 大阪市中央区
    assert stations["27100100"]["station_kind"] == "一般局"
    central = stations["27100100"]["readings"]
    assert central["PM2.5"] == {"value": 41.5, "time": "2026-11-25T02:00:00Z", "unit": "µg/m³", "level": 3}
    assert central["NO2"]["value"] == pytest.approx(0.013) and central["NO2"]["level"] == 1
    assert central["Ox"]["value"] == pytest.approx(0.031)  # o3 read as Ox
    assert "PM2.5" not in stations["27140010"]["readings"]  # not measured there
    assert not snap.report.rejected


def test_the_refresh_worker_fills_live_indicators_too(tmp_path, ckan):
    import os
    import subprocess
    import sys

    config = live_config(tmp_path, {"population": population_source(ckan.url)})
    env = dict(os.environ, MIERUKA_CONFIG=str(config), MIERUKA_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("MIERUKA_REDIS_URL", None)
    run = subprocess.run([sys.executable, "worker.py", "--only", "population"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert re.search(r"population: ok, \d+ rows", run.stderr)
    run = subprocess.run([sys.executable, "worker.py", "--only", "crime"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "unknown or sample-only id(s): crime" in run.stderr
    dep = load_deployment(config)
    service = IndicatorService(dep, AREAS, Settings(cache_dir=tmp_path / "cache"))
    assert service.snapshot("population").sample is False
    assert downloads(ckan, "/population.csv") == 1  # the web process read what the worker stored


def test_hostile_text_from_a_source_stays_inert_in_the_csv_download(tmp_path, ckan):
    from services.indicators import csv_bytes as indicator_csv

    hostile = '=HYPERLINK("http://evil.example/","click")'
    incidents = [crime_row("272051", "2026/10/03", hostile), crime_row("272051", "2026/10/04", "自転車盗")]
    with FileServer() as files:
        url = files.add_file("/crime.csv", csv_bytes(incidents, "cp932"), "text/csv")
        service = indicators_of(tmp_path, {"crime": {"kind": "url", "url": url, "table": {
            "area": "市区町村コード（発生地）", "period": "発生年月日（始期）", "count": "street_crimes",
            "breakdown": "手口"}}})
        rows = service.query("crime", areas=["272051"], start="2026-10", end="2026-10")
    assert {r["breakdown"] for r in rows} == {"", hostile, "自転車盗"}  # kept as the source wrote it
    text = indicator_csv(rows).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


POPULATION_TYPE = "地域・年齢別人口"


def population_entities(rows: list[dict[str, str]]) -> list[dict]:
    """The rows as NGSI-LD entities of the cio data model 地域・年齢別人口 (normalized; Japanese
    type and attribute names, numbers as JSON numbers, the survey date a typed Date)."""
    entities = []
    for i, row in enumerate(rows):
        entity = {"id": f"urn:ngsi-ld:{POPULATION_TYPE}:{row['都道府県コード又は市区町村コード']}-{i}", "type": POPULATION_TYPE}
        for name, value in row.items():
            if name == "調査年月日":
                value = {"@type": "Date", "@value": value}
            elif value.replace(",", "").isdigit():
                value = int(value.replace(",", ""))
            entity[name] = {"type": "Property", "value": value}
        entities.append(entity)
    return entities


def test_population_from_a_broker_with_japanese_type_and_attributes(tmp_path):
    rows = population_rows()[:-2]  # the well-formed ones
    with NgsiLdServer() as broker:
        broker.add(population_entities(rows), tenant="osaka")
        table = LIVE_POPULATION.source.table
        source = {"kind": "ngsi-ld", "url": broker.url, "entity_type": POPULATION_TYPE, "tenant": "osaka",
                  "context": broker.context_url, "page_size": 50,
                  "table": {"area": list(table.area), "period": list(table.period), "sum": True,
                            "subarea": list(table.subarea), "values": table.values, "breakdowns": table.breakdowns}}
        service = indicators_of(tmp_path, {"population": source})
        kpi = service.kpi("population")
        pages = len(broker.requests_to("/ngsi-ld/v1/entities"))
    october = [r for r in rows if r["調査年月日"] == "2026-10-01"]
    assert len(rows) == 144 and pages == 3  # paged: 50 + 50 + 44
    assert (kpi.period, kpi.value) == ("2026-10", sum(int(r["総人口"].replace(",", "")) for r in october))
    snap = service.snapshot("population")
    assert not snap.report.rejected and snap.source_url.startswith(broker.url)
    pyramid = service.query("population", measure="female", areas=["270008"], start="2026-10", end="2026-10",
                            breakdown="85+")
    assert pyramid[0]["value"] == sum(int(r["85歳以上の女性"]) for r in october)


@pytest.mark.skipif(redis_server_binary() is None, reason="redis-server is not installed")
def test_a_live_indicator_in_redis_is_shared_by_processes_and_survives_redis_stopping(tmp_path, ckan):
    redis = RedisServer().start()
    try:
        first = indicators_of(tmp_path, {"population": population_source(ckan.url)},
                              store=open_store(redis.url, tmp_path / "files", redis_retry_s=0))
        value = first.kpi("population").value
        assert first.store.status()["backend"] == "redis"
        # another web process (its own service and store client) reads what the first stored
        second = indicators_of(tmp_path, {"population": population_source(ckan.url)},
                               store=open_store(redis.url, tmp_path / "files2", redis_retry_s=0))
        assert second.kpi("population").value == value
        assert downloads(ckan, "/population.csv") == 1
        redis.stop()
        clock = Clock()
        third = indicators_of(tmp_path, {"population": population_source(ckan.url)}, clock=clock,
                              store=open_store(redis.url, tmp_path / "files", redis_retry_s=0))
        assert third.kpi("population").value == value  # from the file fallback the first one wrote
        assert third.store.status()["backend"] == "file"
        assert downloads(ckan, "/population.csv") == 1  # not fetched again
    finally:
        redis.close()
