"""Issue 10, "the map's data path fit for any size": a layer with more places than
MIERUKA_MAP_TILED_OVER reaches the map as chunks (every place of one tile) and summaries (the
filtered places counted per cell of the view), never whole. Here on the default deployment
with a threshold that makes the AED (9,000) and evacuation (≈6,900, real GSI) layers big."""
from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from hypothesis import given, settings, strategies as st

from services import map_filters
from services.layers import LayerService
from services.map_index import CELL_DEPTH, CHUNK_Z, MAX_SPAN, Box, mercator, tile_bounds
from settings import Settings
from tests.conftest import LOCAL_TILES
from tests.live_config import get_json, running_app

TILED_OVER = 5000
OSAKA_Z7 = Box(7, 112, 50, 113, 51)  # four zoom-7 tiles holding the whole prefecture


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from services.context import build_context

    return build_context(Settings(cache_dir=tmp_path_factory.mktemp("tiles"), map_tiled_over=TILED_OVER)).layers


@pytest.fixture(scope="module")
def aed(service: LayerService):
    return service.snapshot("aed")


def decode(body: dict) -> list[tuple[str, float, float]]:
    """(id, lon, lat) of a chunk body, as the browser decodes it (mieruka-map.js decode)."""
    x = y = 0
    out = []
    for i in range(body["n"]):
        x += body["lon"][i]
        y += body["lat"][i]
        out.append((body["columns"]["id"][i], x / body["scale"], y / body["scale"]))
    return out


def inside(box: Box, lon: float, lat: float) -> bool:
    west, _, _, north = tile_bounds(box.z, box.x0, box.y0)
    _, south, east, _ = tile_bounds(box.z, box.x1, box.y1)
    return west <= lon < east and south < lat <= north


def test_a_big_layer_is_chunked_and_a_small_one_is_sent_whole(service) -> None:
    aed, toilets = service.snapshot("aed"), service.snapshot("toilets")
    assert aed.count > TILED_OVER and aed.tiles is not None
    assert "points" not in aed.bodies and "text" not in aed.bodies  # never made, never sent
    assert toilets.count <= TILED_OVER and toilets.tiles is None and "points" in toilets.bodies


def test_a_layers_geojson_is_made_when_first_asked_for_and_then_kept(service) -> None:
    snap = service.snapshot("medical")  # not asked for by any test before
    assert snap._geojson == {}  # a worker that serves only the map never holds it
    body = snap.geojson("map")
    assert snap.geojson("map") is body and set(snap._geojson) == {"map"}
    features = json.loads(body.raw)["features"]
    assert len(features) == snap.count and "metadata" not in json.loads(body.raw)
    assert json.loads(snap.geojson("full").raw)["metadata"]["title"]


def test_the_chunks_hold_every_place_once_in_its_own_tile_with_all_the_maps_columns(aed) -> None:
    seen: dict[str, tuple[float, float]] = {}
    for x, y, places in aed.tiles.chunk_keys():
        body = json.loads(aed.tiles.chunk_body(x, y).raw)
        assert body["chunk"] == [CHUNK_Z, x, y] and body["n"] == places
        # the text columns are in the chunk: search and the list need no second download
        assert {"id", "name", "address", "area_code", "days", "open_time", "child_pads"} <= set(body["columns"])
        west, south, east, north = tile_bounds(CHUNK_Z, x, y)
        for rid, lon, lat in decode(body):
            assert rid not in seen
            assert west <= lon <= east and south <= lat <= north
            seen[rid] = (lon, lat)
    records = {str(r["id"]): r for r in aed.records}
    assert seen.keys() == records.keys()
    for rid, (lon, lat) in seen.items():
        assert abs(lon - records[rid]["lon"]) < 1e-5 and abs(lat - records[rid]["lat"]) < 1e-5
    assert aed.tiles.chunk_body(0, 0) is None


