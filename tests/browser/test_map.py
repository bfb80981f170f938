"""The map page in headless Chromium: layers, filters, URL state, language, list view,
selection, search, municipality and "near me" — asserting what a person would see."""
from __future__ import annotations

import json
import re
import time
import urllib.parse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

pytestmark = pytest.mark.browser


def features(client, layer_id):
    return json.loads(client.get(f"/api/v1/layers/{layer_id}.geojson").data)["features"]


def total_count(client):
    return sum(layer["count"] for layer in client.get("/api/v1/layers").json["layers"])


def summary(dash_duo):
    """(shown, total) from the count line under the layer switches."""
    text = dash_duo.find_element("#count-summary").text
    numbers = [int(n.replace(",", "")) for n in re.findall(r"[\d,]+", text)]
    return tuple(numbers[:2]) if len(numbers) >= 2 else None


def wait_for_summary(dash_duo, expected, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if summary(dash_duo) == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"count summary {summary(dash_duo)} never became {expected}")


def layer_count(dash_duo, layer_id):
    text = dash_duo.driver.execute_script(
        "return document.getElementById(arguments[0]).textContent;",
        json.dumps({"id": layer_id, "type": "layer-count"}, separators=(",", ":")))
    shown, total = (int(n.replace(",", "")) for n in re.findall(r"[\d,]+", text))
    return shown, total


def markers_of(dash_duo, layer_id):
    """Markers and cluster bubbles of a layer on the map."""
    return dash_duo.driver.execute_script(
        "return document.querySelectorAll('.mk-marker-' + arguments[0] + ', .mk-cluster-' + arguments[0]).length;",
        layer_id)


def checkbox(dash_duo, container, value):
    return dash_duo.find_element(f"{container} input[value='{value}']")


def open_map(dash_duo, dash_app, query=""):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/map{query}")
    dash_duo.wait_for_element(".leaflet-container")


def dash_requests(dash_duo):
    return dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update-component')).length;")


def test_all_layers_load_and_switching_a_layer_changes_the_count(dash_duo, dash_app, client):
    total = total_count(client)
    open_map(dash_duo, dash_app)
    wait_for_summary(dash_duo, (total, total))
    dash_duo.wait_for_element(".mk-cluster-toilets")
    toilets = len(features(client, "toilets"))

    checkbox(dash_duo, "#layer-toggle", "toilets").click()
    wait_for_summary(dash_duo, (total - toilets, total - toilets))
    deadline = time.time() + 5
    while markers_of(dash_duo, "toilets") and time.time() < deadline:
        time.sleep(0.1)
    assert markers_of(dash_duo, "toilets") == 0
    assert "layers=" in dash_duo.driver.current_url and "toilets" not in urllib.parse.unquote(
        dash_duo.driver.current_url.split("layers=")[1].split("&")[0])

    checkbox(dash_duo, "#layer-toggle", "toilets").click()
    wait_for_summary(dash_duo, (total, total))
    dash_duo.wait_for_element(".mk-cluster-toilets")
    assert dash_duo.get_logs() == []


