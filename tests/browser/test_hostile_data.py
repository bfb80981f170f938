"""Hostile text in every data field of every view (issue 9, abuse): a deployment whose layers
come from local files, a CKAN catalog and an NGSI-LD broker in which every text field of every
row (ids, names, readings, addresses, notes, hours, URLs, phone numbers, kinds, providers …,
whatever config/japan.toml maps for the layer) holds markup, script URLs, template syntax,
spreadsheet formulas, bidi overrides, NUL bytes and very long strings. In Chromium, on the
map (its list view and a place's details), an embedded map, /data, /about, / and /dashboard,
in Japanese and English: no script of the data runs, no alert opens, no link has a
javascript:/data:/vbscript: address, the text is shown as the characters it is, and the
app's own pages break no rule of its Content-Security-Policy. Over HTTP the layers' CSV
guards every cell a spreadsheet would run as a formula, and the GeoJSON holds the strings
as the source wrote them."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import urllib.parse
import urllib.request

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from registry import load_deployment
from tests.browser.waiting import wait_until
from tests.conftest import LOCAL_TILES
from tests.fakes.servers import AIR_TYPE, CkanServer, NgsiLdServer, ResourceFile, air_quality_entities, csv_bytes
from tests.live_config import live_config, running_app

pytestmark = pytest.mark.browser

PWNED = "window.__pwned=1"
# Text for any field. Each row of a layer starts the cycle at its own place, so every field
# holds every one of these in some row.
PAYLOADS = (
    f'<img src=x onerror="{PWNED}">',
    f'"><script>{PWNED}</script>',
    "<svg onload=alert(1)><iframe src=javascript:alert(2)>",
    f"javascript:{PWNED}",
    f" JaVaScRiPt:{PWNED}",
    f"java\tscript:{PWNED}",
    f"data:text/html,<script>{PWNED}</script>",
    "vbscript:msgbox(1)",
    "{{7*7}} ${7*7} <%= 7*7 %> {0} {name}",
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\u202egnp.exe\u202c \u2067RTL\u2069 override",
    "NUL\x00byte",
    "長" * 4000 + f"<img src=x onerror={PWNED}>",
)
# …and for the URL and telephone fields, addresses that must never become a link that runs
URLS = (
    f"javascript:{PWNED}",
    f" JaVaScRiPt:{PWNED}",
    f"JAVASCRIPT:{PWNED}",
    f"java\tscript:{PWNED}",
    f"\x01javascript:{PWNED}",
    f"data:text/html,<script>{PWNED}</script>",
    "DATA:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+",
    "vbscript:msgbox(1)",
    f'https://ok.example/"><img src=x onerror={PWNED}>',
    f"https://ok.example/' onmouseover='{PWNED}",
    f"//evil.example/{PWNED}",
    "=HYPERLINK(\"http://evil.example\",\"x\")",
    "{{7*7}}",
)
PHONES = (
    f"javascript:{PWNED}",
    f"tel:javascript:{PWNED}",
    f"06-1234-5678<script>{PWNED}</script>",
    "+81 6 1234 5678",
    "=1+1",
    f"data:text/html,<script>{PWNED}</script>",
    "\u202e8765-4321-60",
)
ROWS = len(PAYLOADS)
CHUO = "271284"  # 大阪市中央区: where the rows are


def hostile(i: int, j: int) -> str:
    return PAYLOADS[(i + j) % ROWS]


def hostile_row(layer, i: int) -> dict[str, str]:
    """Row i of a file for `layer`, in its first column name for each field: every text field
    hostile, a typed field hostile in every other row (kept as written) and readable in the
    others, the position always valid (a row needs one to be shown)."""
    row: dict[str, str] = {}
    odd = i % 2 == 1
    for j, spec in enumerate(layer.fields):
        column = spec.columns[0] if spec.columns else spec.name
        if spec.name == "id":
            row[column] = f"{hostile(i, j)} #{i}"  # ids are unique
        elif spec.name == "lat":
            row[column] = f"{34.6800 + i * 0.0001:.4f}"
        elif spec.name == "lon":
            row[column] = f"{135.5050 + i * 0.0001:.4f}"
        elif spec.name == "area_code":
            row[column] = hostile(i, j) if odd else CHUO  # a hostile code: the ward from the position
        elif spec.name == "url":
            row[column] = URLS[i % len(URLS)]
        elif spec.name == "phone":
            row[column] = PHONES[i % len(PHONES)]
        elif spec.type == "monthly":
            row[spec.month_column] = "2026-11" if not odd else hostile(i, j)
            for k, value_column in enumerate(spec.value_columns):
                row[value_column] = str(k) if not odd else hostile(i, j + k)
        elif spec.type == "text" or spec.type == "list" or odd:
            row[column] = hostile(i, j)
        else:
            row[column] = {"bool": "有", "int": "12", "float": "1.5", "time": "9:00", "date": "2026-12-01",
                           "weekdays": "月火水木金"}.get(spec.type, hostile(i, j))
    return row


FILE_LAYERS = ("baby-stations", "nursery-vacancies", "toilets", "aed", "evacuation-sites", "medical", "events")
CKAN_LAYER = "wifi"
BROKER_LAYER = "air-quality"
ALL_LAYERS = FILE_LAYERS + (CKAN_LAYER, BROKER_LAYER)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.timezone.utc)


def station_entities() -> list[dict]:
    """Air-quality stations whose name, type and address are hostile."""
    stations = [(f"2710{i:04d}", hostile(i, 0), CHUO, 34.6800 + i * 0.0001, 135.5050 + i * 0.0001)
                for i in range(ROWS)]
    entities = air_quality_entities(stations, utc(2026, 11, 25, 2, 0), pm25=[12.0] * ROWS)
    for i, entity in enumerate(entities):
        entity["typeofLocation"]["value"] = hostile(i, 1)
        entity["住所"] = {"type": "Property", "value": hostile(i, 2)}
    return entities


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """(base URL, {layer: the rows its source holds}) of the app on the hostile deployment."""
    tmp = tmp_path_factory.mktemp("hostile")
    template = load_deployment(live_config(tmp, {}, base="osaka-sample.toml"))
    layers = {layer.id: layer for layer in template.layers}
    rows = {lid: [hostile_row(layers[lid], i) for i in range(ROWS)] for lid in FILE_LAYERS + (CKAN_LAYER,)}
    sources = {}
    for lid in FILE_LAYERS:
        path = tmp / f"{lid}.csv"
        path.write_bytes(csv_bytes(rows[lid], "utf-8-sig"))
        sources[lid] = {"kind": "file", "path": str(path), "credit": {"ja": PAYLOADS[0], "en": PAYLOADS[1]}}
    with CkanServer() as ckan, NgsiLdServer() as broker:
        ckan.publish("wifi-hostile", PAYLOADS[1], organization=("hostile-org", PAYLOADS[0]), modified=utc(2026, 4, 1),
                     notes=PAYLOADS[2], resources=[ResourceFile(
                         PAYLOADS[0], "CSV", 'wifi"><img src=x onerror=window.__pwned=1>.csv',
                         csv_bytes(rows[CKAN_LAYER], "utf-8-sig"), "text/csv", utc(2026, 4, 1))])
        broker.add(station_entities(), tenant="osaka")
        sources[CKAN_LAYER] = {"kind": "ckan", "url": ckan.url, "dataset": "wifi-hostile"}
        sources[BROKER_LAYER] = {"kind": "ngsi-ld", "url": broker.url, "entity_type": AIR_TYPE, "tenant": "osaka",
                                 "context": broker.context_url}
        config = live_config(tmp, sources, base="osaka-sample.toml")
        with running_app(config, tmp / "cache", MIERUKA_TILE_URL=LOCAL_TILES) as base:
            yield base, rows, layers


# ------------------------------------------------------------------ over HTTP: the downloads
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def strict_json(data: bytes):
    """JSON as RFC 8259 has it: no NaN or Infinity, no repeated keys."""
    def no_constant(name):
        raise ValueError(f"not JSON: {name}")

    def no_repeats(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    return json.loads(data.decode("utf-8"), parse_constant=no_constant, object_pairs_hook=no_repeats)


def is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


@pytest.mark.parametrize("layer_id", ALL_LAYERS)
def test_the_csv_guards_every_cell_a_spreadsheet_would_run(hostile_app, layer_id):
    base, _, _ = hostile_app
    features = strict_json(fetch(f"{base}/api/v1/layers/{layer_id}.geojson"))["features"]
    body = fetch(f"{base}/api/v1/layers/{layer_id}.csv").decode("utf-8")
    assert body.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(body[1:], newline="")))
    header, rows = table[0], table[1:]
    assert len(rows) == len(features) == ROWS
    guarded = 0
    for row in rows:
        assert len(row) == len(header)
        for column, cell in zip(header, row):
            assert not (cell.startswith(FORMULA_STARTS) and not is_number(cell)), (layer_id, column, cell[:80])
    by_id = {row[header.index("id")].removeprefix("'"): dict(zip(header, row)) for row in rows}
    for feature in features:  # each text the GeoJSON holds is the CSV's cell, with a ' before a formula
        props = feature["properties"]
        row = by_id[props["id"]]
        for column in header:
            value = props.get(column)
            if isinstance(value, str):
                expected = "'" + value if value.startswith(FORMULA_STARTS) else value
                assert row[column] == expected, (layer_id, column, row[column][:80], value[:80])
                guarded += row[column] != value
    assert layer_id == BROKER_LAYER or guarded >= 4  # the formulas of the rows were there, and guarded


@pytest.mark.parametrize("layer_id", FILE_LAYERS + (CKAN_LAYER,))
def test_the_geojson_is_json_holding_the_strings_as_the_source_wrote_them(hostile_app, layer_id):
    base, rows, layers = hostile_app
    layer = layers[layer_id]
    doc = strict_json(fetch(f"{base}/api/v1/layers/{layer_id}.geojson"))
    assert doc["type"] == "FeatureCollection"
    by_id = {f["properties"]["id"]: f["properties"] for f in doc["features"]}
    assert len(by_id) == ROWS
    for i, row in enumerate(rows[layer_id]):
        props = by_id[row[layer.field("id").columns[0]].strip()]
        written = props.get("as_written") or {}
        for spec in layer.fields:
            raw = row.get(spec.columns[0]) if spec.columns else None
            if spec.name in ("id", "lat", "lon", "area_code") or raw is None:
                continue
            if spec.name == "address":  # an address without its municipality gets it
                assert props["address"].endswith(raw.strip()), (props["address"], raw)
            elif spec.type == "text":
                assert props[spec.name] == raw.strip(), (spec.name, props[spec.name], raw)
            elif spec.type == "list":
                parts = [p.strip() for p in re.split(r"[;；、,]", raw) if p.strip()]  # a list's separators
                assert props[spec.name] == parts, (spec.name, props[spec.name], raw)
            elif i % 2 and spec.type != "monthly":  # typed, hostile: kept as written
                assert written.get(spec.name) == raw.strip(), (spec.name, written, raw)


# ------------------------------------------------------------------ in Chromium: every view
# What would show that the data ran or became markup: the flag its scripts set, an event
# handler attribute (React sets none: it listens on the root), a script-running address on a
# link or frame (after what browsers strip: spaces, controls, tabs inside the scheme), the
# hostile <img src=x>, a script holding the data's text.
INJECTED = """
const found = [];
if (window.__pwned !== undefined) found.push('window.__pwned = ' + window.__pwned);
for (const el of document.querySelectorAll('*')) {
  for (const a of el.attributes) if (/^on/i.test(a.name)) found.push(el.tagName + ' ' + a.name + '=' + a.value);
}
const urls = [['a, area', 'href'], ['iframe, frame, embed, img, script', 'src'], ['object', 'data'],
              ['form', 'action'], ['[formaction]', 'formaction'], ['use', 'href'], ['svg a, use', 'xlink:href']];
