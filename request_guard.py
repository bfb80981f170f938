"""What the server does with requests it should not serve as asked (issue 9): too large, too
long, malformed, too many, or aimed at what is not there. Every refusal is JSON
`{"error": {"status", "message", ...}}` — the API's own error form — and costs one log line,
never a traceback; a page path that does not exist gets the app's 404 page (app.py).

- a request body over MIERUKA_MAX_BODY_KB → 413; a query string over limits.QUERY_BYTES → 414
- a Dash callback request that no browser of this app could send (not JSON, nesting too deep,
  an unknown or clientside output, inputs that do not match the callback's, values of the
  wrong kind) → 400. Callbacks check their values with `checked`/`BadCallbackInput`.
- an unknown /_dash-component-suites/ path → 404; /_reload-hash → 404 unless MIERUKA_DEBUG
- MIERUKA_RATE_LIMIT → flask-limiter (Redis of MIERUKA_REDIS_URL, else memory) → 429
- MIERUKA_HSTS → Strict-Transport-Security; no server software version in `Server`
"""
from __future__ import annotations

import functools
import json
import logging
from typing import Any, Callable

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

import request_limits as limits
from settings import Settings

log = logging.getLogger("mieruka.requests")
CALLBACK = "_dash-update-component"
STATIC = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")


def error(status: int, message: str, **extra) -> Response:
    response = jsonify({"error": {"status": status, "message": message, **extra}})
    response.status_code = status
    return response


def refused(status: int, message: str, **extra) -> Response:
    """An error answer and its one log line (method, path, status, why)."""
    log.warning("%s %s → %d: %s", request.method, request.path[:200], status, message[:300])
    return error(status, message, **extra)


# ---------------------------------------------------------------- callbacks

class BadCallbackInput(ValueError):
    """A callback's input that the page's components cannot produce: the request is malformed."""


ANY = object()


def _matches(value: Any, shape: Any) -> bool:
    """`shape`: a type, None, ANY, a tuple of alternatives, [item shape] for a list (bounded
    by limits.CALLBACK_LIST) or {key: shape} for a dict that has at least those keys."""
    if shape is ANY:
        return True
    if shape is None:
        return value is None
    if isinstance(shape, tuple):
        return any(_matches(value, s) for s in shape)
    if isinstance(shape, list):
        return (isinstance(value, list) and len(value) <= limits.CALLBACK_LIST
                and all(_matches(v, shape[0]) for v in value))
    if isinstance(shape, dict):
        return isinstance(value, dict) and all(k in value and _matches(value[k], s) for k, s in shape.items())
    if shape is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, shape)


def checked(*shapes) -> Callable:
    """A callback's arguments must have these shapes (see _matches), else BadCallbackInput."""
    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for position, (value, shape) in enumerate(zip(args, shapes)):
                if not _matches(value, shape):
                    raise BadCallbackInput(f"{function.__name__}: argument {position + 1} is not of the kind "
                                           "the page sends")
            return function(*args, **kwargs)
        return wrapper
    return decorate


def _declared(item: Any, declared: dict) -> bool:
    """A body's input or state item matches the callback's declaration of it."""
    def one(entry, pattern: bool):
        return (isinstance(entry, dict) and entry.get("property") == declared["property"]
                and (isinstance(entry.get("id"), dict) if pattern else entry.get("id") == declared["id"]))
    if declared["id"].startswith("{"):  # a pattern-matching id (ALL): a list of matching components
        return isinstance(item, list) and len(item) <= limits.CALLBACK_LIST and all(one(e, True) for e in item)
    return one(item, False)


#: the values of inputs of callbacks the app does not write itself (Dash Pages' router)
INPUT_SHAPES = {"_pages_location.pathname": str, "_pages_location.search": (str, None)}


