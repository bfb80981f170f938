"""Tests for api.py: the machine-readable twin of every map layer, and the health check."""

from __future__ import annotations

import csv
import gzip
import io
import json

import pytest

from services.areas import check_digit

LAYER_IDS = ["baby-stations", "nursery-vacancies", "toilets", "aed", "evacuation-sites", "wifi", "medical",
             "air-quality", "events"]
OSAKA = (135.09, 34.27, 135.75, 35.06)  # west, south, east, north
OSAKA_NARA_TOTTORI = (133.10, 33.80, 136.25, 35.65)


def geojson(client, layer_id: str) -> dict:
    response = client.get(f"/api/v1/layers/{layer_id}.geojson")
    assert response.status_code == 200
    return json.loads(response.get_data())


@pytest.fixture(scope="module")
def listing(client) -> dict:
    response = client.get("/api/v1/layers")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


REAL_LAYERS = {"toilets", "evacuation-sites"}  # the default deployment's real bundled snapshots


def test_layer_list(client, listing) -> None:
    layers = listing["layers"]
    assert [layer["id"] for layer in layers] == LAYER_IDS
    for layer in layers:
        real = layer["id"] in REAL_LAYERS
        assert layer["title"]["ja"] and layer["title"]["en"]
        assert layer["sample"] is (not real)
        assert layer["source"]["kind"] == ("snapshot" if real else "bundled")
        assert layer["licence"]["name"] and layer["licence"]["url"].startswith("https://")
        assert layer["updated_at"][:4].isdigit() and "T" in layer["updated_at"]
        assert layer["count"] > 0
        assert layer["links"]["geojson"] == f"/api/v1/layers/{layer['id']}.geojson"


@pytest.mark.parametrize("layer_id", LAYER_IDS)
def test_count_matches_geojson(client, listing, layer_id: str) -> None:
    count = next(layer["count"] for layer in listing["layers"] if layer["id"] == layer_id)
    body = geojson(client, layer_id)
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == count


@pytest.mark.parametrize("layer_id", LAYER_IDS)
def test_features_are_points_inside_with_unique_ids_and_valid_codes(client, layer_id: str) -> None:
    west, south, east, north = OSAKA_NARA_TOTTORI if layer_id == "events" else OSAKA
    features = geojson(client, layer_id)["features"]
    ids = [f["properties"]["id"] for f in features]
    assert len(ids) == len(set(ids))
    for feature in features:
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert west <= lon <= east and south <= lat <= north, feature["properties"]["id"]
        code = feature["properties"]["area_code"]
        assert len(code) == 6 and code.isdigit() and int(code[5]) == check_digit(code[:5]), code


def test_events_cover_three_prefectures(client) -> None:
    prefectures = {f["properties"]["prefecture"] for f in geojson(client, "events")["features"]}
    assert prefectures == {"大阪府", "奈良県", "鳥取県"}


def test_geojson_gzip(client) -> None:
    plain = client.get("/api/v1/layers/toilets.geojson")
    zipped = client.get("/api/v1/layers/toilets.geojson", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert len(zipped.get_data()) < len(plain.get_data()) / 3
    assert json.loads(gzip.decompress(zipped.get_data())) == json.loads(plain.get_data())
    assert "Accept-Encoding" in zipped.headers["Vary"]


def test_geojson_etag_and_cache(client) -> None:
    first = client.get("/api/v1/layers/toilets.geojson")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and len(etag) > 2
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get("/api/v1/layers/toilets.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    other = client.get("/api/v1/layers/toilets.geojson", headers={"If-None-Match": '"not-the-etag"'})
    assert other.status_code == 200 and other.get_data() == first.get_data()
    assert client.get("/api/v1/layers/aed.geojson").headers["ETag"] != etag


def test_csv(client) -> None:
    response = client.get("/api/v1/layers/toilets.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.rstrip('"').endswith(".csv")
    assert "toilets" in disposition
    assert "Cache-Control" in response.headers
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    features = geojson(client, "toilets")["features"]
    assert len(rows) == len(features)
    assert [r["id"] for r in rows] == [f["properties"]["id"] for f in features]
    for column in ("wheelchair", "baby_facilities", "ostomate"):
        values = {r[column] for r in rows}
        assert values <= {"有", "無", ""} and {"有", "無"} <= values, column
    first = rows[0]
    assert float(first["lat"]) == features[0]["geometry"]["coordinates"][1]
    assert first["area_name"]


def test_csv_of_monthly_and_list_fields(client) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/layers/medical.csv").get_data().decode("utf-8-sig"))))
    assert any(";" in r["departments"] for r in rows)
    rows = list(csv.DictReader(io.StringIO(
        client.get("/api/v1/layers/nursery-vacancies.csv").get_data().decode("utf-8-sig"))))
    assert isinstance(json.loads(rows[0]["vacancies"]), dict)


@pytest.mark.parametrize("url", ["/api/v1/layers/nope.geojson", "/api/v1/layers/nope.csv"])
def test_unknown_layer_is_json_404(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404 and response.is_json
    error = response.get_json()["error"]
    assert error["status"] == 404
    assert "nope" in error["message"]
    assert "toilets" in error["known_layers"]


@pytest.mark.parametrize("url", ["/api/v1/whatever", "/api/v1/layers/toilets", "/api/v1/layers/toilets.xml"])
def test_unknown_api_route_is_json_404(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["error"]["message"]


def test_healthz(client, listing) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.is_json
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["deployment"] == "osaka"
    indicators = client.get("/api/v1/indicators").get_json()["indicators"]
    assert sorted(body["datasets"]) == sorted(LAYER_IDS + [i["id"] for i in indicators])
    counts = {layer["id"]: layer["count"] for layer in listing["layers"]}
    for layer_id in LAYER_IDS:
        assert body["datasets"][layer_id]["status"] == "ok"
        assert body["datasets"][layer_id]["rows"] == counts[layer_id]
    for indicator in indicators:
        dataset = body["datasets"][indicator["id"]]
        rows = client.get(f"/api/v1/indicators/{indicator['id']}.json").get_json()["count"]
        assert dataset["status"] == "ok" and dataset["rows"] >= rows > 0  # rows: every breakdown too
    assert all(d["age_s"] is None or d["age_s"] >= 0 for d in body["datasets"].values())  # never "-0.0002 s old"
    # one shape for every dataset, layer or indicator, so that a monitor reads them alike
    assert {frozenset(d) for d in body["datasets"].values()} == {
        frozenset({"status", "reason", "code", "detail", "age_s", "rows", "fetched_at"})}
    assert response.headers["Cache-Control"] == "no-store"


def test_html_page_is_compressed(client) -> None:
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(response.get_data()).decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="ja">' in html
    plain = client.get("/")
    assert "Content-Encoding" not in plain.headers
