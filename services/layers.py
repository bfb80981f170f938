"""Layer snapshots: normalised records of one map layer plus everything derived from them
once (GeoJSON body, its gzip, ETag, filter options), read by the API and the pages.

A snapshot is immutable; the service builds it on first use and keeps it per process
until the sample data's date changes. (The shared store with background refresh and
stale-but-safe fallback arrives with the live-data issue.)
"""
from __future__ import annotations

import csv
import datetime as dt
import gc
import gzip
import hashlib
import io
import json
import threading
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from data_sources import bundled, files
from data_sources.normalise import RejectReport, normalise_rows
from registry import Deployment, LayerSpec
from services.areas import AreaTable
from settings import Settings

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class NotFound(KeyError):
    """An unknown layer id."""


# Fields every map feature carries: identity, search (name, kana, address) and area.
MAP_FIELDS = ("id", "name", "name_kana", "address", "area_code")
PROFILES = ("full", "map")


@dataclass(frozen=True)
class Body:
    """One pre-serialised GeoJSON body, raw and gzipped, with its ETag."""

    raw: bytes
    gzip: bytes
    etag: str

    @classmethod
    def of(cls, raw: bytes) -> "Body":
        return cls(raw, gzip.compress(raw, compresslevel=6, mtime=0), hashlib.sha256(raw).hexdigest()[:20])


@dataclass(frozen=True)
class LayerSnapshot:
    layer: LayerSpec
    records: tuple[dict[str, Any], ...]
    report: RejectReport
    fetched_at: dt.datetime
    source_modified: dt.date
    sample: bool
    options: dict[str, tuple[str, ...]]  # filter id → values found in the data
    months: tuple[str, ...]  # months of monthly fields, newest last
    bodies: dict[str, Body]  # profile → GeoJSON: "full" (all canonical fields), "map" (what the map filters on)

    @property
    def count(self) -> int:
        return len(self.records)

    def record(self, record_id: str) -> dict[str, Any] | None:
        return next((r for r in self.records if str(r["id"]) == str(record_id)), None)


class LayerService:
    def __init__(self, deployment: Deployment, areas: AreaTable, settings: Settings):
        self.deployment = deployment
        self.areas = areas
        self.settings = settings
        self._lock = threading.Lock()
        self._snapshots: dict[tuple[str, dt.date], LayerSnapshot] = {}

    def as_of(self) -> dt.date:
        if self.settings.sample_as_of:
            return self.settings.sample_as_of
        return dt.datetime.now(ZoneInfo(self.deployment.timezone)).date()

    def layer(self, layer_id: str) -> LayerSpec:
        layer = self.deployment.layer(layer_id)
        if layer is None:
            raise NotFound(layer_id)
        return layer

    def snapshot(self, layer_id: str) -> LayerSnapshot:
        layer = self.layer(layer_id)
        key = (layer_id, self.as_of())
        snap = self._snapshots.get(key)
        if snap is None or self._expired(snap):
            with self._lock:
                snap = self._snapshots.get(key)
                if snap is None or self._expired(snap):
                    snap = self._build(layer, key[1])
                    self._snapshots = {k: v for k, v in self._snapshots.items() if k[0] != layer_id}
                    self._snapshots[key] = snap
                    gc.freeze()  # long-lived data: keep the cyclic GC from walking it on every collection
        return snap

    def _expired(self, snap: LayerSnapshot) -> bool:
        age = dt.datetime.now(dt.timezone.utc) - snap.fetched_at
        return age.total_seconds() > snap.layer.source.ttl

    def snapshots(self) -> list[LayerSnapshot]:
        return [self.snapshot(layer.id) for layer in self.deployment.layers]

    def _build(self, layer: LayerSpec, as_of: dt.date) -> LayerSnapshot:
        seed = self.settings.sample_seed
        source = layer.source
        if source.kind == "file":
            rows, readings = files.fetch_rows(source.path), None
        else:
            rows = bundled.fetch_rows(source.dataset, self.areas, as_of, seed)
            readings = bundled.fetch_rows(source.readings, self.areas, as_of, seed) if source.readings else None
        records, report = normalise_rows(rows, layer, self.areas, self.deployment.bbox, readings)
        records.sort(key=lambda r: (r.get("area_code") or "", str(r["id"])))
        bodies = {"full": Body.of(geojson_bytes(layer, records)),
                  "map": Body.of(geojson_bytes(layer, records, map_fields(layer)))}
        return LayerSnapshot(
            layer=layer,
            records=tuple(records),
            report=report,
            fetched_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
            source_modified=as_of,
            sample=layer.source.kind == "bundled",
            options=_filter_options(layer, records),
            months=_months(layer, records),
            bodies=bodies,
        )


def _filter_options(layer: LayerSpec, records: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    options: dict[str, tuple[str, ...]] = {}
    for spec in layer.filters:
        if spec.kind not in ("choice", "contains") or spec.options:
            continue
        values: set[str] = set()
        for record in records:
            value = record.get(spec.fields[0])
            if isinstance(value, list):
                values.update(value)
            elif value:
                values.add(str(value))
        options[spec.id] = tuple(sorted(values))
    return options


def _months(layer: LayerSpec, records: list[dict[str, Any]]) -> tuple[str, ...]:
    months: set[str] = set()
    for spec in layer.fields:
        if spec.type == "monthly":
            for record in records:
                months.update(record.get(spec.name) or {})
    return tuple(sorted(months))


def map_data_url(snapshot: LayerSnapshot) -> str:
    """The URL the map loads a layer from: the slim profile, versioned for caching."""
    return f"/api/v1/layers/{snapshot.layer.id}.geojson?profile=map&v={snapshot.bodies['map'].etag}"


def map_fields(layer: LayerSpec) -> set[str]:
    """The properties the map needs in the browser: the rest is shown by the detail panel."""
    fields = set(MAP_FIELDS)
    for spec in layer.filters:
        fields.update(spec.fields)
        fields.update(o.value for o in spec.options if layer.field(o.value))  # hazard flags
    if layer.readings:
        fields.add("readings")
    return fields


def geojson_bytes(layer: LayerSpec, records: list[dict[str, Any]], fields: set[str] | None = None) -> bytes:
    """A compact WGS84 FeatureCollection; properties hold the canonical fields (or `fields`)."""
    features = []
    for r in records:
        props = {k: v for k, v in r.items()
                 if k not in ("lat", "lon") and v is not None and (fields is None or k in fields)}
        props["id"] = str(r["id"])
        features.append({"type": "Feature", "id": props["id"],
                         "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                         "properties": props})
    collection = {"type": "FeatureCollection", "layer": layer.id, "features": features}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def csv_columns(layer: LayerSpec) -> list[str]:
    names = [f.name for f in layer.fields]
    extra = ["area_name"] + (["readings"] if layer.readings else [])
    return names + [n for n in extra if n not in names]


def csv_bytes(snapshot: LayerSnapshot) -> bytes:
    """UTF-8 with BOM (opens in Excel); yes/no as 有/無, lists joined by ';', nested as JSON."""
    columns = csv_columns(snapshot.layer)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for record in snapshot.records:
        writer.writerow([_csv_value(record.get(c)) for c in columns])
    return out.getvalue().encode("utf-8")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "有" if value else "無"
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)  # then guarded like any text below
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value  # keep a hostile '=cmd|…' from running as a spreadsheet formula
    return str(value)