for (const [selector, attribute] of urls) {
  for (const el of document.querySelectorAll(selector)) {
    const value = el.getAttribute(attribute);
    if (value === null) continue;
    const scheme = value.replace(/[\\u0000-\\u0020\\u007f]/g, '').toLowerCase();
    const running = el.tagName === 'IMG' ? /^(javascript|vbscript):/ : /^(javascript|data|vbscript):/;  // an image's data: runs nothing (the sparklines)
    if (running.test(scheme)) found.push(el.tagName + ' ' + attribute + '=' + value);
  }
}
for (const img of document.querySelectorAll('img[src="x"]')) found.push('IMG src=x');
for (const frame of document.querySelectorAll('iframe')) found.push('IFRAME ' + frame.outerHTML.slice(0, 200));
for (const script of document.querySelectorAll('script')) {
  if (script.type === 'application/json') {  // data the browser never runs (the map's boot state): whole, unbroken
    try { JSON.parse(script.textContent); } catch (e) { found.push('BROKEN DATA ' + script.textContent.slice(0, 200)); }
    continue;
  }
  if (script.textContent.includes('__pwned') || script.textContent.includes('alert(')) found.push('SCRIPT ' + script.textContent.slice(0, 200));
}
return found;
"""


def assert_nothing_ran(dash_duo, where: str) -> None:
    try:
        alert = dash_duo.driver.switch_to.alert
        text = alert.text
        alert.dismiss()
        raise AssertionError(f"{where}: an alert opened: {text!r}")
    except NoAlertPresentException:
        pass
    found = dash_duo.driver.execute_script(INJECTED)
    assert found == [], (where, found)


def csp_violations(dash_duo) -> list[str]:
    return [entry["message"] for entry in dash_duo.driver.get_log("browser")
            if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]]


def page_text(dash_duo, selector: str = "body") -> str:
    """The text of the element as characters (textContent: what the DOM holds, not its layout)."""
    return dash_duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", selector)


def open_page(dash_duo, url: str, ready: str) -> None:
    dash_duo.driver.get(url)
    dash_duo.wait_for_element(ready, timeout=40)


def shown_texts(props: dict, layer) -> list[str]:
    """The hostile texts a place's details show as they are: its name, its reading and the text
    fields of its popup (an address with the municipality put before it)."""
    texts = [props["name"]] + ([props["name_kana"]] if props.get("name_kana") else [])
    for name in layer.popup:
        if name == "area_name":  # the area table's name of the ward its position is in
            continue
        spec = layer.field(name)
        value = (props.get("as_written") or {}).get(name) or props.get(name)
        if isinstance(value, str) and (spec is None or spec.type == "text" or name in (props.get("as_written") or {})):
            texts.append(value)
    return texts


def test_the_map_list_view_and_every_places_details_show_the_text_and_run_nothing(dash_duo, hostile_app, lang):
    """Each layer's list view, then each of its places' details opened from the list (a list of
    all 153 places costs seconds a click in Dash's renderer, so a layer at a time)."""
    base, _, layers = hostile_app
    dash_duo.driver.set_window_size(1280, 900)
    dash_duo.driver.get_log("browser")  # start from a clean log
    # every fourth place in each language, ja from the first, en from the third: half of them in
    # the two (each click re-renders the list in Dash's renderer, seconds on a busy machine)
    first = 0 if lang == "ja" else 2
    for lid in ALL_LAYERS:
        features = {f["properties"]["id"]: f["properties"]
                    for f in strict_json(fetch(f"{base}/api/v1/layers/{lid}.geojson"))["features"]}
        query = urllib.parse.urlencode({"lang": lang, "layers": lid, "view": "list", "lat": 34.681, "lon": 135.506,
                                        "z": 16})
        open_page(dash_duo, f"{base}/map?{query}", "#list-table tbody tr")
        assert_nothing_ran(dash_duo, f"the list of {lid}")
        listed = page_text(dash_duo, "#list-table")
        for props in features.values():
            assert props["name"] in listed and (props.get("address") or "") in listed, (lid, props["name"][:80])

        assert len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "#list-table tbody th button")) == ROWS
        for position in range(first, ROWS, 4):
            # found and clicked in one script: the list re-renders when the map moves to the last
            # place opened, and a button looked up before that would be gone by the click
            name = dash_duo.driver.execute_script(
                "const b = document.querySelectorAll('#list-table tbody th button')[arguments[0]];"
                "b.scrollIntoView({block: 'center'}); b.click(); return b.textContent;", position)
            wait_until(lambda: page_text(dash_duo, "#details-title") == name, f"the details of {lid} row {position}")
            wait_until(lambda: "sel=" in dash_duo.driver.current_url, "the selection in the address")
            selected = urllib.parse.parse_qs(urllib.parse.urlsplit(dash_duo.driver.current_url).query)["sel"][0]
            assert selected.partition(":")[0] == lid
            rid = selected.partition(":")[2]
            details = page_text(dash_duo, "#details")
            for text in shown_texts(features[rid], layers[lid]):
                assert text in details, (lid, rid[:40], text[:80])
            assert_nothing_ran(dash_duo, f"details of {lid} {rid[:40]!r}")
    assert csp_violations(dash_duo) == []


