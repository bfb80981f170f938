"""Security headers on every response: a strict Content-Security-Policy (the app serves all
its scripts and styles itself; only map tiles come from elsewhere), nosniff and a referrer
policy. Pages may be framed by the origins in MIERUKA_FRAME_ANCESTORS (the prefecture's
site embeds them); by default only by the app itself.

Inline scripts are allowed by hash, computed from the HTML actually served (Dash writes
two: its clientside-callback stub and the renderer's start-up line), so nothing else that
ends up inline in a page can run.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import re
from urllib.parse import urlsplit

from flask import Flask, Response

from settings import GSI_TILE_URL, Settings

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", re.S | re.I)
_DATA_TYPE = re.compile(r'type="application/(?:json|ld\+json)"', re.I)


def tile_origin(template: str) -> str | None:
    """The origin map tiles come from ('https://*.tile.example.org' for a {s} subdomain),
    or None when they are served by the app itself (a path)."""
    parts = urlsplit(template)
    if not parts.scheme or not parts.netloc:
        return None
    host = re.sub(r"^\{[a-z]+\}\.", "*.", parts.netloc)
    return f"{parts.scheme}://{host}"


@functools.lru_cache(maxsize=64)
def script_hashes(page: str) -> tuple[str, ...]:
    """CSP sources for the executable inline scripts of `page`."""
    hashes = []
    for attrs, body in _INLINE_SCRIPT.findall(page):
        if _DATA_TYPE.search(attrs):
            continue  # data, not code: CSP does not apply
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        hashes.append(f"'sha256-{digest}'")
    return tuple(dict.fromkeys(hashes))


# Of the browser's powerful features the app uses one: the position, for "near me", which
# an embedding site hands on with <iframe allow="geolocation"> (see mieruka.embedCode).
PERMISSIONS = "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"


def policy(settings: Settings, inline_scripts: tuple[str, ...] = ()) -> str:
    tiles = tile_origin(settings.tile_url or GSI_TILE_URL)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *inline_scripts],
        # plotly and Leaflet add <style> elements and style attributes at run time
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *([tiles] if tiles else [])],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": settings.frame_ancestors.split(),
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def register(server: Flask, settings: Settings) -> None:
    # the settings never change: the policy differs only by the page's inline scripts
    policy_for = functools.lru_cache(maxsize=64)(functools.partial(policy, settings))

    @server.after_request
    def secure(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        inline: tuple[str, ...] = ()
        if response.mimetype == "text/html" and not response.direct_passthrough:
            inline = script_hashes(response.get_data(as_text=True))
        response.headers["Content-Security-Policy"] = policy_for(inline)
        return response
