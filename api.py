"""Flask routes: the machine-readable twin of every map layer, and the health check.

GET /api/v1/layers               JSON list of layers with metadata
GET /api/v1/layers/<id>.geojson  WGS84 FeatureCollection (pre-compressed, ETag);
                                 ?profile=map: only the fields the map filters on
GET /api/v1/layers/<id>.points.json, .text.json   the map page's columns (services/layers.map_bodies)
GET /api/v1/layers/<id>.csv      UTF-8 with BOM, opens in Excel
GET /api/v1/indicators           JSON list of indicators with metadata
GET /api/v1/indicators/<id>.json and .csv   long form; ?area=&from=&to=&per_capita=&measure=&breakdown=
GET /api/v1/areas/<code>.json and .csv      an area's latest value of every indicator (/dashboard?area=)
GET /healthz                     JSON status
Errors are JSON with a message, never an HTML page or a 500 stack trace.
"""
from __future__ import annotations

import datetime as dt
import logging

from flask import Blueprint, Flask, Response, jsonify, request

import request_limits as limits
from request_guard import error as _error
from data_sources import SourceError, SourceLoading, public_message
from i18n import lang_or_default
from services.context import context
from services.indicators import BadQuery
from services.indicators import NotFound as IndicatorNotFound
from services.indicators import PROFILE_COLUMNS
from services.indicators import csv_bytes as indicator_csv_bytes
from services.layers import PROFILES, LayerSnapshot, NotFound, csv_bytes

log = logging.getLogger(__name__)
api = Blueprint("api", __name__)
CACHE = "public, max-age=300"


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


def _described(response: Response, kind: str, spec, data_date: str) -> Response:
    """A download that cannot carry its metadata in-band (CSV): a `Link` to its entry on /data
    (rel="describedby") and to its licence (rel="license"), and a file name with the date its
    data is as of. `kind`: "layers" or "indicators"."""
    response.headers["Link"] = ", ".join([f'</data#dataset-{spec.id}>; rel="describedby"',
                                          f'</api/v1/{kind}>; rel="collection"',
                                          f'<{spec.licence["url"]}>; rel="license"'])
    response.headers["Content-Disposition"] = f'attachment; filename="{spec.id}-{data_date}.csv"'
    return response


def cacheable(response: Response) -> Response:
    """Public for CACHE, with an ETag of the body; a request that has it gets a bodiless 304."""
    response.headers["Cache-Control"] = CACHE
    response.add_etag()
    return response.make_conditional(request)


def _unavailable(entries, health: dict) -> list[dict]:
    """The configured datasets without any data, and why (their data appears once fetched)."""
    return [{"id": e.id, "title": dict(e.title), "status": health[e.id]["status"], "reason": health[e.id]["reason"]}
            for e in entries if health[e.id]["status"] in ("failing", "loading")]


@api.get("/api/v1/layers")
def layers():
    ctx = context()
    return jsonify({"layers": [_layer_json(s) for s in ctx.layers.snapshots()],
                    "unavailable": _unavailable(ctx.deployment.layers, ctx.layers.health())})


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
    return _send_prepared(snap, snap.bodies[profile], "application/geo+json")


@api.get("/api/v1/layers/<layer_id>.<any(points, text):part>.json")
def layer_map_part(layer_id: str, part: str):
    """The map page's columns of a layer (services/layers.map_bodies)."""
    snap, error = _snapshot_or_error(layer_id)
    if error:
        return error
    return _send_prepared(snap, snap.bodies[part], "application/json")


def _send_prepared(snap: LayerSnapshot, chosen, mimetype: str) -> Response:
    gzip_ok = "gzip" in request.headers.get("Accept-Encoding", "")
    etag = f'"{chosen.etag}-gz"' if gzip_ok else f'"{chosen.etag}"'  # one ETag per encoding
    if etag in request.headers.get("If-None-Match", "") or request.headers.get("If-None-Match") == "*":
        return Response(status=304, headers={"ETag": etag, "Cache-Control": CACHE, "Vary": "Accept-Encoding"})
    body = chosen.gzip if gzip_ok else chosen.raw
    response = Response(body, mimetype=mimetype)
    response.headers["Vary"] = "Accept-Encoding"
    if gzip_ok:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = CACHE
    response.headers["Last-Modified"] = snap.fetched_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response


