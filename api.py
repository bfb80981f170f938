"""Flask routes: the machine-readable twin of every map layer, and the health check.

GET /api/v1/layers               JSON list of layers with metadata
GET /api/v1/layers/<id>.geojson  WGS84 FeatureCollection (pre-compressed, ETag);
                                 ?profile=map: only the fields the map filters on
GET /api/v1/layers/<id>.points.json, .text.json   the map page's columns (services/layers.map_bodies)
GET /api/v1/layers/<id>/chunks/<z>/<x>/<y>.json   a big layer's places in one tile (services/map_index.py)
GET /api/v1/layers/<id>/summary.json              a big layer after filters: count, and per cell in view
GET /api/v1/layers/<id>.csv      UTF-8 with BOM, opens in Excel
GET /api/v1/indicators           JSON list of indicators with metadata
GET /api/v1/indicators/<id>.json and .csv   long form; ?area=&from=&to=&per_capita=&measure=&breakdown=
GET /api/v1/areas/<code>.json and .csv      an area's latest value of every indicator (/dashboard?area=)
GET /api/v1/places?q=            municipalities, towns and chōme by name (services/gazetteer.py)
POST /api/v1/reports             a resident's report of a mistake in a place (services/reports.py)
GET /healthz                     JSON status (worked out at most every HEALTH_S seconds)
Errors are JSON with a message, never an HTML page or a 500 stack trace.

Every answer made of data (layers, listings, indicators) is bytes prepared once per snapshot
(services/prepared.py: raw, gzip and brotli, an ETag each) and sent by `send_body`, which
picks the encoding, answers conditional requests and says how long the answer may be cached.
The same route never serialises or compresses twice for the same data: the bodies of a
snapshot live on it (a layer's GeoJSON), or in the app's Prepared caches under a key naming
everything they are made of (the snapshots' versions and health, a normalised query).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from email.utils import format_datetime
from typing import Any, Callable, Iterable, Mapping

from flask import Blueprint, Flask, Response, current_app, jsonify, request

import request_limits as limits
from components.shell import href
from request_guard import error as _error
from data_sources import SourceError, SourceLoading, public_message
from i18n import lang_or_default
from services.context import context
from services.indicators import BadQuery
from services.indicators import NotFound as IndicatorNotFound
from services.indicators import PROFILE_COLUMNS
from services.indicators import csv_bytes as indicator_csv_bytes
from services import map_filters
from services.layers import PROFILES, LayerSnapshot, NotFound, csv_bytes
from services.map_index import CHUNK_Z, Box, local_now
from services.gazetteer import gazetteer
from services.map_state import MAX_QUERY, map_query_view
from services.prepared import Body, Prepared, json_bytes as _json_bytes, negotiate
from services.reports import LIMIT as REPORT_LIMIT, ReportError, checked as checked_report
from services.stored import health_report

log = logging.getLogger(__name__)
api = Blueprint("api", __name__)
CACHE = "public, max-age=300"
#: for a URL that names the version of its body (`?v=<etag>`): it never changes
IMMUTABLE = "public, max-age=31536000, immutable"
#: how long /healthz keeps its answer (the Redis ping and the datasets' states) before working it out again
HEALTH_S = 2.0


def _http_date(moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(dt.timezone.utc).replace(microsecond=0), usegmt=True)


def send_body(body: Body, mimetype: str, *, last_modified: dt.datetime,
              headers: Mapping[str, str] | None = None, version: str | None = None) -> Response:
    """The answer for a prepared body (services/prepared.Body), for every route that has one.

    - the encoding the request's Accept-Encoding prefers (br, gzip or none; q-values honoured),
      with `Vary: Accept-Encoding` and the strong ETag of that encoding;
    - 304 without a body when `If-None-Match` names that ETag (or is `*`, or a list holding it),
      or, without If-None-Match, when `If-Modified-Since` is not before `last_modified`;
    - `Cache-Control`: IMMUTABLE when the URL's `v` parameter is the body's ETag or `version`
      (a versioned URL, as the map loads a layer or a chunk of one), else the short CACHE;
    - `Last-Modified`: `last_modified` (aware); `headers`: more headers for 200 and 304 alike
      (a CSV's Content-Disposition and Link).
    `mimetype` may carry a charset ("text/csv; charset=utf-8"). Flask-Compress leaves the
    answer alone (see skip_prepared): it is never compressed again."""
    encoding = negotiate(request.headers.get("Accept-Encoding"))
    tag = body.tag(encoding)
    common = {"ETag": tag, "Vary": "Accept-Encoding", "Last-Modified": _http_date(last_modified),
              "Cache-Control": IMMUTABLE if request.args.get("v") in (body.etag, version or body.etag) else CACHE,
              **(headers or {})}
    if _not_modified(tag, last_modified):
        response = Response(status=304, headers=common)
    else:
        response = Response(body.encoded(encoding), headers=common, content_type=mimetype)
        if encoding != "identity":
            response.headers["Content-Encoding"] = encoding
    response.prepared = True  # read by skip_prepared
    return response


def _not_modified(tag: str, last_modified: dt.datetime) -> bool:
    if "If-None-Match" in request.headers:
        return request.if_none_match.contains_weak(tag.strip('"'))  # weak comparison (RFC 9110 §13.1.2)
    since = request.if_modified_since
    return since is not None and last_modified.replace(microsecond=0) <= since


def skip_prepared(server: Flask) -> None:
    """Flask-Compress (Dash's compress=True) compresses what is not yet compressed; an answer of
    send_body is already in the encoding the client asked for (or deliberately raw, for a client
    that refused br and gzip): pass it by without looking at it. Call after Dash has set it up."""
    hooks = server.after_request_funcs.setdefault(None, [])
    for index, hook in enumerate(hooks):
        owner = getattr(hook, "__self__", None)
        if type(owner).__name__ == "Compress" and type(owner).__module__.startswith("flask_compress"):
            def unless_prepared(response, compress=hook):
                return response if getattr(response, "prepared", False) else compress(response)
            hooks[index] = unless_prepared


def prepared(name: str) -> Prepared:
    """The app's cache of prepared bodies `name`: "snapshot" (one per snapshot version: listings,
    CSV downloads, the default query) or "query" (parametrised indicator answers, bounded)."""
    return current_app.extensions["mieruka-prepared"][name]


#: What a client that asked for a dataset still loading is told to wait before asking again.
LOADING_RETRY_S = 5


def _unavailable_error(kind: str, dataset_id: str, exc: SourceError) -> Response:
    """503 for a dataset without data, its `state` "loading" (with Retry-After) while its first fetch is
    under way, else "failing" with the upstream's last error."""
    if isinstance(exc, SourceLoading):
        response = _error(503, f"{kind} {dataset_id!r} is loading; try again shortly", state="loading")
        response.headers["Retry-After"] = str(LOADING_RETRY_S)
        return response
    log.warning("%s %s unavailable: %s", kind, dataset_id, exc)
    return _error(503, f"{kind} {dataset_id!r} is unavailable: {public_message(str(exc))}", state="failing")


def _layer_json(snap: LayerSnapshot) -> dict:
    layer = snap.layer
    return {
        "id": layer.id,
        "title": dict(layer.title),
        "description": dict(layer.description),
        "count": snap.count,
        "updated_at": snap.fetched_at.isoformat(),
        "source_modified": snap.source_modified.isoformat() if snap.source_modified else None,
        "data_date": snap.data_date,
        "source": {"kind": layer.source.kind, "name": layer.source.name, "url": snap.source_url},
        "health": snap.health,
        "licence": dict(layer.licence),
        "credit": dict(layer.credit),
        "sample": snap.sample,
        "rejected": snap.report.total_rejected,
        "links": {
            "geojson": f"/api/v1/layers/{layer.id}.geojson",
            "csv": f"/api/v1/layers/{layer.id}.csv",
        },
    }


CSV = "text/csv; charset=utf-8"


def _described(kind: str, spec, data_date: str) -> dict[str, str]:
    """The headers of a download that cannot carry its metadata in-band (CSV): a `Link` to its
    entry on /data (rel="describedby") and to its licence (rel="license"), and a file name with
    the date its data is as of. `kind`: "layers" or "indicators"."""
    return {"Link": ", ".join([f'</data#dataset-{spec.id}>; rel="describedby"',
                               f'</api/v1/{kind}>; rel="collection"',
                               f'<{spec.licence["url"]}>; rel="license"']),
            "Content-Disposition": f'attachment; filename="{spec.id}-{data_date}.csv"'}


def cacheable(response: Response) -> Response:
    """Public for CACHE, with an ETag of the body; a request that has it gets a bodiless 304."""
    response.headers["Cache-Control"] = CACHE
    response.add_etag()
    return response.make_conditional(request)


def _unavailable(entries, health: dict) -> list[dict]:
    """The configured datasets without any data, and why (their data appears once fetched)."""
    return [{"id": e.id, "title": dict(e.title), "status": health[e.id]["status"], "reason": health[e.id]["reason"]}
            for e in entries if health[e.id]["status"] in ("failing", "loading")]


def _present_and_missing(service, ids: Iterable[str]) -> tuple[list, dict[str, dict]]:
    """The snapshots of the datasets that have data, and the health report of those that have not
    (each dataset looked up once)."""
    present, missing = [], []
    for dataset_id in ids:
        try:
            present.append(service.snapshot(dataset_id))
        except SourceError:
            missing.append(dataset_id)
    return present, (health_report(service.snapshot, missing) if missing else {})


def _frozen(health: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in health.items()))


