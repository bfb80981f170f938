"""Issue 10: a big layer in Chromium. The app runs with MIERUKA_MAP_TILED_OVER=5000, so the
AED layer (9,000 places) reaches the map as the server's summary when zoomed out and as chunks
when zoomed in, never whole; what a person sees — counts, clusters, filters, the list — is
what the data says."""
from __future__ import annotations

import json
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from services.map_index import tile_bounds
from tests.browser.test_map import layer_count, summary
from tests.browser.waiting import wait_until
from tests.conftest import LOCAL_TILES
from tests.live_config import get_json, running_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tiled(tmp_path_factory):
    with running_app(None, tmp_path_factory.mktemp("tiled-map"), MIERUKA_MAP_TILED_OVER="5000",
                     MIERUKA_TILE_URL=LOCAL_TILES) as base:
        yield {"base": base, "aed": get_json(f"{base}/api/v1/layers/aed.geojson")["features"]}


def requests_of(dash_duo, part: str) -> list[str]:
    return dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes(arguments[0]));", part)


def open_map(dash_duo, base: str, query: str) -> None:
    dash_duo.driver.set_window_size(1280, 900)
    dash_duo.driver.get(f"{base}/map{query}")
    dash_duo.wait_for_element("#map .leaflet-container", timeout=40)


def bubbles(dash_duo) -> list[int]:
    """The places each AED cluster bubble on the map stands for."""
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.mk-cluster-aed [data-count]')).map(e => +e.dataset.count);")


def child_pads(features) -> list[dict]:
    return [f for f in features if f["properties"].get("child_pads") is True]


def in_view(dash_duo, features) -> list[dict]:
    b = dash_duo.driver.execute_script("return window.mieruka.view.viewport().bounds;")
    return [f for f in features if b["s"] <= f["geometry"]["coordinates"][1] <= b["n"]
            and b["w"] <= f["geometry"]["coordinates"][0] <= b["e"]]


def test_zoomed_out_a_big_layer_is_the_servers_count_per_cell_and_a_filter_asks_once(dash_duo, tiled) -> None:
    open_map(dash_duo, tiled["base"], "?layers=aed")
    wait_until(lambda: layer_count_text_ok(dash_duo), "the AED count", timeout=40)
    assert layer_count(dash_duo, "aed") == (9000, 9000)
    wait_until(lambda: bubbles(dash_duo), "AED clusters drawn", timeout=40)
    assert requests_of(dash_duo, "/aed.points.json") == [] and requests_of(dash_duo, "/aed/chunks/") == []
    assert len(requests_of(dash_duo, "/aed/summary.json")) == 1
    assert 1000 < sum(bubbles(dash_duo)) <= 9000  # the places in view, counted by the server

    assert dash_duo.find_element("#filters-aed").get_attribute("open") is not None  # the one layer shown: its filters unfolded
    dash_duo.find_element("#filters-aed input[value='child_pads']").click()
    expected = len(child_pads(tiled["aed"]))
    wait_until(lambda: layer_count(dash_duo, "aed") == (expected, 9000), f"the count {expected} / 9,000", timeout=40)
    assert summary(dash_duo) == (expected, 9000)
    asked = requests_of(dash_duo, "/aed/summary.json")
    assert len(asked) == 2 and "f.child_pads=1" in asked[-1]  # one request for the filter's view
    wait_until(lambda: 0 < sum(bubbles(dash_duo)) <= expected, "the clusters redrawn with the filter")
    before_zoom = max(bubbles(dash_duo))
    assert "f.aed.child_pads=1" in dash_duo.driver.current_url
    # a zoom step in is drawn from the same summary (its cells are fine enough): no request
    dash_duo.find_element(".leaflet-control-zoom-in").click()
    wait_until(lambda: "z=11" in dash_duo.driver.current_url, "the map one zoom step in")
    wait_until(lambda: bubbles(dash_duo) and max(bubbles(dash_duo)) < before_zoom, "smaller clusters one step in")
    assert len(requests_of(dash_duo, "/aed/summary.json")) == 2
    assert dash_duo.get_logs() == []


