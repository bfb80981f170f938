"""Bundled municipal boundaries: data/real/boundaries/<PP>.geojson.gz, one per prefecture.

Input: smartnews-smri/japan-topography's TopoJSON of MLIT's N03 administrative areas
(2021-01-01), simplified, wards of designated cities separate. One feature per *leaf*
area of the area table (a ward, or a municipality without wards; Tokyo's special wards
are municipalities), properties `code` (6 digits with check digit) and `name`, parts
merged per code, coordinates on a 1e-5° grid (≈1 m), rings wound as RFC 7946 says
(exteriors counter-clockwise).

The boundaries are older than the code list in two places, decided here once for both
this builder and the area table (tools/real_data/areas.py), which computes its
area_km2 from these very geometries:
- Hamamatsu reorganised its seven wards into three on 2024-01-01. The 2021 wards are
  merged into their successors (HAMAMATSU_2024); 北区's 三方原 district, which went to
  中央区, stays with 浜名区 here: the new wards are approximations.
- The six villages of the Northern Territories (北方領土) are in the code list and in
  N03 but have no population, reading, town hall or any data about them: they are left
  out of both the table and the boundaries (EXCLUDED).
The finer TopoJSON lost eight tiny island municipalities (利島村, 青ヶ島村, …) to its
simplification; the designated-cities edition of the same data kept them, so those are
taken from there.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Polygon

from services.areas import code6_from_code5

from .codes import CODE_LIST, is_leaf, read_code_list
from .common import inputs, write_gzip, write_meta

WARDS_TOPOJSON = "boundaries/japan-municipalities-n03-2021.topojson"
CITIES_TOPOJSON = "boundaries/japan-municipalities-n03-2021-designated-cities.topojson"
GRID = 1e-5  # degrees: 5 decimals, ≈ 1 m

# 2021 ward (5-digit N03 code) → the 2024 ward (6-digit code) that took it over
HAMAMATSU_2024 = {
    "22131": "221384", "22132": "221384", "22133": "221384", "22134": "221384",  # 中・東・西・南区 → 中央区
    "22135": "221392", "22136": "221392",  # 北区, 浜北区 → 浜名区
    "22137": "221406",  # 天竜区 → 天竜区 (new code)
}
# 北方領土: 色丹村, 泊村, 留夜別村, 留別村, 紗那村, 蘂取村
EXCLUDED = frozenset({"016951", "016969", "016977", "016985", "016993", "017001"})

META = {
    "id": "boundaries",
    "title": {"ja": "国土数値情報 行政区域データ（2021年1月1日時点、簡略化）",
              "en": "National Land Numerical Information: Administrative Areas (as of 2021-01-01, simplified)"},
    "publisher": {"ja": "国土交通省", "en": "Ministry of Land, Infrastructure, Transport and Tourism (MLIT)"},
    "source_url": "https://nlftp.mlit.go.jp/ksj/gml/datalist/KsjTmplt-N03-v3_0.html",
    "source_urls": ["https://nlftp.mlit.go.jp/ksj/gml/datalist/KsjTmplt-N03-v3_0.html",
                    "https://github.com/smartnews-smri/japan-topography"],
    "retrieved": "2021-01-01",
    "data_date": "2021-01-01",
    "licence": {"name": "国土数値情報利用約款（出典明記で加工・再配布可）",
                "url": "https://nlftp.mlit.go.jp/ksj/other/agreement.html"},
    "credit": {"ja": "国土数値情報（行政区域データ）（国土交通省）を加工して作成",
               "en": "Based on MLIT National Land Numerical Information (Administrative Areas)"},
    "format": "geojson",
}


# --------------------------------------------------------------------------- TopoJSON


def _decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Absolute lon/lat of every arc: TopoJSON stores quantized, delta-encoded positions."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def _ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[tuple[float, float]]:
    """A ring from arc indexes; ~i is arc i reversed; consecutive arcs share an end point."""
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def _geometry(arcs, topo_geometry: dict) -> Polygon | MultiPolygon:
    polygons = topo_geometry["arcs"] if topo_geometry["type"] == "MultiPolygon" else [topo_geometry["arcs"]]
    shapes = [Polygon(_ring(arcs, rings[0]), [_ring(arcs, r) for r in rings[1:]]) for rings in polygons]
    return _polygonal(shapely.make_valid(MultiPolygon(shapes) if len(shapes) > 1 else shapes[0]))


def _polygonal(geometry):
    """Only the polygons of a repaired geometry: simplification collapsed some small towns
    (太地町, 日吉津村) to a line, which is no outline; None when nothing is left."""
    polygons = [g for g in shapely.get_parts(geometry) if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
    return shapely.union_all(polygons) if polygons else None


def read_topojson(path: Path) -> list[tuple[dict, object]]:
    """(properties, shapely geometry) of every geometry of the file's single object
    (geometries that the simplification emptied or collapsed to lines are skipped)."""
    topology = json.loads(path.read_text(encoding="utf-8"))
    arcs = _decode_arcs(topology)
    (collection,) = topology["objects"].values()
    decoded = ((g.get("properties") or {}, _geometry(arcs, g)) for g in collection["geometries"] if g.get("arcs"))
    return [(properties, geometry) for properties, geometry in decoded if geometry is not None]


# --------------------------------------------------------------------------- leaves


def _leaf_code(n03_code: str | None, codes: dict) -> str | None:
    """The area-table code a boundary part belongs to, or None (no code, unknown, excluded)."""
    if not n03_code:
        return None
    code = HAMAMATSU_2024.get(n03_code) or code6_from_code5(n03_code)
    return code if code in codes and code not in EXCLUDED else None


@lru_cache(maxsize=4)
def leaf_geometries(shared: Path) -> tuple[dict[str, object], dict[str, int]]:
    """Code → merged geometry on the 1 m grid, oriented as RFC 7946 says; and the counts
    of left-out features by reason. Cached: the area table and the boundary files are
    built from one decoding."""
    codes = read_code_list(shared)
    parts: dict[str, list] = {}
    left_out = {"no code (所属未定地)": 0, "not in the code list": 0, "excluded (北方領土)": 0,
                "merged into a successor (浜松市 2024)": 0}
    for properties, geometry in read_topojson(shared / WARDS_TOPOJSON):
        n03 = properties.get("N03_007")
        code = _leaf_code(n03, codes)
        if n03 in HAMAMATSU_2024:
            left_out["merged into a successor (浜松市 2024)"] += 1
        if code is None:
            reason = ("no code (所属未定地)" if not n03 else
                      "excluded (北方領土)" if code6_from_code5(n03) in EXCLUDED else "not in the code list")
            left_out[reason] += 1
            continue
        parts.setdefault(code, []).append(geometry)
    for properties, geometry in read_topojson(shared / CITIES_TOPOJSON):
        code = _leaf_code(properties.get("N03_007"), codes)
        if code is not None and code not in parts and is_leaf(codes[code]):
            parts[code] = [geometry]
    merged = {}
    for code, shapes in sorted(parts.items()):
        geometry = shapely.set_precision(shapely.union_all(shapes), GRID)
        merged[code] = shapely.orient_polygons(geometry, exterior_cw=False)
    return merged, left_out


# --------------------------------------------------------------------------- output


def _rounded(coords) -> list:
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], 5), round(coords[1], 5)]
    return [_rounded(c) for c in coords]


def feature_collection(geometries: dict[str, object], names: dict[str, str]) -> dict:
    """GeoJSON of the given leaves, by code; `name` is the kanji name as the table has it."""
    features = []
    for code in sorted(geometries):
        mapping = shapely.geometry.mapping(geometries[code])
        features.append({"type": "Feature", "properties": {"code": code, "name": names[code]},
                         "geometry": {"type": mapping["type"], "coordinates": _rounded(mapping["coordinates"])}})
    return {"type": "FeatureCollection", "features": features}


def build(shared: Path, out: Path) -> str:
    codes = read_code_list(shared)
    geometries, left_out = leaf_geometries(shared)
    folder = out / "boundaries"
    files = {}
    for prefecture in sorted({code[:2] for code in geometries}):
        mine = {c: g for c, g in geometries.items() if c.startswith(prefecture)}
        names = {c: codes[c].name_ja for c in mine}
        data = json.dumps(feature_collection(mine, names), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        write_gzip(folder / f"{prefecture}.geojson.gz", data)
        files[prefecture] = {"paths": [f"{prefecture}.geojson.gz"], "rows": len(mine)}
    meta = dict(META, inputs=inputs(shared, WARDS_TOPOJSON, CITIES_TOPOJSON, CODE_LIST), files=files,
                left_out={k: v for k, v in left_out.items() if v})
    write_meta(folder, meta)
    size = sum(p.stat().st_size for p in folder.glob("*.geojson.gz"))
    dropped = ", ".join(f"{v} {k}" for k, v in left_out.items() if v)
    return f"{len(geometries)} leaf areas in {len(files)} prefectures, {size / 1024:.0f} KB; features left out: {dropped}"
