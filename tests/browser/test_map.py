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

from tests.browser.waiting import wait_until

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


def wait_for_summary(dash_duo, expected, timeout=25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if summary(dash_duo) == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"count summary {summary(dash_duo)} never became {expected}")


def layer_count_text(dash_duo, layer_id):
    """The "shown / total" text of a layer's switch, as Dash's page writes it ('' before)."""
    return dash_duo.driver.execute_script(
        "var e = document.getElementById(arguments[0]); return e ? e.textContent : '';",
        json.dumps({"id": layer_id, "type": "layer-count"}, separators=(",", ":")))


def layer_count(dash_duo, layer_id):
    shown, total = (int(n.replace(",", "")) for n in re.findall(r"[\d,]+", layer_count_text(dash_duo, layer_id)))
    return shown, total


# the markers and cluster bubbles of a layer that are shown (a hidden layer's stay in the document,
# in a pane with display: none: mieruka-map-view.js newLayer)
SHOWN_MARKERS = """Array.from(document.querySelectorAll('.mk-marker-' + arguments[0] + ', .mk-cluster-' + arguments[0]))
    .filter(function (e) { return e.offsetParent !== null; })"""


def markers_of(dash_duo, layer_id):
    """Markers and cluster bubbles of a layer shown on the map."""
    return dash_duo.driver.execute_script(f"return {SHOWN_MARKERS}.length;", layer_id)


def checkbox(dash_duo, container, value):
    return dash_duo.find_element(f"{container} input[value='{value}']")


def open_map(dash_duo, dash_app, query="", width=1280):
    dash_duo.driver.set_window_size(width, 900)
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/map{query}")
    dash_duo.wait_for_element("#map .leaflet-container", timeout=40)  # Dash's page holding the map, not the early copy


def dash_requests(dash_duo):
    return dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update-component')).length;")


def load_blocking(dash_duo, path, blocked):
    """Open `path` with the requests matching `blocked` refused (Chrome's own blocking: the
    server is not touched), then allow everything again."""
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": blocked})
    try:
        driver.get(f"{dash_duo.server_url}{path}")
        wait_until(lambda: driver.execute_script("return document.querySelectorAll('.leaflet-marker-icon').length"),
                   f"markers on {path} with {blocked} blocked")
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


def map_box(dash_duo, selector):
    return dash_duo.driver.execute_script(
        "var b = document.querySelector(arguments[0]).getBoundingClientRect(); return [b.x, b.y, b.width, b.height];",
        selector)


def test_the_map_shows_its_markers_before_dash_has_started(dash_duo, dash_app):
    """The page's static copy draws the map from the preloaded layers by itself: with Dash's
    renderer never arriving, the header, the layer list and the toilets are still there."""
    dash_duo.driver.set_window_size(1280, 900)
    dash_duo.start_server(dash_app)
    load_blocking(dash_duo, "/map?layers=toilets", ["*dash_renderer*"])
    driver = dash_duo.driver
    assert not driver.execute_script("return !!document.querySelector('#react-entry-point .mk-app')")  # no Dash
    assert driver.find_element(By.CSS_SELECTOR, ".mk-boot .mk-header").is_displayed()
    wait_until(lambda: markers_of(dash_duo, "toilets"), "the toilets drawn")
    assert driver.execute_script("return document.querySelectorAll('#mk-boot-map .leaflet-marker-icon').length") == \
        driver.execute_script("return document.querySelectorAll('.leaflet-marker-icon').length")
    assert markers_of(dash_duo, "aed") == 0  # only the layer the address asks for
    switches = driver.find_elements(By.CSS_SELECTOR, ".mk-boot .mk-layers input")
    assert [box.is_selected() for box in switches].count(True) == 1


def test_a_layer_whose_data_never_comes_leaves_the_others_drawn(dash_duo, dash_app):
    """Layers are read one after another (mieruka-map.js readInTurn): one whose data is refused
    holds none of the others back, neither in the early map nor once Dash has the page."""
    dash_duo.driver.set_window_size(1280, 900)
    dash_duo.start_server(dash_app)
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/aed.points.json*"]})
    try:
        driver.get(f"{dash_duo.server_url}/map")
        others = ("baby-stations", "toilets", "evacuation-sites", "medical", "events")
        wait_until(lambda: all(markers_of(dash_duo, layer) for layer in others), f"{others} drawn")
        dash_duo.wait_for_element("#map .leaflet-container")  # Dash's page holds the map now
        assert all(markers_of(dash_duo, layer) for layer in others)
        assert markers_of(dash_duo, "aed") == 0
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    dash_duo.get_logs()  # the refused requests' errors