def test_a_search_over_a_big_layer_is_counted_by_the_server_as_the_browser_would(dash_duo, tiled) -> None:
    """Zoomed out, the AEDs matching a search are counted on the server (services/map_filters,
    the browser's own predicate's twin): full-width, katakana and spaces find the same places."""
    from services.map_filters import search_key

    word = "コミュニティ　センター"  # katakana and a full-width space: the key is こみゅにてぃせんたー
    expected = sum(1 for f in tiled["aed"] if search_key(word) in search_key(
        " ".join(str(f["properties"].get(k) or "") for k in ("name", "name_kana", "address"))))
    assert 0 < expected < 9000
    open_map(dash_duo, tiled["base"], "?layers=aed")
    wait_until(lambda: layer_count_text_ok(dash_duo), "the AED count", timeout=40)
    search = dash_duo.find_element("#map-search")
    search.send_keys(word)
    search.send_keys(Keys.ENTER)
    wait_until(lambda: layer_count(dash_duo, "aed") == (expected, 9000), f"the count {expected} / 9,000", timeout=40)
    asked = requests_of(dash_duo, "/aed/summary.json")
    assert len(asked) == 2 and "q=" in asked[-1]
    wait_until(lambda: 0 < sum(bubbles(dash_duo)) <= expected, "the clusters of the places found")
    assert dash_duo.get_logs() == []


def layer_count_text_ok(dash_duo) -> bool:
    try:
        return layer_count(dash_duo, "aed")[1] == 9000
    except ValueError:
        return False


