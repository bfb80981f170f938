"""Which area a point lies in, from the bundled boundaries (data/real/boundaries/).

For rows whose source gives no area code, or only a designated city's name (GSI's
evacuation sites say 大阪市, not the ward): the normaliser asks
``AreaLocator.for_prefecture(areas, path).locate(lat, lon)`` and gets the *leaf* area
(a ward, never its designated city; a municipality without wards) with how it was found:

- ``"inside"``: the point lies in (or on the edge of) the area's outline;
- ``"nearest"``: outside every outline but within ``NEAREST_KM`` of one, as a pier or a
  beach hut on a coast the simplified boundaries cut off; the nearest area is returned;
- ``"outside"``: no area (None), e.g. a point in the open sea or another prefecture.

One locator per (table, file) per process: the file is read and the STRtree built once.
"""
from __future__ import annotations

import gzip
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import shapely
from shapely.geometry import shape

from services.areas import Area, AreaTable

__all__ = ["AreaLocator", "INSIDE", "NEAREST", "OUTSIDE", "NEAREST_KM"]

INSIDE, NEAREST, OUTSIDE = "inside", "nearest", "outside"
NEAREST_KM = 1.0
_KM_PER_DEGREE = 111.32  # along a meridian; along a parallel times cos(latitude)


def read_boundaries(path: Path) -> list[tuple[str, object]]:
    """(code, shapely geometry) of each feature of a GeoJSON file, gzipped or not."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    collection = json.loads(raw)
    return [(str(f["properties"]["code"]), shape(f["geometry"])) for f in collection["features"]]


def _km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), enough at the 1 km scale this is used on."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


class AreaLocator:
    """Point → leaf area of an AreaTable, on the outlines of one boundaries file."""

    def __init__(self, areas: AreaTable, boundaries: Iterable[tuple[str, object]]) -> None:
        """`boundaries`: (code, geometry) pairs; codes that are not leaf areas of `areas`
        (a designated city's whole outline, another prefecture's town) are ignored, so a
        point is never given to a city when its ward is known."""
        leaves = {a.code: a for a in areas.leaves}
        kept = [(leaves[code], geometry) for code, geometry in boundaries if code in leaves]
        kept.sort(key=lambda pair: pair[0].code)
        self._areas: tuple[Area, ...] = tuple(area for area, _ in kept)
        self._geometries = np.array([geometry for _, geometry in kept], dtype=object)
        self._tree = shapely.STRtree(self._geometries)

    @classmethod
    def for_prefecture(cls, areas: AreaTable, path: str | Path) -> AreaLocator:
        """The locator of a table and boundaries file, built once per process."""
        return _cached_locator(areas, Path(path).resolve())

    @property
    def areas(self) -> tuple[Area, ...]:
        """The leaf areas that have an outline (the others can never be located)."""
        return self._areas

    def locate(self, lat: float, lon: float) -> tuple[Area | None, str]:
        """(area, "inside" | "nearest") or (None, "outside") for a WGS84 position."""
        return self.locate_many([(lat, lon)])[0]

    def locate_many(self, points: Sequence[tuple[float, float]]) -> list[tuple[Area | None, str]]:
        """`locate` for many (lat, lon) points at once: one vectorised tree query for the
        points inside an outline (the great majority), one by one only for the rest."""
        if not len(points):
            return []
        lats = np.array([p[0] for p in points], dtype=float)
        lons = np.array([p[1] for p in points], dtype=float)
        geometries = shapely.points(lons, lats)
        found: list[tuple[Area | None, str] | None] = [None] * len(points)
        point_index, tree_index = self._tree.query(geometries, predicate="intersects")
        for p, g in sorted(zip(point_index.tolist(), tree_index.tolist())):
            if found[p] is None:  # on a shared edge: the lower code, so the answer is stable
                found[p] = (self._areas[g], INSIDE)
        for p, hit in enumerate(found):
            if hit is None:
                found[p] = self._nearest(lats[p], lons[p], geometries[p])
        return found  # type: ignore[return-value]

    def nearest_of(self, lat: float, lon: float, codes: Iterable[str], max_km: float) -> tuple[Area, float] | None:
        """The nearest of the areas `codes` (the wards of the city a source names) within
        `max_km`, with its distance: for a point that the simplified outlines put outside
        every ward of its city (an island cut off, a site just across the border)."""
        wanted = set(codes)
        point = shapely.points(lon, lat)
        best: tuple[float, Area] | None = None
        for area, geometry in zip(self._areas, self._geometries):
            if area.code not in wanted:
                continue
            near = shapely.shortest_line(point, geometry).coords[1]
            km = _km_between(lat, lon, near[1], near[0])
            if km <= max_km and (best is None or km < best[0]):
                best = (km, area)
        return (best[1], best[0]) if best else None

    def _nearest(self, lat: float, lon: float, point) -> tuple[Area | None, str]:
        if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 89:
            return None, OUTSIDE
        # a search radius in degrees that holds NEAREST_KM in every direction, then the true distance
        degrees = NEAREST_KM / (_KM_PER_DEGREE * math.cos(math.radians(lat)))
        candidates = self._tree.query(point.buffer(degrees))
        best: tuple[float, int] | None = None
        for index in sorted(candidates.tolist()):
            near = shapely.shortest_line(point, self._geometries[index]).coords[1]
            km = _km_between(lat, lon, near[1], near[0])
            if km <= NEAREST_KM and (best is None or km < best[0]):
                best = (km, index)
        return (self._areas[best[1]], NEAREST) if best else (None, OUTSIDE)


@lru_cache(maxsize=8)
def _cached_locator(areas: AreaTable, path: Path) -> AreaLocator:
    return AreaLocator(areas, read_boundaries(path))