def test_dash_scripts_are_fetched_once_the_layers_data_is_in(dash_duo, dash_app):
    """Until the map's data has arrived the connections are its own: Dash's scripts are asked
    for after the last layer's columns (mieruka-base.js m.fetchDash), and Dash still starts."""
    open_map(dash_duo, dash_app)
    first_dash, last_layer = dash_duo.driver.execute_script("""
        var all = performance.getEntriesByType('resource');
        var dash = all.filter(e => e.name.includes('/_dash-component-suites/')).map(e => e.startTime);
        var layers = all.filter(e => e.name.includes('.points.json')).map(e => e.responseEnd);
        return [Math.min.apply(null, dash), Math.max.apply(null, layers)];""")
    assert first_dash >= last_layer
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize("width", [1280, 390])
def test_dash_takes_the_early_map_over_where_it_stood(dash_duo, dash_app, client, width):
    """The early map is the page's map: the same box, one Leaflet map, its markers kept."""
    dash_duo.driver.set_window_size(width, 860)
    dash_duo.start_server(dash_app)
    # Dash's scripts run but its page cannot be drawn: the copy stays, as it stands while Dash starts
    load_blocking(dash_duo, "/map", ["*dash_html_components*"])
    early = map_box(dash_duo, "#mk-boot-map")
    dash_duo.get_logs()  # the refused script's errors

    dash_duo.driver.get(f"{dash_duo.server_url}/map")
    wait_until(lambda: dash_duo.driver.execute_script(
        "return !document.querySelector('.mk-boot') && !!document.querySelector('#map .leaflet-marker-icon')"),
        "Dash's page holding the map")
    assert map_box(dash_duo, "#map") == pytest.approx(early, abs=1)
    assert len(dash_duo.find_elements(".leaflet-container")) == 1
    toilets = len(features(client, "toilets"))  # and Dash's own callbacks count what it shows
    wait_until(lambda: re.sub(r"\D", "", layer_count_text(dash_duo, "toilets")) == f"{toilets}{toilets}",
               "the toilets counted")
    assert dash_duo.get_logs() == []


def test_all_layers_load_and_switching_a_layer_changes_the_count(dash_duo, dash_app, client):
    total = total_count(client)
    open_map(dash_duo, dash_app)
    wait_for_summary(dash_duo, (total, total))
    dash_duo.wait_for_element(".mk-cluster-toilets")
    toilets = len(features(client, "toilets"))

    checkbox(dash_duo, "#layer-toggle", "toilets").click()
    wait_for_summary(dash_duo, (total - toilets, total - toilets))
    deadline = time.time() + 15
    while markers_of(dash_duo, "toilets") and time.time() < deadline:
        time.sleep(0.1)
    assert markers_of(dash_duo, "toilets") == 0
    assert "layers=" in dash_duo.driver.current_url and "toilets" not in urllib.parse.unquote(
        dash_duo.driver.current_url.split("layers=")[1].split("&")[0])

    checkbox(dash_duo, "#layer-toggle", "toilets").click()
    wait_for_summary(dash_duo, (total, total))
    dash_duo.wait_for_element(".mk-cluster-toilets")
    assert dash_duo.get_logs() == []


def test_a_layer_switched_off_leaves_the_map_before_dash_has_answered(dash_duo, dash_app, client):
    """The switch redraws the map in the click's own task (mieruka-map.js quickState); Dash's
    callbacks, which run later, then agree with it."""
    total = total_count(client)
    open_map(dash_duo, dash_app)
    wait_for_summary(dash_duo, (total, total))
    dash_duo.wait_for_element(".mk-cluster-toilets")
    left = dash_duo.driver.execute_script(f"""
        document.querySelector("#layer-toggle input[value='toilets']").click();
        return {SHOWN_MARKERS}.length;""", "toilets")
    assert left == 0
    toilets = len(features(client, "toilets"))
    wait_for_summary(dash_duo, (total - toilets, total - toilets))
    assert markers_of(dash_duo, "toilets") == 0 and markers_of(dash_duo, "aed")
    assert not checkbox(dash_duo, "#layer-toggle", "toilets").is_selected()

    # moved while hidden, then shown: the layer is drawn for the view it is shown in, not the one it left
    dash_duo.find_element(".leaflet-control-zoom-in").click()
    wait_until(lambda: "z=11" in dash_duo.driver.current_url, "the map one step in")
    checkbox(dash_duo, "#layer-toggle", "toilets").click()
    wait_for_summary(dash_duo, (total, total))
    wait_until(lambda: markers_of(dash_duo, "toilets"), "the toilets back on the map")
    outside = dash_duo.driver.execute_script(f"""
        var box = document.querySelector('#map').getBoundingClientRect();
        return {SHOWN_MARKERS}.filter(function (e) {{
          var r = e.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
          return x < box.left || x > box.right || y < box.top || y > box.bottom; }}).length;""", "toilets")
    assert outside == 0, f"{outside} toilet markers drawn outside the view"
    assert dash_duo.get_logs() == []


