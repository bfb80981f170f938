"""How long a browser may keep the app's static files: a URL that carries the hash of the
file's content is kept a year without asking again (`immutable`); any other URL of a static
file is revalidated on each use (`no-cache` with an ETag: a 304 while it is unchanged).

- `/assets/<file>?v=<hash>`: the page's own CSS and scripts (app.py rewrites Dash's
  `?m=<mtime>` into the file's hash, `asset_url`);
- `/_dash-component-suites/<package>/<name>.v<hash>m<hash>.<ext>`: the components' bundles,
  named by their content hash (`content_hash`), and the chunks they load lazily, which carry
  the fingerprint of the bundle that loads them (their package's hash, or the version that
  the package wrote into its own code: fixed bytes for an installed package);
- `/_favicon.ico?v=<hash>`: Dash's icon (`favicon_url`).
A hash that is not the current file's (a page cached before a deploy) gets the short answer.
"""
from __future__ import annotations

import functools
import hashlib
import os
import pkgutil
import re
import sys
import threading

from flask import Flask, Response, request
from werkzeug.security import safe_join

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_OURS = re.compile(r"^v([0-9a-f]{8})m([0-9a-f]{12})$")  # content_hash's fingerprint
_DASHS = re.compile(r"^v([\w-]+)m([0-9a-fA-F]+)$")  # Dash's: version and modification time
_issued: dict[str, set[str]] = {}  # package → the fingerprints content_hash gave its files
_issued_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
def content_hash(namespace: str, path: str) -> str:
    """A component-suite file's name with its own hash: its URL changes with the file, not with
    a version (`dash_table/bundle.v1_2m3.js` → `dash_table/bundle.v<8 hex>m<12 hex>.js`)."""
    from dash.fingerprint import check_fingerprint

    original, _ = check_fingerprint(path)
    module = sys.modules[namespace]
    try:
        with open(os.path.join(os.path.dirname(module.__file__), original), "rb") as file:
            digest = hashlib.sha256(file.read()).hexdigest()
    except OSError:
        digest = hashlib.sha256(original.encode()).hexdigest()
    fingerprint = f"v{digest[:8]}m{digest[8:20]}"
    with _issued_lock:
        _issued.setdefault(namespace, set()).add(fingerprint)
    name, _, extension = original.rpartition("/")[2].partition(".")
    folder = original.rpartition("/")[0]
    return f"{folder + '/' if folder else ''}{name}.{fingerprint}.{extension}"


@functools.lru_cache(maxsize=256)
def _file_hash(path: str, _mtime_ns: int, _size: int) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:16]


def file_hash(path: str) -> str | None:
    """The hash of a file's content, read again only when its modification time or size changes."""
    try:
        info = os.stat(path)
        return _file_hash(path, info.st_mtime_ns, info.st_size)
    except OSError:
        return None


def asset_url(url: str, assets_folder: str, prefix: str = "/assets/") -> str:
    """`/assets/x.js?m=<mtime>` (Dash's) → `/assets/x.js?v=<hash of the file>`; other URLs unchanged."""
    path, _, query = url.partition("?")
    if not path.startswith(prefix) or not query.startswith("m="):
        return url
    digest = file_hash(safe_join(assets_folder, path[len(prefix):]) or "")
    return f"{path}?v={digest}" if digest else url


@functools.lru_cache(maxsize=1)
def favicon_hash() -> str:
    return hashlib.sha256(pkgutil.get_data("dash", "favicon.ico") or b"").hexdigest()[:16]


def favicon_url(prefix: str = "/") -> str:
    return f"{prefix}_favicon.ico?v={favicon_hash()}"


def _suite_is_versioned(package: str, name: str) -> bool:
    """A component-suite file name whose fingerprint pins its bytes: one content_hash issued for
    the package (the bundle's own, or the bundle's that loads this chunk), or the version of the
    installed package (chunk names the package wrote into its own code)."""
    parts = name.rpartition("/")[2].split(".")
    fingerprint = parts[1] if len(parts) > 2 else ""
    if _OURS.match(fingerprint):
        return fingerprint in _issued.get(package, ())
    dash_form = _DASHS.match(fingerprint)
    module = sys.modules.get(package)
    version = getattr(module, "__version__", None)
    return bool(dash_form and version and dash_form[1] == re.sub(r"[^\w-]", "_", str(version)))


def cache_control(path: str, assets_folder: str, assets_prefix: str = "/assets/") -> str | None:
    """The Cache-Control of a static file's answer at `path` (with the request's query), or None
    for a path that is not a static file."""
    if path.startswith(assets_prefix):
        version = request.args.get("v")
        current = file_hash(safe_join(assets_folder, path[len(assets_prefix):]) or "") if version else None
        return IMMUTABLE if version and version == current else REVALIDATE
    if path.startswith("/_dash-component-suites/"):
        package, _, name = path[len("/_dash-component-suites/"):].partition("/")
        return IMMUTABLE if _suite_is_versioned(package, name) else REVALIDATE
    if path == "/_favicon.ico":
        return IMMUTABLE if request.args.get("v") == favicon_hash() else REVALIDATE
    return None


def register(server: Flask, assets_folder: str) -> None:
    """Cache headers on every static answer (see the module's doc); one that is revalidated has
    an ETag and answers If-None-Match with a 304."""
    @server.after_request
    def static_cache(response: Response) -> Response:
        if response.status_code not in (200, 304):
            return response
        control = cache_control(request.path, assets_folder)
        if control is None:
            return response
        response.headers["Cache-Control"] = control
        if control == REVALIDATE and response.status_code == 200:
            if "ETag" not in response.headers:
                response.add_etag()
            response = response.make_conditional(request)
        return response
