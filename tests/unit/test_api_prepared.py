"""Issue 10, "the API at the static-file limit": answers made of bytes prepared once per
snapshot, in the encoding the client asks for, with validators and cache lifetimes that let a
browser or a proxy keep them; /healthz worked out at most every few seconds; static files
kept a year when their URL names their content."""
from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import re
from types import SimpleNamespace

import brotli
import pytest

import api
from services.layers import map_data_url
from services.prepared import PREPARED, Body, Prepared, negotiate

LAYER_MAP = "/api/v1/layers/toilets.geojson?profile=map"
PREPARED_URLS = [LAYER_MAP, "/api/v1/layers/aed.geojson", "/api/v1/layers/aed.csv", "/api/v1/layers",
                 "/api/v1/indicators", "/api/v1/indicators/crime.json", "/api/v1/indicators/crime.csv",
                 "/api/v1/indicators/population.json?area=271004&measure=total"]
DECODE = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda data: data}


def _get(client, url, encoding=None, **headers):
    if encoding is not None:
        headers["Accept-Encoding"] = encoding
    return client.get(url, headers=headers)


# ---------------------------------------------------------------- negotiation

@pytest.mark.parametrize("header, chosen", [
    (None, "identity"), ("", "identity"), ("identity", "identity"),
    ("gzip", "gzip"), ("br", "br"), ("gzip, deflate, br", "br"), ("gzip, deflate, br, zstd", "br"),
    ("br;q=0, gzip", "gzip"), ("br;q=0.5, gzip;q=0.8", "gzip"), ("gzip;q=0.5, br;q=0.4", "gzip"),
    ("gzip;q=0, br;q=0", "identity"), ("*", "br"), ("br;q=0, *", "gzip"), ("*;q=0", "identity"),
    ("identity;q=0.9, gzip;q=0.8", "identity"), ("zstd", "identity"), ("deflate", "identity"),
    ("x-gzip", "gzip"), ("GZIP;Q=1.0", "gzip"), ("br;q=nonsense, gzip", "gzip"),
])
def test_the_encoding_follows_accept_encoding_and_its_q_values(header, chosen) -> None:
    assert negotiate(header) == chosen