def test_a_filter_narrows_to_the_expected_number_without_a_server_request(dash_duo, dash_app, client):
    toilets = features(client, "toilets")
    wheelchair = sum(1 for f in toilets if f["properties"].get("wheelchair") is True)
    total = len(toilets)
    open_map(dash_duo, dash_app, "?layers=toilets")
    wait_for_summary(dash_duo, (total, total))
    before = dash_requests(dash_duo)

    assert dash_duo.find_element("#filters-toilets").get_attribute("open") is not None  # the one layer shown: its filters unfolded
    dash_duo.find_element("#filters-toilets input[value='wheelchair']").click()
    wait_for_summary(dash_duo, (wheelchair, total))
    assert layer_count(dash_duo, "toilets") == (wheelchair, total)
    assert dash_requests(dash_duo) == before, "a filter change must not call the server"
    assert "f.toilets.wheelchair=1" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_a_filter_with_configured_options_is_offered_and_kept_from_the_url(dash_duo, dash_app, client):
    """The evacuation layer's type (a `contains` filter whose options the config names) offers
    those options, and a value from the address survives Dash's start (it was dropped as not
    among the dropdown's options, which were only the data's own values)."""
    rows = features(client, "evacuation-sites")
    shelters = sum(1 for f in rows if "指定避難所" in (f["properties"].get("kind") or []))
    assert 0 < shelters < len(rows)
    open_map(dash_duo, dash_app, "?layers=evacuation-sites&f.evacuation-sites.kind=" + urllib.parse.quote("指定避難所"))
    wait_for_summary(dash_duo, (shelters, len(rows)))
    # Dash's own state callback has run on the page's controls (it writes the view into the address)
    wait_until(lambda: "lat=" in dash_duo.driver.current_url, "Dash's state written to the address")
    assert summary(dash_duo) == (shelters, len(rows))
    assert "指定避難所（避難生活を送る施設）" in dash_duo.find_element("#filters-evacuation-sites").text
    assert "f.evacuation-sites.kind=" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_the_url_restores_the_same_view(dash_duo, dash_app, client):
    rows = features(client, "nursery-vacancies")
    months = sorted(rows[0]["properties"]["vacancies"])
    month = months[-1]
    expected = sum(1 for f in rows if (f["properties"]["vacancies"].get(month) or [None, None])[1] not in (None, 0))
    query = f"?layers=nursery-vacancies&f.nursery-vacancies.vacancy=1@{month}&lat=34.70000&lon=135.50000&z=12&base=std"
    open_map(dash_duo, dash_app, query)
    wait_for_summary(dash_duo, (expected, 1600))
    assert not checkbox(dash_duo, "#layer-toggle", "toilets").is_selected()
    assert checkbox(dash_duo, "#layer-toggle", "nursery-vacancies").is_selected()
    assert dash_duo.find_element("#map-basemap input[value='std']").is_selected()
    tile = dash_duo.wait_for_element("img.leaflet-tile").get_attribute("src")
    assert "?std/" in tile, tile
    # the address bar keeps every part of the view; z and lat/lon are written back from the
    # map's own reported centre and zoom, so they show the map really opened there
    url = urllib.parse.unquote(dash_duo.driver.current_url)
    for part in ("layers=nursery-vacancies", f"f.nursery-vacancies.vacancy=1@{month}", "z=12", "base=std"):
        assert part in url
    assert dash_duo.get_logs() == []


