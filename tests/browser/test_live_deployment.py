"""The whole app in Chromium on a live deployment: AEDs and the population dashboard from a
CKAN catalog, air-quality stations with their readings from an NGSI-LD broker (local
servers speaking each protocol), street crimes from a file server that is never there.
Their data shows on the map, the dashboards and /data; with both upstreams killed the pages
stay up with the last good data and say so."""
from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By

from services.indicator_math import format_number
from tests.browser.test_map import layer_count
from tests.browser.waiting import wait_until
from tests.fakes.servers import (AIR_TYPE, CkanServer, FileServer, NgsiLdServer, ResourceFile, aed_rows,
                                 air_quality_entities, csv_bytes)
from tests.live_config import get_json, live_config, running_app
from tests.unit.test_live_indicators import STATIONS, population_rows, population_source
from tests.unit.test_live_layers import utc

pytestmark = pytest.mark.browser
TTL = 10


@pytest.fixture
def live(tmp_path):
    with FileServer() as gone:  # a police file server that is never there: street crimes never have data
        dead = gone.url
    with CkanServer() as ckan, NgsiLdServer() as broker:
        ckan.publish("aed-toyonaka", "AED設置場所一覧（豊中市）", organization=("toyonaka-city", "豊中市"),
                     modified=utc(2026, 4, 1), resources=[ResourceFile(
                         "AED一覧", "CSV", "aed.csv", csv_bytes(aed_rows(3), "cp932"), "text/csv", utc(2026, 4, 1))])
        ckan.publish("population-osaka", "地域・年齢別人口（大阪府）", organization=("osaka-pref", "大阪府"),
                     modified=utc(2026, 10, 15), resources=[ResourceFile(
                         "地域・年齢別人口", "CSV", "population.csv", csv_bytes(population_rows(), "cp932"), "text/csv",
                         utc(2026, 10, 15))])
        broker.add(air_quality_entities(STATIONS, utc(2026, 11, 25, 2, 0), pm25=[8.0, 41.5, None]), tenant="osaka")
        config = live_config(tmp_path, {
            "aed": {"kind": "ckan", "url": ckan.url, "dataset": "aed-toyonaka", "ttl": TTL},
            "air-quality": {"kind": "ngsi-ld", "url": broker.url, "entity_type": AIR_TYPE, "tenant": "osaka",
                            "context": broker.context_url, "ttl": TTL},
            "population": {**population_source(ckan.url, ttl=TTL), "credit": {"ja": "大阪府", "en": "Osaka Prefecture"}},
            "crime": {"kind": "url", "url": f"{dead}/crime.csv", "table": {
                "area": "市区町村コード（発生地）", "period": "発生年月日（始期）", "count": "street_crimes", "breakdown": "手口"}},
        })
        with running_app(config, tmp_path / "cache") as base:
            yield base, ckan, broker


def open_page(dash_duo, url: str, ready: str):
    dash_duo.driver.get(url)
    dash_duo.wait_for_element(ready, timeout=20)


def text(dash_duo, selector: str) -> str:
    """The visible text of every element matching `selector` (read in one go: Dash may
    re-render an element between finding it and reading it)."""
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText).join(' ');", selector)


def notices(dash_duo) -> str:
    return text(dash_duo, ".mk-notice")


POPULATION_CARD = ".mk-kpi:has(a[href='/dashboard/population'])"
CRIME_CARD = ".mk-kpi:has(a[href='/dashboard/crime'])"


