"""Faults that must leave the app serving and honest (issue 9): an upstream that hangs on a
cold start, a refresh killed while it holds the lock, two deployments on one Redis, a
source changed in the config, a full disk, a truncated snapshot, Redis restarted empty.

Upstreams are local servers speaking the real protocol (tests/fakes); Redis is a real
redis-server; the full disk is a real 1 MB tmpfs (skipped where it cannot be mounted).
Waits are bounded hang guards, never limits on how fast anything must be.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from data_sources import SourceLoading, SourceUnavailable
from data_sources.refresh import get_snapshot
from data_sources.store import DEFAULT_LEASE_S, FileStore, RedisStore, Snapshot, open_store
from registry import load_deployment, prefecture_deployment
from services.areas import AreaTable
from services.layers import LayerService
from settings import Settings
from tests.fakes.servers import CkanServer, ResourceFile, aed_rows, csv_bytes
from tests.live_config import live_config
from tests.redis_server import RedisServer, redis_server_binary
from tests.unit.test_live_layers import Clock, utc

needs_redis = pytest.mark.skipif(redis_server_binary() is None, reason="redis-server is not installed")
HANG_GUARD_S = 120  # only so that a regression fails instead of hanging the suite


def publish_aed(ckan: CkanServer, count: int = 3) -> None:
    ckan.publish("aed-toyonaka", "AED設置場所一覧（豊中市）", organization=("toyonaka-city", "豊中市"),
                 modified=utc(2026, 4, 1), resources=[ResourceFile(
                     "AED一覧", "CSV", "aed.csv", csv_bytes(aed_rows(count), "cp932"), "text/csv", utc(2026, 4, 1))])


@pytest.fixture
def ckan():
    with CkanServer() as server:
        publish_aed(server)
        yield server


def layer_service(tmp_path: Path, ckan_url: str, store, **kwargs) -> LayerService:
    tmp_path.mkdir(parents=True, exist_ok=True)
    dep = load_deployment(live_config(tmp_path, {"aed": {"kind": "ckan", "url": ckan_url, "dataset": "aed-toyonaka",
                                                         "ttl": 600}}))
    return LayerService(dep, AreaTable.from_csv(dep.area_table), Settings(cache_dir=tmp_path / "cache"),
                        store=store, **kwargs)


def until(condition, what: str):
    deadline = time.monotonic() + HANG_GUARD_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {HANG_GUARD_S}s")
        threading.Event().wait(0.05)


# ---------------------------------------------------------------- a cold start against a hanging upstream

def test_a_hanging_upstream_on_a_cold_start_holds_up_nothing_but_its_own_layer(tmp_path, ckan):
    ckan.hold()  # the catalog accepts connections and answers nothing
    layers = layer_service(tmp_path, ckan.url, FileStore(tmp_path / "store"))  # real background threads
    served: list[list[str]] = []
    requests = [threading.Thread(target=lambda: served.append([s.layer.id for s in layers.snapshots()]))
                for _ in range(8)]
    for request in requests:
        request.start()
    for request in requests:
        request.join(HANG_GUARD_S)
    assert len(served) == 8, "every request was answered while the upstream still hangs"
    assert all("aed" not in ids and "toilets" in ids and "wifi" in ids for ids in served)
    assert layers.health()["aed"]["status"] == "loading"
    with pytest.raises(SourceLoading, match="aed"):
        layers.snapshot("aed")
    assert len(ckan.requests_to("/api/action/package_show")) <= 1, "one fetch, however many requests"
    ckan.release()
    until(lambda: layers.health()["aed"]["status"] == "ok", "fetched after the upstream answered")
    assert layers.snapshot("aed").count == 3
    assert len(ckan.requests_to("/api/action/package_show")) == 1


def test_the_retry_pause_runs_from_the_end_of_a_long_failed_attempt(tmp_path):
    clock = Clock()
    attempts = []

    def slow_failure():
        attempts.append(clock())
        clock.advance(100)  # the attempt took 100 s and then failed
        raise SourceUnavailable("no answer")

    store = FileStore(tmp_path)
    kwargs = dict(ttl_s=600, fetch=slow_failure, now=clock, background=lambda job: job(), retry_s=30,
                  wait_when_cold=False)
    assert get_snapshot(store, "d", **kwargs) is None and len(attempts) == 1
    clock.advance(29)  # 129 s after the attempt started, 29 s after it ended
    assert get_snapshot(store, "d", **kwargs) is None and len(attempts) == 1, "the upstream is spared"
    clock.advance(2)
    assert get_snapshot(store, "d", **kwargs) is None and len(attempts) == 2


# ---------------------------------------------------------------- a refresh killed while it holds the lock

def _hold_lock_until_killed(url: str, dataset: str, ready) -> None:
    store = RedisStore(url)
    with store.lock(dataset, 5.0) as held:  # the default lease, as a refresh takes it
        assert held
        ready.set()
        threading.Event().wait(3600)


@needs_redis
def test_a_refresh_killed_holding_the_lock_frees_it_within_one_lease(tmp_path):
    with RedisServer() as redis:
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        holder = context.Process(target=_hold_lock_until_killed, args=(redis.url, "cold", ready), daemon=True)
        holder.start()
        assert ready.wait(60)
        holder.kill()  # SIGKILL mid-refresh: the lock is never released
        holder.join()
        store = RedisStore(redis.url)
        fetched = []

        def fetch():
            fetched.append(1)
            return {"records": [{"id": 1}]}, {}

        # a request meanwhile is answered at once: no data yet, the fetch is not started twice
        assert get_snapshot(store, "cold", ttl_s=60, fetch=fetch, background=lambda job: job(),
                            wait_when_cold=False) is None
        assert fetched == []
        with store.lock("cold", DEFAULT_LEASE_S * 4) as held:
            assert held, "the dead holder's lease ran out"
        assert get_snapshot(store, "cold", ttl_s=60, fetch=fetch, background=lambda job: job(),
                            wait_when_cold=False).payload == {"records": [{"id": 1}]}


@needs_redis
def test_a_live_holder_keeps_its_lock_however_long_it_takes(tmp_path):
    with RedisServer() as redis:
        holder, other = RedisStore(redis.url), RedisStore(redis.url)
        with holder.lock("slow", 1.0, lease_s=1.5) as held:
            assert held
            started = time.monotonic()
            while time.monotonic() - started < 4.5:  # three leases
                with other.lock("slow", 0.0, blocking=False) as stolen:
                    assert not stolen, "the lease was renewed while its holder works"
                threading.Event().wait(0.1)
        with other.lock("slow", 0.0, blocking=False) as taken:
            assert taken, "released by its holder"


# ---------------------------------------------------------------- whose data is it

@needs_redis
def test_two_prefectures_sharing_one_redis_serve_their_own_data(tmp_path):
    with RedisServer() as redis:
        served = {}
        for key in ("27", "29"):
            dep = prefecture_deployment(key)
            store = open_store(redis.url, tmp_path / key)
            layers = LayerService(dep, AreaTable.from_csv(dep.area_table), Settings(cache_dir=tmp_path / key),
                                  store=store)
            served[key] = {r["area_code"][:2] for r in layers.snapshot("evacuation-sites").records}
        assert served == {"27": {"27"}, "29": {"29"}}


def test_a_source_changed_in_the_config_is_fetched_anew_not_served_as_the_old_one(tmp_path, ckan):
    store = FileStore(tmp_path / "store")
    inline = {"background": lambda job: job()}
    first = layer_service(tmp_path / "a", ckan.url, store, **inline)
    assert first.snapshot("aed").count == 3
    with CkanServer() as other:
        publish_aed(other, count=2)
        changed = layer_service(tmp_path / "b", other.url, store, **inline)  # same deployment, another catalog
        assert changed.dataset_key(changed.layer("aed")) != first.dataset_key(first.layer("aed"))
        snap = changed.snapshot("aed")
        assert snap.count == 2 and snap.health["status"] == "ok"
        assert snap.source_url.startswith(other.url)


# ---------------------------------------------------------------- the store loses or refuses data

@contextlib.contextmanager
def small_disk(path: Path, size: str = "1m"):
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill ({mounted.stderr.strip() or 'not root'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> None:
    with contextlib.suppress(OSError), open(path / "filler", "wb", buffering=0) as fh:
        while True:
            fh.write(b"\0" * 4096)


def test_a_full_disk_keeps_the_last_good_file_serves_the_new_data_and_says_so(tmp_path, ckan):
    with small_disk(tmp_path / "disk") as disk:
        clock = Clock()
        layers = layer_service(tmp_path, ckan.url, FileStore(disk), clock=clock, background=lambda job: job())
        assert layers.snapshot("aed").count == 3
        stored = (disk / f"{layers.dataset_key(layers.layer('aed'))}.json.gz").read_bytes()
        assert layers.store.status()["healthy"]
        fill(disk)
        publish_aed(ckan, count=4)
        clock.advance(601)  # stale: refreshed, and the new snapshot cannot be written
        layers.snapshot("aed")
        clock.advance(31)
        assert layers.snapshot("aed").count == 4, "computed fine: served from memory"
        status = layers.store.status()
        assert status["healthy"] is False and "No space left" in status["error"]
        assert Snapshot.from_bytes(stored).payload == Snapshot.from_bytes(
            (disk / f"{layers.dataset_key(layers.layer('aed'))}.json.gz").read_bytes()).payload, "old file whole"
        assert not list(disk.glob(".*.tmp")), "no half-written temporary file left behind"


def test_temporary_files_of_killed_writes_are_removed_when_the_store_opens(tmp_path):
    FileStore(tmp_path).put(Snapshot("d", {"records": [1]}, {"fetched_at": "2026-12-01T00:00:00+00:00"}))
    left = tmp_path / ".d.abc123.tmp"
    left.write_bytes(b"half a snapshot")
    old = time.time() - 3600
    os.utime(left, (old, old))
    recent = tmp_path / ".d.def456.tmp"  # another process writing right now: left alone
    recent.write_bytes(b"being written")
    store = FileStore(tmp_path)
    assert not left.exists() and recent.exists()
    assert store.get("d").payload == {"records": [1]}


def test_a_truncated_snapshot_while_the_source_is_down_keeps_the_layer(tmp_path, ckan):
    clock = Clock()
    layers = layer_service(tmp_path, ckan.url, FileStore(tmp_path / "store"), clock=clock,
                           background=lambda job: job())
    assert layers.snapshot("aed").count == 3
    path = tmp_path / "store" / f"{layers.dataset_key(layers.layer('aed'))}.json.gz"
    path.write_bytes(path.read_bytes()[:40])  # a disk error, an operator's mistake
    ckan.stop()
    clock.advance(31)  # the process looks at the store again
    snap = layers.snapshot("aed")
    assert snap.count == 3, "the copy in memory is served"
    assert snap.health["status"] == "stale" and "refused" in snap.health["reason"].lower()
    assert FileStore(tmp_path / "store").get(path.name.removesuffix(".json.gz")).payload["records"], "written back"


@needs_redis
def test_redis_restarted_empty_is_filled_again_and_healthz_knows_the_outage(tmp_path, ckan):
    redis = RedisServer().start()
    try:
        clock = Clock()
        store = open_store(redis.url, tmp_path / "files", redis_retry_s=0)
        layers = layer_service(tmp_path, ckan.url, store, clock=clock, background=lambda job: job())
        assert layers.snapshot("aed").count == 3
        key = layers.dataset_key(layers.layer("aed"))
        redis.stop()
        assert store.status()["degraded"] is True and store.status()["healthy"] is True  # the files serve
        clock.advance(31)
        assert layers.snapshot("aed").count == 3
        redis.start()  # no persistence: it comes back empty
        clock.advance(31)
        assert layers.snapshot("aed").count == 3
        assert RedisStore(redis.url).get(key).payload["records"], "Redis holds the data again"
        assert store.status()["degraded"] is False
    finally:
        redis.close()


@needs_redis
def test_healthz_says_degraded_while_redis_is_down_and_pages_stay_up(tmp_path):
    from tests.live_config import get_json, running_app

    with RedisServer() as redis:
        with running_app(None, tmp_path / "cache", MIERUKA_REDIS_URL=redis.url) as base:
            health = get_json(f"{base}/healthz")
            assert health["store"] == {"backend": "redis", "healthy": True, "degraded": False}
            redis.stop()
            until(lambda: get_json(f"{base}/healthz")["store"]["degraded"], "degraded")
            health = get_json(f"{base}/healthz")
            assert health["status"] == "degraded" and health["store"]["backend"] == "file"
            assert get_json(f"{base}/api/v1/layers/toilets.geojson")["features"], "served from the files"
            redis.start()
            until(lambda: not get_json(f"{base}/healthz")["store"]["degraded"], "back on Redis")


# ---------------------------------------------------------------- killed in the middle of a write

def _write_forever(directory: str, ready) -> None:
    store = FileStore(directory)
    big = {"records": [{"id": i, "name": "大阪市役所" * 20} for i in range(20_000)]}  # ≈ 1 MB to write
    ready.set()
    n = 0
    while True:
        n += 1
        store.put(Snapshot("d", {**big, "edition": n}, {"fetched_at": "2026-12-01T00:00:00+00:00"}))


def test_a_process_killed_in_the_middle_of_writes_never_leaves_a_half_written_snapshot(tmp_path):
    context = multiprocessing.get_context("spawn")
    editions = []
    for round_ in range(4):
        ready = context.Event()
        writer = context.Process(target=_write_forever, args=(str(tmp_path), ready), daemon=True)
        writer.start()
        assert ready.wait(60)
        until(lambda: FileStore(tmp_path).stamp("d") is not None and len(list(tmp_path.glob(".d.*.tmp"))) > 0,
              "in the middle of a write")  # a temporary file exists: a write is under way
        writer.kill()
        writer.join()
        snapshot = FileStore(tmp_path).get("d")
        assert snapshot is not None and len(snapshot.payload["records"]) == 20_000, "whole, never half"
        editions.append(snapshot.payload["edition"])
    assert editions and all(e >= 1 for e in editions)


def test_over_http_a_dataset_still_loading_says_so_and_everything_else_is_served(tmp_path, ckan):
    import urllib.error

    from tests.live_config import get_json, running_app

    ckan.hold()
    config = live_config(tmp_path, {"aed": {"kind": "ckan", "url": ckan.url, "dataset": "aed-toyonaka", "ttl": 600}})
    with running_app(config, tmp_path / "cache", settled=False) as base:
        until(lambda: get_json(f"{base}/healthz")["datasets"]["toilets"]["status"] == "ok", "local layers built")
        health = get_json(f"{base}/healthz")
        assert health["status"] == "degraded" and health["datasets"]["aed"]["status"] == "loading"
        with pytest.raises(urllib.error.HTTPError) as answer:
            get_json(f"{base}/api/v1/layers/aed.geojson")
        assert answer.value.code == 503 and answer.value.headers["Retry-After"] == "5"
        assert json.loads(answer.value.read())["error"]["state"] == "loading"
        listing = get_json(f"{base}/api/v1/layers")
        assert [(u["id"], u["status"]) for u in listing["unavailable"]] == [("aed", "loading")]
        assert "toilets" in [layer["id"] for layer in listing["layers"]]
        ckan.release()
        until(lambda: get_json(f"{base}/healthz")["datasets"]["aed"]["status"] == "ok", "fetched once released")
        assert len(get_json(f"{base}/api/v1/layers/aed.geojson")["features"]) == 3