def test_bad_url_values_are_ignored_with_a_notice(dash_duo, dash_app, client):
    open_map(dash_duo, dash_app, "?layers=toilets,unicorns&f.toilets.wheelchair=maybe&z=99&area=99999")
    # other notices may stand beside it (a live layer whose data went stale during a long
    # run says so), so the ignored values are looked for among all of the page's notices
    dash_duo.wait_for_contains_text(".mk-notices", "unicorns")
    notices = dash_duo.find_element(".mk-notices").text
    for item in ("unicorns", "f.toilets.wheelchair=maybe", "area=99999"):
        assert item in notices
    total = len(features(client, "toilets"))
    wait_for_summary(dash_duo, (total, total))
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
    deadline = time.time() + 15
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
    # away to the home page and back in the app: the list keeps the order chosen, its header says
    # so, and a click on that header reverses it (the order is read from the header itself)
    dash_duo.driver.execute_script("document.querySelector('a[href=\"/\"]').click()")
    dash_duo.wait_for_no_elements("#list-table")
    dash_duo.driver.back()
    dash_duo.wait_for_element("#list-table thead th:first-child[aria-sort='descending']")
    kept = names()
    assert len(set(kept)) > 1
    dash_duo.driver.find_element(By.CSS_SELECTOR, "#list-table thead th button").send_keys(Keys.ENTER)
    dash_duo.wait_for_element("#list-table thead th:first-child[aria-sort='ascending']")
    wait_until = time.time() + 15
    while names()[0] != kept[-1] and time.time() < wait_until:
        time.sleep(0.1)
    reversed_ = names()  # the same places the other way round (places of one name keep their order)
    assert sorted(reversed_) == sorted(kept) and (reversed_[0], reversed_[-1]) == (kept[-1], kept[0])
    assert dash_duo.get_logs() == []


def test_search_matches_kana_and_width_variants(dash_duo, dash_app, client):
    rows = features(client, "toilets")
    # a place whose reading is in katakana (the real files give katakana, hiragana or none)
    target = next(f["properties"] for f in rows
                  if re.fullmatch(r"[ァ-ヶー]{6,}", f["properties"].get("name_kana") or ""))
    # the katakana reading typed in half-width kana finds the place by its kana name
    import unicodedata

    kana = target["name_kana"][:6]
    half_width = "".join(
        {v: k for k, v in ((chr(c), unicodedata.normalize("NFKC", chr(c))) for c in range(0xFF66, 0xFF9E))}.get(ch, ch)
        for ch in kana)
    expected = sum(1 for f in rows if kana in (f["properties"].get("name_kana") or "")
                   or kana in (f["properties"].get("name") or "") or kana in (f["properties"].get("address") or ""))
    open_map(dash_duo, dash_app, "?layers=toilets")
    wait_for_summary(dash_duo, (len(rows), len(rows)))
    search = dash_duo.find_element("#map-search")
    search.send_keys(half_width)
    search.send_keys(Keys.ENTER)
    deadline = time.time() + 20
    while time.time() < deadline and summary(dash_duo) == (len(rows), len(rows)):
        time.sleep(0.1)
    shown, total = summary(dash_duo)
    assert total == len(rows) and 1 <= shown < len(rows)
    assert shown >= expected
    assert "q=" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_municipality_filter_counts_only_its_wards_and_zooms_there(dash_duo, dash_app, client):
    rows = features(client, "aed")
    expected = sum(1 for f in rows if f["properties"]["area_code"][:4] in ("2710", "2711", "2712"))
    open_map(dash_duo, dash_app, "?layers=aed&area=27100")  # 5-digit JIS form of 大阪市
    wait_for_summary(dash_duo, (expected, 9000))
    assert "area=271004" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_near_me_lists_the_nearest_places_without_sending_the_position(dash_duo, dash_app, client):
    open_map(dash_duo, dash_app, "?layers=aed")
    wait_for_summary(dash_duo, (9000, 9000))
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"]})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                           {"latitude": 34.6937, "longitude": 135.5022, "accuracy": 10})
    before = dash_requests(dash_duo)
    dash_duo.find_element("#near-me").click()
    dash_duo.wait_for_element("#near-list ol li")
    texts = driver.execute_script(
        "return Array.from(document.querySelectorAll('#near-list ol li .mk-dist')).map(e => e.textContent.trim());")
    assert len(texts) == 10
    distances = []
    for text in texts:
        value = float(text.split()[0].replace(",", ""))
        distances.append(value * (1000 if text.endswith("km") else 1))
    assert distances == sorted(distances)
    # the nearest computed here from the API agrees with the browser
    import math

    def metres(lat, lon):
        r = math.pi / 180
        a = (math.sin((lat - 34.6937) * r / 2) ** 2
             + math.cos(34.6937 * r) * math.cos(lat * r) * math.sin((lon - 135.5022) * r / 2) ** 2)
        return 2 * 6371008.8 * math.asin(math.sqrt(a))

    nearest = min(metres(f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]) for f in features(client, "aed"))
    assert abs(distances[0] - nearest) <= max(1, nearest * 0.01)
    assert dash_requests(dash_duo) == before, "the position must stay in the browser"
    assert dash_duo.get_logs() == []


def open_home_as_phone(dash_duo, dash_app):
    dash_duo.driver.set_window_size(390, 844)
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/")
    dash_duo.wait_for_element(".mk-choices")