def test_a_summary_counts_the_places_in_its_box_per_cell(aed) -> None:
    now = map_filters.now_parts("Asia/Tokyo", dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.timezone.utc))
    summary = aed.tiles.summary(None, OSAKA_Z7)
    cells = summary["cells"]
    assert summary["count"] == summary["total"] == aed.count
    assert sum(cells["n"]) == aed.count  # the box holds the whole prefecture
    assert len(cells["n"]) < aed.count / 10  # counted per cell, not sent per place
    # each cell's position is the mean of its places, which share one tile CELL_DEPTH levels down
    side = 2 ** (OSAKA_Z7.z + CELL_DEPTH)
    import numpy as np

    x, y = mercator(np.array(cells["lon"]), np.array(cells["lat"]))
    assert len({(int(a * side), int(b * side)) for a, b in zip(x, y)}) == len(cells["n"])
    # a cell of one place names it
    for n, rid, name in zip(cells["n"], cells["id"], cells["name"]):
        assert (rid is not None) == (n == 1)
        if rid is not None:
            assert aed.record(rid)["name"] == name

    # a smaller box: only its places, the count still the whole layer's
    box = Box(12, 3589, 1626, 3590, 1627)  # central Osaka
    part = aed.tiles.summary(None, box)
    expected = sum(1 for r in aed.records if inside(box, r["lon"], r["lat"]))
    assert 0 < sum(part["cells"]["n"]) == expected < aed.count
    assert part["count"] == aed.count

    # filtered: the count and the cells are those of the places passing, as the browser decides
    view = map_filters.layer_view(aed.layer, {"child_pads": "1"}, None, "", None)
    mask = aed.tiles.mask(view, now)
    passing = [r for r in aed.records if map_filters.match(r, view, now)]
    filtered = aed.tiles.summary(mask, OSAKA_Z7)
    assert 0 < filtered["count"] == len(passing) == sum(filtered["cells"]["n"]) < aed.count


def test_filters_area_and_search_combine(aed, service) -> None:
    now = map_filters.now_parts("Asia/Tokyo", dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.timezone.utc))
    first = aed.records[0]
    area = service.areas.get(first["area_code"])
    members = [area.code] + [w.code for w in service.areas.wards(area.code)]
    for values, q in (({}, first["name"][:3]), ({"child_pads": "1", "available_24h": "1"}, ""),
                      ({"child_pads": "1"}, first["name"][:1])):
        view = map_filters.layer_view(aed.layer, values, members, q, None)
        expected = sum(1 for r in aed.records if map_filters.match(r, view, now))
        assert int(aed.tiles.mask(view, now).sum()) == expected, (values, q)
        assert expected < aed.count
    assert aed.tiles.mask(map_filters.layer_view(aed.layer, {}, None, "", None), now) is None


