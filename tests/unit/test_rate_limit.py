"""MIERUKA_RATE_LIMIT: off by default; when set, a client over it gets 429 JSON with Retry-After,
counted in Redis (shared by all workers) when MIERUKA_REDIS_URL is set, else in memory. The
static files and /healthz are never counted. Run on a small Flask app with the app's own
installer and error handlers (Dash Pages allows one Dash app per process)."""
from __future__ import annotations

import uuid

import pytest
from flask import Flask, jsonify

import request_guard
from registry import ConfigError
from settings import Settings


def _server(settings: Settings) -> Flask:
    server = Flask(f"limited-{uuid.uuid4().hex[:6]}")
    request_guard.register_errors(server)
    request_guard.trust_proxies(server, settings)
    request_guard.install_rate_limit(server, settings)
    for path in ("/api/v1/layers", "/map", "/healthz", "/assets/mieruka.css", "/_dash-component-suites/dash/x.js"):
        server.add_url_rule(path, path, lambda: jsonify(ok=True))
    return server


@pytest.fixture(params=["memory", "redis"])
def storage(request):
    if request.param == "memory":
        return None
    return request.getfixturevalue("redis_server").url


def test_the_rate_limit_is_off_by_default_and_read_from_the_environment() -> None:
    assert Settings.from_env({}).rate_limit is None
    assert Settings.from_env({"MIERUKA_RATE_LIMIT": "300/minute"}).rate_limit == "300/minute"
    with pytest.raises(ConfigError, match="MIERUKA_RATE_LIMIT"):
        Settings.from_env({"MIERUKA_RATE_LIMIT": "lots"})
    server = _server(Settings())
    client = server.test_client()
    assert all(client.get("/api/v1/layers").status_code == 200 for _ in range(50))


def test_over_the_limit_is_429_json_with_retry_after(storage, caplog) -> None:
    client = _server(Settings(rate_limit="3/minute", redis_url=storage)).test_client()
    address = {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.0.{uuid.uuid4().int % 250}"}  # fresh in a shared Redis
    assert [client.get("/api/v1/layers", environ_base=address).status_code for _ in range(3)] == [200] * 3
    refused = client.get("/map", environ_base=address)
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["status"] == 429 and "3 per 1 minute" in error["message"]
    assert int(refused.headers["Retry-After"]) > 0
    assert [r.levelname for r in caplog.records if "429" in r.getMessage()] == ["WARNING"]
    other = {"REMOTE_ADDR": "192.0.2.77" if storage is None else f"192.0.2.{uuid.uuid4().int % 250}"}
    assert client.get("/api/v1/layers", environ_base=other).status_code == 200  # per client


def test_static_files_and_healthz_are_not_counted(storage) -> None:
    client = _server(Settings(rate_limit="2/minute", redis_url=storage)).test_client()
    address = {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.1.{uuid.uuid4().int % 250}"}
    for path in ("/healthz", "/assets/mieruka.css", "/_dash-component-suites/dash/x.js"):
        assert [client.get(path, environ_base=address).status_code for _ in range(5)] == [200] * 5, path
    assert client.get("/map", environ_base=address).status_code == 200


def test_the_counts_are_shared_through_redis(redis_server) -> None:
    """Two workers (two apps) on one Redis count one client's requests together."""
    settings = Settings(rate_limit="4/minute", redis_url=redis_server.url)
    first, second = _server(settings).test_client(), _server(settings).test_client()
    address = {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.2.{uuid.uuid4().int % 250}"}
    codes = [(first if i % 2 else second).get("/map", environ_base=address).status_code for i in range(5)]
    assert codes == [200, 200, 200, 200, 429]


def test_behind_a_proxy_the_client_is_the_address_the_proxy_saw_and_nothing_a_client_wrote(storage) -> None:
    assert Settings.from_env({}).proxies == 0 and Settings.from_env({"MIERUKA_PROXIES": "1"}).proxies == 1
    with pytest.raises(ConfigError, match="MIERUKA_PROXIES"):
        Settings.from_env({"MIERUKA_PROXIES": "nginx"})
    client = _server(Settings(rate_limit="3/minute", redis_url=storage, proxies=1)).test_client()
    scope = uuid.uuid4().hex[:4]  # fresh addresses: the Redis counts outlive a test

    def get(forwarded: str) -> int:
        return client.get("/api/v1/layers", headers={"X-Forwarded-For": forwarded}).status_code

    # what nginx sends: the client's own header (if any), then the address it saw
    assert [get(f"10.{int(scope, 16) % 250}.0.1") for _ in range(4)] == [200, 200, 200, 429]
    assert get(f"10.{int(scope, 16) % 250}.0.2") == 200  # another client has its own count
    assert get(f"198.51.100.7, 10.{int(scope, 16) % 250}.0.1") == 429  # a made-up entry before it changes nothing

    alone = _server(Settings(rate_limit="3/minute", redis_url=storage)).test_client()  # no proxy: the header is ignored
    codes = [alone.get("/api/v1/layers", headers={"X-Forwarded-For": f"10.9.{i}.1"}).status_code for i in range(4)]
    assert codes[-1] == 429
