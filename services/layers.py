"""Layer snapshots: normalised records of one map layer plus everything derived from them
once (GeoJSON bodies in every encoding, their ETags, filter options), read by the API and the pages.

A layer is fetched and normalised by its pipeline (data_sources/pipeline.py, which this
service hands the prefecture's point-in-area locator); the records live in the shared
store (data_sources/store.py: files, or Redis with files as fallback) as the dataset's last
good snapshot, refreshed stale-but-safe (data_sources/refresh.py): a failed fetch never
replaces good data. Each process derives its GeoJSON bodies once per stored snapshot
(services/stored.py).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from data_sources import pipeline, snapshots
from data_sources.normalise import RejectReport
from data_sources.store import Snapshot, Store, from_iso, open_store
from registry import Deployment, LayerSpec
from services.areas import AreaTable
from services.boundaries import bundled_boundaries_path
from services.locate import AreaLocator
from services.map_index import CHUNK_Z, DETAIL_Z, TileIndex
from services.prepared import Body, json_bytes  # one body in every encoding (Body also imported from here)
from services.stored import StoredViews, available, dataset_metadata, health_report
from settings import Settings

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class NotFound(KeyError):
    """An unknown layer id."""


# Fields every map feature carries: identity, search (name, kana, address) and area.
MAP_FIELDS = ("id", "name", "name_kana", "address", "area_code")
# Of those, the ones only search and the list view read: the map fetches them when asked
# (map_text_bytes), not before its first markers.
MAP_TEXT_FIELDS = ("name_kana", "address")
PROFILES = ("full", "map")
#: Coordinates in the map's columns: integer steps of 1e-5 degree (≈ 1 m).
MAP_COORD_SCALE = 100_000


@dataclass(frozen=True)
class LayerSnapshot:
    layer: LayerSpec
    records: tuple[dict[str, Any], ...]
    report: RejectReport
    fetched_at: dt.datetime
    source_modified: dt.date | dt.datetime | None
    sample: bool
    options: dict[str, tuple[str, ...]]  # filter id → values found in the data
    months: tuple[str, ...]  # months of monthly fields, newest last
    # the map page's own columns: "points" (positions and what markers and filters read), "text"
    # (services/layers.map_bodies); the GeoJSON bodies are made when first asked for (geojson())
    bodies: dict[str, Body]
    health: dict[str, Any]  # {"status": ok|stale|failing, "reason", "age_s"} (refresh.health)
    source_url: str | None = None
    dataset: str = ""  # its key in the shared store
    stamp: str | None = None  # the store's stamp when this copy was read
    coverage: tuple[str, ...] | None = None  # the municipalities (and their wards) the data covers; None: all
    # a layer too big to send whole (Settings.map_tiled_over): the map asks for chunks and summaries
    # (services/map_index.py), and `bodies` has no "points" and "text"
    tiles: TileIndex | None = None
    version: str = ""  # names this data in caches and URLs: its dataset, when it was fetched, its metadata
    _geojson: dict[str, Body] = field(default_factory=dict, repr=False, compare=False)
    _geojson_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def covered_municipalities(self, areas: AreaTable) -> tuple:
        """The municipalities whose data the layer has, in table order (wards left out)."""
        if self.coverage is None:
            return tuple(areas.municipalities)
        return tuple(a for a in areas.municipalities if a.code in self.coverage)

    @property
    def count(self) -> int:
        return len(self.records)

    @property
    def data_date(self) -> str:
        return data_date_of(self.source_modified, self.fetched_at)

    @property
    def metadata(self) -> dict[str, Any]:
        """The full GeoJSON's "metadata" member (services/stored.dataset_metadata)."""
        return dataset_metadata(self.layer, data_date=self.data_date, source_url=self.source_url, sample=self.sample)

    def geojson(self, profile: str) -> Body:
        """The layer as GeoJSON in `profile` (PROFILES): "full", every canonical field and the
        metadata (the download); "map", the fields the map reads (for other maps). Made on the
        first request and kept with the snapshot: a worker that never serves it never holds it
        (GSI's 152,702 places: 5 s and 128 MB in all three encodings)."""
        with self._geojson_lock:
            body = self._geojson.get(profile)
            if body is None:
                raw = (geojson_bytes(self.layer, self.records, metadata=self.metadata) if profile == "full"
                       else geojson_bytes(self.layer, self.records, map_fields(self.layer)))
                body = self._geojson[profile] = Body.of(raw)
        return body

    def record(self, record_id: str) -> dict[str, Any] | None:
        return next((r for r in self.records if str(r["id"]) == str(record_id)), None)


