"""Each prefecture's box and first map view, from its bundled boundaries and census weights:
data/real/areas/views.json, read when a deployment is made from a prefecture's code alone.

- `bbox`: every municipality's outline, with a margin (coordinates outside it are rejected:
  it must hold Tokyo's Ogasawara islands, 1,000 km south, since GSI lists sites there);
- `view`: where most people live — from the most populous municipality, the neighbours
  within REACH_KM of those taken, most populous first, until they hold 90 % of the
  residents — so that Tokyo opens on the city, not on a box reaching Ogasawara, and
  Okinawa on its main island, not on the sea out to Yonaguni.
"""
from __future__ import annotations

import csv
import gzip
import json
import math
from pathlib import Path

from shapely.geometry import shape

CORE_SHARE = 0.90
REACH_KM = 30.0  # a strait wider than this separates the core from its islands
MARGIN_DEG = 0.05
MAP_PX = 480  # the map's short side on a phone, roughly: the view must fit in it


def zoom_for(west: float, south: float, east: float, north: float) -> int:
    """The Leaflet zoom at which the box fits MAP_PX pixels (web Mercator), 7 to 12."""
    span_x = max(east - west, 0.01) / 360
    span_y = max(math.log(math.tan(math.pi / 4 + math.radians(north) / 2)) -
                 math.log(math.tan(math.pi / 4 + math.radians(south) / 2)), 0.0002) / (2 * math.pi)
    zoom = math.floor(math.log2(MAP_PX / 256 / max(span_x, span_y)))
    return max(7, min(12, zoom))


def view_of(features: list[tuple[str, object]], weights: dict[str, int]) -> dict:
    bounds = [geometry.bounds for _, geometry in features]
    bbox = [round(min(b[0] for b in bounds) - MARGIN_DEG, 4), round(min(b[1] for b in bounds) - MARGIN_DEG, 4),
            round(max(b[2] for b in bounds) + MARGIN_DEG, 4), round(max(b[3] for b in bounds) + MARGIN_DEG, 4)]
    ranked = sorted(features, key=lambda f: (-weights.get(f[0], 0), f[0]))
    total = sum(weights.get(code, 0) for code, _ in features) or 1
    taken = [ranked[0]]
    held = weights.get(ranked[0][0], 0)
    rest = ranked[1:]
    reach = REACH_KM / 111.0  # degrees, roughly: the outlines' distance is in degrees
    grown = True
    while held < CORE_SHARE * total and grown:
        grown = False
        for candidate in rest:
            if any(candidate[1].distance(geometry) <= reach for _, geometry in taken):
                taken.append(candidate)
                held += weights.get(candidate[0], 0)
                rest.remove(candidate)
                grown = True
                break
    core = [geometry.bounds for _, geometry in taken]
    west, south = min(b[0] for b in core), min(b[1] for b in core)
    east, north = max(b[2] for b in core), max(b[3] for b in core)
    return {"bbox": bbox, "view": {"lat": round((south + north) / 2, 4), "lon": round((west + east) / 2, 4),
                                   "zoom": zoom_for(west, south, east, north)}}


def build(shared: Path, out: Path) -> str:
    del shared  # reads only what the areas and boundaries builders wrote
    views = {}
    for table in sorted((out / "areas").glob("[0-4][0-9].csv")):
        code = table.stem
        with table.open(encoding="utf-8") as fh:
            weights = {row["code"]: int(row["weight"]) for row in csv.DictReader(fh)}
        with gzip.open(out / "boundaries" / f"{code}.geojson.gz", "rt", encoding="utf-8") as fh:
            features = [(f["properties"]["code"], shape(f["geometry"])) for f in json.load(fh)["features"]]
        views[code] = view_of(features, weights)
    (out / "areas" / "views.json").write_text(json.dumps(views, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return f"{len(views)} prefectures"