def wait_folded(dash_duo):
    """On a phone the map's panel folds once Dash has the page: wait for it, as a parent's
    first tap would come after."""
    wait_until(lambda: dash_duo.find_element("#map-panel").get_attribute("open") is None, "the panel folded")


# a parent's three tasks (issue 11): the home page's choice, the panel, then the filters' boxes
PARENT_TASKS = {
    "baby-care station with hot water": ("baby-stations", ["input[value='hot_water']"],
                                         lambda p, now: p.get("hot_water") is True),
    "wheelchair toilet open now": ("toilets", ["input[value='wheelchair']", "input[value='open_now']"],
                                   lambda p, now: p.get("wheelchair") is True and _open_at(p, now)),
    "nursery with a place for a 1-year-old": ("nursery-vacancies", ["input[type='radio'][value='1']"], None),
}


@pytest.mark.parametrize("task", list(PARENT_TASKS))
def test_from_the_home_page_a_parent_does_each_task_in_four_taps_or_fewer(dash_duo, dash_app, client, task):
    layer, boxes, keep = PARENT_TASKS[task]
    rows = [f["properties"] for f in features(client, layer)]
    if keep is None:  # the vacancy's latest month is the layer's, not each nursery's
        latest = max(month for p in rows for month in (p.get("vacancies") or {}))
        keep = lambda p, now: (p.get("vacancies") or {}).get(latest, [0] * 6)[1] > 0  # noqa: E731

    def expected():
        now = _tokyo_now()
        return sum(1 for p in rows if keep(p, now)), len(rows)

    open_home_as_phone(dash_duo, dash_app)
    taps = 0
    dash_duo.find_element(f".mk-choices a[href$='layers={layer}']").click()
    taps += 1
    dash_duo.wait_for_element("#map .leaflet-container")
    wait_until(lambda: markers_of(dash_duo, layer), f"the {layer} drawn")
    assert markers_of(dash_duo, "aed" if layer != "aed" else "toilets") == 0  # the one thing asked for, not nine piles
    wait_folded(dash_duo)
    dash_duo.find_element("#map-panel summary").click()
    taps += 1
    wait_for_summary(dash_duo, (len(rows), len(rows)))
    before = expected()
    for box in boxes:  # the one layer's filters come first in the panel, unfolded
        dash_duo.find_element(f"#filters-{layer} {box}").click()
        taps += 1
    # (open now follows the clock: the count of the minute before or after the page's)
    wait_until(lambda: summary(dash_duo) in (before, expected()), f"{task}: the count")
    assert summary(dash_duo)[0] < len(rows)  # narrowed (open now may leave none at night)
    assert taps <= 4, task
    assert dash_duo.get_logs() == []


def test_near_me_on_the_home_page_opens_the_map_at_the_nearest_places_in_one_tap(dash_duo, dash_app):
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"]})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": 34.6937, "longitude": 135.5022, "accuracy": 10})
    open_home_as_phone(dash_duo, dash_app)
    dash_duo.find_element("#home-near").click()
    dash_duo.wait_for_element("#near-list ol li")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#near-list ol li")) == 10
    assert dash_duo.find_element("#near-list").is_displayed()  # the panel unfolds to show them
    wait_until(lambda: "near=" not in driver.current_url, "near=1 gone from the address (a reload asks no more)")

    def centre():
        query = urllib.parse.parse_qs(urllib.parse.urlparse(driver.current_url).query)
        return (float(query["lat"][0]), float(query["lon"][0])) if "lat" in query else None
    wait_until(lambda: centre() and abs(centre()[0] - 34.6937) < 0.05 and abs(centre()[1] - 135.5022) < 0.05,
               "the map moved to the position")
    assert dash_duo.get_logs() == []


def test_clicking_a_marker_shows_its_details_and_puts_it_in_the_url(dash_duo, dash_app):
    open_map(dash_duo, dash_app, "?layers=air-quality&lat=34.69374&lon=135.50218&z=13")
    wait_for_summary(dash_duo, (90, 90))
    marker = dash_duo.wait_for_element(".mk-marker-air-quality")
    name = marker.get_attribute("title").split(" (")[0]
    marker.click()
    dash_duo.wait_for_text_to_equal("#details-title", name)
    details = dash_duo.find_element("#details").text
    assert "最新の測定値" in details and "時点" in details
    assert "sel=air-quality" in urllib.parse.unquote(dash_duo.driver.current_url)
    dash_duo.find_element("#details .mk-close").click()
    deadline = time.time() + 15
    while "sel=" in dash_duo.driver.current_url and time.time() < deadline:
        time.sleep(0.1)
    assert "sel=" not in dash_duo.driver.current_url
    # keyboard users: a marker takes focus and Enter opens its details
    markers = dash_duo.driver.find_elements(By.CSS_SELECTOR, ".mk-marker-air-quality")
    other = markers[-1]
    other_name = other.get_attribute("title").split(" (")[0]
    assert other.get_attribute("tabindex") == "0"
    other.send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#details-title", other_name)
    assert dash_duo.get_logs() == []


