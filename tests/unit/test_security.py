"""The security headers: a strict Content-Security-Policy whose only outside origin is the
map tiles', inline scripts allowed by hash only, and framing limited to the configured sites."""
from __future__ import annotations

import pytest

from registry import ConfigError
from security import policy, script_hashes, tile_origin
from settings import Settings


def directives(text: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in text.split("; ")}


def test_the_only_outside_origin_is_the_tile_server() -> None:
    gsi = directives(policy(Settings()))
    assert gsi["img-src"] == ["'self'", "data:", "blob:", "https://cyberjapandata.gsi.go.jp"]
    for name, values in gsi.items():
        if name != "img-src":
            assert not any(v.startswith("http") for v in values), name
    assert gsi["script-src"] == ["'self'"] and gsi["object-src"] == ["'none'"]
    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert tile_origin("/assets/blank-tile.png?{z}/{x}/{y}") is None  # the app's own: 'self'


def test_inline_scripts_are_allowed_by_the_hash_of_what_is_served() -> None:
    page = ('<script id="_dash-config" type="application/json">{"a": 1}</script>'
            '<script src="/x.js"></script><script>var renderer = new DashRenderer();</script>')
    [digest] = script_hashes(page)
    assert digest == "'sha256-jZlsGVOhUAIcH+4PVs7QuGZkthRMgvT2n0ilH6/zTM0='"  # of the renderer line only
    assert directives(policy(Settings(), (digest,)))["script-src"] == ["'self'", digest]


def test_pages_carry_the_policy_and_the_other_headers(client) -> None:
    for path in ("/", "/map", "/api/v1/layers", "/healthz"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        features = dict(f.split("=") for f in response.headers["Permissions-Policy"].split(", "))
        assert features["geolocation"] == "(self)" and features["camera"] == features["microphone"] == "()", path
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"], path
    served = client.get("/map").get_data(as_text=True)
    assert directives(client.get("/map").headers["Content-Security-Policy"])["script-src"][1:] == list(
        script_hashes(served))


def test_the_sites_that_may_frame_the_pages_come_from_the_environment() -> None:
    settings = Settings.from_env({"MIERUKA_FRAME_ANCESTORS": "'self'  https://www.pref.osaka.lg.jp"})
    assert directives(policy(settings))["frame-ancestors"] == ["'self'", "https://www.pref.osaka.lg.jp"]
    for bad in ("www.pref.osaka.lg.jp", "https://a.jp; script-src *", "javascript:"):
        with pytest.raises(ConfigError, match="MIERUKA_FRAME_ANCESTORS"):
            Settings.from_env({"MIERUKA_FRAME_ANCESTORS": bad})