def callback_problem(body: Any, callback_map: dict) -> str | None:
    """Why a callback request's body is not one this app's pages send (None: it is)."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    output = body.get("output")
    entry = callback_map.get(output) if isinstance(output, str) else None
    if entry is None or "callback" not in entry:
        return "no server callback has this output"
    for key in ("inputs", "state"):
        given, declared = body.get(key, []), entry.get(key) or []
        if not isinstance(given, list) or len(given) != len(declared):
            return f"{key}: {len(declared)} expected"
        for item, spec in zip(given, declared):
            if not _declared(item, spec):
                return f"{key}: not {spec['id'][:80]}.{spec['property']}"
            shape = INPUT_SHAPES.get(f"{spec['id']}.{spec['property']}")
            if shape is not None and not _matches(item.get("value"), shape):
                return f"{key}: {spec['id']}.{spec['property']} is not of the kind the page sends"
    outputs = body.get("outputs")
    if not isinstance(outputs, (dict, list)) or (isinstance(outputs, list) and len(outputs) > limits.CALLBACK_LIST):
        return "outputs: not the callback's"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds: not a list of names"
    return None


def _guard_callbacks(app) -> None:
    server = app.server
    endpoint = next(r.endpoint for r in server.url_map.iter_rules() if r.rule.endswith(CALLBACK))
    dispatch = server.view_functions[endpoint]

    @functools.wraps(dispatch)
    def guarded(*args, **kwargs):
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except (ValueError, RecursionError):
            return refused(400, "the body is not JSON (or nested too deep)")
        problem = callback_problem(body, app.callback_map)
        if problem:
            return refused(400, f"malformed callback request: {problem}")
        try:
            return dispatch(*args, **kwargs)
        except BadCallbackInput as exc:
            return refused(400, f"malformed callback request: {exc}")

    server.view_functions[endpoint] = guarded


# ---------------------------------------------------------------- rate limit

def trust_proxies(server: Flask, settings: Settings) -> None:
    """Behind MIERUKA_PROXIES reverse proxies (deploy/nginx.conf), the client's address and the
    scheme are the last that many entries of X-Forwarded-For and -Proto, which those proxies
    append; an entry a client wrote itself before them is never read. The Host is never taken
    from a header. Without it the app is the edge and the headers are ignored."""
    if settings.proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies,
                                   x_host=0, x_port=0, x_prefix=0)


def install_rate_limit(server: Flask, settings: Settings):
    """flask-limiter with MIERUKA_RATE_LIMIT per client address, counted in MIERUKA_REDIS_URL's
    Redis (shared by all workers) or, without it, in each process's memory. Static files and
    /healthz are not counted. None when no limit is set."""
    if not settings.rate_limit:
        return None
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    def exempt() -> bool:
        return request.path == "/healthz" or request.path.startswith(STATIC)

    # application limits: one count per client over all routes (default limits count per route)
    return Limiter(get_remote_address, app=server, application_limits=[settings.rate_limit],
                   application_limits_exempt_when=exempt, storage_uri=settings.redis_url or "memory://",
                   headers_enabled=True, swallow_errors=True)  # a Redis outage must not take the site down


# ---------------------------------------------------------------- errors, headers

def register_errors(server: Flask) -> None:
    """Flask's own refusals (405, 413, 414, 429, …) as JSON with one log line."""
    @server.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 413:
            limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // 1024
            return refused(413, f"the request body is over the limit of {limit:,} KB")
        if exc.code == 429:
            response = refused(429, f"too many requests: at most {exc.description} from one address; "
                                    "try again later")
            retry = getattr(exc, "retry_after", None)
            if retry:
                response.headers["Retry-After"] = str(retry)
            return response
        if (exc.code or 500) >= 500:  # a fault of ours: Flask has logged it with its traceback
            return error(exc.code or 500, "the server could not answer this request")
        response = refused(exc.code, exc.description or exc.name)
        for name, value in exc.get_headers():  # e.g. a 405's Allow
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response


def register(app, settings: Settings) -> None:
    from dash.exceptions import DependencyException

    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = settings.max_body_kb * 1024
    register_errors(server)

    @server.errorhandler(DependencyException)
    def unknown_component_suite(_exc):
        return refused(404, "no such file")

    @server.before_request
    def refuse_early():
        if len(request.query_string) > limits.QUERY_BYTES:
            return refused(414, f"the query string is over the limit of {limits.QUERY_BYTES:,} bytes")
        if request.path.endswith("/_reload-hash") and not settings.debug:
            return refused(404, "no such path")
        return None

    @server.after_request
    def headers(response: Response) -> Response:
        ctx = current_app.extensions.get("mieruka")
        max_age = ctx.settings.hsts_max_age if ctx else settings.hsts_max_age
        if max_age:
            response.headers["Strict-Transport-Security"] = f"max-age={max_age}; includeSubDomains"
        return response

    _guard_callbacks(app)
    trust_proxies(server, settings)
    install_rate_limit(server, settings)
