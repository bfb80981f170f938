"""A layer served from a live upstream (a local CKAN speaking the real Action API) through
the shared store: fetched once for many cold callers, kept when the upstream fails,
served stale at once while a slow upstream refreshes, and still served when Redis dies."""
from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from data_sources import SourceLoading, SourceUnavailable
from data_sources.store import FileStore, open_store
from registry import load_deployment
from services.areas import AreaTable
from services.layers import LayerService
from settings import Settings
from tests.fakes.servers import CkanServer, ResourceFile, aed_rows, csv_bytes
from tests.live_config import ROOT, live_config
from tests.redis_server import RedisServer, at_once, redis_server_binary



def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self):
        self.now = utc(2026, 11, 25, 3, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def ckan():
    with CkanServer() as server:
        server.publish("aed-toyonaka", "AED設置場所一覧（豊中市）", organization=("toyonaka-city", "豊中市"),
                       modified=utc(2026, 4, 1), resources=[ResourceFile(
                           "AED一覧", "CSV", "aed.csv", csv_bytes(aed_rows(3), "cp932"), "text/csv", utc(2026, 4, 1))])
        yield server


def deployment(tmp_path: Path, ckan_url: str):
    return load_deployment(live_config(tmp_path, {"aed": {"kind": "ckan", "url": ckan_url, "dataset": "aed-toyonaka",
                                                          "ttl": 600}}))


def service(tmp_path, ckan, store=None, background=None, clock=None) -> LayerService:
    dep = deployment(tmp_path, ckan.url)
    return LayerService(dep, AreaTable.from_csv(dep.area_table), Settings(cache_dir=tmp_path / "cache"),
                        store=store or FileStore(tmp_path / "store"), clock=clock or Clock(),
                        background=background or (lambda job: job()))


def downloads(ckan) -> int:
    return sum(1 for r in ckan.requests if r.path.endswith("/aed.csv"))


def test_a_ckan_layer_is_fetched_decoded_and_normalised(tmp_path, ckan):
    layers = service(tmp_path, ckan)
    snap = layers.snapshot("aed")
    assert snap.count == 3
    assert {r["area_code"] for r in snap.records} == {"272035"}
    assert snap.records[0]["name"].startswith("豊中市役所")  # CP932 decoded, full-width kept
    assert snap.records[0]["child_pads"] is True
    assert snap.sample is False and snap.health["status"] == "ok"
    assert snap.source_url.startswith(ckan.url) and snap.data_date == "2026-04-01"


def test_twenty_concurrent_cold_requests_make_one_upstream_fetch(tmp_path, ckan):
    layers = service(tmp_path, ckan)
    results = at_once(20, lambda: layers.snapshot("aed").count)
    assert results == [3] * 20
    assert downloads(ckan) == 1


def test_an_upstream_failing_after_a_good_fetch_keeps_the_data_and_says_so(tmp_path, ckan):
    clock = Clock()
    layers = service(tmp_path, ckan, clock=clock)
    good = layers.snapshot("aed")
    ckan.fail_always("500")
    clock.advance(601)  # past the ttl: the next look triggers a refresh, which fails
    layers.snapshot("aed")
    clock.advance(31)  # past the process's recheck interval
    snap = layers.snapshot("aed")
    assert [r["id"] for r in snap.records] == [r["id"] for r in good.records]
    assert snap.health["status"] == "stale" and "500" in (snap.health["reason"] or "")
    assert layers.health()["aed"]["status"] == "stale"
    assert layers.health()["toilets"]["status"] == "ok"


def test_a_slow_upstream_does_not_hold_up_the_page(tmp_path, ckan):
    clock = Clock()
    threads: list[threading.Thread] = []

    def in_a_thread(job):
        threads.append(threading.Thread(target=job, daemon=True))
        threads[-1].start()

    layers = service(tmp_path, ckan, clock=clock, background=in_a_thread)
    with pytest.raises(SourceLoading):  # cold: the first fetch runs in the background
        layers.snapshot("aed")
    threads[-1].join()
    assert layers.snapshot("aed").count == 3
    ckan.slow_seconds = 3.0
    ckan.fail_always("slow")
    clock.advance(601)
    snap = layers.snapshot("aed")  # stale: answered from the store while the refresh waits upstream
    assert snap.count == 3
    assert threads and threads[-1].is_alive(), "the refresh is still waiting for the slow upstream"
    ckan.reset()
    threads[-1].join(30)


def test_a_layer_that_never_had_data_is_unavailable_not_an_error(tmp_path, ckan):
    ckan.fail_always("500")
    layers = service(tmp_path, ckan)
    with pytest.raises(SourceUnavailable, match="aed"):
        layers.snapshot("aed")
    assert "aed" not in [s.layer.id for s in layers.snapshots()]
    assert layers.health()["aed"]["status"] == "failing"


@pytest.mark.skipif(redis_server_binary() is None, reason="redis-server is not installed")
def test_layers_are_still_served_when_redis_stops(tmp_path, ckan):
    redis = RedisServer().start()
    try:
        clock = Clock()
        layers = service(tmp_path, ckan, store=open_store(redis.url, tmp_path / "files", redis_retry_s=0),
                         clock=clock)
        assert layers.snapshot("aed").count == 3
        assert layers.store.status()["backend"] == "redis"
        redis.stop()
        clock.advance(31)
        assert layers.snapshot("aed").count == 3  # from the file fallback
        assert layers.snapshot("wifi").count == 2000  # sample data, kept in the store like any
        assert layers.store.status()["backend"] == "file"
    finally:
        redis.close()


def test_the_refresh_worker_fills_the_store_the_app_reads(tmp_path, ckan):
    import os
    import subprocess
    import sys

    dep = deployment(tmp_path, ckan.url)
    env = dict(os.environ, MIERUKA_CONFIG=str(dep.path), MIERUKA_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("MIERUKA_REDIS_URL", None)
    run = subprocess.run([sys.executable, "worker.py", "--only", "aed"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "aed: ok, 3 rows" in run.stderr
    assert downloads(ckan) == 1
    # a web process with the same cache directory serves it without asking the upstream again
    layers = LayerService(dep, AreaTable.from_csv(dep.area_table), Settings(cache_dir=tmp_path / "cache"))
    assert layers.snapshot("aed").count == 3 and downloads(ckan) == 1
    ckan.fail_always("500")
    run = subprocess.run([sys.executable, "worker.py", "--only", "aed"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "aed: stale, 3 rows" in run.stderr and "500" in run.stderr
    assert layers.snapshot("aed").count == 3


def test_the_map_says_which_layers_are_old_or_missing(tmp_path, ckan, dash_app):
    import importlib

    from tests.component_text import text_of

    clock = Clock()
    layers = service(tmp_path, ckan, clock=clock)
    layers.snapshot("aed")
    ckan.fail_always("500")
    clock.advance(601)
    layers.snapshot("aed")
    clock.advance(31)
    snapshots = {s.layer.id: s for s in layers.snapshots()}
    del snapshots["wifi"]  # as if it never had data
    page = importlib.import_module("pages.map")
    health = {**layers.health(), "wifi": {"status": "failing"}}
    notices = text_of(page.data_notices(layers.deployment, snapshots, health, "ja"))
    assert "「AED設置場所」は最新のデータを取得できなかったため" in notices
    assert "「公衆無線LAN」のデータを取得できないため、表示していません。" in notices
    assert "公衆トイレ" not in notices
