"""The map's view state and its URL form — parsed and validated here, on the server.

Query keys (all optional; anything unreadable is ignored and reported, never an error):
  lang=en                          language (default ja)
  layers=toilets,aed               layers switched on (default: all)
  f.<layer>.<filter>=<value>       a filter value; see `_valid_filter_value` per kind
  area=271004                      municipality or ward (5- or 6-digit code)
  q=...                            search text (name or address)
  base=pale|std|photo              base map
  view=map|list                    map or list view
  sel=<layer>:<id>                 selected feature
  lat=..&lon=..&z=..               map centre and zoom
The same keys are written back by `mieruka.queryOf` in assets/mieruka-map.js.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from i18n import LANGUAGES, text_of
from registry import Deployment, LayerSpec
from services import map_filters
from services.areas import AreaTable

BASEMAPS = ("pale", "std", "photo")
VIEWS = ("map", "list")
_DATE = r"\d{4}-\d{2}-\d{2}"
_RANGE = re.compile(rf"^({_DATE})?\.\.({_DATE})?$")
MAX_QUERY = 100


@dataclass
class ViewState:
    layers: list[str]
    filters: dict[str, dict[str, str]] = field(default_factory=dict)
    area: str | None = None
    q: str = ""
    base: str = "pale"
    view: str = "map"
    sel: str | None = None
    lat: float | None = None
    lon: float | None = None
    z: int | None = None
    lang: str = "ja"

    def as_store(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LayerFacts:
    """What validation needs to know about a layer's data (from its snapshot)."""

    options: dict[str, tuple[str, ...]]
    months: tuple[str, ...]


def parse_view(params: Mapping[str, Any], deployment: Deployment, areas: AreaTable,
               facts: Mapping[str, LayerFacts]) -> tuple[ViewState, list[str]]:
    """URL query → (view state, list of the ignored `key=value` items)."""
    ignored: list[str] = []

    def bad(key: str, value: Any) -> None:
        ignored.append(f"{key}={str(value)[:40]}")

    lang = params.get("lang", "ja")
    if lang not in LANGUAGES:
        bad("lang", lang)
        lang = "ja"
    all_ids = list(deployment.layer_ids)
    layers = all_ids
    if "layers" in params:
        wanted = [p for p in str(params["layers"]).split(",") if p]
        layers = [lid for lid in all_ids if lid in wanted]
        for lid in wanted:
            if lid not in all_ids:
                bad("layers", lid)
    state = ViewState(layers=layers, lang=lang)

    for key, value in params.items():
        if not key.startswith("f."):
            continue
        _, _, rest = key.partition(".")
        lid, _, fid = rest.rpartition(".")
        layer = deployment.layer(lid)
        spec = layer.filter(fid) if layer else None
        value = str(value)
        if spec is None or not _valid_filter_value(layer, spec.id, value, facts.get(lid)):
            bad(key, value)
            continue
        state.filters.setdefault(lid, {})[fid] = value

    if "area" in params:
        area = areas.get(params["area"])
        if area is None or area.kind == "prefecture":
            bad("area", params["area"])
        else:
            state.area = area.code
    if "q" in params:
        state.q = str(params["q"])[:MAX_QUERY]
    if "base" in params:
        if params["base"] in BASEMAPS:
            state.base = params["base"]
        else:
            bad("base", params["base"])
    if "view" in params:
        if params["view"] in VIEWS:
            state.view = params["view"]
        else:
            bad("view", params["view"])
    if "sel" in params:
        lid, _, rid = str(params["sel"]).partition(":")
        if deployment.layer(lid) and rid:
            state.sel = f"{lid}:{rid}"
        else:
            bad("sel", params["sel"])
    if any(k in params for k in ("lat", "lon", "z")):
        try:
            lat, lon, z = float(params["lat"]), float(params["lon"]), int(params["z"])
            west, south, east, north = deployment.bbox
            pad = 1.0
            if not (math.isfinite(lat) and math.isfinite(lon) and south - pad <= lat <= north + pad
                    and west - pad <= lon <= east + pad and 5 <= z <= 19):
                raise ValueError
            state.lat, state.lon, state.z = round(lat, 5), round(lon, 5), z
        except (KeyError, ValueError, TypeError):
            bad("lat/lon/z", f"{params.get('lat')},{params.get('lon')},{params.get('z')}")
    return state, ignored