def test_zoomed_in_a_big_layer_comes_by_chunks_and_is_filtered_and_listed_in_the_browser(dash_duo, tiled) -> None:
    open_map(dash_duo, tiled["base"], "?layers=aed&lat=34.69374&lon=135.50218&z=13")
    wait_until(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('.mk-marker-aed, .mk-cluster-aed').length") > 0, "AEDs drawn", timeout=40)
    chunks = requests_of(dash_duo, "/aed/chunks/")
    assert 1 <= len(chunks) <= 4 and requests_of(dash_duo, "/aed/summary.json") == []
    for url in chunks:  # each chunk asked for lies under the view
        z, x, y = (int(v) for v in re.search(r"/chunks/(\d+)/(\d+)/(\d+)\.json", url).groups())
        west, south, east, north = tile_bounds(z, x, y)
        b = dash_duo.driver.execute_script("return window.mieruka.view.viewport().bounds;")
        assert west <= b["e"] and east >= b["w"] and south <= b["n"] and north >= b["s"]

    dash_duo.find_element("#map-view input[value='list']").click()
    dash_duo.wait_for_element("#list-table tbody tr", timeout=40)
    expected = len(in_view(dash_duo, tiled["aed"]))
    wait_until(lambda: f"{expected:,}" in dash_duo.find_element("#list-table caption").text,
               f"the list's caption to count the {expected} AEDs in view")
    # the rows carry the text of the chunk (no second download) and open the place's details
    first = dash_duo.driver.find_element(By.CSS_SELECTOR, "#list-table tbody th button")
    name = first.text.strip()
    assert name and dash_duo.driver.find_elements(By.CSS_SELECTOR, "#list-table tbody td")[2].text.strip() not in ("", "—")
    first.click()
    dash_duo.wait_for_text_to_equal("#details-title", name, timeout=40)

    # a filter on data in view: the list follows from the chunks, the count from one summary
    chunk_count = len(requests_of(dash_duo, "/aed/chunks/"))
    assert dash_duo.find_element("#filters-aed").get_attribute("open") is not None  # the one layer shown: its filters unfolded
    dash_duo.find_element("#filters-aed input[value='child_pads']").click()
    narrowed = len(in_view(dash_duo, child_pads(tiled["aed"])))
    wait_until(lambda: f"{narrowed:,}" in dash_duo.find_element("#list-table caption").text,
               f"the list narrowed to {narrowed}")
    total = len(child_pads(tiled["aed"]))
    wait_until(lambda: layer_count(dash_duo, "aed") == (total, 9000), f"the count {total} / 9,000")
    assert len(requests_of(dash_duo, "/aed/chunks/")) == chunk_count
    assert len(requests_of(dash_duo, "/aed/summary.json")) == 1
    assert dash_duo.get_logs() == []


def test_a_chunk_that_failed_to_arrive_is_asked_for_again_at_the_next_move(dash_duo, tiled) -> None:
    driver = dash_duo.driver
    driver.set_window_size(1280, 900)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/aed/chunks/*"]})
    try:
        driver.get(f"{tiled['base']}/map?layers=aed&lat=34.69374&lon=135.50218&z=13")
        dash_duo.wait_for_element("#map .leaflet-container", timeout=40)
        wait_until(lambda: requests_of(dash_duo, "/aed/chunks/"), "the chunks asked for (and refused)", timeout=40)
        assert driver.execute_script("return document.querySelectorAll('.mk-marker-aed, .mk-cluster-aed').length") == 0
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    driver.execute_script("window.mieruka.view.go({center: [34.69384, 135.50228], zoom: 13});")  # a small move
    wait_until(lambda: driver.execute_script(
        "return document.querySelectorAll('.mk-marker-aed, .mk-cluster-aed').length") > 0, "the AEDs drawn after the move",
        timeout=40)


def test_zoomed_out_the_list_says_to_zoom_in_for_a_big_layer(dash_duo, tiled) -> None:
    open_map(dash_duo, tiled["base"], "?layers=aed,toilets&view=list")
    dash_duo.wait_for_element("#list-table", timeout=40)
    wait_until(lambda: "AED" in " ".join(e.text for e in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".mk-more")),
               "the note that the AEDs are listed when zoomed in", timeout=40)
    # the note comes before the rows, where it is read first
    assert dash_duo.driver.execute_script(
        "var note = document.querySelector('.mk-more'), table = document.querySelector('#list-table');"
        "return !!(note.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING);")
    layers = {r.text for r in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#list-table tbody td:nth-of-type(1)")}
    assert layers and all("AED" not in text for text in layers)  # the toilets are listed, the AEDs are not


def test_near_me_finds_the_nearest_of_a_big_layer(dash_duo, tiled) -> None:
    open_map(dash_duo, tiled["base"], "?layers=aed")
    wait_until(lambda: layer_count_text_ok(dash_duo), "the AED count", timeout=40)
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"]})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": 34.6937, "longitude": 135.5022, "accuracy": 10})
    dash_duo.find_element("#near-me").click()
    dash_duo.wait_for_element("#near-list ol li", timeout=40)
    first = driver.execute_script("return document.querySelector('#near-list ol li .mk-dist').textContent.trim();")
    value = float(first.split()[0].replace(",", "")) * (1000 if first.endswith("km") else 1)
    import math

    def metres(lat, lon):
        r = math.pi / 180
        a = (math.sin((lat - 34.6937) * r / 2) ** 2
             + math.cos(34.6937 * r) * math.cos(lat * r) * math.sin((lon - 135.5022) * r / 2) ** 2)
        return 2 * 6371008.8 * math.asin(math.sqrt(a))

    nearest = min(metres(f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]) for f in tiled["aed"])
    assert abs(value - nearest) <= max(1, nearest * 0.01)
    # the position itself never left the browser: only whole tiles were asked for
    assert not [u for u in requests_of(dash_duo, "/api/") if "34.69" in u or "135.50" in u]
    assert json.dumps(dash_duo.get_logs()) == "[]"