def test_live_data_on_every_page_and_an_honest_notice_when_the_upstreams_die(dash_duo, live):
    base, ckan, broker = live
    # ---- the map: the live layers' own data, the readings of a broker station
    open_page(dash_duo, f"{base}/map?sel=air-quality:27100100", "#map .leaflet-container")
    wait_until(lambda: layer_count(dash_duo, "aed") == (3, 3), "3 AEDs from the catalog")
    wait_until(lambda: layer_count(dash_duo, "air-quality") == (3, 3), "3 stations from the broker")
    dash_duo.wait_for_text_to_equal("#details-title", "国設大阪", timeout=20)
    wait_until(lambda: "41.5 µg/m³" in text(dash_duo, ".mk-details"), "the station's PM2.5 reading")
    details = text(dash_duo, ".mk-details")
    assert "高い" in details and "11-25 11:00" in details
    # nothing missing or failed (past the 10 s ttl on a busy machine, at most "new data is being fetched")
    assert "取得できな" not in notices(dash_duo) and "取得しています。しばらく" not in notices(dash_duo)
    assert "「サンプル」と表示した項目は架空のサンプルデータです" in text(dash_duo, ".mk-sample")  # live and sample layers side by side

    # ---- the dashboard: the population card is the catalog's, not the sample's
    latest = get_json(f"{base}/api/v1/indicators/population.json?area=270008&measure=total&from=2026-10")["records"]
    assert latest[-1]["period"] == "2026-10"
    open_page(dash_duo, f"{base}/dashboard", ".mk-kpis")
    card = text(dash_duo, POPULATION_CARD)
    assert format_number(latest[-1]["value"], "ja", 0) in card
    assert "サンプルデータ" not in card and "データ時点: 2026-10-15" in card
    assert "「街頭犯罪」のデータを取得できないため、表示していません。" in text(dash_duo, CRIME_CARD)
    assert "「人口」" not in notices(dash_duo)
    open_page(dash_duo, f"{base}/dashboard/crime", ".mk-notice")
    assert "「街頭犯罪」のデータを取得できないため" in notices(dash_duo)

    # ---- /data: the rows the importer rejected, by reason
    open_page(dash_duo, f"{base}/data", "#dataset-population")
    section = text(dash_duo, "#dataset-population")
    assert "2行を除外（理由別）" in section and "ckan:" in section

    # ---- kill both upstreams; after the ttl the pages keep the data and say so
    ckan.stop()
    broker.stop()
    time.sleep(TTL + 1)

    def all_failed():  # past their ttl, and a refresh tried and failed (until then: "being fetched")
        datasets = get_json(f"{base}/healthz")["datasets"]
        return all((datasets[d]["status"], datasets[d]["code"]) == ("stale", "refresh_failed")
                   for d in ("aed", "air-quality", "population"))

    wait_until(all_failed, "aed, air-quality and population reported stale, their refresh failed", timeout=75)
    open_page(dash_duo, f"{base}/map", "#map .leaflet-container")
    wait_until(lambda: layer_count(dash_duo, "aed") == (3, 3), "the last good AEDs still on the map")
    shown = notices(dash_duo)
    assert "「AED設置場所」は最新のデータを取得できなかったため" in shown
    assert "「大気測定局」は最新のデータを取得できなかったため" in shown
    details_link = dash_duo.driver.find_element(By.CSS_SELECTOR, ".mk-notice a")
    assert details_link.get_attribute("href").endswith("/data#dataset-aed")
    details_link.click()  # to the dataset's entry on /data, with the reason
    wait_until(lambda: dash_duo.driver.execute_script("return document.activeElement.id") == "dataset-aed",
             "/data scrolled to the AED entry")
    assert "最新のデータではありません。前回取得したデータを表示しています。" in text(dash_duo, "#dataset-aed")
    assert dash_duo.driver.execute_script(
        "return document.getElementById('dataset-aed').getBoundingClientRect().top") < 200

    open_page(dash_duo, f"{base}/dashboard", ".mk-kpis")
    card = text(dash_duo, POPULATION_CARD)
    assert format_number(latest[-1]["value"], "ja", 0) in card
    assert "「人口」は最新のデータを取得できなかったため" in card

    open_page(dash_duo, f"{base}/dashboard/population", "#ind-series")
    assert "「人口」は最新のデータを取得できなかったため" in notices(dash_duo)

    open_page(dash_duo, f"{base}/data", "#dataset-population")
    population = text(dash_duo, "#dataset-population")
    assert "最新のデータではありません。前回取得したデータを表示しています。" in population
    assert "大阪府" in population and "サンプルデータ" not in population  # the publisher's credit, not the sample's
