"""Big layers on the map: the browser gets what its view needs, from an index built once per snapshot.

A layer with more places than `Settings.map_tiled_over` is never sent to the browser whole
(GSI's evacuation sites of all Japan are ≈150,000). Its snapshot carries a TileIndex, and the
map asks for:

- `/api/v1/layers/<id>/chunks/<CHUNK_Z>/<x>/<y>.json`: every place of one web-mercator tile
  (≈30 km), with all the columns the map reads (services/layers.map_bodies' points and text
  together), once the view is zoomed in to DETAIL_Z or more. The browser filters, clusters,
  lists and searches these itself, as it does a small layer: a filter click redraws them
  without a request.
- `/api/v1/layers/<id>/summary.json?z=&bbox=&f.<filter>=&area=&q=`: the layer after its
  filters, counted in all and per cell (a tile CELL_DEPTH levels below the view's zoom,
  32 px) within the view's tiles; one request per view change, and none for a step in. Below DETAIL_Z the browser
  clusters these cells, weighted by their counts; at any zoom the count is the layer's
  "shown" figure while a filter is on.

The filters are decided by services/map_filters.py, the server's twin of the browser's
predicates; one boolean mask per filter value is kept, so a combination costs an AND.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from registry import LayerSpec
from services import map_filters
from services.prepared import Body, Prepared

CHUNK_Z = 10  # a chunk is one tile of this zoom: ≈ 0.35° of longitude
DETAIL_Z = 12  # from this zoom on, the browser draws a chunked layer's places (a chunk is then ≥ 1,024 px)
# a summary counts per tile CELL_DEPTH levels below its zoom: 32 px there, 64 px one zoom in, so
# that the browser clusters it well at both and a zoom step in needs no request
CELL_DEPTH = 3
MAX_SPAN = 64  # tiles a summary's box may span each way (a 4K screen is 16 tiles wide)
MAX_ZOOM = 20
_MASKS = 64  # filter masks kept per index


def mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees → web-mercator x, y in [0, 1) (x east, y south), as tiles are numbered."""
    x = (lon + 180.0) / 360.0
    lat = np.clip(lat, -85.05112878, 85.05112878)
    y = (1.0 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2.0
    return np.clip(x, 0.0, np.nextafter(1.0, 0.0)), np.clip(y, 0.0, np.nextafter(1.0, 0.0))


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A tile's (west, south, east, north) in degrees."""
    n = 2.0 ** z

    def lat(row: float) -> float:
        return float(np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * row / n)))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


@dataclass(frozen=True)
class Box:
    """Tiles x0..x1, y0..y1 (inclusive) of zoom z: what a summary covers."""

    z: int
    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def parse(cls, z: str | None, bbox: str | None) -> "Box":
        """From the query's `z` and `bbox=x0,y0,x1,y1`; ValueError with what is wrong."""
        try:
            zoom = int(z or "")
        except ValueError:
            raise ValueError("z must be a whole number") from None
        if not 0 <= zoom <= MAX_ZOOM:
            raise ValueError(f"z must be 0–{MAX_ZOOM}")
        try:
            x0, y0, x1, y1 = (int(v) for v in (bbox or "").split(","))
        except ValueError:
            raise ValueError("bbox must be x0,y0,x1,y1: tile numbers at zoom z") from None
        last = 2 ** zoom - 1
        if not (0 <= x0 <= x1 <= last and 0 <= y0 <= y1 <= last):
            raise ValueError(f"bbox must hold tiles 0–{last} with x0 ≤ x1 and y0 ≤ y1")
        if x1 - x0 >= MAX_SPAN or y1 - y0 >= MAX_SPAN:
            raise ValueError(f"bbox may span at most {MAX_SPAN} tiles each way")
        return cls(zoom, x0, y0, x1, y1)


