"""The snapshot store, on files and on a real (private) Redis: round trips, atomic writes,
locks across threads and processes, and the Redis → files fallback across an outage."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path

import pytest

from data_sources.store import FallbackStore, FileStore, RedisStore, Snapshot, open_store
from tests.redis_server import RedisServer, make_store, redis_server_binary, run_processes

T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)
DATASET = "baby-stations"


# ---------------------------------------------------------------- fixtures and helpers



@pytest.fixture
def warnings_logged():
    """Warnings of data_sources.store (works without pytest's logging plugin, i.e. -p no:logging)."""
    records: list[logging.LogRecord] = []

    class ListHandler(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = ListHandler(logging.WARNING)
    logger = logging.getLogger("data_sources.store")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def baby_stations(version: int = 1, n: int = 3) -> Snapshot:
    records = [{"id": f"bs-{i}", "name": f"大阪府庁 本館 授乳室 {i}", "name_kana": "おおさかふちょう",
                "address": "大阪市中央区大手前２丁目", "facilities": ["授乳", "おむつ替え"], "version": version}
               for i in range(n)]
    meta = {"fetched_at": T0.isoformat(), "source_modified": "2026-11-01", "rows": n,
            "rejects": {"bad_coordinates": {"count": 1, "examples": ["緯度が範囲外"]}},
            "source_url": "https://example.org/授乳室.csv", "version": version,
            "last_attempt_at": T0.isoformat(), "last_error": None, "consecutive_failures": 0}
    return Snapshot(DATASET, {"records": records, "version": version}, meta)


# ---------------------------------------------------------------- snapshots

def test_snapshot_travels_as_gzip_json_with_japanese_text_kept():
    snapshot = baby_stations()
    data = snapshot.to_bytes()
    document = json.loads(gzip.decompress(data).decode("utf-8"))
    assert document["payload"]["records"][0]["name"] == "大阪府庁 本館 授乳室 0"
    assert "授乳室".encode() in gzip.decompress(data)  # UTF-8, not \\u escapes
    assert Snapshot.from_bytes(data) == snapshot


@pytest.mark.parametrize("data", [b"", b"not gzip", gzip.compress(b"{not json"), gzip.compress(b'{"format": 99}')])
def test_anything_but_a_snapshot_is_refused(data):
    with pytest.raises(ValueError):
        Snapshot.from_bytes(data)


def test_put_and_get_round_trip(store):
    assert store.get(DATASET) is None
    snapshot = baby_stations()
    store.put(snapshot)
    got = store.get(DATASET)
    assert got == snapshot
    assert got.payload["records"][2]["address"] == "大阪市中央区大手前２丁目"
    assert got.fetched_at == T0 and got.has_data
    store.put(baby_stations(version=2, n=5))
    assert store.get(DATASET).payload["version"] == 2
    assert store.get("other-dataset") is None


def test_dataset_ids_cannot_escape_the_store(store):
    for bad in ("../etc/passwd", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            store.get(bad)


def test_a_failure_is_noted_without_touching_the_payload(store):
    store.put(baby_stations())
    store.note_failure(DATASET, "SourceUnavailable: HTTP 503", T0 + dt.timedelta(minutes=5))
    store.note_failure(DATASET, "SourceUnavailable: timed out", T0 + dt.timedelta(minutes=6))
    got = store.get(DATASET)
    assert got.payload == baby_stations().payload
    assert got.meta["last_error"] == "SourceUnavailable: timed out"
    assert got.meta["consecutive_failures"] == 2
    assert got.last_attempt_at == T0 + dt.timedelta(minutes=6)
    assert got.fetched_at == T0


def test_a_failure_without_data_leaves_a_marker(store):
    store.note_failure("aed", "SourceUnavailable: connection refused", T0)
    marker = store.get("aed")
    assert marker is not None and not marker.has_data
    assert marker.last_error == "SourceUnavailable: connection refused"
    assert marker.meta["consecutive_failures"] == 1 and marker.last_attempt_at == T0


def test_readers_never_see_a_half_written_snapshot(store, spec):
    stop = threading.Event()
    seen, broken = [], []

    def read():
        while not stop.is_set():
            try:
                got = store.get(DATASET)
            except Exception as exc:  # a torn file would fail to decompress or parse
                broken.append(repr(exc))
                continue
            if got is None:
                continue
            version = got.meta["version"]
            if got.payload["version"] != version or len(got.payload["records"]) != got.meta["rows"] \
                    or any(r["version"] != version for r in got.payload["records"]):
                broken.append(f"mixed snapshot {version}")
            seen.append(version)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for version in range(1, 41):
            store.put(baby_stations(version, n=300 + 37 * (version % 5)))  # sizes differ between writes
        deadline = time.monotonic() + 2
        while 40 not in seen and time.monotonic() < deadline:  # let the readers catch the last one
            time.sleep(0.005)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert not broken
    assert len(seen) > 40 and max(seen) == 40
    if spec[0] == "file":
        assert sorted(p.name for p in Path(spec[1]).iterdir() if p.name.endswith(".tmp")) == []


def test_the_lock_admits_one_thread_at_a_time(store):
    holders, overlaps, entries = [], [], []

    def work(n):
        for _ in range(5):
            with store.lock(DATASET, timeout_s=10) as held:
                assert held.acquired
                holders.append(n)
                if len(holders) > 1:
                    overlaps.append(list(holders))
                entries.append(n)
                time.sleep(0.002)
                holders.remove(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [] and len(entries) == 40


def test_a_held_lock_is_reported_not_acquired(store):
    with store.lock(DATASET) as first:
        assert first.acquired
        with store.lock(DATASET, blocking=False) as second:
            assert not second.acquired and not second
        started = time.monotonic()
        with store.lock(DATASET, timeout_s=0.2) as third:
            assert not third.acquired
        assert 0.15 < time.monotonic() - started < 2
        with store.lock("another-dataset", blocking=False) as other:
            assert other.acquired  # one lock per dataset
    with store.lock(DATASET, blocking=False) as after:
        assert after.acquired


def _hold_lock_and_count(spec, workdir, rounds, barrier):
    """Child process: increments a counter file under the store's lock, `rounds` times."""
    store = make_store(spec)
    workdir = Path(workdir)
    barrier.wait()
    for _ in range(rounds):
        with store.lock(DATASET, timeout_s=20) as held:
            assert held.acquired
            try:  # only one process may be inside: a second O_EXCL create would fail
                fd = os.open(workdir / "inside", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                with open(workdir / "violations", "a") as fh:
                    fh.write(f"{os.getpid()}\n")
                continue
            counter = workdir / "counter"
            value = int(counter.read_text()) if counter.exists() else 0
            time.sleep(0.002)
            counter.write_text(str(value + 1))
            os.close(fd)
            os.unlink(workdir / "inside")


def test_the_lock_admits_one_process_at_a_time(spec, tmp_path):
    make_store(spec)  # creates the store directory before the children race for it
    assert run_processes(_hold_lock_and_count, (spec, str(tmp_path), 10)) == [0, 0, 0, 0]
    assert not (tmp_path / "violations").exists()
    assert (tmp_path / "counter").read_text() == "40"


def test_status_reports_a_healthy_store(store, spec):
    status = store.status()
    assert status["healthy"] is True and status["backend"] == spec[0]


# ---------------------------------------------------------------- Redis specifics

def test_a_redis_lock_is_released_only_with_its_token(redis_server):
    store = RedisStore(redis_server.url, prefix=f"test-{uuid.uuid4().hex[:8]}")
    key = store.lock_key(DATASET)
    with store.lock(DATASET, lease_s=30) as held:
        assert held.acquired
        store.client.set(key, b"someone-else")  # our lease ran out and another holder took it
    assert store.client.get(key) == b"someone-else"  # our release left their lock alone


def test_a_redis_lock_of_a_dead_holder_expires_with_its_lease(redis_server):
    store = RedisStore(redis_server.url, prefix=f"test-{uuid.uuid4().hex[:8]}")
    store.client.lock(store.lock_key(DATASET), timeout=0.3).acquire()  # never released
    with store.lock(DATASET, blocking=False) as held:
        assert not held.acquired
    with store.lock(DATASET, timeout_s=3) as held:
        assert held.acquired


def test_redis_status_names_an_unreachable_server():
    from tests.redis_server import free_port

    store = RedisStore(f"redis://:secret@127.0.0.1:{free_port()}/0")
    status = store.status()
    assert status["healthy"] is False and "secret" not in json.dumps(status)
    assert "ConnectionError" in status["error"]


# ---------------------------------------------------------------- Redis with the file fallback

def test_open_store_picks_the_backend(tmp_path):
    assert isinstance(open_store(None, tmp_path / "a"), FileStore)
    assert isinstance(open_store("", tmp_path / "b"), FileStore)
    assert isinstance(open_store("redis://127.0.0.1:1/0", tmp_path / "c"), FallbackStore)


def test_the_fallback_store_rides_out_a_redis_outage(tmp_path, warnings_logged):
    if redis_server_binary() is None:
        pytest.skip("redis-server is not installed (/usr/bin/redis-server)")
    with RedisServer() as server:
        redis_store, files = RedisStore(server.url), FileStore(tmp_path / "files")
        store = FallbackStore(redis_store, files, retry_s=0.2)

        store.put(baby_stations(1))  # Redis is up: the snapshot goes to both
        assert redis_store.get(DATASET).payload["version"] == 1
        assert files.get(DATASET).payload["version"] == 1
        assert store.status()["backend"] == "redis"

        server.stop()
        assert store.get(DATASET).payload["version"] == 1  # written before the stop: in the files
        assert len(warnings_logged) == 1
        for version in range(2, 30):
            store.put(baby_stations(version))
            assert store.get(DATASET).payload["version"] == version
        store.note_failure(DATASET, "SourceUnavailable: HTTP 503", T0)
        assert store.get(DATASET).last_error == "SourceUnavailable: HTTP 503"
        with store.lock(DATASET, timeout_s=1) as held:
            assert held.acquired
        time.sleep(0.25)  # past the retry interval: Redis is tried again, still down
        assert store.get(DATASET).payload["version"] == 29
        status = store.status()
        assert status["backend"] == "file" and status["healthy"] and status["degraded"]
        assert [r.levelno for r in warnings_logged] == [logging.WARNING]  # one warning per outage
        assert "unavailable" in warnings_logged[0].getMessage()

        server.start()  # same port, empty (no persistence)
        time.sleep(0.25)
        assert store.get(DATASET).payload["version"] == 29  # Redis was empty: served from the files…
        assert redis_store.get(DATASET).payload["version"] == 29  # …and Redis warmed from them
        store.put(baby_stations(30))
        assert redis_store.get(DATASET).payload["version"] == 30  # writes reach Redis again
        assert files.get(DATASET).payload["version"] == 30
        with store.lock(DATASET, blocking=False) as held:
            assert held.acquired
            with redis_store.lock(DATASET, blocking=False) as other_host:
                assert not other_host.acquired  # the Redis lock is taken again too
        assert store.status()["backend"] == "redis"
        assert len(warnings_logged) == 1

        server.stop()  # a new outage after the recovery: one more warning
        store.put(baby_stations(31))
        store.get(DATASET)
        assert len(warnings_logged) == 2
        assert files.get(DATASET).payload["version"] == 31


def test_the_fallback_store_starts_on_files_when_redis_is_down(tmp_path, warnings_logged):
    from tests.redis_server import free_port

    store = open_store(f"redis://127.0.0.1:{free_port()}/0", tmp_path / "files")
    assert store.get(DATASET) is None
    store.put(baby_stations())
    assert store.get(DATASET) == baby_stations()
    assert FileStore(tmp_path / "files").get(DATASET) == baby_stations()
    assert len(warnings_logged) == 1


def test_the_stamp_changes_with_every_write_and_only_then(store):
    at = dt.datetime(2026, 11, 25, 3, tzinfo=dt.timezone.utc)
    assert store.stamp("stamped") is None
    store.put(Snapshot("stamped", {"records": [{"id": "1"}]}, {"fetched_at": "2026-11-25T03:00:00+00:00"}))
    first = store.stamp("stamped")
    assert first is not None and store.stamp("stamped") == first  # reading changes nothing
    store.get("stamped")
    assert store.stamp("stamped") == first
    time.sleep(0.01)
    store.note_failure("stamped", "HTTP 500", at)
    second = store.stamp("stamped")
    assert second not in (None, first)
    time.sleep(0.01)
    store.put(Snapshot("stamped", {"records": [{"id": "2"}]}, {"fetched_at": "2026-11-25T04:00:00+00:00"}))
    assert store.stamp("stamped") not in (first, second)