@pytest.mark.parametrize("z, bbox, message", [
    ("", "1,1,1,1", "z must be a whole number"), ("x", "1,1,1,1", "whole number"), ("21", "1,1,1,1", "z must be 0"),
    ("-1", "0,0,0,0", "z must be 0"), ("3", "1,1", "bbox must be"), ("3", "a,b,c,d", "bbox must be"),
    ("3", "2,1,1,1", "x0 ≤ x1"), ("3", "0,0,8,0", "tiles 0–7"), ("10", f"0,0,{MAX_SPAN},1", "at most"),
])
def test_a_box_that_cannot_be_read_says_why(z, bbox, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Box.parse(z, bbox)


# ---------------------------------------------------------------- over HTTP

@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with running_app(None, tmp_path_factory.mktemp("tiled-app"), MIERUKA_MAP_TILED_OVER=str(TILED_OVER),
                     MIERUKA_TILE_URL=LOCAL_TILES) as base:
        yield base


def fetch(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def map_meta(base: str, query: str = "") -> dict:
    _, _, page = fetch(f"{base}/map{query}")
    boot = re.search(rb'<script type="application/json" id="mk-boot-data">(.*?)</script>', page, re.S)
    return json.loads(boot.group(1))["meta"]


def test_the_map_page_names_chunks_and_summary_and_preloads_only_small_layers(app_url) -> None:
    _, _, page = fetch(f"{app_url}/map")
    layers = {layer["id"]: layer for layer in map_meta(app_url)["layers"]}
    aed = layers["aed"]
    assert aed["url"] is None and aed["textUrl"] is None
    assert aed["tiles"]["z"] == CHUNK_Z and aed["tiles"]["detail"] > 10
    assert sum(c[2] for c in aed["tiles"]["chunks"]) == aed["count"] == 9000
    assert layers["toilets"]["tiles"] is None and layers["toilets"]["url"].startswith("/api/v1/layers/toilets.points.json")
    assert b"/api/v1/layers/toilets.points.json" in page and b"/api/v1/layers/aed.points.json" not in page


def test_chunks_are_immutable_at_their_versioned_url(app_url) -> None:
    tiles = next(layer for layer in map_meta(app_url)["layers"] if layer["id"] == "aed")["tiles"]
    x, y, places = tiles["chunks"][0]
    url = app_url + tiles["chunk"].replace("{x}", str(x)).replace("{y}", str(y))
    status, headers, body = fetch(url)
    assert status == 200 and json.loads(body)["n"] == places
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    status, _, _ = fetch(url, **{"If-None-Match": headers["ETag"]})
    assert status == 304
    status, _, body = fetch(f"{app_url}/api/v1/layers/aed/chunks/{CHUNK_Z}/0/0.json")
    assert status == 404 and "no places in tile" in json.loads(body)["error"]["message"]


def test_whole_bodies_and_chunks_answer_only_for_their_kind_of_layer(app_url) -> None:
    status, _, body = fetch(f"{app_url}/api/v1/layers/aed.points.json")
    assert status == 404 and "chunks and summaries" in json.loads(body)["error"]["message"]
    status, _, body = fetch(f"{app_url}/api/v1/layers/toilets/summary.json?z=7&bbox=112,50,113,51")
    assert status == 404 and "sent whole" in json.loads(body)["error"]["message"]


def test_a_summary_over_http_is_the_filtered_count_the_browser_would_make(app_url) -> None:
    layer = next(layer for layer in map_meta(app_url)["layers"] if layer["id"] == "aed")
    whole = get_json(f"{app_url}{layer['tiles']['summary']}&z=7&bbox=112,50,113,51")
    assert whole["count"] == whole["total"] == sum(whole["cells"]["n"]) == 9000
    filtered = get_json(f"{app_url}{layer['tiles']['summary']}&z=7&bbox=112,50,113,51&f.child_pads=1")
    features = get_json(f"{app_url}/api/v1/layers/aed.geojson")["features"]
    expected = sum(1 for f in features if f["properties"].get("child_pads") is True)
    assert filtered["count"] == sum(filtered["cells"]["n"]) == expected


@pytest.mark.parametrize("query, message", [
    ("z=7", "bbox must be"), ("z=7&bbox=112,50,113,51&f.nope=1", "unknown filter 'nope'"),
    ("z=7&bbox=112,50,113,51&f.child_pads=2", "is not a value of that filter"),
    ("z=7&bbox=112,50,113,51&area=999999", "not a municipality"),
    ("z=7&bbox=112,50,113,51&q=" + urllib.parse.quote("あ" * 101), "at most 100"),
])
def test_a_summary_query_it_cannot_answer_gets_400_with_the_reason(app_url, query, message) -> None:
    status, headers, body = fetch(f"{app_url}/api/v1/layers/aed/summary.json?{query}")
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    assert message in json.loads(body)["error"]["message"]


_VALUES = st.one_of(
    st.sampled_from(["", "1", "0", "7", "12", "21", "-1", "1e9", "nan", "112,50,113,51", "3589,1626,3590,1627",
                     "0,0,0,0", "-1,0,0,0", "1,1,1", "a,b,c,d", "271004", "27100", "270008", "あ", "%00", "\x00"]),
    st.text(max_size=40),
)
_KEYS = ["z", "bbox", "f.child_pads", "f.available_24h", "f.nope", "area", "q", "v", "zz"]


def test_the_summary_and_chunk_routes_answer_any_query_without_a_server_error(app_url) -> None:
    @settings(max_examples=150, deadline=None)
    @given(query=st.lists(st.tuples(st.sampled_from(_KEYS), _VALUES), max_size=6).map(urllib.parse.urlencode),
           tile=st.tuples(st.integers(-5, 2 ** 11), st.integers(-5, 2 ** 11), st.integers(-1, 25)))
    def run(query, tile):
        for url in (f"{app_url}/api/v1/layers/aed/summary.json?{query}",
                    f"{app_url}/api/v1/layers/aed/chunks/{tile[2]}/{tile[0]}/{tile[1]}.json?{query}"):
            status, headers, body = fetch(url)
            assert status < 500, (url, body[:200])
            if status >= 400:
                assert json.loads(body)["error"]["status"] == status, url

    run()