def test_on_a_phone_the_map_comes_first_and_the_controls_unfold(dash_duo, dash_app):
    open_map(dash_duo, dash_app, "?layers=wifi", width=480)
    dash_duo.wait_for_element(".mk-marker-wifi, .mk-cluster-wifi")
    panel = dash_duo.find_element("#map-panel")
    deadline = time.time() + 15
    while panel.get_attribute("open") is not None and time.time() < deadline:
        time.sleep(0.1)
    assert panel.get_attribute("open") is None
    assert not dash_duo.find_element("#map-search").is_displayed()
    dash_duo.find_element("#map-panel summary").click()
    assert dash_duo.find_element("#map-search").is_displayed()
    assert dash_duo.get_logs() == []


def _tokyo_now():
    import datetime as dt
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Asia/Tokyo"))


def _open_at(p, now):
    """Python twin of the browser's open-now rule, for the expected counts."""
    if p.get("days") is not None and now.weekday() not in p["days"]:
        return False
    if not p.get("open_time") or not p.get("close_time"):
        return False
    minutes = now.hour * 60 + now.minute
    start = int(p["open_time"][:2]) * 60 + int(p["open_time"][3:])
    end = int(p["close_time"][:2]) * 60 + int(p["close_time"][3:])
    if end <= start:
        return minutes >= start or minutes < end
    return start <= minutes < end


def test_every_filter_kind_gives_the_count_computed_from_the_data(dash_duo, dash_app, client):
    import datetime as dt

    today = _tokyo_now().date()
    week_end = (today + dt.timedelta(days=6)).isoformat()
    range_from, range_to = (today + dt.timedelta(days=20)).isoformat(), (today + dt.timedelta(days=40)).isoformat()
    providers = sorted({f["properties"]["provider"] for f in features(client, "wifi")})
    stations = [f["properties"] for f in features(client, "air-quality")]

    def at_least(pollutant, level):
        return lambda p: (p.get("readings", {}).get(pollutant) or {}).get("level", 0) >= level

    # readings follow the hour of the day: pick a pollutant and level that split the stations
    # now (level 1 = "has a reading", which splits them as not every station measures everything)
    air = next(f"{pollutant}:{level}" for level in (2, 3, 1) for pollutant in ("PM2.5", "Ox", "NO2", "SPM")
               if 0 < sum(map(at_least(pollutant, level), stations)) < len(stations))

    def count(layer, keep):
        rows = [f["properties"] for f in features(client, layer)]
        return sum(1 for p in rows if keep(p)), len(rows)

    def all_day(p):
        return (set(range(7)) <= set(p.get("days") or range(7)) and p.get("open_time") == "00:00"
                and p.get("close_time") in ("24:00", "23:59"))

    cases = [
        ("baby-stations", "nursing_room", "1", lambda p: p.get("nursing_room") is True),
        ("aed", "available_24h", "1", all_day),
        ("aed", "child_pads", "1", lambda p: p.get("child_pads") is True),
        ("evacuation-sites", "hazard", "tsunami", lambda p: p.get("tsunami") is True),
        ("medical", "kind", "病院", lambda p: p.get("kind") == "病院"),
        ("medical", "department", "小児科", lambda p: "小児科" in (p.get("departments") or [])),
        ("wifi", "provider", providers[0], lambda p: p.get("provider") == providers[0]),
        ("air-quality", "level", air, at_least(air.split(":")[0], int(air.split(":")[1]))),
        ("events", "when", "week", lambda p: p["start_date"] <= week_end and p.get("end_date", p["start_date"]) >= today.isoformat()),
        ("events", "when", f"{range_from}..{range_to}",
         lambda p: p["start_date"] <= range_to and p.get("end_date", p["start_date"]) >= range_from),
        ("events", "prefecture", "奈良県", lambda p: p.get("prefecture") == "奈良県"),
    ]
    dash_duo.driver.set_window_size(1280, 900)
    dash_duo.start_server(dash_app)
    for layer, fid, value, keep in cases:
        expected = count(layer, keep)
        assert 0 < expected[0] < expected[1], f"{layer}.{fid}={value}: the sample data should exercise the filter"
        dash_duo.driver.get(f"{dash_duo.server_url}/map?layers={layer}&f.{layer}.{fid}={urllib.parse.quote(value)}")
        try:
            wait_for_summary(dash_duo, expected)
        except AssertionError as exc:
            raise AssertionError(f"{layer}.{fid}={value}: {exc}") from None

    # open now depends on the clock: accept the count of the minute before or after the page computed it
    for layer in ("toilets", "medical"):
        before = count(layer, lambda p: _open_at(p, _tokyo_now()))
        dash_duo.driver.get(f"{dash_duo.server_url}/map?layers={layer}&f.{layer}.open_now=1")
        deadline = time.time() + 15
        while time.time() < deadline:
            after = count(layer, lambda p: _open_at(p, _tokyo_now()))
            if summary(dash_duo) in (before, after):
                break
            time.sleep(0.2)
        assert summary(dash_duo) in (before, after), f"{layer} open now: {summary(dash_duo)} not {before} or {after}"
    assert dash_duo.get_logs() == []