class TileIndex:
    """One layer snapshot's places by chunk and by position; its filter masks, chunk bodies and
    summaries are made on first use and kept (bounded)."""

    def __init__(self, layer: LayerSpec, records: Sequence[Mapping[str, Any]], latest: str | None,
                 chunk_columns: Callable[[list], dict[str, Any]]):
        """`chunk_columns(records)` → a chunk's body (services/layers.map_columns)."""
        self.layer = layer
        self.records = records
        self.latest = latest
        self._chunk_columns = chunk_columns
        self.lon = np.fromiter((r["lon"] for r in records), float, len(records))
        self.lat = np.fromiter((r["lat"] for r in records), float, len(records))
        self.x, self.y = mercator(self.lon, self.lat)
        side = 2 ** CHUNK_Z
        chunk = np.floor(self.x * side).astype(np.int64) * side + np.floor(self.y * side).astype(np.int64)
        order = np.argsort(chunk, kind="stable")
        keys, starts, counts = np.unique(chunk[order], return_index=True, return_counts=True)
        self._chunks = {(int(k) // side, int(k) % side): order[s:s + c] for k, s, c in zip(keys, starts, counts)}
        self._area_codes = np.array([str(r.get("area_code") or "") for r in records], dtype=object)
        self._search_keys: list[str] | None = None
        self._lock = threading.Lock()
        self._masks: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self.bodies = Prepared(entries=len(self._chunks) + 1, budget=64 * 1024 * 1024)

    @property
    def count(self) -> int:
        return len(self.records)

    def chunk_keys(self) -> list[list[int]]:
        """[x, y, places] of every chunk that has places, at CHUNK_Z."""
        return [[x, y, len(rows)] for (x, y), rows in sorted(self._chunks.items())]

    def chunk_body(self, x: int, y: int) -> Body | None:
        """The places of chunk (x, y) as the map's columns; None when it has none."""
        rows = self._chunks.get((x, y))
        if rows is None:
            return None

        def build() -> Body:
            body = {"chunk": [CHUNK_Z, x, y], **self._chunk_columns([self.records[i] for i in rows])}
            return Body.of_json(body)

        return self.bodies.get((x, y), build)

    # ---- filters ----

    def mask(self, view: map_filters.LayerView, now: map_filters.Now) -> np.ndarray | None:
        """Which places pass `view` (None: all of them, nothing is filtered)."""
        parts = []
        if view.areas is not None:
            parts.append(self._kept(("areas", view.areas),
                                    lambda: np.isin(self._area_codes, np.array(view.areas, dtype=object))))
        if view.q:
            parts.append(self._kept(("q", view.q), lambda: self._search(view.q)))
        for active in view.filters:
            one = map_filters.LayerView(q="", areas=None, filters=(active,))
            clock = (now.date, now.minutes) if map_filters.time_dependent(one) else None
            parts.append(self._kept(("filter", active, clock),
                                    lambda one=one: self._matching(one, now)))
        if not parts:
            return None
        result = parts[0].copy()
        for part in parts[1:]:
            result &= part
        return result

    def _kept(self, key: tuple, build: Callable[[], np.ndarray]) -> np.ndarray:
        with self._lock:
            mask = self._masks.get(key)
            if mask is not None:
                self._masks.move_to_end(key)
                return mask
        mask = build()
        with self._lock:
            self._masks[key] = mask
            while len(self._masks) > _MASKS:
                self._masks.popitem(last=False)
        return mask

    def _matching(self, view: map_filters.LayerView, now: map_filters.Now) -> np.ndarray:
        return np.fromiter((_passes(r, view, now) for r in self.records), bool, len(self.records))

    def _search(self, q: str) -> np.ndarray:
        if self._search_keys is None:
            self._search_keys = [map_filters.search_key(" ".join(str(r.get(f) or "") for f in
                                                                 ("name", "name_kana", "address")))
                                 for r in self.records]
        return np.fromiter((q in key for key in self._search_keys), bool, len(self.records))

    # ---- summaries ----

    def summary(self, mask: np.ndarray | None, box: Box) -> dict[str, Any]:
        """The places passing `mask`: their count in the whole layer, and per cell within `box`
        {"lon", "lat" (the mean position of the cell's places), "n", and for a cell of one
        place its "id" and "name" (else null)}."""
        side = 2.0 ** box.z
        inside = ((self.x >= box.x0 / side) & (self.x < (box.x1 + 1) / side)
                  & (self.y >= box.y0 / side) & (self.y < (box.y1 + 1) / side))
        if mask is not None:
            inside &= mask
        rows = np.nonzero(inside)[0]
        cells_side = 2 ** min(box.z + CELL_DEPTH, 30)
        cell = (np.floor(self.x[rows] * cells_side).astype(np.int64) * cells_side
                + np.floor(self.y[rows] * cells_side).astype(np.int64))
        _, first, inverse, counts = np.unique(cell, return_index=True, return_inverse=True, return_counts=True)
        lon = np.bincount(inverse, weights=self.lon[rows], minlength=len(counts)) / counts
        lat = np.bincount(inverse, weights=self.lat[rows], minlength=len(counts)) / counts
        alone = [int(rows[f]) if c == 1 else None for f, c in zip(first, counts)]
        return {
            "layer": self.layer.id,
            "count": int(mask.sum()) if mask is not None else self.count,
            "total": self.count,
            "box": [box.z, box.x0, box.y0, box.x1, box.y1],
            "cells": {
                "lon": np.round(lon, 5).tolist(), "lat": np.round(lat, 5).tolist(), "n": counts.tolist(),
                "id": [str(self.records[i]["id"]) if i is not None else None for i in alone],
                "name": [self.records[i].get("name") if i is not None else None for i in alone],
            },
        }


def _passes(record: Mapping[str, Any], view: map_filters.LayerView, now: map_filters.Now) -> bool:
    """map_filters.match, with a value of a type the filter cannot read (where the browser's
    predicate would throw) counted as not passing."""
    try:
        return map_filters.match(record, view, now)
    except TypeError:
        return False


def local_now(timezone: str, moment: dt.datetime | None = None) -> map_filters.Now:
    return map_filters.now_parts(timezone, moment or dt.datetime.now(dt.timezone.utc))
