"""deploy/nginx.conf, as shipped, in front of the app: the data the app says may be kept is
answered from nginx's cache, one body per encoding; pages, /healthz and errors always reach
the app; and the app (MIERUKA_PROXIES=1) counts its rate limit per client as nginx saw it."""
from __future__ import annotations

import gzip
import http.client
import json
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import brotli
import pytest

from tests.live_config import running_app
from tests.nginx_proxy import NGINX, site_config, temp_paths
from tests.redis_server import free_port

BROWSER = "gzip, deflate, br, zstd"
LIMIT = 40  # requests a minute per client (MIERUKA_RATE_LIMIT): room for the cache checks

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (`make system` installs it)")


@pytest.fixture(scope="module")
def proxy():
    work = Path(tempfile.mkdtemp(prefix="mieruka-proxy-"))
    work.chmod(0o777)  # nginx's workers run as another user when the tests run as root
    try:
        with running_app(None, work / "app", MIERUKA_PROXIES="1", MIERUKA_RATE_LIMIT=f"{LIMIT}/minute",
                         MIERUKA_TILE_URL="/assets/blank-tile.png?{z}/{x}/{y}") as base:
            upstream = int(base.rsplit(":", 1)[1])
            port = free_port()
            (work / "site.conf").write_text(site_config(port, upstream, work / "cache"))
            (work / "nginx.conf").write_text(f"""
daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {work}/access.log; {temp_paths(work)}
    include {work}/site.conf;
}}""")
            nginx = subprocess.Popen([NGINX, "-p", str(work), "-c", str(work / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=open(work / "start.log", "wb"))
            try:
                deadline = time.time() + 30
                while request(port, "/healthz")[0] != 200:
                    if nginx.poll() is not None or time.time() > deadline:
                        raise RuntimeError("nginx did not start: " + (work / "start.log").read_text()
                                           + (work / "error.log").read_text() if (work / "error.log").exists() else "")
                    time.sleep(0.2)
                yield port, base
            finally:
                nginx.send_signal(signal.SIGQUIT)
                nginx.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def request(port: int, path: str, encoding: str = BROWSER, source: str = "127.0.0.1",
            headers: dict | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    try:
        connection.request("GET", path, headers={"Accept-Encoding": encoding, **(headers or {})})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    except OSError:
        return 0, {}, b""
    finally:
        connection.close()


def decoded(headers: dict, body: bytes) -> bytes:
    coding = headers.get("content-encoding")
    return brotli.decompress(body) if coding == "br" else gzip.decompress(body) if coding == "gzip" else body


def test_data_is_answered_from_the_cache_in_the_encoding_asked_for(proxy):
    port, base = proxy
    path = "/api/v1/layers/toilets.geojson?profile=map"
    first = request(port, path)
    second = request(port, path)
    assert first[0] == second[0] == 200
    assert (first[1]["x-cache-status"], second[1]["x-cache-status"]) == ("MISS", "HIT")
    assert second[1]["content-encoding"] == "br" and second[2] == first[2]
    assert second[1]["etag"] == first[1]["etag"] and "max-age=300" in second[1]["cache-control"]
    # another browser's header that names brotli shares the entry; gzip and none get their own, right
    assert request(port, path, "br")[1]["x-cache-status"] == "HIT"
    gz = [request(port, path, "gzip") for _ in range(2)]
    assert [r[1]["x-cache-status"] for r in gz] == ["MISS", "HIT"] and gz[1][1]["content-encoding"] == "gzip"
    plain = [request(port, path, "identity") for _ in range(2)]
    assert plain[1][1]["x-cache-status"] == "HIT" and "content-encoding" not in plain[1][1]
    features = {json.dumps(json.loads(decoded(r[1], r[2])), sort_keys=True) for r in (second, gz[1], plain[1])}
    assert len(features) == 1  # the three bodies are one document
    assert json.loads(plain[1][2])["type"] == "FeatureCollection"


def test_pages_health_and_errors_always_reach_the_app(proxy):
    port, _ = proxy
    for path in ("/map", "/healthz", "/api/v1/layers/unicorns.geojson"):
        answers = [request(port, path) for _ in range(2)]
        assert answers[1][1].get("x-cache-status") != "HIT", path
    assert answers[1][0] == 404 and json.loads(decoded(answers[1][1], answers[1][2]))["error"]


def test_the_rate_limit_counts_each_client_as_nginx_saw_it(proxy):
    port, _ = proxy
    # /data is a page: never cached, so every request is the app's to count
    codes = [request(port, "/data", source="127.0.0.3")[0] for _ in range(LIMIT + 1)]
    assert codes[-1] == 429 and codes.count(200) <= LIMIT
    # an X-Forwarded-For the client wrote itself does not make it someone else
    assert request(port, "/data", source="127.0.0.3", headers={"X-Forwarded-For": "198.51.100.9"})[0] == 429
    assert request(port, "/data", source="127.0.0.4")[0] == 200  # another client
