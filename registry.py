"""The deployment config: what the app shows, declared once as data.

`load_deployment(path)` reads a TOML file into frozen specs and validates it. Every
problem raises `ConfigError` whose message names the file, the key and the problem in
one line, so a bad config stops the app at start-up with a clear message.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

LANGUAGES = ("ja", "en")
FIELD_TYPES = {"text", "bool", "int", "float", "time", "date", "list", "weekdays", "area_code", "monthly"}
# What a layer's rows may cover: its deployment's prefecture (the box of the deployment or the
# layer's own `bbox`), or all Japan (positions in Japan's box; a row of another prefecture keeps
# the municipality it names, from the bundled area tables of every prefecture).
LAYER_SCOPES = ("prefecture", "japan")
FILTER_KINDS = {"flag", "open_now", "open_24h", "choice", "contains", "vacancy", "air_level", "date_window"}
# The keys each source kind takes (besides kind, ttl and readings) and which are required.
SOURCE_KEYS = {
    "bundled": ({"dataset"}, {"dataset"}),
    "snapshot": ({"dataset"}, {"dataset"}),
    "file": ({"path", "format"}, {"path"}),
    "url": ({"url", "format"}, {"url"}),
    "ckan": ({"url", "dataset", "query", "organization", "resource_format", "name_contains", "api_key_env"}, {"url"}),
    "ngsi-ld": ({"url", "entity_type", "tenant", "context", "page_size"}, {"url", "entity_type"}),
    "ngsi-v2": ({"url", "entity_type", "service", "service_path", "page_size"}, {"url", "entity_type"}),
}
SOURCE_KINDS = set(SOURCE_KEYS)
TABULAR_FORMATS = ("csv", "xlsx", "geojson", "gsi")  # gsi: GSI's evacuation-site and shelter lists (data_sources/gsi.py)
LAYER_ID = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
# Fields the map relies on for every layer.
REQUIRED_FIELDS = ("id", "name", "lat", "lon", "area_code")
# Popup entries computed from other fields (see components/details.py).
DERIVED_FIELDS = {"hours", "hazards", "area_name", "readings"}


class ConfigError(ValueError):
    """A deployment config that cannot be used; str() is one line for the operator."""


Text = dict  # {"ja": "...", "en": "..."}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    columns: tuple[str, ...]  # source column names (aliases), first match wins
    type: str = "text"
    month_column: str | None = None  # for type "monthly"
    value_columns: tuple[str, ...] = ()  # for type "monthly"
    parts: tuple[str, ...] = ()  # for a total (type "int"): the columns it is the sum of


@dataclass(frozen=True)
class FilterOption:
    value: str
    label: Text


@dataclass(frozen=True)
class FilterSpec:
    id: str
    kind: str
    label: Text
    fields: tuple[str, ...]  # canonical fields the filter reads
    options: tuple[FilterOption, ...] = ()


@dataclass(frozen=True)
class SourceSpec:
    """Where a dataset comes from. Which keys apply depends on `kind` (see SOURCE_KEYS)."""

    kind: str
    dataset: str | None = None  # bundled: sample dataset id; snapshot: real-data snapshot id; ckan: package id
    path: Path | None = None  # file: CSV/XLSX/GeoJSON path (relative to the config file); the first of `paths`
    url: str | None = None  # url: the file; ckan: catalog base URL; ngsi-*: broker URL; the first of `urls`
    paths: tuple[Path, ...] = ()  # file: every file of the dataset (GSI publishes sites and shelters apart)
    urls: tuple[str, ...] = ()  # url: the same over HTTP
    format: str | None = None  # file/url: csv | xlsx | geojson (default: from the name)
    query: str | None = None  # ckan: package_search q, when no dataset id
    organization: str | None = None  # ckan: organisation to search in
    resource_format: str = "CSV"  # ckan: which resource to take
    name_contains: str | None = None  # ckan: and whose name contains this
    api_key_env: str | None = None  # ckan: environment variable holding an API key
    entity_type: str | None = None  # ngsi-*: entity type (may be Japanese)
    tenant: str | None = None  # ngsi-ld: NGSILD-Tenant
    context: str | None = None  # ngsi-ld: @context link
    service: str | None = None  # ngsi-v2: Fiware-Service
    service_path: str | None = None  # ngsi-v2: Fiware-ServicePath
    page_size: int = 100  # ngsi-*: entities per request
    columns: dict = field(default_factory=dict)  # field → this source's column for it (overrides)
    readings: str | None = None  # a second dataset joined by station (air quality)
    ttl: int = 86400  # seconds a snapshot stays fresh
    table: "TableSpec | None" = None  # indicators from a live source: how its rows map to records
    provenance: dict | None = None  # snapshot: its meta.json (publisher, retrieved, credit, inputs' sha256 …)

    @property
    def sample(self) -> bool:
        """True for the embedded sample data (made up by the seeded generator)."""
        return self.kind == "bundled"

    @property
    def local(self) -> bool:
        """True when the data is read from this machine (the sample, a bundled snapshot, a
        file): it is built at once, never fetched in the background."""
        return self.kind in ("bundled", "snapshot", "file")

    def fingerprint(self, *mapping) -> str:
        """A short hash of where the data comes from and how it is read (kind, URLs, paths,
        dataset, entity type, tenant, columns, table; and the caller's `mapping`, e.g. a
        layer's fields), not of how long it stays fresh: data stored under another
        fingerprint is another dataset's, never served as this one's."""
        where = replace(self, ttl=0, provenance=None)
        return hashlib.sha256(repr((where, mapping)).encode("utf-8")).hexdigest()[:12]

    @property
    def name(self) -> str:
        """What the source is called in public (a file's name, never its server path)."""
        if self.kind == "bundled":
            return self.dataset or ""
        if self.kind == "snapshot":
            title = (self.provenance or {}).get("title", {}).get("ja")
            return f"{title}（{self.dataset}）" if title else self.dataset or ""
        if self.kind == "file":
            return ", ".join(p.name for p in self.paths) if self.paths else ""
        if self.kind == "ckan":
            return f"{self.url} {self.dataset or self.query or ''}".strip()
        if self.kind.startswith("ngsi"):
            return f"{self.url} {self.entity_type}"
        return self.url or ""


@dataclass(frozen=True)
class TableSpec:
    """How the rows of an indicator's live source become long-form records
    (area, period, measure, breakdown, value). Two shapes:

    - a statistics table: a row per area and period (and breakdown, if `breakdown` names
      a column), `values` maps measure id → the column holding it, and `breakdowns` maps
      measure id → {breakdown value → column} for wide breakdowns (年齢階級別 columns);
    - an incident list (`count` = a measure id): every row counts one, by area, period
      (and the `breakdown` column's value), as in the police's street-crime files.
    """

    area: tuple[str, ...]
    period: tuple[str, ...]
    values: dict = field(default_factory=dict)  # measure id → column
    breakdowns: dict = field(default_factory=dict)  # measure id → {breakdown value → column}
    breakdown: tuple[str, ...] = ()  # the column whose value is the row's breakdown
    count: str | None = None  # incident list: the measure each row counts towards
    sum: bool = False  # values add up: same area and period summed, wards → city → prefecture
    subarea: tuple[str, ...] = ()  # with sum: the column naming a part (地域名); blank or 合計 = the area's total row


@dataclass(frozen=True)
class Pollutant:
    id: str
    columns: tuple[str, ...]  # the column (or a broker's attribute) holding it, first found wins
    unit: str
    thresholds: tuple[float, ...]  # upper bounds of levels 1..n-1; above the last → level n


@dataclass(frozen=True)
class ReadingsSpec:
    """Latest readings by station: from a second dataset joined by station (bundled sample
    data), or from the station rows themselves (a broker's AirQualityObserved entities carry
    their location and latest values)."""

    station_columns: tuple[str, ...]
    time_columns: tuple[str, ...]
    pollutants: tuple[Pollutant, ...]
    levels: tuple[Text, ...]  # names of levels 1..n


@dataclass(frozen=True)
class LayerSpec:
    id: str
    title: Text
    description: Text
    icon: str
    shape: str
    colour: str
    source: SourceSpec
    fields: tuple[FieldSpec, ...]
    popup: tuple[str, ...]
    filters: tuple[FilterSpec, ...]
    licence: Text  # {"name":..., "url":...}
    credit: Text
    bbox: tuple[float, float, float, float] | None = None
    readings: ReadingsSpec | None = None
    scope: str = "prefecture"  # "japan": a layer of all Japan (rows of other prefectures kept; see LAYER_SCOPES)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def filter(self, filter_id: str) -> FilterSpec | None:
        return next((f for f in self.filters if f.id == filter_id), None)


FREQUENCIES = ("monthly", "yearly", "daily")
AREA_LEVELS = ("prefecture", "municipality", "ward", "station")
HIGHER_IS = ("better", "worse", "neutral")


@dataclass(frozen=True)
class MeasureSpec:
    id: str
    title: Text
    unit: Text
    frequency: str
    decimals: int = 0
    higher_is: str = "neutral"
    per_capita: bool = False  # a count for which "per 100,000 residents" makes sense
    additive: bool = False  # areas add up (a count): compared among peers, not with the prefecture

    @property
    def is_count(self) -> bool:
        return self.additive or self.per_capita


@dataclass(frozen=True)
class IndicatorSpec:
    id: str
    title: Text
    description: Text
    definition: Text
    numerator: Text
    denominator: Text | None
    frequency: str
    area_level: str
    headline: str  # the measure shown on the KPI card
    measures: tuple[MeasureSpec, ...]
    breakdown: Text | None  # name of the breakdown dimension (手口, 年齢 …), if any
    source: SourceSpec
    licence: Text
    credit: Text
    caveats: Text | None
    colour: str
    breakdown_labels: dict = field(default_factory=dict)  # breakdown value → English label

    def breakdown_label(self, value: str, lang: str) -> str:
        return self.breakdown_labels.get(value, value) if lang == "en" else value

    def measure(self, measure_id: str) -> MeasureSpec | None:
        return next((m for m in self.measures if m.id == measure_id), None)


@dataclass(frozen=True)
class View:
    lat: float
    lon: float
    zoom: int


@dataclass(frozen=True)
class Deployment:
    path: Path
    id: str
    title: Text
    prefecture: Text  # {"code":..., "ja":..., "en":...}
    bbox: tuple[float, float, float, float]  # west, south, east, north
    default_view: View
    area_table: Path
    timezone: str
    layers: tuple[LayerSpec, ...]
    field_labels: dict = field(default_factory=dict)  # canonical field → Text
    indicators: tuple[IndicatorSpec, ...] = ()

    def indicator(self, indicator_id: str) -> IndicatorSpec | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)

    def layer(self, layer_id: str) -> LayerSpec | None:
        return next((l for l in self.layers if l.id == layer_id), None)

    @property
    def layer_ids(self) -> tuple[str, ...]:
        return tuple(l.id for l in self.layers)


class _Reader:
    """Walks the TOML tree, remembering the key path for error messages."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {problem}")

    def get(self, table: dict, key: str, where: str, kind: type | tuple, default: Any = ...) -> Any:
        full = f"{where}.{key}" if where else key
        if key not in table:
            if default is ...:
                raise self.fail(full, "is missing")
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(full, f"must be {names}, got {type(value).__name__} {value!r}")
        return value

    def text(self, table: dict, key: str, where: str, default: Any = ...) -> Text:
        value = self.get(table, key, where, (dict, str), default)
        if value is default and default is not ...:
            return value
        full = f"{where}.{key}"
        if isinstance(value, str):
            raise self.fail(full, 'needs a title per language, e.g. { ja = "…", en = "…" }')
        for lang in LANGUAGES:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                raise self.fail(f"{full}.{lang}", "is missing or empty")
        return dict(value)

    def bbox(self, table: dict, key: str, where: str, default: Any = ...):
        value = self.get(table, key, where, list, default)
        if value is None:
            return None
        full = f"{where}.{key}" if where else key
        if len(value) != 4 or not all(isinstance(v, (int, float)) for v in value):
            raise self.fail(full, "must be [west, south, east, north] in degrees")
        west, south, east, north = map(float, value)
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise self.fail(full, f"is not a valid box: {value}")
        return (west, south, east, north)


def load_deployment(path: str | Path) -> Deployment:
    """The deployment a config file declares (following its `extends`)."""
    path = Path(path)
    return _deployment(_Reader(path), _merged(path), path)


def _read_toml(path: Path, r: _Reader) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (set MIERUKA_CONFIG to a deployment config)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _merged(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """The config at `path` with what it `extends` merged in, every relative path resolved
    against the file that names it."""
    r = _Reader(path)
    if path.resolve() in seen:
        raise r.fail("extends", "the configs extend each other in a circle: "
                                + " → ".join(p.name for p in (*seen, path.resolve())))
    raw = _read_toml(path, r)
    _resolve_paths(raw, path.parent)
    if "extends" not in raw:
        return raw
    base_name = r.get(raw, "extends", "", str)
    base_path = (path.parent / base_name).resolve()
    if not base_path.is_file():
        raise r.fail("extends", f"file not found: {base_path}")
    return _extended(r, _merged(base_path, (*seen, path.resolve())), raw)


def _resolve_paths(raw: dict, folder: Path) -> None:
    """Make the file paths a config names absolute, relative to its own folder."""
    def resolve(value):
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return str((folder / value).resolve()) if isinstance(value, str) else value

    dep = raw.get("deployment")
    if isinstance(dep, dict) and isinstance(dep.get("area_table"), str):
        dep["area_table"] = resolve(dep["area_table"])
    entries = []
    for section in ("layers", "indicators"):
        value = raw.get(section)
        entries += value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
    sources = [e.get("source") for e in entries if isinstance(e, dict)]
    sources += list(raw.get("sources", {}).values()) if isinstance(raw.get("sources"), dict) else []
    for source in sources:
        if isinstance(source, dict) and source.get("kind") == "file" and "path" in source:
            source["path"] = resolve(source["path"])


def prefecture_words(prefecture: dict) -> dict[str, dict[str, str]]:
    """What the texts of a deployment say for its prefecture: {prefecture} (奈良県 / Nara
    Prefecture), {prefecture_in} (県内 — 府内, 都内, 道内 — / in the prefecture)."""
    from services.areas import prefecture_short_name

    name_ja, name_en = prefecture.get("ja", ""), prefecture.get("en", "")
    kind = name_ja[-1:] if name_ja[-1:] in "都道府県" else "県"
    return {"ja": {"prefecture": name_ja, "prefecture_short": name_ja, "prefecture_in": f"{kind}内"},
            "en": {"prefecture": name_en, "prefecture_short": prefecture_short_name(name_en),
                   "prefecture_in": "in the prefecture"}}


def _put_place(raw: dict, r: _Reader) -> None:
    """Put the deployment's prefecture into every text of the config that names it."""
    prefecture = raw.get("deployment", {}).get("prefecture")
    if not isinstance(prefecture, dict):
        return
    words = prefecture_words(prefecture)

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in LANGUAGES and isinstance(item, str) and "{" in item:
                    for name, word in words[key].items():
                        item = item.replace("{" + name + "}", word)
                    value[key] = item
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk({k: v for k, v in raw.items() if k != "deployment"} | {"title": raw["deployment"].get("title")})


def _deployment(r: _Reader, raw: dict, path: Path) -> Deployment:
    """Validate a merged config into a Deployment (`r` names the file in messages)."""
    raw = _with_shared_events(raw)
    _put_place(raw, r)
    dep = r.get(raw, "deployment", "", dict)
    bbox = r.bbox(dep, "bbox", "deployment")
    view_raw = r.get(dep, "default_view", "deployment", dict)
    view = View(
        lat=r.get(view_raw, "lat", "deployment.default_view", float),
        lon=r.get(view_raw, "lon", "deployment.default_view", float),
        zoom=r.get(view_raw, "zoom", "deployment.default_view", int),
    )
    if not (bbox[1] <= view.lat <= bbox[3] and bbox[0] <= view.lon <= bbox[2]):
        raise r.fail("deployment.default_view", "lies outside deployment.bbox")
    area_table = Path(r.get(dep, "area_table", "deployment", str)).resolve()
    if not area_table.is_file():
        raise r.fail("deployment.area_table", f"file not found: {area_table}")
    prefecture = r.get(dep, "prefecture", "deployment", dict)
    for key in ("code", *LANGUAGES):
        r.get(prefecture, key, "deployment.prefecture", str)

    labels_raw = r.get(raw, "field_labels", "", dict, {})
    field_labels = {name: r.text(labels_raw, name, "field_labels") for name in labels_raw}

    layers_raw = r.get(raw, "layers", "", list)
    layers = tuple(_layer(r, item, i) for i, item in enumerate(layers_raw))
    seen: set[str] = set()
    for i, layer in enumerate(layers):
        if layer.id in seen:
            raise r.fail(f"layers[{i}].id", f"duplicate layer id {layer.id!r}")
        seen.add(layer.id)
        for name in layer.popup:
            if name not in field_labels:
                raise r.fail(f"layers[{i}].popup", f"field {name!r} has no entry in [field_labels]")
    indicators = tuple(_indicator(r, item, i) for i, item in enumerate(r.get(raw, "indicators", "", list, [])))
    seen = set()
    for i, indicator in enumerate(indicators):
        if indicator.id in seen:
            raise r.fail(f"indicators[{i}].id", f"duplicate indicator id {indicator.id!r}")
        if any(layer.id == indicator.id for layer in layers):
            raise r.fail(f"indicators[{i}].id", f"{indicator.id!r} is already a layer id (ids name datasets in /healthz)")
        seen.add(indicator.id)
    return Deployment(
        indicators=indicators,
        path=path,
        id=r.get(dep, "id", "deployment", str),
        title=r.text(dep, "title", "deployment"),
        prefecture=dict(prefecture),
        bbox=bbox,
        default_view=view,
        area_table=area_table,
        timezone=r.get(dep, "timezone", "deployment", str, "Asia/Tokyo"),
        layers=layers,
        field_labels=field_labels,
    )


EXTENDING_KEYS = ("extends", "deployment", "field_labels", "sources", "layers", "indicators", "remove")


def _extended(r: _Reader, base: dict, raw: dict) -> dict:
    """A config that `extends` another: its [deployment] and [field_labels] keys replace the
    base's; `[sources.<id>]` replaces an entry's source (and credit and licence, given with
    it); `[layers.<id>]` / `[indicators.<id>]` change keys of an entry (a new id adds one,
    complete); `remove = ["id", …]` drops entries. Anything else is refused, never ignored:

        extends = "japan.toml"
        remove = ["wifi"]
        [layers.events]
        title = { ja = "…", en = "…" }
        [sources.toilets]
        kind = "snapshot"  …
    """
    for key in raw:
        if key not in EXTENDING_KEYS:
            raise r.fail(key, f"is not something an extending config can set ({', '.join(EXTENDING_KEYS)})")
    merged = dict(base)
    merged.pop("extends", None)
    merged["deployment"] = {**base.get("deployment", {}), **r.get(raw, "deployment", "", dict, {})}
    merged["field_labels"] = {**base.get("field_labels", {}), **r.get(raw, "field_labels", "", dict, {})}
    removed = r.get(raw, "remove", "", list, [])
    for section in ("layers", "indicators"):
        entries = [dict(e) for e in base.get(section, [])]
        ids = [e.get("id") for e in entries]
        changes = r.get(raw, section, "", dict, {})
        for entry_id, change in changes.items():
            if not isinstance(change, dict):
                raise r.fail(f"{section}.{entry_id}", f"must be a table ([{section}.{entry_id}])")
            if entry_id in ids:
                entries[ids.index(entry_id)].update(change)
            else:
                entries.append({"id": entry_id, **change})
                ids.append(entry_id)
        merged[section] = entries
    known = {e["id"] for section in ("layers", "indicators") for e in merged[section]}
    for entry_id in removed:
        if entry_id not in known:
            raise r.fail("remove", f"no layer or indicator {entry_id!r} to remove")
    for section in ("layers", "indicators"):
        merged[section] = [e for e in merged[section] if e["id"] not in removed]
    sources = r.get(raw, "sources", "", dict, {})
    for key in sources:
        if key not in known or key in removed:
            raise r.fail(f"sources.{key}", f"no layer or indicator {key!r} in what this config extends")
    for section in ("layers", "indicators"):
        merged[section] = [_with_source(r, e, sources[e["id"]]) if e["id"] in sources else e for e in merged[section]]
    return merged


ENTRY_KEYS_IN_SOURCES = ("credit", "licence")  # who publishes a live source, and under which licence


def _with_source(r: _Reader, entry: dict, source: Any) -> dict:
    """An entry of the base config with its source replaced; `credit` and `licence` given
    next to the source replace the entry's (a live source is not the sample's)."""
    if not isinstance(source, dict):
        raise r.fail(f"sources.{entry['id']}", "must be a table")
    source = dict(source)
    replaced = {key: source.pop(key) for key in ENTRY_KEYS_IN_SOURCES if key in source}
    was_sample = isinstance(entry.get("source"), dict) and entry["source"].get("kind") == "bundled"
    if "credit" not in replaced and was_sample and source.get("kind") not in ("bundled", "snapshot"):
        # the entry's credit is the sample generator's: never shown beside data that is not sample
        # (a bundled snapshot credits its publisher itself, from its provenance)
        where = source.get("url") or source.get("path") or source.get("dataset") or source.get("kind")
        where = str(where[0] if isinstance(where, list) and where else where)
        name = Path(where).name if "path" in source else where
        replaced["credit"] = {"ja": f"{name}（出典の表記は設定されていません）", "en": f"{name} (no credit line configured)"}
    return {**entry, **replaced, "source": source}


TABLE_AREA_COLUMNS = ("全国地方公共団体コード", "都道府県コード又は市区町村コード", "市区町村コード", "area_code")


def _table(r: _Reader, raw: dict, where: str, measures: tuple[MeasureSpec, ...]) -> TableSpec:
    """[… .source.table] of an indicator: see TableSpec."""
    known = {m.id: m for m in measures}

    def measure_id(value: str, key: str) -> str:
        if value not in known:
            raise r.fail(f"{where}.{key}", f"{value!r} is not one of the measures ({', '.join(known)})")
        return value

    for key in raw:
        if key not in ("area", "period", "values", "breakdowns", "breakdown", "count", "sum", "subarea"):
            raise r.fail(f"{where}.{key}", "is not a table setting "
                                           "(area, period, values, breakdowns, breakdown, count, sum, subarea)")
    values = r.get(raw, "values", where, dict, {})
    for m, column in values.items():
        measure_id(m, f"values.{m}")
        if not isinstance(column, str) or not column.strip():
            raise r.fail(f"{where}.values.{m}", "must be the name of the column holding the measure")
    breakdowns = r.get(raw, "breakdowns", where, dict, {})
    for m, mapping in breakdowns.items():
        measure_id(m, f"breakdowns.{m}")
        if not isinstance(mapping, dict) or not mapping or not all(isinstance(c, str) for c in mapping.values()):
            raise r.fail(f"{where}.breakdowns.{m}", 'maps a breakdown value to its column: { "0-4" = "0-4歳の男性" }')
    count = r.get(raw, "count", where, str, None)
    if count is not None:
        if not known[measure_id(count, "count")].is_count:
            raise r.fail(f"{where}.count", f"measure {count!r} is not a count (set additive or per_capita)")
        if values or breakdowns:
            raise r.fail(where, "an incident list (count) takes no values or breakdowns")
    elif not values and not breakdowns:
        raise r.fail(where, "needs values = { measure = \"column\" } or count = \"measure\"")
    table = TableSpec(area=_names(r, raw, "area", where, TABLE_AREA_COLUMNS), period=_names(r, raw, "period", where),
                     values=dict(values), breakdowns={m: dict(v) for m, v in breakdowns.items()},
                     breakdown=_names(r, raw, "breakdown", where, ()), count=count,
                     sum=r.get(raw, "sum", where, bool, False), subarea=_names(r, raw, "subarea", where, ()))
    if table.subarea and not table.sum:
        raise r.fail(f"{where}.subarea", "needs sum = true (the parts of an area add up to it)")
    return table


def _source(r: _Reader, src: dict, where: str, measures: tuple[MeasureSpec, ...] | None = None) -> SourceSpec:
    """A layer's source, or an indicator's (`measures` given: a live one needs a `table`)."""
    kind = r.get(src, "kind", where, str)
    if kind not in SOURCE_KINDS:
        raise r.fail(f"{where}.kind", f"unknown kind {kind!r} (known: {', '.join(sorted(SOURCE_KINDS))})")
    allowed, required = SOURCE_KEYS[kind]
    for key in src:
        if key == "table" and measures is not None and kind != "bundled":
            continue
        if key not in allowed | {"kind", "ttl", "readings", "columns"}:
            raise r.fail(f"{where}.{key}", f"is not a setting of kind {kind!r} (it takes: {', '.join(sorted(allowed))})")
    values: dict[str, Any] = {}
    for key in sorted(allowed):
        default = ... if key in required else None
        kind_of_value = int if key == "page_size" else (str, list) if key in ("path", "url") and kind in ("file", "url") else str
        values[key] = r.get(src, key, where, kind_of_value, default)
    for key in ("path", "url"):
        if isinstance(values.get(key), list):
            if not values[key] or not all(isinstance(v, str) and v.strip() for v in values[key]):
                raise r.fail(f"{where}.{key}", "needs a name or a list of names (files read as one dataset)")
    if values.get("path") is not None:
        names = values["path"] if isinstance(values["path"], list) else [values["path"]]
        values["paths"] = tuple((r.path.parent / name).resolve() for name in names)
        values["path"] = values["paths"][0]
    if values.get("format") is not None and values["format"] not in TABULAR_FORMATS:
        raise r.fail(f"{where}.format", f"{values['format']!r} is not one of {', '.join(TABULAR_FORMATS)}")
    if values.get("url") is not None:
        urls = values["url"] if isinstance(values["url"], list) else [values["url"]]
        for url in urls:
            if not str(url).startswith(("http://", "https://")):
                raise r.fail(f"{where}.url", f"{url!r} must be an http(s) URL")
        values["urls"], values["url"] = tuple(urls), urls[0]
    if values.get("format") == "gsi" and kind not in ("file", "url"):
        raise r.fail(f"{where}.format", "'gsi' is read from a file or a URL")
    if values.get("api_key_env") is not None and not values["api_key_env"].endswith("_API_KEY"):
        raise r.fail(f"{where}.api_key_env", f"{values['api_key_env']!r}: name a variable ending in _API_KEY")
    if kind == "ckan" and not (values.get("dataset") or values.get("query")):
        raise r.fail(where, "needs a dataset id or a search query")
    if values.get("page_size") is not None and not 1 <= values["page_size"] <= 1000:
        raise r.fail(f"{where}.page_size", f"must be 1 to 1000, got {values['page_size']}")
    values = {k: v for k, v in values.items() if v is not None}
    columns = r.get(src, "columns", where, dict, {})
    if not all(isinstance(v, str) for v in columns.values()):
        raise r.fail(f"{where}.columns", 'maps a field to this source\'s column name: { name = "施設名" }')
    values["columns"] = dict(columns)
    if "readings" in src and kind != "bundled":
        raise r.fail(f"{where}.readings", "a live source carries its readings in its own rows "
                                          "(declare their columns in the layer's [readings])")
    if measures is not None and kind != "bundled":
        values["table"] = _table(r, r.get(src, "table", where, dict), f"{where}.table", measures)
    if kind == "snapshot":
        values["provenance"] = _snapshot(r, values["dataset"], where)
    source = SourceSpec(kind=kind, readings=r.get(src, "readings", where, str, None),
                        ttl=r.get(src, "ttl", where, int, 86400), **values)
    if source.ttl < 10:
        raise r.fail(f"{where}.ttl", f"must be at least 10 seconds, got {source.ttl}")
    return source


def _snapshot(r: _Reader, dataset: str, where: str) -> dict:
    """A bundled real-data snapshot's provenance (data/real/<dataset>/meta.json)."""
    from data_sources.snapshots import SnapshotMissing, meta

    try:
        return meta(dataset)
    except SnapshotMissing as exc:
        raise r.fail(f"{where}.dataset", str(exc)) from None


def _entry_id(r: _Reader, raw: Any, section: str, index: int) -> str:
    """The id of entry `index` of [[section]]: a table whose id can go in a URL."""
    where = f"{section}[{index}]"
    if not isinstance(raw, dict):
        raise r.fail(where, f"must be a table ([[{section}]])")
    entry_id = r.get(raw, "id", where, str)
    if not LAYER_ID.match(entry_id):
        raise r.fail(f"{where}.id", f"{entry_id!r} must be lower-case letters, digits and '-'")
    return entry_id


def _colour(r: _Reader, raw: dict, where: str, default: Any = ...) -> str:
    colour = r.get(raw, "colour", where, str, default)
    if not COLOUR.match(colour):
        raise r.fail(f"{where}.colour", f"{colour!r} must be a #RRGGBB colour")
    return colour


def _licence(r: _Reader, raw: dict, where: str) -> dict:
    licence = r.get(raw, "licence", where, dict)
    r.get(licence, "name", f"{where}.licence", str)
    url = r.get(licence, "url", f"{where}.licence", str)
    if not re.match(r"^https?://[^\s/]+", url, re.I):  # shown as a link on every page: never javascript: or data:
        raise r.fail(f"{where}.licence.url", f"{url[:60]!r} must be an http:// or https:// address")
    return dict(licence)


def _names(r: _Reader, table: dict, key: str, where: str, default: Any = ...) -> tuple[str, ...]:
    """A column name, or a list of alternative names (the first found in a source wins)."""
    if key not in table and default is not ...:
        return tuple(default)
    value = r.get(table, key, where, (str, list))
    value = [value] if isinstance(value, str) else value
    if not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise r.fail(f"{where}.{key}", "needs a column name or a list of alternative names")
    return tuple(value)


def _layer(r: _Reader, raw: Any, index: int) -> LayerSpec:
    layer_id = _entry_id(r, raw, "layers", index)
    where = f"layers.{layer_id}"
    colour = _colour(r, raw, where)

    source = _source(r, r.get(raw, "source", where, dict), f"{where}.source")

    fields_raw = r.get(raw, "fields", where, dict)
    fields = []
    for name, spec in fields_raw.items():
        fwhere = f"{where}.fields.{name}"
        if isinstance(spec, str):
            spec = {"from": [spec]}
        if not isinstance(spec, dict):
            raise r.fail(fwhere, 'must be a column name or { from = ["…"], type = "…" }')
        columns = spec.get("from", [])
        columns = [columns] if isinstance(columns, str) else columns
        ftype = r.get(spec, "type", fwhere, str, "text")
        if ftype not in FIELD_TYPES:
            raise r.fail(f"{fwhere}.type", f"unknown type {ftype!r} (known: {', '.join(sorted(FIELD_TYPES))})")
        if ftype == "monthly":
            fields.append(FieldSpec(name, (), ftype, r.get(spec, "month", fwhere, str),
                                    tuple(r.get(spec, "columns", fwhere, list))))
            continue
        if not columns or not all(isinstance(c, str) for c in columns):
            raise r.fail(f"{fwhere}.from", "needs at least one source column name")
        parts = r.get(spec, "parts", fwhere, list, [])
        if parts and (ftype != "int" or not all(isinstance(c, str) and c for c in parts)):
            raise r.fail(f"{fwhere}.parts", "lists the columns an int total is the sum of")
        fields.append(FieldSpec(name, tuple(columns), ftype, parts=tuple(parts)))
    names = {f.name for f in fields}
    for name in source.columns:
        if name not in names:
            raise r.fail(f"{where}.source.columns.{name}", f"is not a field of the layer (fields: {', '.join(sorted(names))})")
    for required in REQUIRED_FIELDS:
        if required not in names:
            raise r.fail(f"{where}.fields", f"needs a mapping for {required!r}")

    popup = tuple(r.get(raw, "popup", where, list, []))
    for name in popup:
        if name not in names and name not in DERIVED_FIELDS:
            raise r.fail(f"{where}.popup", f"field {name!r} is not declared in {where}.fields")

    filters = []
    for i, fraw in enumerate(r.get(raw, "filters", where, list, [])):
        fwhere = f"{where}.filters[{i}]"
        fkind = r.get(fraw, "kind", fwhere, str)
        if fkind not in FILTER_KINDS:
            raise r.fail(f"{fwhere}.kind", f"unknown filter kind {fkind!r} (known: {', '.join(sorted(FILTER_KINDS))})")
        ffields = r.get(fraw, "fields", fwhere, list, [])
        for name in ffields:
            if name not in names:
                raise r.fail(f"{fwhere}.fields", f"field {name!r} is not declared in {where}.fields")
        options = tuple(
            FilterOption(str(r.get(o, "value", f"{fwhere}.options[{j}]", (str, int))),
                         r.text(o, "label", f"{fwhere}.options[{j}]"))
            for j, o in enumerate(r.get(fraw, "options", fwhere, list, []))
        )
        filters.append(FilterSpec(r.get(fraw, "id", fwhere, str), fkind, r.text(fraw, "label", fwhere),
                                  tuple(ffields), options))

    readings = None
    if source.readings and "readings" not in raw:
        raise r.fail(f"{where}.readings", f"is missing (the source joins readings from {source.readings!r})")
    if "readings" in raw:
        rr = r.get(raw, "readings", where, dict)
        rwhere = f"{where}.readings"
        pollutants = []
        for j, p in enumerate(r.get(rr, "pollutants", rwhere, list)):
            pwhere = f"{rwhere}.pollutants[{j}]"
            thresholds = tuple(float(t) for t in r.get(p, "thresholds", pwhere, list))
            if any(a >= b for a, b in zip(thresholds, thresholds[1:])):
                raise r.fail(f"{pwhere}.thresholds", f"must be strictly increasing, got {list(thresholds)}")
            pollutants.append(Pollutant(r.get(p, "id", pwhere, str), _names(r, p, "column", pwhere),
                                        r.get(p, "unit", pwhere, str), thresholds))
        levels = tuple(r.text({"l": l}, "l", f"{rwhere}.levels[{j}]") for j, l in enumerate(r.get(rr, "levels", rwhere, list)))
        for p in pollutants:
            if len(p.thresholds) + 1 > len(levels):
                raise r.fail(f"{rwhere}.levels", f"{p.id} has {len(p.thresholds) + 1} levels but only {len(levels)} are named")
        readings = ReadingsSpec(_names(r, rr, "station", rwhere), _names(r, rr, "time", rwhere),
                                tuple(pollutants), levels)

    scope = _choice(r, raw, "scope", where, LAYER_SCOPES, "prefecture")
    bbox = r.bbox(raw, "bbox", where, None)
    if scope == "japan" and bbox is None:
        bbox = japan_bbox()
    licence, credit = _licence(r, raw, where), r.text(raw, "credit", where)
    if source.provenance:  # a bundled real snapshot credits its publisher itself
        licence, credit = dict(source.provenance["licence"]), dict(source.provenance["credit"])
    return LayerSpec(
        id=layer_id,
        title=r.text(raw, "title", where),
        description=r.text(raw, "description", where),
        icon=r.get(raw, "icon", where, str),
        shape=r.get(raw, "shape", where, str, "circle"),
        colour=colour,
        source=source,
        fields=tuple(fields),
        popup=popup,
        filters=tuple(filters),
        licence=licence,
        credit=credit,
        bbox=bbox,
        readings=readings,
        scope=scope,
    )


def _choice(r: _Reader, table: dict, key: str, where: str, options: tuple[str, ...], default: Any = ...) -> str:
    value = r.get(table, key, where, str, default)
    if value not in options:
        raise r.fail(f"{where}.{key}", f"{value!r} is not one of {', '.join(options)}")
    return value


def _indicator(r: _Reader, raw: Any, index: int) -> IndicatorSpec:
    indicator_id = _entry_id(r, raw, "indicators", index)
    where = f"indicators.{indicator_id}"
    frequency = _choice(r, raw, "frequency", where, FREQUENCIES)
    measures = []
    for j, m in enumerate(r.get(raw, "measures", where, list)):
        mwhere = f"{where}.measures[{j}]"
        if not isinstance(m, dict):
            raise r.fail(mwhere, "must be a table")
        decimals = r.get(m, "decimals", mwhere, int, 0)
        if not 0 <= decimals <= 4:
            raise r.fail(f"{mwhere}.decimals", f"must be 0 to 4, got {decimals}")
        measures.append(MeasureSpec(
            id=r.get(m, "id", mwhere, str), title=r.text(m, "title", mwhere),
            unit=r.text(m, "unit", mwhere, None) or {"ja": "", "en": ""},
            frequency=_choice(r, m, "frequency", mwhere, FREQUENCIES, frequency), decimals=decimals,
            higher_is=_choice(r, m, "higher_is", mwhere, HIGHER_IS, "neutral"),
            per_capita=r.get(m, "per_capita", mwhere, bool, False),
            additive=r.get(m, "additive", mwhere, bool, False)))
    if not measures:
        raise r.fail(f"{where}.measures", "needs at least one measure")
    headline = r.get(raw, "headline", where, str, measures[0].id)
    if headline not in {m.id for m in measures}:
        raise r.fail(f"{where}.headline", f"{headline!r} is not one of its measures")
    source = _source(r, r.get(raw, "source", where, dict), f"{where}.source", tuple(measures))
    area_level = _choice(r, raw, "area_level", where, AREA_LEVELS)
    if area_level == "station" and source.kind != "bundled":
        raise r.fail(f"{where}.source.kind", "a station-level indicator takes kind 'bundled' for now "
                                             f"(its tables are by area), got {source.kind!r}")
    colour = _colour(r, raw, where, "#0072B2")
    licence = _licence(r, raw, where)
    return IndicatorSpec(
        id=indicator_id,
        title=r.text(raw, "title", where),
        description=r.text(raw, "description", where),
        definition=r.text(raw, "definition", where),
        numerator=r.text(raw, "numerator", where),
        denominator=r.text(raw, "denominator", where, None),
        frequency=frequency,
        area_level=area_level,
        headline=headline,
        measures=tuple(measures),
        breakdown=r.text(raw, "breakdown", where, None),
        source=source,
        licence=licence,
        credit=r.text(raw, "credit", where),
        caveats=r.text(raw, "caveats", where, None),
        colour=colour,
        breakdown_labels={str(k): str(v) for k, v in r.get(raw, "breakdown_labels", where, dict, {}).items()},
    )


# --------------------------------------------------------------------------- any prefecture

CONFIG_DIR = Path(__file__).resolve().parent / "config"
TEMPLATE = CONFIG_DIR / "japan.toml"
SHARED_EVENTS = CONFIG_DIR / "shared-events.toml"
REAL_AREAS = Path(__file__).resolve().parent / "data" / "real" / "areas"


def _with_shared_events(raw: dict) -> dict:
    """The events layer of a prefecture that shares its events with others (shared-events.toml)."""
    code = str(raw.get("deployment", {}).get("prefecture", {}).get("code", ""))[:2]
    r = _Reader(SHARED_EVENTS)
    shared = _read_toml(SHARED_EVENTS, r)
    if code not in shared.get("prefectures", []) or not any(e.get("id") == "events" for e in raw.get("layers", [])):
        return raw
    change = {"layers": shared.get("layers", {})}
    return {**_extended(r, raw, change), "deployment": raw["deployment"]}


def prefecture_code(key: str) -> str:
    """The 2-digit code of a prefecture named by its code (29, 290009, ２９), its name in
    kanji (奈良県, 奈良), kana (ナラケン) or English (nara, Nara Prefecture, Tokyo);
    ConfigError listing what was understood otherwise."""
    import unicodedata

    text = unicodedata.normalize("NFKC", str(key)).strip()
    if text.isdigit() and 1 <= len(text) <= 6:
        code = text.zfill(2)[:2] if len(text) <= 2 else text.zfill(6)[:2]
        if (REAL_AREAS / f"{code}.csv").is_file():
            return code
    folded = text.casefold().replace(" ", "")
    for code, names in _prefecture_names().items():
        if folded in names:
            return code
    raise ConfigError(f"MIERUKA_PREFECTURE: {key!r} is not a prefecture (give its code, 01–47, "
                      "or its name: 29, 奈良県, nara)")


def japan_bbox() -> tuple[float, float, float, float]:
    """The box holding every prefecture's (data/real/areas/views.json): Japan's, Ogasawara and
    the Nansei islands included."""
    import json

    boxes = [place["bbox"] for place in json.loads((REAL_AREAS / "views.json").read_text(encoding="utf-8")).values()]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _prefecture_row(code: str) -> dict[str, str]:
    """The prefecture's own row of its bundled area table."""
    import csv

    with (REAL_AREAS / f"{code}.csv").open(encoding="utf-8") as fh:
        return next(r for r in csv.DictReader(fh) if r["kind"] == "prefecture")


def _prefecture_names() -> dict[str, set[str]]:
    """2-digit code → the folded names a prefecture goes by, from its bundled area table."""
    from services.areas import prefecture_short_name

    names = {}
    for table in sorted(REAL_AREAS.glob("[0-4][0-9].csv")):
        row = _prefecture_row(table.stem)
        forms = {row["name_ja"], row["name_kana"], row["name_en"], *map(prefecture_short_name, (row["name_ja"], row["name_en"]))}
        names[table.stem] = {f.casefold().replace(" ", "") for f in forms if f}
    return names


def prefecture_deployment(key: str) -> Deployment:
    """The deployment of a prefecture from its code or name alone. A hand-written config in
    config/ that declares that prefecture (osaka.toml for 27) is used as it is; otherwise the
    template japan.toml gets a [deployment] made from the prefecture's bundled area table
    and boundaries (title, names, box and first view: data/real/areas/views.json)."""
    code = prefecture_code(key)
    for path in sorted(CONFIG_DIR.glob("*.toml")):
        own = _read_toml(path, _Reader(path)).get("deployment", {})
        if str(own.get("prefecture", {}).get("code", ""))[:2] == code:
            return load_deployment(path)
    raw = _merged(TEMPLATE)
    raw["deployment"] = {**raw.get("deployment", {}), **_generated_deployment(code)}
    return _deployment(_Reader(TEMPLATE), raw, TEMPLATE)


def _generated_deployment(code: str) -> dict:
    import json

    from services.areas import prefecture_short_name

    row = _prefecture_row(code)
    place = json.loads((REAL_AREAS / "views.json").read_text(encoding="utf-8"))[code]
    name_ja, name_en = row["name_ja"], row["name_en"]
    return {"id": f"prefecture-{code}",
            "title": {"ja": f"見える化 {prefecture_short_name(name_ja)}", "en": f"Mieruka {prefecture_short_name(name_en)}"},
            "prefecture": {"code": row["code"], "ja": name_ja, "en": name_en},
            "bbox": place["bbox"], "default_view": place["view"], "area_table": str(REAL_AREAS / f"{code}.csv")}
