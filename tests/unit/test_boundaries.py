"""Municipal boundaries for the dashboard maps: GeoJSON or a zip of it, wards dissolved
into their cities, codes as 6 digits, rings wound for d3-geo, cached; bad sources fail
with a clear error (and the page falls back to the tile grid)."""
from __future__ import annotations

import json
import zipfile

import pytest
import shapely
from shapely.geometry import shape

from services.areas import default_table
from services.boundaries import BoundaryError, cache_path, load_municipal_boundaries
from tests.conftest import reference_file


@pytest.fixture(scope="module")
def n03():
    return reference_file("osaka-municipalities-n03-2021.geojson")


def test_geojson_gives_the_43_municipalities_with_6_digit_codes(n03, tmp_path):
    areas = default_table()
    collection = load_municipal_boundaries(str(n03), areas, tmp_path)
    codes = sorted(f["properties"]["code"] for f in collection["features"])
    assert codes == sorted(a.code for a in areas.municipalities)
    osaka = next(f for f in collection["features"] if f["properties"]["code"] == "271004")
    # Osaka City is its 24 wards in one shape: its office lies inside it
    assert shape(osaka["geometry"]).buffer(0).contains(shapely.Point(135.50218, 34.69374))


def test_rings_run_clockwise_for_d3(n03, tmp_path):
    collection = load_municipal_boundaries(str(n03), default_table(), tmp_path)
    for feature in collection["features"]:
        geometry = shape(feature["geometry"])
        polygons = getattr(geometry, "geoms", [geometry])
        assert all(not p.exterior.is_ccw for p in polygons), feature["properties"]["code"]


def test_a_zip_is_read_too_and_the_result_is_cached(n03, tmp_path):
    archive = tmp_path / "N03-osaka.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(n03, "N03-osaka.geojson")
    cache = tmp_path / "cache"
    collection = load_municipal_boundaries(str(archive), default_table(), cache)
    assert len(collection["features"]) == 43
    cached = cache_path(str(archive), cache)
    assert cached.exists()
    cached.write_text(json.dumps({"type": "FeatureCollection", "features": []}))  # read from the cache next time
    assert load_municipal_boundaries(str(archive), default_table(), cache)["features"] == []


def test_unreadable_or_foreign_sources_raise_a_clear_error(tmp_path):
    garbage = tmp_path / "broken.geojson"
    garbage.write_text("{not json", encoding="utf-8")
    with pytest.raises(BoundaryError, match="cannot read"):
        load_municipal_boundaries(str(garbage), default_table(), tmp_path / "c1")
    foreign = tmp_path / "foreign.geojson"
    foreign.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "131016"},
         "geometry": {"type": "Point", "coordinates": [139.75, 35.69]}}]}), encoding="utf-8")
    with pytest.raises(BoundaryError, match="no feature"):
        load_municipal_boundaries(str(foreign), default_table(), tmp_path / "c2")