def data_date_of(source_modified: dt.date | dt.datetime | None, fetched_at: dt.datetime) -> str:
    """The date the data is as of: the source's modification date, else when it was fetched."""
    return (source_modified or fetched_at).isoformat()[:10]


class LayerService:
    def __init__(self, deployment: Deployment, areas: AreaTable, settings: Settings, store: Store | None = None,
                 clock: Callable[[], dt.datetime] | None = None, background: Callable | None = None):
        """`clock` and `background` (how a stale refresh is run) are for tests; the defaults are
        the real time and a daemon thread."""
        self.deployment = deployment
        self.areas = areas
        self.settings = settings
        self.store = store or open_store(settings.redis_url, settings.cache_dir / "store")
        self.views = StoredViews(self.store, clock, background)
        self._keys: dict[tuple[str, dt.date], str] = {}  # (layer id, sample date) → dataset_key

    def locator(self):
        """Point → municipality or ward on the prefecture's bundled boundaries (None without
        them): rows that give no area code, or only a designated city, are placed by it."""
        path = bundled_boundaries_path(self.deployment.prefecture["code"])
        return AreaLocator.for_prefecture(self.areas, path) if path else None

    def as_of(self) -> dt.date:
        return self.settings.sample_date(self.deployment.timezone)

    def layer(self, layer_id: str) -> LayerSpec:
        layer = self.deployment.layer(layer_id)
        if layer is None:
            raise NotFound(layer_id)
        return layer

    def dataset_key(self, layer: LayerSpec) -> str:
        """The layer's name in the shared store, under the deployment's id (deployments of two
        prefectures may share a cache folder or a Redis) and the fingerprint of its source and
        fields (data read from another source, or mapped otherwise, is never served as this
        one's once the config changes); sample data is generated per date and seed. Worked out once
        per layer and day (hashing the source's description costs more than serving a layer)."""
        memo = (layer.id, self.as_of())
        key = self._keys.get(memo)
        if key is None:
            if len(self._keys) > 4 * len(self.deployment.layers):
                self._keys.clear()  # yesterday's keys
            key = self._keys[memo] = self._dataset_key(layer)
        return key

    def _dataset_key(self, layer: LayerSpec) -> str:
        key = f"{self.deployment.id}.layer.{layer.id}"
        if layer.source.kind == "bundled":
            return f"{key}.sample-{self.as_of().isoformat()}-{self.settings.sample_seed}"
        fingerprint = layer.source.fingerprint(layer.fields, layer.readings)
        if layer.source.kind == "snapshot":  # a rebuilt snapshot is new data at once, not after its TTL
            return f"{key}.snapshot-{snapshots.fingerprint(layer.source.dataset)}-{fingerprint}"
        return f"{key}.{layer.source.kind}-{fingerprint}"

    def snapshot(self, layer_id: str) -> LayerSnapshot:
        """The layer's last good data; SourceUnavailable when there has never been any."""
        layer = self.layer(layer_id)
        return self.views.get(f"layer {layer.id}", self.dataset_key(layer), layer.source.ttl,
                              lambda: self._fetch(layer), lambda stored, health: self._derive(layer, stored, health),
                              local=layer.source.local)

    def refresh(self, layer_id: str, *, accept_drift: bool = False) -> dict[str, Any]:
        """Fetch the layer now (the worker's job), under the store's lock; never replaces good
        data with a failure (see StoredViews.refresh). Returns the layer's health afterwards."""
        layer = self.layer(layer_id)
        return self.views.refresh(f"layer {layer.id}", self.dataset_key(layer), layer.source.ttl,
                                  lambda: self._fetch(layer), accept_drift=accept_drift)

    def snapshots(self) -> list[LayerSnapshot]:
        """Every layer that has data (layers that never had any are left out; see health())."""
        return available(self.snapshot, self.deployment.layer_ids)

    def health(self) -> dict[str, dict[str, Any]]:
        """Layer id → {"status", "reason", "age_s", "rows"} for /healthz and the notices."""
        return health_report(self.snapshot, self.deployment.layer_ids)

    def _fetch(self, layer: LayerSpec) -> tuple[dict, dict]:
        """The layer's pipeline (data_sources/pipeline.py), placing rows by this prefecture's boundaries."""
        return pipeline.layer_payload(layer, self.deployment, self.areas, self.settings, self.as_of(), self.locator())

    def _derive(self, layer: LayerSpec, stored: Snapshot, health: dict[str, Any]) -> LayerSnapshot:
        records = stored.payload["records"]
        report = RejectReport.from_dict(stored.meta.get("rejects") or {})
        modified = stored.meta.get("source_modified")
        source_modified = dt.date.fromisoformat(modified) if modified and len(modified) == 10 else from_iso(modified)
        fetched_at = stored.fetched_at.replace(microsecond=0)
        sample = layer.source.sample
        metadata = dataset_metadata(layer, data_date=data_date_of(source_modified, fetched_at),
                                    source_url=stored.meta.get("source_url"), sample=sample)
        months = _months(layer, records)
        tiled = len(records) > self.settings.map_tiled_over
        bodies = {} if tiled else map_bodies(layer, records)
        version = hashlib.sha256(json.dumps([stored.dataset, fetched_at.isoformat(), len(records), metadata],
                                            ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()[:20]
        tiles = TileIndex(layer, records, months[-1] if months else None,
                          lambda chunk: chunk_columns(layer, chunk)) if tiled else None
        return LayerSnapshot(
            layer=layer,
            records=tuple(records),
            report=report,
            fetched_at=fetched_at,
            source_modified=source_modified,
            sample=sample,
            options=_filter_options(layer, records),
            months=months,
            bodies=bodies,
            health=health,
            source_url=stored.meta.get("source_url"),
            dataset=stored.dataset,
            coverage=coverage_of(layer, self.areas),
            tiles=tiles,
            version=version,
        )


def coverage_of(layer: LayerSpec, areas: AreaTable) -> tuple[str, ...] | None:
    """The area codes a layer's data covers, when only some municipalities publish it: a
    bundled snapshot gathered from municipal files lists them (its `parts`); a designated
    city covers its wards. None when the data is meant to cover the whole prefecture."""
    parts = (layer.source.provenance or {}).get("parts")
    if not parts:
        return None
    codes: list[str] = []
    for part in parts:
        area = areas.get(part.get("code5"))
        if area is not None:
            codes += [area.code] + [w.code for w in areas.wards(area.code)]
    return tuple(codes)


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


def map_data_url(snapshot: LayerSnapshot, part: str = "points") -> str | None:
    """The URL the map page loads a layer's `part` ("points" or "text") from, versioned for
    caching; None for a layer sent by chunks (map_tiles)."""
    body = snapshot.bodies.get(part)
    return f"/api/v1/layers/{snapshot.layer.id}.{part}.json?v={body.etag}" if body else None


def map_tiles(snapshot: LayerSnapshot) -> dict[str, Any] | None:
    """How the map gets a layer too big to send whole (services/map_index.py), for the page's
    meta: the chunks' zoom, the zoom from which they are drawn, those that have places
    ([x, y, places]), and URL templates ({x}, {y}; the summary's query is the browser's)."""
    if snapshot.tiles is None:
        return None
    base, version = f"/api/v1/layers/{snapshot.layer.id}", snapshot.version
    return {"z": CHUNK_Z, "detail": DETAIL_Z, "chunks": snapshot.tiles.chunk_keys(),
            "chunk": f"{base}/chunks/{CHUNK_Z}/{{x}}/{{y}}.json?v={version}",
            "summary": f"{base}/summary.json?v={version}"}


def map_bodies(layer: LayerSpec, records: list[dict[str, Any]]) -> dict[str, Body]:
    """The map page's two bodies of a layer, as columns rather than GeoJSON features: half
    the bytes to download and parse, and no object per feature until the browser makes one.

    "points": `{"layer", "n", "scale", "lon", "lat", "columns": {field: [value per row]}}`,
    lon/lat as integer steps of 1/scale degree, each the difference from the row before
    (positions of neighbouring rows are close: small numbers); the columns hold what markers,
    filters and counts read. "text": `{"layer", "n", "columns"}` with MAP_TEXT_FIELDS, read by
    search and the list view only. Rows in the same order in both; None is JSON null."""
    text, point_fields = _map_field_parts(layer)
    points = {**map_columns(layer, records, point_fields), **_positions(records)}
    texts = map_columns(layer, records, text)
    return {"points": Body.of_json(points), "text": Body.of_json(texts)}


def chunk_columns(layer: LayerSpec, records: list[dict[str, Any]]) -> dict[str, Any]:
    """A big layer's chunk (services/map_index.py): the points body's form with the text
    columns in it too, as a chunk is only asked for when its places are in view."""
    text, point_fields = _map_field_parts(layer)
    return {**map_columns(layer, records, point_fields + text), **_positions(records)}


def _map_field_parts(layer: LayerSpec) -> tuple[list[str], list[str]]:
    """(text fields, point fields) of the map's fields: "id" first among the point fields."""
    fields = map_fields(layer)
    text = [f for f in MAP_TEXT_FIELDS if f in fields and not _filtered_on(layer, f)]
    return text, ["id"] + sorted(f for f in fields if f not in text and f != "id")


def _positions(records: list[dict[str, Any]]) -> dict[str, Any]:
    lons, lats, last = [], [], (0, 0)
    for r in records:
        x, y = round(r["lon"] * MAP_COORD_SCALE), round(r["lat"] * MAP_COORD_SCALE)
        lons.append(x - last[0])
        lats.append(y - last[1])
        last = (x, y)
    return {"scale": MAP_COORD_SCALE, "lon": lons, "lat": lats}


def map_columns(layer: LayerSpec, records: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    def column(name: str) -> list:
        return [str(r["id"]) for r in records] if name == "id" else [r.get(name) for r in records]

    return {"layer": layer.id, "n": len(records), "columns": {name: column(name) for name in names}}


def _filtered_on(layer: LayerSpec, name: str) -> bool:
    return any(name in spec.fields for spec in layer.filters)


def map_fields(layer: LayerSpec) -> set[str]:
    """The properties the map needs in the browser: the rest is shown by the detail panel."""
    fields = set(MAP_FIELDS)
    for spec in layer.filters:
        fields.update(spec.fields)
        fields.update(o.value for o in spec.options if layer.field(o.value))  # hazard flags
    if layer.readings:
        fields.add("readings")
    return fields


def geojson_bytes(layer: LayerSpec, records: Sequence[dict[str, Any]], fields: set[str] | None = None,
                  metadata: dict[str, Any] | None = None) -> bytes:
    """A compact WGS84 FeatureCollection; properties hold the canonical fields (or `fields`);
    `metadata` (title, credit, licence, data date, source, sample) as a top-level member."""
    features = []
    for r in records:
        props = {k: v for k, v in r.items()
                 if k not in ("lat", "lon") and v is not None and (fields is None or k in fields)}
        props["id"] = str(r["id"])
        features.append({"type": "Feature", "id": props["id"],
                         "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                         "properties": props})
    collection = {"type": "FeatureCollection", "layer": layer.id,
                  **({"metadata": metadata} if metadata is not None else {}), "features": features}
    return json_bytes(collection)


def csv_columns(layer: LayerSpec) -> list[str]:
    names = [f.name for f in layer.fields]
    extra = ["area_name"] + (["readings"] if layer.readings else [])
    return names + [n for n in extra if n not in names]


def csv_bytes(snapshot: LayerSnapshot) -> bytes:
    """A layer's records as CSV (csv_table)."""
    return csv_table(snapshot.records, csv_columns(snapshot.layer))


def csv_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    """Rows as CSV in `columns`' order, UTF-8 with BOM (opens in Excel), each value a csv_cell:
    yes/no as 有/無, lists joined by ';', nested as JSON, a formula kept as text."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
    return out.getvalue().encode("utf-8")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell that a spreadsheet shows as text, never runs as a formula."""
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