def test_the_embedded_map_data_about_and_home_show_the_text_and_run_nothing(dash_duo, hostile_app, lang):
    base, _, layers = hostile_app
    dash_duo.driver.set_window_size(1280, 900)
    dash_duo.driver.get_log("browser")
    for lid in ("aed", CKAN_LAYER, BROKER_LAYER):  # an embedded layer map, a place's details open in it
        props = strict_json(fetch(f"{base}/api/v1/layers/{lid}.geojson"))["features"][0]["properties"]
        query = urllib.parse.urlencode({"lang": lang, "layers": lid, "embed": 1, "sel": f"{lid}:{props['id']}"})
        open_page(dash_duo, f"{base}/map?{query}", "#details-title")
        wait_until(lambda: page_text(dash_duo, "#details-title") == props["name"], f"the embedded details of {lid}")
        details = page_text(dash_duo, "#details")
        for text in shown_texts(props, layers[lid]):
            assert text in details, (lid, text[:80])
        assert_nothing_ran(dash_duo, f"the embedded map of {lid}")
    open_page(dash_duo, f"{base}/data?lang={lang}", f"#dataset-{CKAN_LAYER}")
    shown = page_text(dash_duo, "main")
    assert "=HYPERLINK(" in shown and PAYLOADS[0] in shown  # the import report's examples, as text
    assert "/download/wifi%22%3E%3Cimg" in page_text(dash_duo, f"#dataset-{CKAN_LAYER}")  # the CKAN file's address
    assert_nothing_ran(dash_duo, "/data")
    for path, ready in (("/about", ".mk-table tbody tr"), ("/", "main"), ("/dashboard", ".mk-kpi-number")):
        open_page(dash_duo, f"{base}{path}?lang={lang}", ready)
        assert_nothing_ran(dash_duo, path)
    assert csp_violations(dash_duo) == []


@pytest.fixture(params=["ja", "en"])
def lang(request):
    return request.param
