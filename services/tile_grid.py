"""A tile-grid map of municipalities: one equal square each, placed near where the
municipality lies, so that small towns count as much as big cities on the eye.

Positions are computed from the area table's office coordinates (the project's own
data): each area goes to the cell its location falls in; larger areas choose first,
and a taken cell sends an area to the nearest free one. Deterministic."""
from __future__ import annotations

import math
from typing import Iterable

from services.areas import Area


def tile_positions(areas: Iterable[Area], columns: int = 9) -> dict[str, tuple[int, int]]:
    """Area code → (column, row), row 0 at the top (north)."""
    areas = list(areas)
    if not areas:
        return {}
    lats = [a.lat for a in areas]
    lons = [a.lon for a in areas]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    # cells as square on the ground as the latitude allows
    width_km = (east - west) * 111.32 * math.cos(math.radians((north + south) / 2)) or 1.0
    height_km = (north - south) * 110.57 or 1.0
    cell = width_km / (columns - 1)
    rows = max(1, round(height_km / cell)) + 1
    taken: dict[tuple[int, int], str] = {}
    placed: dict[str, tuple[int, int]] = {}
    for area in sorted(areas, key=lambda a: (-a.weight, a.code)):
        want = (round((area.lon - west) / (east - west or 1) * (columns - 1)),
                round((north - area.lat) / (north - south or 1) * (rows - 1)))
        spot = want if want not in taken else _nearest_free(want, taken)
        taken[spot] = area.code
        placed[area.code] = spot
    return placed


def _nearest_free(want: tuple[int, int], taken: dict) -> tuple[int, int]:
    for radius in range(1, 50):
        ring = [(want[0] + dx, want[1] + dy) for dx in range(-radius, radius + 1) for dy in range(-radius, radius + 1)
                if max(abs(dx), abs(dy)) == radius]
        free = [c for c in ring if c not in taken and c[0] >= 0 and c[1] >= 0]
        if free:
            return min(free, key=lambda c: ((c[0] - want[0]) ** 2 + (c[1] - want[1]) ** 2, c[1], c[0]))
    raise RuntimeError("no free cell")
