"""Municipality boundaries for choropleths, from MIERUKA_BOUNDARIES: a path or URL to a
GeoJSON file, or MLIT's N03 administrative-area zip. Read once, wards dissolved into
their cities, simplified, and kept as a small GeoJSON in the cache directory, so later
starts do not read the source again. Without it the dashboards draw a tile-grid map."""
from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path

from services.areas import AreaTable

log = logging.getLogger(__name__)
BUNDLED = Path(__file__).resolve().parents[1] / "data" / "real" / "boundaries"
CODE_PROPERTIES = ("code", "area_code", "N03_007", "全国地方公共団体コード")
FORMAT = 2  # bump when the cached file's shape changes
TOLERANCE = 0.0008  # degrees, ≈ 80 m: plenty for a municipality map on a phone
_lock = threading.Lock()


class BoundaryError(ValueError):
    """A boundary source that cannot be used; the dashboards fall back to the tile grid."""


def bundled_boundaries_path(prefecture_code: str) -> Path | None:
    """The project's own boundaries of a prefecture (tools/real_data/boundaries.py), for any
    code of it ('27', '270008', '27100'): one feature per leaf area (a ward, or a
    municipality without wards), property `code`. None when none is bundled for it."""
    digits = str(prefecture_code).strip()
    if len(digits) < 2 or not digits[:2].isdigit():
        return None
    path = BUNDLED / f"{digits[:2]}.geojson.gz"
    return path if path.is_file() else None


def cache_path(source: str, cache_dir: Path) -> Path:
    stamp = f"{FORMAT}:{source}"
    path = Path(source)
    if path.exists():
        stamp += f":{path.stat().st_mtime_ns}:{path.stat().st_size}"
    return cache_dir / f"boundaries-{hashlib.sha256(stamp.encode()).hexdigest()[:16]}.geojson"


def load_municipal_boundaries(source: str, areas: AreaTable, cache_dir: Path) -> dict:
    """GeoJSON FeatureCollection with one feature per municipality, `properties.code` 6 digits."""
    cached = cache_path(source, cache_dir)
    with _lock:
        if cached.exists():
            return json.loads(cached.read_text(encoding="utf-8"))
        collection = _read_and_simplify(source, areas)
        cache_dir.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        return collection


def _read_and_simplify(source: str, areas: AreaTable) -> dict:
    import geopandas as gpd
    import shapely

    target = f"zip+{source}" if source.startswith("http") and source.endswith(".zip") else source
    if source.endswith(".zip") and not source.startswith("http"):
        target = f"zip://{source}"
    if source.endswith(".gz") and not source.startswith("http"):
        target = f"/vsigzip/{source}"  # the bundled boundaries; GDAL does not guess gzip from the name
    try:
        frame = gpd.read_file(target)
    except Exception as exc:  # pyogrio raises several types for unreadable sources
        raise BoundaryError(f"MIERUKA_BOUNDARIES: cannot read {source}: {exc}") from None
    column = next((c for c in CODE_PROPERTIES if c in frame.columns), None)
    if column is None:
        raise BoundaryError(f"MIERUKA_BOUNDARIES: {source} has none of the code properties {', '.join(CODE_PROPERTIES)}")
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)

    def municipality(raw):
        area = areas.municipality_of(raw) if areas.get(raw) else None
        return area.code if area else None

    frame["code"] = frame[column].map(municipality)
    unknown = frame["code"].isna().sum()
    frame = frame.dropna(subset=["code"])
    if frame.empty:
        raise BoundaryError(f"MIERUKA_BOUNDARIES: no feature of {source} matches a municipality of the area table")
    if unknown:
        log.warning("boundaries: %d features of %s match no municipality and were left out", unknown, source)
    dissolved = frame[["code", "geometry"]].dissolve(by="code", as_index=False)
    simplified = dissolved.geometry.simplify(TOLERANCE, preserve_topology=True)
    # plotly draws with d3-geo, which reads a counter-clockwise ring (RFC 7946) as "the whole
    # globe but this": outer rings must run clockwise for it
    dissolved["geometry"] = shapely.orient_polygons(simplified.values, exterior_cw=True)
    return json.loads(dissolved.to_json(drop_id=True))