def _listing(kind: str, present: list, missing: dict[str, dict], version: Callable, build: Callable) -> Response:
    """A listing of layers or indicators, prepared once per state of what it shows: its key is
    every listed snapshot's version and health (which a refresh, a failed one, or the data
    growing old changes: the process then holds a new snapshot) and the unavailable datasets'
    states."""
    key = (kind, tuple((version(s), _frozen(s.health)) for s in present),
           tuple((dataset_id, _frozen(report)) for dataset_id, report in missing.items()))
    body = prepared("snapshot").get(key, lambda: Body.of_json(build()))
    modified = max((s.fetched_at for s in present), default=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
    return send_body(body, "application/json", last_modified=modified)


def _layer_version(snap: LayerSnapshot) -> tuple:
    """What a layer's answers are made of: its data (the snapshot's version covers the dataset,
    when it was fetched and the metadata)."""
    return (snap.layer.id, snap.version)


@api.get("/api/v1/layers")
def layers():
    ctx = context()
    present, missing = _present_and_missing(ctx.layers, ctx.deployment.layer_ids)
    return _listing("layers", present, missing, _layer_version, lambda: {
        "layers": [_layer_json(s) for s in present],
        "unavailable": _unavailable([e for e in ctx.deployment.layers if e.id in missing], missing)})


def _snapshot_or_error(layer_id: str):
    try:
        return context().layers.snapshot(layer_id), None
    except NotFound:
        known = ", ".join(context().deployment.layer_ids)
        return None, _error(404, f"unknown layer {layer_id!r}", known_layers=known)
    except SourceError as exc:
        return None, _unavailable_error("layer", layer_id, exc)


@api.get("/api/v1/layers/<layer_id>.geojson")
def layer_geojson(layer_id: str):
    snap, error = _snapshot_or_error(layer_id)
    if error:
        return error
    profile = request.args.get("profile", "full")
    if profile not in PROFILES:
        return _error(400, f"unknown profile {profile!r}", known_profiles=", ".join(PROFILES))
    return send_body(snap.geojson(profile), "application/geo+json", last_modified=snap.fetched_at)


@api.get("/api/v1/layers/<layer_id>.<any(points, text):part>.json")
def layer_map_part(layer_id: str, part: str):
    """The map page's columns of a layer (services/layers.map_bodies)."""
    snap, error = _snapshot_or_error(layer_id)
    if error:
        return error
    if snap.tiles is not None:
        return _error(404, f"layer {layer_id!r} has {snap.count:,} places: the map gets it by chunks and summaries",
                      chunks=f"/api/v1/layers/{layer_id}/chunks/{CHUNK_Z}/<x>/<y>.json",
                      summary=f"/api/v1/layers/{layer_id}/summary.json")
    return send_body(snap.bodies[part], "application/json", last_modified=snap.fetched_at)


def _tiled_or_error(layer_id: str):
    snap, error = _snapshot_or_error(layer_id)
    if error is None and snap.tiles is None:
        error = _error(404, f"layer {layer_id!r} is sent whole, not by chunks",
                       points=f"/api/v1/layers/{layer_id}.points.json")
    return snap, error


@api.get("/api/v1/layers/<layer_id>/chunks/<int:z>/<int:x>/<int:y>.json")
def layer_chunk(layer_id: str, z: int, x: int, y: int):
    """Every place of one tile of a big layer, as the map's columns (services/map_index.py)."""
    snap, error = _tiled_or_error(layer_id)
    if error:
        return error
    body = snap.tiles.chunk_body(x, y) if z == CHUNK_Z else None
    if body is None:
        return _error(404, f"layer {layer_id!r} has no places in tile {z}/{x}/{y}", chunk_zoom=CHUNK_Z)
    return send_body(body, "application/json", last_modified=snap.fetched_at, version=snap.version)


@api.get("/api/v1/layers/<layer_id>/summary.json")
def layer_summary(layer_id: str):
    """A big layer after the map's filters: its count, and per cell within the view's tiles
    (services/map_index.TileIndex.summary). Query: z, bbox=x0,y0,x1,y1 (tiles at z), and the
    map's own keys for this layer: f.<filter>=<value>, area, q (services/map_state.py)."""
    snap, error = _tiled_or_error(layer_id)
    if error:
        return error
    ctx = context()
    try:
        box = Box.parse(request.args.get("z"), request.args.get("bbox"))
    except ValueError as exc:
        return _error(400, str(exc))
    view, problem = map_query_view(snap, request.args, ctx.areas)
    if problem:
        return _error(400, problem)
    now = local_now(ctx.deployment.timezone)
    timed = map_filters.time_dependent(view)
    key = ("summary", snap.version, box, view, (now.date, now.minutes) if timed else None)
    body = prepared("query").get(key, lambda: Body.of_json(snap.tiles.summary(snap.tiles.mask(view, now), box)))
    # an answer that depends on the clock ("open now") is good for a minute
    return send_body(body, "application/json", last_modified=snap.fetched_at,
                     headers={"Cache-Control": "public, max-age=60"} if timed else None,
                     version=None if timed else snap.version)


@api.get("/api/v1/layers/<layer_id>.csv")
def layer_csv(layer_id: str):
    snap, error = _snapshot_or_error(layer_id)
    if error:
        return error
    body = prepared("snapshot").get(("layer.csv", _layer_version(snap)), lambda: Body.of(csv_bytes(snap)))
    return send_body(body, CSV, last_modified=snap.fetched_at,
                     headers=_described("layers", snap.layer, snap.data_date))


@api.route("/api/v1/<path:rest>", methods=["GET", "HEAD"])
def api_not_found(rest: str):
    return _error(404, f"no such API route: /api/v1/{rest}")


class HealthCheck:
    """/healthz's answer, worked out at most every `ttl_s` seconds by `clock` (a monitor polling
    every second, or a load balancer's many, costs one Redis ping per period, not one per request;
    a Redis that went down shows as degraded within `ttl_s`)."""

    def __init__(self, ttl_s: float = HEALTH_S, clock: Callable[[], dt.datetime] | None = None):
        self.ttl_s = ttl_s
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.worked_out = 0  # how many times the report was made (read by tests)
        self._lock = threading.Lock()
        self._cached: tuple[dt.datetime, bytes] | None = None

    def body(self, ctx) -> bytes:
        now = self.clock()
        cached = self._cached
        if cached is None or not 0 <= (now - cached[0]).total_seconds() < self.ttl_s:
            with self._lock:
                cached = self._cached
                if cached is None or not 0 <= (now - cached[0]).total_seconds() < self.ttl_s:
                    cached = self._cached = (now, _json_bytes(self.report(ctx, now)))
        return cached[1]

    def report(self, ctx, now: dt.datetime) -> dict[str, Any]:
        self.worked_out += 1
        datasets = {**ctx.layers.health(), **ctx.indicators.health()}
        store = ctx.layers.store.status()
        # ok only when every dataset is current and the store keeps what is fetched (Redis up, the disk writable)
        ok = all(d["status"] == "ok" for d in datasets.values()) and store["healthy"] and not store.get("degraded")
        return {"status": "ok" if ok else "degraded", "deployment": ctx.deployment.id,
                "store": {k: store[k] for k in ("backend", "healthy", "degraded", "error") if k in store},  # no paths
                "time": now.replace(microsecond=0).isoformat(), "datasets": datasets}


@api.get("/healthz")
def healthz():
    body = current_app.extensions["mieruka-health"].body(context())
    return Response(body, mimetype="application/json", headers={"Cache-Control": "no-store"})


def register(server: Flask) -> None:
    server.register_blueprint(api)
    server.extensions["mieruka-health"] = HealthCheck()
    server.extensions["mieruka-prepared"] = {"snapshot": Prepared(entries=256, budget=128 * 1024 * 1024),
                                             "query": Prepared(entries=64, budget=64 * 1024 * 1024)}


# ---- indicators ----

def _indicator_json(snap) -> dict:
    spec = snap.indicator
    return {
        "id": spec.id,
        "title": dict(spec.title),
        "description": dict(spec.description),
        "definition": dict(spec.definition),
        "numerator": dict(spec.numerator),
        "denominator": dict(spec.denominator) if spec.denominator else None,
        "frequency": spec.frequency,
        "area_level": spec.area_level,
        "headline": spec.headline,
        "measures": [{"id": m.id, "title": dict(m.title), "unit": dict(m.unit), "frequency": m.frequency,
                      "higher_is": m.higher_is, "per_capita": m.per_capita} for m in spec.measures],
        "breakdown": dict(spec.breakdown) if spec.breakdown else None,
        "source": {"kind": spec.source.kind, "name": spec.source.name},
        "licence": dict(spec.licence),
        "credit": dict(spec.credit),
        "caveats": dict(spec.caveats) if spec.caveats else None,
        "sample": snap.sample,
        "status": snap.health.get("status"),
        "source_url": snap.source_url,
        "updated_at": snap.fetched_at.isoformat(),
        "source_modified": snap.source_modified.isoformat(),
        "data_date": snap.data_date,
        "links": {"json": f"/api/v1/indicators/{spec.id}.json", "csv": f"/api/v1/indicators/{spec.id}.csv"},
    }


def _indicator_version(snap) -> tuple:
    """What an indicator's answers are made of: its data, identified by where it is kept and when
    it was fetched (sample data: made once a day per process)."""
    return (snap.indicator.id, snap.dataset, snap.fetched_at, snap.source_modified, snap.source_url)


@api.get("/api/v1/indicators")
def indicators():
    ctx = context()
    present, missing = _present_and_missing(ctx.indicators, [i.id for i in ctx.deployment.indicators])
    return _listing("indicators", present, missing, _indicator_version, lambda: {
        "indicators": [_indicator_json(s) for s in present],
        "unavailable": _unavailable([e for e in ctx.deployment.indicators if e.id in missing], missing)})


def _indicator_query(args) -> tuple[dict[str, Any] | None, Response | None]:
    """The query string as IndicatorService.query's keyword arguments, normalised (what two
    requests that must get the same answer have in common), or a 400."""
    per_capita = args.get("per_capita", "0")
    if per_capita not in ("0", "1", "true", "false"):
        return None, _error(400, f"per_capita: {per_capita!r} must be 0 or 1")
    try:  # repeats collapsed, order kept; over the bound → 400 naming it
        areas = limits.bounded((a for a in args.get("area", "").split(",") if a), "area", limits.API_AREAS) or None
    except limits.TooMany as exc:
        return None, _error(400, str(exc), parameter=exc.parameter, limit=exc.limit)
    return {"measure": args.get("measure") or None, "areas": tuple(areas) if areas else None,
            "start": args.get("from") or None, "end": args.get("to") or None,
            "per_capita": per_capita in ("1", "true"), "breakdown": args.get("breakdown"),
            "lang": lang_or_default(args.get("lang"))}, None


def _indicator_answer(indicator_id: str, kind: str, serialise: Callable[[Any, list], bytes]):
    """(snapshot, prepared body, None) or (None, None, error response) for the request's query:
    the rows are selected and serialised once per snapshot version and normalised query (and
    population snapshot, for per-capita values) — the default query with the snapshot's other
    answers, parametrised ones in a bounded LRU."""
    query, error = _indicator_query(request.args)
    if error:
        return None, None, error
    service = context().indicators
    try:
        snap = service.snapshot(indicator_id)
        default = query == DEFAULT_QUERY | {"lang": query["lang"]}
        population = service.population_version() if query["per_capita"] else None
        key = (kind, _indicator_version(snap), tuple(query.items()), population)
        body = prepared("snapshot" if default else "query").get(
            key, lambda: Body.of(serialise(snap, service.query(indicator_id, **query))))
    except IndicatorNotFound:
        known = ", ".join(i.id for i in context().deployment.indicators)
        return None, None, _error(404, f"unknown indicator {indicator_id!r}", known_indicators=known)
    except BadQuery as exc:
        return None, None, _error(400, str(exc))
    except SourceError as exc:
        return None, None, _unavailable_error("indicator", indicator_id, exc)
    return snap, body, None


DEFAULT_QUERY = {"measure": None, "areas": None, "start": None, "end": None, "per_capita": False,
                 "breakdown": None, "lang": None}


@api.get("/api/v1/indicators/<indicator_id>.json")
def indicator_json(indicator_id: str):
    snap, body, error = _indicator_answer(indicator_id, "json", lambda snap, rows: _json_bytes({
        "indicator": indicator_id, "sample": snap.sample, "metadata": snap.metadata,
        "count": len(rows), "records": rows}))
    if error:
        return error
    return send_body(body, "application/json", last_modified=snap.fetched_at)


@api.get("/api/v1/indicators/<indicator_id>.csv")
def indicator_csv(indicator_id: str):
    snap, body, error = _indicator_answer(indicator_id, "csv", lambda _snap, rows: indicator_csv_bytes(rows))
    if error:
        return error
    return send_body(body, CSV, last_modified=snap.fetched_at,
                     headers=_described("indicators", snap.indicator, snap.data_date))


# ---- an area's profile ----

def _profile(code: str):
    """(area, rows, unavailable, None) or (None, None, None, error response)."""
    ctx = context()
    area = ctx.areas.get(code)
    if area is None:
        return None, None, None, _error(404, f"unknown area {code!r}: a municipality or ward code (5 or 6 digits)")
    rows, unavailable = ctx.indicators.profile(area.code, lang_or_default(request.args.get("lang")))
    return area, rows, unavailable, None


@api.get("/api/v1/areas/<code>.json")
def area_json(code: str):
    area, rows, unavailable, error = _profile(code)
    if error:
        return error
    return cacheable(jsonify({"area": {"code": area.code, "name": {"ja": area.name_ja, "en": area.name_en},
                                       "kind": area.kind},
                              "count": len(rows), "records": rows, "unavailable": unavailable}))


@api.get("/api/v1/areas/<code>.csv")
def area_csv(code: str):
    area, rows, _, error = _profile(code)
    if error:
        return error
    response = Response(indicator_csv_bytes(rows, PROFILE_COLUMNS), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="area-{area.code}.csv"'
    return cacheable(response)


# ---- places by name (services/gazetteer.py) ----

@api.get("/api/v1/places")
def places():
    """The municipalities, wards, towns and chōme matching `q` (at most 8, best first: name,
    kind, area, lat, lon, zoom, places), from the area table and the real layers' addresses;
    `sources`: the layers the towns come from. `lang=en` names them in English."""
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY:
        return _error(400, f"q: at most {MAX_QUERY} characters")
    lang = lang_or_default(request.args.get("lang"))
    ctx = context()
    snapshots = ctx.layers.snapshots()
    results = gazetteer(ctx.areas, snapshots).search(q, lang)
    sources = [{"layer": s.layer.id, "data_date": s.data_date} for s in snapshots if not s.sample]
    return cacheable(jsonify({"query": q, "results": results, "sources": sources}))


# ---- reports of a mistake (services/reports.py) ----

@api.post("/api/v1/reports")
def report_mistake():
    """A resident's report that a place's data is wrong: form fields (or JSON, or the query)
    layer, id, kind (services/reports.KINDS) and an optional note. 201 JSON; a plain form (no script)
    is sent back to the place's page with `reported=1`. 400 naming what is wrong, 404 for an
    unknown place, 429 over the per-address limit — nothing is stored then."""
    body = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(body, Mapping):
        return _error(400, "a report is form fields or a JSON object: layer, id, kind, note")
    fields = {**request.args, **body}  # the place may be named in the query (the details' form action)
    lid, rid = str(fields.get("layer") or ""), str(fields.get("id") or "")
    ctx = context()
    layer = ctx.deployment.layer(lid)
    snap = ctx.layers.snapshot(lid) if layer else None
    record = snap.record(rid) if snap else None
    if record is None:
        return _error(404, f"no place {lid[:40]!r}:{rid[:40]!r} to report on")
    try:
        kind, note = checked_report(fields.get("kind"), fields.get("note"))
    except ReportError as exc:
        return _error(400, str(exc))
    if not ctx.reports.allow(request.remote_addr or "?"):  # counted once the report could be kept
        response = _error(429, f"at most {REPORT_LIMIT} reports an hour from one address")
        response.headers["Retry-After"] = "3600"
        return response
    ctx.reports.add(lid, rid, str(record.get("name") or ""), snap.data_date, kind, note)
    if not request.is_json:  # a form sent without the page's script: back to the place, thanked
        lang = lang_or_default(fields.get("lang"))
        return Response(status=303, headers={"Location": href("/map", lang, sel=f"{lid}:{rid}", reported="1")})
    return jsonify({"ok": True}), 201
