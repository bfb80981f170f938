"""Offline use (issue 11): the service worker (offline/sw.js, at /sw.js so that it may look
after every page) and the web app manifest (/manifest.webmanifest: the deployment's name and
place from the message catalogs, its colours, the map and near me as shortcuts).
assets/mieruka-base.js registers the worker once a page has loaded, except in an embed (a site
that frames a page keeps its own offline story)."""
from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Flask, Response

from i18n import t

offline = Blueprint("offline", __name__)
SW = (Path(__file__).resolve().parent / "offline" / "sw.js").read_bytes()  # part of the release: read once
THEME = "#10243e"  # the header's colour (assets/mieruka.css .mk-header); also the pages' theme-color (app.py)


@offline.get("/sw.js")
def service_worker():
    # always asked again (a new worker replaces the old one on the next visit)
    return Response(SW, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@offline.get("/manifest.webmanifest")
def manifest():
    name = t("app.name", "ja")
    body = {
        "name": f"{name} — {t('brand.place', 'ja')}", "short_name": name, "lang": "ja",
        "description": t("home.lead", "ja"), "start_url": "/", "scope": "/", "display": "standalone",
        "background_color": "#ffffff", "theme_color": THEME,
        "icons": [{"src": "/assets/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
        "shortcuts": [{"name": t("nav.map", "ja"), "url": "/map"}, {"name": t("map.near_me", "ja"), "url": "/map?near=1"}],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json",
                    headers={"Cache-Control": "public, max-age=3600"})


def register(server: Flask) -> None:
    server.register_blueprint(offline)
