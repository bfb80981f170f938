"""Offline use (issue 11): the service worker and the manifest are served as a phone needs
them (tests/browser/test_map.py reloads the map with the server gone)."""
from __future__ import annotations

import json


def test_the_service_worker_is_served_from_the_root_and_always_asked_again(client):
    answer = client.get("/sw.js")
    assert answer.status_code == 200 and answer.mimetype == "text/javascript"
    assert answer.headers["Cache-Control"] == "no-cache"  # a new worker reaches visitors on their next visit
    body = answer.data.decode()
    assert 'addEventListener("fetch"' in body and "data-mk-offline" in body


def test_the_manifest_names_the_deployment_and_its_icon_is_served(client):
    answer = client.get("/manifest.webmanifest")
    assert answer.status_code == 200 and answer.mimetype == "application/manifest+json"
    manifest = json.loads(answer.data)
    assert manifest["name"].endswith("大阪府") and manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert "/map?near=1" in [s["url"] for s in manifest["shortcuts"]]
    [icon] = manifest["icons"]
    picture = client.get(icon["src"])
    assert picture.status_code == 200 and picture.data.startswith(b"<svg")


def test_every_page_links_the_manifest_and_names_its_colour(client):
    for path in ("/", "/map", "/dashboard"):
        page = client.get(path).data.decode()
        assert '<link rel="manifest" href="/manifest.webmanifest">' in page, path
        assert '<meta name="theme-color" content="#10243e">' in page, path