@api.get("/api/v1/layers/<layer_id>.csv")
def layer_csv(layer_id: str):
    snap, error = _snapshot_or_error(layer_id)
    if error:
        return error
    response = Response(csv_bytes(snap), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Cache-Control"] = CACHE
    return _described(response, "layers", snap.layer, snap.data_date)


@api.route("/api/v1/<path:rest>", methods=["GET", "HEAD"])
def api_not_found(rest: str):
    return _error(404, f"no such API route: /api/v1/{rest}")


@api.get("/healthz")
def healthz():
    ctx = context()
    datasets = {**ctx.layers.health(), **ctx.indicators.health()}
    store = ctx.layers.store.status()
    # ok only when every dataset is current and the store keeps what is fetched (Redis up, the disk writable)
    ok = all(d["status"] == "ok" for d in datasets.values()) and store["healthy"] and not store.get("degraded")
    body = {"status": "ok" if ok else "degraded", "deployment": ctx.deployment.id,
            "store": {k: store[k] for k in ("backend", "healthy", "degraded", "error") if k in store},  # no server paths
            "time": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(), "datasets": datasets}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def register(server: Flask) -> None:
    server.register_blueprint(api)


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


@api.get("/api/v1/indicators")
def indicators():
    ctx = context()
    return cacheable(jsonify({"indicators": [_indicator_json(s) for s in ctx.indicators.snapshots()],
                              "unavailable": _unavailable(ctx.deployment.indicators, ctx.indicators.health())}))


def _indicator_rows(indicator_id: str):
    """(snapshot, rows, None) or (None, None, error response) for the query string."""
    service = context().indicators
    args = request.args
    per_capita = args.get("per_capita", "0")
    if per_capita not in ("0", "1", "true", "false"):
        return None, None, _error(400, f"per_capita: {per_capita!r} must be 0 or 1")
    try:  # repeats collapsed, order kept; over the bound → 400 naming it
        areas = limits.bounded((a for a in args.get("area", "").split(",") if a), "area", limits.API_AREAS) or None
    except limits.TooMany as exc:
        return None, None, _error(400, str(exc), parameter=exc.parameter, limit=exc.limit)
    try:
        snap = service.snapshot(indicator_id)
        rows = service.query(indicator_id, measure=args.get("measure") or None, areas=areas,
                             start=args.get("from") or None, end=args.get("to") or None,
                             per_capita=per_capita in ("1", "true"), breakdown=args.get("breakdown"),
                             lang=lang_or_default(args.get("lang")))
    except IndicatorNotFound:
        known = ", ".join(i.id for i in context().deployment.indicators)
        return None, None, _error(404, f"unknown indicator {indicator_id!r}", known_indicators=known)
    except BadQuery as exc:
        return None, None, _error(400, str(exc))
    except SourceError as exc:
        return None, None, _unavailable_error("indicator", indicator_id, exc)
    return snap, rows, None


@api.get("/api/v1/indicators/<indicator_id>.json")
def indicator_json(indicator_id: str):
    snap, rows, error = _indicator_rows(indicator_id)
    if error:
        return error
    return cacheable(jsonify({"indicator": indicator_id, "sample": snap.sample, "metadata": snap.metadata,
                              "count": len(rows), "records": rows}))


@api.get("/api/v1/indicators/<indicator_id>.csv")
def indicator_csv(indicator_id: str):
    snap, rows, error = _indicator_rows(indicator_id)
    if error:
        return error
    response = Response(indicator_csv_bytes(rows), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    return cacheable(_described(response, "indicators", snap.indicator, snap.data_date))


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