def test_a_place_shows_whether_it_is_open_how_to_get_there_and_a_link_to_share(dash_duo, dash_app, client):
    """The details of a place with hours say whether it is open now (in words, not colour alone)
    and offer directions and a share button whose link opens the same place."""
    def with_hours(p):
        hours = [p.get("open_time"), p.get("close_time")]
        return (all(re.match(r"^\d\d:\d\d$", h or "") for h in hours) and hours != ["00:00", "24:00"]
                and p.get("days") != [] and not {"open_time", "close_time"} & set(p.get("as_written") or {}))
    toilet = next(f["properties"] for f in features(client, "toilets") if with_hours(f["properties"]))
    open_map(dash_duo, dash_app, f"?layers=toilets&sel=toilets:{toilet['id']}")
    dash_duo.wait_for_text_to_equal("#details-title", toilet["name"])
    state = dash_duo.find_element("#details .mk-open-state").text
    assert re.match(r"^(利用可能 · \d\d:\d\dまで|時間外 · (明日 |.曜 )?\d\d:\d\dから) （\d{1,2}:\d\d 現在）$", state), state
    directions = dash_duo.find_element("#details .mk-actions a[href^='https://']").get_attribute("href")
    assert "destination=" in directions
    dash_duo.find_element("#details [data-mk-share]").click()
    wait_until(lambda: dash_duo.find_element("#details .mk-share-note").text, "the share button's answer")
    note = dash_duo.find_element("#details .mk-share-note").text
    link = dash_duo.find_element("#details [data-mk-share]").get_attribute("data-mk-share")
    assert note in ("リンクをコピーしました", urllib.parse.urljoin(dash_duo.server_url, link))
    dash_duo.driver.get(urllib.parse.urljoin(dash_duo.server_url, link))  # the shared link: the same place
    dash_duo.wait_for_text_to_equal("#details-title", toilet["name"])
    assert dash_duo.get_logs() == []


def test_a_mistake_in_a_place_is_reported_in_two_taps_and_reaches_the_staff_list(dash_duo, dash_app, client, ctx):
    toilet = features(client, "toilets")[3]["properties"]
    before = len(ctx.reports.all())
    open_map(dash_duo, dash_app, f"?layers=toilets&sel=toilets:{toilet['id']}", width=390)
    dash_duo.wait_for_text_to_equal("#details-title", toilet["name"])
    report = dash_duo.find_element("#details .mk-report")
    report.find_element(By.CSS_SELECTOR, "summary").click()
    dash_duo.find_element("#report-note").send_keys("入口が北側に移りました")
    before_requests = dash_requests(dash_duo)
    dash_duo.find_element("#details .mk-report button[value='moved']").click()
    dash_duo.wait_for_text_to_equal("#details .mk-report .mk-report-status", "ご報告ありがとうございました。担当者が確認します。")
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#details .mk-report-form")  # sent once, not again
    assert dash_requests(dash_duo) == before_requests  # the page stayed where it was (no Dash round trip)
    reports = ctx.reports.all()
    assert len(reports) == before + 1
    assert {k: reports[0][k] for k in ("layer", "id", "name", "kind", "note")} == {
        "layer": "toilets", "id": toilet["id"], "name": toilet["name"], "kind": "moved", "note": "入口が北側に移りました"}
    assert dash_duo.get_logs() == []