@pytest.mark.parametrize("url", PREPARED_URLS)
def test_each_encoding_decodes_to_the_same_bytes(client, url) -> None:
    plain = _get(client, url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    raw = plain.get_data()
    for header, encoding in [("br", "br"), ("gzip, deflate, br", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip"),
                             ("gzip;q=0, br;q=0", None), ("identity", None), ("zstd", None), ("deflate", None)]:
        answer = _get(client, url, header)
        assert answer.status_code == 200
        assert answer.headers.get("Content-Encoding") == encoding, header  # Flask-Compress added nothing
        assert "Accept-Encoding" in answer.headers["Vary"]
        assert DECODE[encoding](answer.get_data()) == raw, header
        assert int(answer.headers["Content-Length"]) == len(answer.get_data())
    assert len(_get(client, url, "br").get_data()) < len(raw)


def test_json_answers_are_still_what_they_were(client) -> None:
    crime = _get(client, "/api/v1/indicators/crime.json", "br")
    body = json.loads(brotli.decompress(crime.get_data()))
    assert body["indicator"] == "crime" and body["count"] == len(body["records"]) > 10_000
    assert crime.headers["Content-Type"] == "application/json"
    csv = _get(client, "/api/v1/indicators/crime.csv")
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.headers["Content-Disposition"].startswith('attachment; filename="crime-')
    assert 'rel="license"' in csv.headers["Link"]
    assert csv.get_data().startswith(b"\xef\xbb\xbf")


# ---------------------------------------------------------------- validators

@pytest.mark.parametrize("url", [LAYER_MAP, "/api/v1/layers", "/api/v1/indicators/crime.json",
                                 "/api/v1/layers/aed.csv"])
def test_a_304_for_the_etag_of_each_encoding(client, url) -> None:
    tags = {}
    for encoding in ("br", "gzip", "identity"):
        first = _get(client, url, encoding)
        tags[encoding] = first.headers["ETag"]
        assert re.fullmatch(r'"[0-9a-f]{20}(-br|-gz)?"', tags[encoding])
        again = _get(client, url, encoding, **{"If-None-Match": tags[encoding]})
        assert again.status_code == 304 and again.get_data() == b""
        assert again.headers["ETag"] == tags[encoding] and again.headers["Cache-Control"] == first.headers["Cache-Control"]
        assert "Accept-Encoding" in again.headers["Vary"] and "Content-Encoding" not in again.headers
        for matching in (f'"other", {tags[encoding]}', "*", f"W/{tags[encoding]}"):
            assert _get(client, url, encoding, **{"If-None-Match": matching}).status_code == 304, matching
    assert len(set(tags.values())) == 3, "one ETag per encoding"
    # a tag of another encoding is another representation: the whole answer
    other = _get(client, url, "br", **{"If-None-Match": tags["gzip"]})
    assert other.status_code == 200 and other.headers["Content-Encoding"] == "br"


def test_last_modified_and_if_modified_since(client) -> None:
    first = _get(client, LAYER_MAP, "gzip")
    modified = first.headers["Last-Modified"]
    assert modified.endswith(" GMT")
    assert _get(client, LAYER_MAP, "gzip", **{"If-Modified-Since": modified}).status_code == 304
    assert _get(client, LAYER_MAP, "gzip", **{"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}).status_code == 200
    # If-None-Match decides when both are given (RFC 9110 §13.2.2)
    both = _get(client, LAYER_MAP, "gzip", **{"If-Modified-Since": modified, "If-None-Match": '"other"'})
    assert both.status_code == 200


def test_a_versioned_url_is_immutable_and_a_stale_version_is_not(client, ctx) -> None:
    url = map_data_url(ctx.layers.snapshot("toilets"))
    assert "v=" in url
    versioned = _get(client, url, "br")
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert _get(client, url, "br", **{"If-None-Match": versioned.headers["ETag"]}).headers["Cache-Control"] == \
        "public, max-age=31536000, immutable"
    for other in (LAYER_MAP, LAYER_MAP + "&v=0123456789abcdef0123", "/api/v1/layers", "/api/v1/indicators/crime.json"):
        assert _get(client, other, "br").headers["Cache-Control"] == "public, max-age=300", other
    etag = ctx.layers.snapshot("aed").geojson("full").etag
    assert _get(client, f"/api/v1/layers/aed.geojson?v={etag}").headers["Cache-Control"].endswith("immutable")


# ---------------------------------------------------------------- prepared once

def test_a_warm_request_prepares_nothing(client, ctx, monkeypatch) -> None:
    queries = []
    real_query = ctx.indicators.query
    monkeypatch.setattr(ctx.indicators, "query", lambda *a, **k: queries.append(a) or real_query(*a, **k))
    for url in PREPARED_URLS:
        _get(client, url, "br")  # warm
    made, asked = PREPARED.value, len(queries)
    for url in PREPARED_URLS:
        for encoding in ("br", "gzip", None):
            assert _get(client, url, encoding).status_code == 200
    assert PREPARED.value == made, "no body serialised or compressed again"
    assert len(queries) == asked, "no rows selected again"
    # the same query written otherwise (repeated area, another order of keys) is the same answer
    _get(client, "/api/v1/indicators/population.json?measure=total&area=271004,271004", "br")
    assert PREPARED.value == made
    _get(client, "/api/v1/indicators/population.json?area=271004&measure=total&lang=en", "br")
    assert PREPARED.value == made + 1 and len(queries) == asked + 1, "a new query is prepared once"


def test_the_layer_bodies_are_the_snapshots_own_bytes(client, ctx) -> None:
    body = ctx.layers.snapshot("toilets").geojson("map")
    for encoding in ("br", "gzip", "identity"):
        assert _get(client, LAYER_MAP, encoding).get_data() == body.encoded(encoding)


def test_prepared_is_a_bounded_lru() -> None:
    cache = Prepared(entries=2, budget=10_000)
    made = []

    def build(key):
        made.append(key)
        return Body.of(key.encode() * 10)

    for key in ("a", "b", "a", "c", "a", "b"):
        cache.get(key, lambda key=key: build(key))
    assert made == ["a", "b", "c", "b"] and len(cache) == 2  # "b" was pushed out by "c", "a" was used last
    small = Prepared(entries=10, budget=1)
    small.get("x", lambda: Body.of(b"x" * 100))
    small.get("y", lambda: Body.of(b"y" * 100))
    assert len(small) == 1, "over the byte budget only the newest is kept"


def test_body_of_keeps_its_shape() -> None:
    body = Body.of(b'{"a":1}' * 100)
    assert gzip.decompress(body.gzip) == body.raw == brotli.decompress(body.br)
    assert body.tag("identity") == f'"{body.etag}"' and body.tag("gzip") == f'"{body.etag}-gz"'
    assert body.tag("br") == f'"{body.etag}-br"'


# ---------------------------------------------------------------- listings follow health

def test_the_layer_listing_follows_a_health_change(client, ctx, monkeypatch) -> None:
    before = _get(client, "/api/v1/layers", "br")
    listed = {layer["id"]: layer for layer in json.loads(brotli.decompress(before.get_data()))["layers"]}
    assert listed["aed"]["health"]["status"] == "ok"
    real_snapshot = ctx.layers.snapshot
    stale = {"status": "stale", "reason": "last refresh failed (1x): boom", "age_s": 90000.0,
             "code": "refresh_failed", "detail": "boom", "failures": 1}

    def aed_stale(layer_id):
        snap = real_snapshot(layer_id)
        return dataclasses.replace(snap, health=stale) if layer_id == "aed" else snap

    monkeypatch.setattr(ctx.layers, "snapshot", aed_stale)
    after = _get(client, "/api/v1/layers", "br")
    listed = {layer["id"]: layer for layer in json.loads(brotli.decompress(after.get_data()))["layers"]}
    assert listed["aed"]["health"]["status"] == "stale" and listed["aed"]["health"]["detail"] == "boom"
    assert after.headers["ETag"] != before.headers["ETag"]
    assert _get(client, "/api/v1/layers", "br", **{"If-None-Match": before.headers["ETag"]}).status_code == 200

    from data_sources import SourceUnavailable

    def aed_gone(layer_id):
        if layer_id == "aed":
            raise SourceUnavailable("layer aed: no data yet")
        return real_snapshot(layer_id)

    monkeypatch.setattr(ctx.layers, "snapshot", aed_gone)
    gone = json.loads(_get(client, "/api/v1/layers").get_data())
    assert "aed" not in [layer["id"] for layer in gone["layers"]]
    assert [(u["id"], u["status"]) for u in gone["unavailable"]] == [("aed", "failing")]
    monkeypatch.undo()
    made = PREPARED.value
    back = _get(client, "/api/v1/layers", "br")
    assert back.headers["ETag"] == before.headers["ETag"] and PREPARED.value == made, "the first listing, kept"


def test_the_indicator_listing_follows_a_health_change(client, ctx, monkeypatch) -> None:
    before = json.loads(_get(client, "/api/v1/indicators").get_data())
    assert {i["id"]: i["status"] for i in before["indicators"]}["crime"] == "ok"
    real_snapshot = ctx.indicators.snapshot
    monkeypatch.setattr(ctx.indicators, "snapshot", lambda i: dataclasses.replace(
        real_snapshot(i), health={**real_snapshot(i).health, "status": "stale"}) if i == "crime" else real_snapshot(i))
    after = json.loads(_get(client, "/api/v1/indicators").get_data())
    assert {i["id"]: i["status"] for i in after["indicators"]}["crime"] == "stale"


# ---------------------------------------------------------------- /healthz

class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class FakeStore:
    def __init__(self) -> None:
        self.redis_up = True
        self.pings = 0

    def status(self) -> dict:
        self.pings += 1
        return {"backend": "redis" if self.redis_up else "file", "healthy": True, "degraded": not self.redis_up}


def _fake_context(store):
    datasets = SimpleNamespace(health=lambda: {"aed": {"status": "ok"}})
    return SimpleNamespace(layers=SimpleNamespace(health=datasets.health, store=store),
                           indicators=SimpleNamespace(health=lambda: {}), deployment=SimpleNamespace(id="osaka"))


def test_healthz_pings_the_store_once_per_period_and_then_sees_redis_down() -> None:
    clock, store = Clock(), FakeStore()
    check, ctx = api.HealthCheck(ttl_s=2.0, clock=clock), _fake_context(store)
    assert json.loads(check.body(ctx))["status"] == "ok"
    for _ in range(50):
        check.body(ctx)
    assert store.pings == 1
    store.redis_up = False
    clock.advance(1.9)
    assert json.loads(check.body(ctx))["status"] == "ok", "the answer of the period"
    clock.advance(0.2)
    report = json.loads(check.body(ctx))
    assert report["status"] == "degraded" and report["store"]["degraded"] is True and store.pings == 2
    assert report["time"] == clock.now.replace(microsecond=0).isoformat()
    clock.advance(-60)  # a clock set back: worked out again rather than kept for a minute
    check.body(ctx)
    assert store.pings == 3


def test_the_healthz_route_serves_the_periods_answer(dash_app, client, ctx, monkeypatch) -> None:
    clock = Clock()
    monkeypatch.setitem(dash_app.server.extensions, "mieruka-health", api.HealthCheck(ttl_s=2.0, clock=clock))
    pings = []
    real_status = ctx.layers.store.status
    monkeypatch.setattr(ctx.layers.store, "status", lambda: pings.append(1) or real_status())
    first = client.get("/healthz")
    assert first.get_json()["status"] == "ok" and first.headers["Cache-Control"] == "no-store"
    assert client.get("/healthz").get_data() == first.get_data() and len(pings) == 1
    monkeypatch.setattr(ctx.layers.store, "status", lambda: pings.append(1) or {**real_status(), "healthy": False})
    clock.advance(2.5)
    assert client.get("/healthz").get_json()["status"] == "degraded" and len(pings) == 2


# ---------------------------------------------------------------- static files

IMMUTABLE = "public, max-age=31536000, immutable"


def _page_urls(client, path="/map") -> list[str]:
    page = client.get(path).get_data(as_text=True)
    return re.findall(r'(?:src|href)="(/(?:assets|_dash-component-suites|_favicon)[^"]*)"', page)


def test_static_urls_with_the_files_hash_are_immutable(client) -> None:
    urls = _page_urls(client)
    kinds = {u.split("/")[1].split(".")[0] for u in urls}
    assert kinds == {"assets", "_dash-component-suites", "_favicon"}, urls
    for url in urls:
        assert "?m=" not in url, url
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == IMMUTABLE, url


@pytest.mark.parametrize("url", ["/_favicon.ico", "/_favicon.ico?v=4.4.1", "/assets/mieruka.css",
                                 "/assets/mieruka.css?v=0000000000000000", "/assets/mieruka-base.js?m=123"])
def test_static_urls_without_the_files_hash_are_revalidated(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_component_suite_url_of_another_hash_or_version_is_revalidated(client) -> None:
    bundle = next(u for u in _page_urls(client) if "/dash_html_components." in u)
    assert client.get(bundle).headers["Cache-Control"] == IMMUTABLE
    for other in (re.sub(r"\.v[0-9a-f]{8}m[0-9a-f]{12}\.", ".v0badc0dem0123456789ab.", bundle),
                  re.sub(r"\.v[0-9a-f]{8}m[0-9a-f]{12}\.", ".v0_0_1m1700000000.", bundle)):
        response = client.get(other)
        assert response.status_code == 200, other
        assert response.headers["Cache-Control"] == "no-cache" and response.headers.get("ETag"), other
