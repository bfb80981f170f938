"""Any prefecture from its code alone (MIERUKA_PREFECTURE), in Chromium: the app started for
Hokkaido (the most municipalities), Tokyo (special wards, islands 1,000 km south), Okinawa
(islands) and Tottori (the smallest population) shows that prefecture — its municipalities,
GSI's real evacuation sites there, a first view where its people live, choropleth dashboards
— and nothing of Osaka. Each app runs in its own process (one Dash app per process)."""
from __future__ import annotations

import csv
import gzip
import io
import re

import pytest

from services.areas import AreaTable
from tests.browser.waiting import wait_until
from tests.browser.test_map import layer_count
from tests.conftest import LOCAL_TILES, ROOT
from tests.live_config import get_json, running_app

pytestmark = pytest.mark.browser

GSI = ROOT / "data" / "real" / "gsi-evacuation"
# code, what the prefecture is called, its municipalities (designated cities and special wards
# counted as municipalities)
PREFECTURES = [
    pytest.param(("01", "北海道", "Hokkaido", 179), id="hokkaido"),
    pytest.param(("13", "東京都", "Tokyo Metropolis", 62), id="tokyo"),
    pytest.param(("47", "沖縄県", "Okinawa Prefecture", 41), id="okinawa"),
    pytest.param(("31", "鳥取県", "Tottori Prefecture", 19), id="tottori"),
]
OSAKA_WORDS = re.compile(r"大阪|Osaka|府内|府全体")


SHARED_EVENTS = ("イベント（大阪・奈良・鳥取）", "大阪府・奈良県・鳥取県で共有されるイベント情報",
                 "Events (Osaka, Nara, Tottori)", "Events shared across Osaka, Nara and Tottori")


def page_text(dash_duo) -> str:
    """What the page says; the events layer that Osaka, Nara and Tottori share may name all three."""
    text = dash_duo.driver.execute_script("return document.body.innerText;")
    for shared in SHARED_EVENTS:
        text = text.replace(shared, "")
    return text


def gsi_entries(code: str) -> dict[str, int]:
    """How many sites and shelters GSI lists for the prefecture (its bundled files)."""
    counts = {}
    for kind in ("emergency", "shelters"):
        with gzip.open(GSI / f"{code}-{kind}.csv.gz", "rt", encoding="utf-8") as fh:
            counts[kind] = sum(1 for _ in csv.DictReader(io.StringIO(fh.read())))
    return counts


@pytest.fixture(scope="module", params=PREFECTURES)
def prefecture(request, tmp_path_factory):
    code, name_ja, name_en, municipalities = request.param
    cache = tmp_path_factory.mktemp(f"pref-{code}")
    with running_app(None, cache, MIERUKA_PREFECTURE=code, MIERUKA_TILE_URL=LOCAL_TILES) as base:
        yield {"base": base, "code": code, "ja": name_ja, "en": name_en, "municipalities": municipalities,
               "areas": AreaTable.from_csv(ROOT / "data" / "real" / "areas" / f"{code}.csv")}


def test_the_prefectures_own_places_and_real_evacuation_sites(prefecture) -> None:
    base, code, areas = prefecture["base"], prefecture["code"], prefecture["areas"]
    assert len(areas.municipalities) == prefecture["municipalities"]
    listing = {layer["id"]: layer for layer in get_json(f"{base}/api/v1/layers")["layers"]}
    evacuation = listing["evacuation-sites"]
    assert evacuation["sample"] is False and "国土地理院" in evacuation["credit"]["ja"]
    body = get_json(f"{base}/api/v1/layers/evacuation-sites.geojson")
    kinds = [f["properties"]["kind"] for f in body["features"]]
    listed = gsi_entries(code)
    sites = sum("指定緊急避難場所" in k for k in kinds)
    shelters = sum("指定避難所" in k for k in kinds)
    assert sites >= 0.99 * listed["emergency"] and shelters >= 0.99 * listed["shelters"]
    for feature in body["features"]:
        area = areas.get(feature["properties"]["area_code"])
        assert area is not None and area.kind not in ("prefecture", "designated_city"), feature["properties"]
    for layer_id, layer in listing.items():  # the sample layers: the prefecture's own municipalities
        if layer["sample"] and layer_id != "events":
            features = get_json(f"{base}/api/v1/layers/{layer_id}.geojson")["features"]
            assert features and all(areas.get(f["properties"]["area_code"]) for f in features), layer_id
            assert not any(OSAKA_WORDS.search(str(f["properties"])) for f in features), layer_id


def test_the_map_shows_its_sites_and_says_nothing_of_osaka(dash_duo, prefecture) -> None:
    base = prefecture["base"]
    dash_duo.driver.get(f"{base}/map?layers=evacuation-sites")
    dash_duo.wait_for_element("#map .leaflet-container", timeout=40)
    wait_until(lambda: layer_count(dash_duo, "evacuation-sites")[0] > 100, "the evacuation sites counted", timeout=40)
    wait_until(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('.mk-marker-evacuation-sites, .mk-cluster-evacuation-sites').length") > 0,
        "evacuation markers drawn", timeout=40)
    text = page_text(dash_duo)
    assert prefecture["ja"][:2] in dash_duo.driver.title  # 見える化 北海道 / 東京 / 沖縄 / 鳥取
    assert not OSAKA_WORDS.search(text), OSAKA_WORDS.search(text)
    dash_duo.driver.get(f"{base}/map?lang=en&layers=evacuation-sites")
    dash_duo.wait_for_element("#map .leaflet-container", timeout=40)
    assert not OSAKA_WORDS.search(page_text(dash_duo))


def test_every_page_names_the_prefecture_and_not_osaka(dash_duo, prefecture) -> None:
    base, name = prefecture["base"], prefecture["ja"]
    for path, ready in (("/", "h1"), ("/dashboard", ".mk-kpis"), ("/about", "h1"), ("/data", "h1")):
        for lang in ("ja", "en"):
            dash_duo.driver.get(f"{base}{path}?lang={lang}")
            dash_duo.wait_for_element(ready, timeout=40)
            text = page_text(dash_duo)
            assert not OSAKA_WORDS.search(text), (path, lang, OSAKA_WORDS.search(text))
            short_en = prefecture["en"].replace(" Prefecture", "").replace(" Metropolis", "")
            assert (name if lang == "ja" else short_en) in text, (path, lang)  # the header says which prefecture
    description = dash_duo.driver.execute_script(
        "return document.querySelector('meta[name=description]').content;")
    assert name in description


def test_the_dashboards_draw_the_prefectures_municipalities_on_a_map(dash_duo, prefecture) -> None:
    base = prefecture["base"]
    dash_duo.driver.get(f"{base}/dashboard/population")
    dash_duo.wait_for_element("#ind-map", timeout=40)
    wait_until(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('#ind-map .choroplethlayer path').length") >= prefecture["municipalities"] * 0.9,
        "a shape per municipality on the choropleth", timeout=60)
    assert "国土数値情報" in page_text(dash_duo)