def test_an_address_typed_in_the_search_offers_its_place_and_goes_there(dash_duo, dash_app):
    open_map(dash_duo, dash_app, "?layers=evacuation-sites")
    search = dash_duo.find_element("#map-search")
    search.send_keys("都島区御幸町１－１０")  # full-width, as a phone's keyboard may give it
    button = dash_duo.wait_for_element("#map-places button[data-mk-go]")
    assert button.text == "大阪市都島区御幸町1丁目"
    lat, lon, zoom = map(float, button.get_attribute("data-mk-go").split(","))
    button.click()

    def view():
        query = urllib.parse.parse_qs(urllib.parse.urlparse(dash_duo.driver.current_url).query)
        return (float(query["lat"][0]), float(query["lon"][0]), int(query["z"][0])) if "z" in query else None
    wait_until(lambda: view() and abs(view()[0] - lat) < 0.002 and abs(view()[1] - lon) < 0.002 and view()[2] == zoom,
               "the map at the chōme")
    wait_until(lambda: dash_duo.find_element("#map-search").get_attribute("value") == "", "the search box cleared")
    assert "q=" not in dash_duo.driver.current_url  # the markers are not narrowed to the address's text
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#map-places button")
    assert dash_duo.get_logs() == []


def test_a_reload_without_the_server_shows_the_last_places_and_says_it_is_offline(dash_duo, dash_app):
    """offline/sw.js keeps the map page and its layers once it has loaded; with the server gone
    (no signal), a reload shows the same places from the kept copy, saying so and when it was kept."""
    open_map(dash_duo, dash_app, "?layers=toilets", width=390)
    driver = dash_duo.driver
    wait_until(lambda: markers_of(dash_duo, "toilets"), "the toilets drawn")
    online = markers_of(dash_duo, "toilets")
    assert not dash_duo.find_element(".mk-offline").is_displayed()

    def kept():
        driver.set_script_timeout(10)
        return driver.execute_async_script("""const done = arguments[0];
            caches.open('mieruka-1').then(c => c.match(location.href)).then(hit => done(!!hit)).catch(() => done(false));""")
    wait_until(kept, "the page kept by the service worker", timeout=30)
    dash_duo.server.stop()
    driver.get(f"{dash_duo.server_url}/map?layers=toilets")
    wait_until(lambda: markers_of(dash_duo, "toilets") == online, "the same toilets from the kept copy", timeout=30)
    notice = dash_duo.find_element(".mk-offline")
    assert notice.is_displayed() and notice.text.startswith("オフラインです。")
    kept_at = driver.execute_script("return getComputedStyle(document.documentElement).getPropertyValue('--mk-saved')")
    assert re.search(r"\d{1,2}:\d\d", kept_at), kept_at  # when it was kept
    dash_duo.get_logs()  # Dash's callbacks fail without the server: expected here


def test_with_near_me_the_list_puts_the_nearest_first_as_cards_on_a_phone(dash_duo, dash_app, client):
    import math

    def metres(lat, lon):
        r = math.pi / 180
        a = (math.sin((lat - 34.6937) * r / 2) ** 2
             + math.cos(34.6937 * r) * math.cos(lat * r) * math.sin((lon - 135.5022) * r / 2) ** 2)
        return 2 * 6371008.8 * math.asin(math.sqrt(a))

    nearest = min(features(client, "toilets"), key=lambda f: metres(*reversed(f["geometry"]["coordinates"])))
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"]})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": 34.6937, "longitude": 135.5022, "accuracy": 10})
    open_map(dash_duo, dash_app, "?layers=toilets&view=list", width=390)
    wait_folded(dash_duo)
    dash_duo.find_element("#map-panel summary").click()
    dash_duo.find_element("#near-me").click()
    dash_duo.wait_for_element("#list-table td.mk-dist")
    rows = driver.find_elements(By.CSS_SELECTOR, "#list-table tbody tr")
    assert rows[0].find_element(By.CSS_SELECTOR, "th").text == nearest["properties"]["name"]
    shown = [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "#list-table td.mk-dist")]
    metres_shown = [float(t.split()[0].replace(",", "")) * (1000 if t.endswith("km") else 1) for t in shown]
    assert metres_shown == sorted(metres_shown)
    assert driver.find_element(By.CSS_SELECTOR, "#list-table th[aria-sort='ascending'] button").get_attribute(
        "data-mk-sort") == "distance"
    # a card per place: each row as wide as the list, not a column of a table
    widths = driver.execute_script("""var list = document.querySelector('#list-table').getBoundingClientRect().width;
        return Array.from(document.querySelectorAll('#list-table tbody tr')).slice(0, 3)
          .map(r => r.getBoundingClientRect().width / list);""")
    assert all(w > 0.9 for w in widths), widths
    # a column chosen by hand wins over distance
    driver.find_element(By.CSS_SELECTOR, "#list-table button[data-mk-sort='name']").click()
    wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "#list-table th[aria-sort='ascending'] button")
               .get_attribute("data-mk-sort") == "name", "sorted by name")
    assert dash_duo.get_logs() == []