def test_a_filter_narrows_to_the_expected_number_without_a_server_request(dash_duo, dash_app, client):
    wheelchair = sum(1 for f in features(client, "toilets") if f["properties"].get("wheelchair") is True)
    open_map(dash_duo, dash_app, "?layers=toilets")
    wait_for_summary(dash_duo, (2500, 2500))
    before = dash_requests(dash_duo)

    dash_duo.find_element("#filters-toilets summary").click()
    dash_duo.find_element("#filters-toilets input[value='wheelchair']").click()
    wait_for_summary(dash_duo, (wheelchair, 2500))
    assert layer_count(dash_duo, "toilets") == (wheelchair, 2500)
    assert dash_requests(dash_duo) == before, "a filter change must not call the server"
    assert "f.toilets.wheelchair=1" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_the_url_restores_the_same_view(dash_duo, dash_app, client):
    rows = features(client, "nursery-vacancies")
    month = max(next(iter(f["properties"]["vacancies"])) for f in rows[:1])
    months = sorted(rows[0]["properties"]["vacancies"])
    month = months[-1]
    expected = sum(1 for f in rows if (f["properties"]["vacancies"].get(month) or [None, None])[1] not in (None, 0))
    query = f"?layers=nursery-vacancies&f.nursery-vacancies.vacancy=1@{month}&lat=34.70000&lon=135.50000&z=12&base=std"
    open_map(dash_duo, dash_app, query)
    wait_for_summary(dash_duo, (expected, 1600))
    assert not checkbox(dash_duo, "#layer-toggle", "toilets").is_selected()
    assert checkbox(dash_duo, "#layer-toggle", "nursery-vacancies").is_selected()
    zoom = dash_duo.driver.execute_script(
        "var m = document.querySelector('.leaflet-container'); return m && m._leaflet_map ? m._leaflet_map.getZoom() : null;")
    # the address bar keeps every part of the view
    url = urllib.parse.unquote(dash_duo.driver.current_url)
    for part in ("layers=nursery-vacancies", f"f.nursery-vacancies.vacancy=1@{month}", "z=12", "base=std"):
        assert part in url
    assert dash_duo.get_logs() == []


def test_bad_url_values_are_ignored_with_a_notice(dash_duo, dash_app):
    open_map(dash_duo, dash_app, "?layers=toilets,unicorns&f.toilets.wheelchair=maybe&z=99&area=99999")
    notice = dash_duo.wait_for_element(".mk-notice").text
    for item in ("unicorns", "f.toilets.wheelchair=maybe", "area=99999"):
        assert item in notice
    wait_for_summary(dash_duo, (2500, 2500))
    assert dash_duo.get_logs() == []


def test_language_switch_keeps_the_view(dash_duo, dash_app):
    open_map(dash_duo, dash_app, "?layers=aed&f.aed.child_pads=1")
    dash_duo.wait_for_text_to_equal("#lang-link", "English")
    assert dash_duo.find_element("html").get_attribute("lang") == "ja"
    dash_duo.find_element("#lang-link").click()
    dash_duo.wait_for_text_to_equal("#lang-link", "日本語")
    dash_duo.wait_for_contains_text("#layer-toggle", "AEDs")
    assert dash_duo.find_element("html").get_attribute("lang") == "en"
    url = urllib.parse.unquote(dash_duo.driver.current_url)
    assert "lang=en" in url and "layers=aed" in url and "f.aed.child_pads=1" in url
    assert checkbox(dash_duo, "#layer-toggle", "aed").is_selected()
    assert not checkbox(dash_duo, "#layer-toggle", "wifi").is_selected()
    assert dash_duo.get_logs() == []


def test_list_view_is_sortable_and_selecting_a_row_shows_details(dash_duo, dash_app, client):
    open_map(dash_duo, dash_app, "?layers=baby-stations&lat=34.69374&lon=135.50218&z=14")
    wait_for_summary(dash_duo, (1200, 1200))
    dash_duo.find_element("#map-view input[value='list']").click()
    dash_duo.wait_for_element("#list-table tbody tr")
    def names():
        return [e.text for e in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#list-table tbody th")]

    def sort_state():
        return dash_duo.find_element("#list-table thead th").get_attribute("aria-sort")

    ascending = names()
    assert ascending and sort_state() == "ascending"
    assert "1,200" in dash_duo.find_element("#list-table caption").text or len(ascending) <= 200
    # the name header is a button: Enter on it reverses the order
    dash_duo.driver.find_element(By.CSS_SELECTOR, "#list-table thead th button").send_keys(Keys.ENTER)
    deadline = time.time() + 5
    while sort_state() != "descending" and time.time() < deadline:
        time.sleep(0.1)
    assert sort_state() == "descending"
    descending = names()
    assert descending[0] != ascending[0]
    first = dash_duo.driver.find_element(By.CSS_SELECTOR, "#list-table tbody th button")
    name = first.text.strip()
    first.click()
    dash_duo.wait_for_text_to_equal("#details-title", name)
    assert "sel=baby-stations" in urllib.parse.unquote(dash_duo.driver.current_url)
    assert dash_duo.get_logs() == []