def _valid_filter_value(layer: LayerSpec, filter_id: str, value: str, facts: LayerFacts | None) -> bool:
    spec = layer.filter(filter_id)
    options = tuple(o.value for o in spec.options) or (facts.options.get(filter_id, ()) if facts else ())
    if spec.kind == "flag":
        return value == "1" if not spec.options else value in options
    if spec.kind in ("open_now", "open_24h"):
        return value == "1"
    if spec.kind in ("choice", "contains"):
        return value in options
    if spec.kind == "vacancy":
        age, _, month = value.partition("@")
        ages = {"any", *(o.value for o in spec.options)}
        return age in ages and (not month or (facts is not None and month in facts.months))
    if spec.kind == "air_level":
        pollutant, _, level = value.partition(":")
        ids = {p.id for p in layer.readings.pollutants} if layer.readings else set()
        # ASCII digits only: '²' passes isdigit() but not int(), and the browser's parseInt reads neither '２'
        return (pollutant in ids and level.isascii() and level.isdigit()
                and 1 <= int(level) <= len(layer.readings.levels))
    if spec.kind == "date_window":
        if value in ("today", "week"):
            return True
        m = _RANGE.match(value)
        if not m or not (m[1] or m[2]):
            return False
        try:
            dates = [dt.date.fromisoformat(d) for d in (m[1], m[2]) if d]
        except ValueError:
            return False
        return dates == sorted(dates)
    return False


def map_query_view(snapshot, params: Mapping[str, Any], areas: AreaTable) -> tuple[Any, str | None]:
    """A big layer's summary query (api.layer_summary: `f.<filter>`, `area`, `q`, the map's own
    keys for one layer) → (services.map_filters.LayerView, None), or (None, what is wrong)."""
    layer, values = snapshot.layer, {}
    facts = LayerFacts(snapshot.options, snapshot.months)
    for key, value in params.items():
        if not key.startswith("f."):
            continue
        spec = layer.filter(key[2:])
        if spec is None:
            known = ", ".join(f.id for f in layer.filters) or "none"
            return None, f"unknown filter {key[2:]!r} of layer {layer.id!r} (its filters: {known})"
        if not _valid_filter_value(layer, spec.id, str(value), facts):
            return None, f"{key}={str(value)[:40]!r} is not a value of that filter"
        values[spec.id] = str(value)
    members = None
    if params.get("area"):
        area = areas.get(params["area"])
        if area is None or area.kind == "prefecture":
            return None, f"area={str(params['area'])[:40]!r} is not a municipality or ward code"
        members = [area.code] + [w.code for w in areas.wards(area.code)]
    q = str(params.get("q") or "")
    if len(q) > MAX_QUERY:
        return None, f"q may be at most {MAX_QUERY} characters"
    latest = snapshot.months[-1] if snapshot.months else None
    return map_filters.layer_view(layer, values, members, q, latest), None


def layer_meta(layer: LayerSpec, lang: str, url: str | None, text_url: str | None, months: tuple[str, ...], count: int,
               coverage: tuple[str, ...] | None = None, tiles: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the browser needs of a layer: `url`, `text_url` its points and text
    (services/layers.map_bodies), or for a big layer `tiles` (services/layers.map_tiles) and
    no URLs; `coverage`: the only areas it has data for (None: all)."""
    return {
        "id": layer.id, "title": text_of(layer.title, lang), "icon": layer.icon, "shape": layer.shape,
        "colour": layer.colour, "url": url, "textUrl": text_url, "latest": months[-1] if months else None, "count": count,
        "filters": [{"id": f.id, "kind": f.kind, "fields": list(f.fields)} for f in layer.filters],
        "coverage": list(coverage) if coverage is not None else None,
        "tiles": tiles,
    }


def area_members(areas: AreaTable) -> dict[str, list[str]]:
    """Area code → the leaf codes it covers (a designated city covers its wards)."""
    members = {}
    for area in areas:
        if area.kind == "prefecture":
            continue
        wards = areas.wards(area.code)
        members[area.code] = [area.code] + [w.code for w in wards]
    return members


def area_view(areas: AreaTable) -> dict[str, list[float]]:
    """Area code → [lat, lon, zoom] to show it: zoom from its land area."""
    views = {}
    for area in areas:
        if area.kind == "prefecture":
            continue
        radius_km = math.sqrt(max(area.area_km2, 1.0) / math.pi)
        zoom = max(9, min(15, round(14.2 - math.log2(radius_km))))
        views[area.code] = [area.lat, area.lon, zoom]
    return views
