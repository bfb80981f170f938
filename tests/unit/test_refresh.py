"""Stale-but-safe refresh on files and on a real (private) Redis: fresh data is served as
is, stale data at once while one refresh runs, N cold callers cause one upstream fetch,
and a failed or empty fetch never replaces good data."""
from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path

import pytest

from data_sources import SourceFormatError, SourceUnavailable
from data_sources.refresh import get_snapshot, health, payload_is_empty, refresh_now
from data_sources.store import FileStore
from tests.redis_server import at_once, make_store, run_processes

T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)
TTL = 60
DATASET = "nursery-vacancies"


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


# ---------------------------------------------------------------- fixtures and helpers

def vacancies(tag: str, n: int = 3) -> dict:
    return {"records": [{"id": f"n-{i}", "name": f"{tag} 保育園 {i}", "vacancy": {"0歳": i}} for i in range(n)]}


class Upstream:
    """A fetch that counts its calls; `outcome` is a payload or an exception to raise."""

    def __init__(self, outcome=None, delay_s: float = 0.0):
        self.outcome = vacancies("v1") if outcome is None else outcome
        self.delay_s = delay_s
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome, {"source_url": "https://example.org/保育所空き状況.csv", "source_modified": "2026-11-01",
                              "rejects": {}}


def inline(job):
    job()


def warm(store, upstream=None, moment=T0):
    """The store after one good cold fetch at `moment`."""
    upstream = upstream or Upstream()
    snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=moment)
    assert snapshot is not None and upstream.calls == 1
    return snapshot


# ---------------------------------------------------------------- fresh, stale, cold

def test_a_cold_store_fetches_once_and_stores_the_snapshot(store):
    upstream = Upstream()
    snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=T0)
    assert upstream.calls == 1
    assert snapshot.payload == vacancies("v1")
    stored = store.get(DATASET)
    assert stored == snapshot
    assert stored.fetched_at == T0 and stored.meta["rows"] == 3 and stored.meta["last_error"] is None
    assert stored.meta["source_url"] == "https://example.org/保育所空き状況.csv"
    assert health(stored, TTL, at(1)) == {"status": "ok", "reason": None, "age_s": 1.0, "code": None, "detail": None}


def test_fresh_data_is_served_without_a_fetch(store):
    warm(store)
    upstream = Upstream(vacancies("v2"))
    jobs = []
    for seconds in (1, 30, 59.9):
        snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(seconds), background=jobs.append)
        assert snapshot.payload == vacancies("v1")
    assert upstream.calls == 0 and jobs == []


def test_stale_data_is_served_at_once_and_refreshed_once_in_the_background(store):
    warm(store)
    upstream = Upstream(vacancies("v2"))
    jobs = []
    for _ in range(5):  # a burst of requests on stale data queues one refresh
        snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(TTL), background=jobs.append)
        assert snapshot.payload == vacancies("v1")
    assert upstream.calls == 0 and len(jobs) == 1
    assert health(snapshot, TTL, at(TTL))["status"] == "stale"

    jobs[0]()
    assert upstream.calls == 1
    assert store.get(DATASET).payload == vacancies("v2")
    assert store.get(DATASET).fetched_at == at(TTL)
    snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(TTL + 1), background=jobs.append)
    assert snapshot.payload == vacancies("v2") and len(jobs) == 1


def test_the_default_background_is_a_thread_that_does_not_hold_up_the_caller(store):
    warm(store)
    release = threading.Event()
    upstream = Upstream(vacancies("v2"))

    def slow_fetch():
        release.wait(5)
        return upstream()

    started = time.monotonic()
    snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=slow_fetch, now=at(2 * TTL))
    assert time.monotonic() - started < 0.5
    assert snapshot.payload == vacancies("v1")
    release.set()
    deadline = time.monotonic() + 5
    while store.get(DATASET).payload != vacancies("v2") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.get(DATASET).payload == vacancies("v2") and upstream.calls == 1


def test_a_stale_refresh_is_skipped_while_another_holds_the_lock(store):
    warm(store)
    upstream = Upstream(vacancies("v2"))
    with store.lock(DATASET):  # another worker is refreshing it
        snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(TTL), background=inline)
    assert snapshot.payload == vacancies("v1") and upstream.calls == 0


def test_twenty_concurrent_cold_requests_cause_one_fetch(store):
    upstream = Upstream(delay_s=0.3)
    results = at_once(20, lambda: get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, lock_timeout_s=10))
    assert upstream.calls == 1
    assert len(results) == 20 and all(r is not None and r.payload == vacancies("v1") for r in results)


def _cold_requests_in_one_process(spec, workdir, threads, barrier):
    """Child process: `threads` concurrent cold requests; fetches are logged to a shared file."""
    store = make_store(spec)
    workdir = Path(workdir)

    def fetch():
        with open(workdir / "fetches", "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(0.5)
        return vacancies("v1"), {"source_url": "https://example.org/保育所空き状況.csv"}

    start = threading.Barrier(threads)
    payloads = []

    def request():
        start.wait()
        snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=fetch, lock_timeout_s=20)
        payloads.append(None if snapshot is None else snapshot.payload)

    barrier.wait()
    workers = [threading.Thread(target=request) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    good = sum(p == vacancies("v1") for p in payloads)
    (workdir / f"served-{os.getpid()}").write_text(str(good))


def test_cold_requests_from_four_processes_cause_one_fetch(spec, tmp_path):
    make_store(spec)
    assert run_processes(_cold_requests_in_one_process, (spec, str(tmp_path), 5)) == [0, 0, 0, 0]
    assert len((tmp_path / "fetches").read_text().splitlines()) == 1
    served = [int(p.read_text()) for p in tmp_path.glob("served-*")]
    assert served == [5, 5, 5, 5]


# ---------------------------------------------------------------- failures never replace good data

@pytest.mark.parametrize("error", [SourceUnavailable("HTTP 503 from the catalog"),
                                   SourceFormatError("column 施設名 missing"),
                                   RuntimeError("bug in a parser")])
def test_a_failed_refresh_keeps_the_last_good_data(store, error):
    warm(store)
    upstream = Upstream(error)
    snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(TTL), background=inline)
    assert upstream.calls == 1
    assert snapshot.payload == vacancies("v1")  # the caller still gets the last good data…
    assert str(error) in snapshot.meta["last_error"]  # …showing the failure
    stored = store.get(DATASET)
    assert stored.payload == vacancies("v1") and stored.fetched_at == T0
    assert stored.meta["last_error"] == f"{type(error).__name__}: {error}"
    assert stored.last_attempt_at == at(TTL) and stored.meta["consecutive_failures"] == 1
    state = health(stored, TTL, at(TTL))
    assert state["status"] == "stale" and str(error) in state["reason"] and state["age_s"] == TTL

    # Not retried within the retry interval (the stale data is served meanwhile)…
    snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(TTL + 29), background=inline,
                            retry_s=30)
    assert snapshot.payload == vacancies("v1") and upstream.calls == 1
    # …retried after it, and a recovered upstream clears the failure.
    upstream.outcome = vacancies("v2")
    snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(TTL + 31), background=inline,
                            retry_s=30)
    assert upstream.calls == 2 and snapshot.payload == vacancies("v2")
    stored = store.get(DATASET)
    assert stored.meta["last_error"] is None and stored.meta["consecutive_failures"] == 0
    assert health(stored, TTL, at(TTL + 32))["status"] == "ok"


def test_an_empty_payload_after_data_is_a_failure(store):
    warm(store)
    upstream = Upstream({"records": []})
    snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(TTL), background=inline)
    assert upstream.calls == 1 and snapshot.payload == vacancies("v1")
    stored = store.get(DATASET)
    assert stored.payload == vacancies("v1")
    assert stored.meta["last_error"].startswith("EmptyPayload")
    assert health(stored, TTL, at(TTL))["status"] == "stale"


def test_a_collapsed_payload_after_data_is_schema_drift(store):
    warm(store, Upstream(vacancies("v1", 40)))
    upstream = Upstream(vacancies("v2", 19))  # under half the last good rows
    snapshot = refresh_now(store, DATASET, upstream, now=at(TTL))
    assert upstream.calls == 1 and snapshot.payload == vacancies("v1", 40)
    stored = store.get(DATASET)
    assert stored.payload == vacancies("v1", 40) and stored.fetched_at == T0
    assert stored.meta["last_error"] == ("SchemaDrift: rows fell from 40 to 19 (under 50% of the last good data); "
                                         "the last good data is kept")
    state = health(stored, TTL, at(TTL))
    assert state["status"] == "stale" and state["code"] == "refresh_failed" and "rows fell" in state["reason"]
    upstream.outcome = vacancies("v3", 20)  # half is not a collapse
    assert refresh_now(store, DATASET, upstream, now=at(TTL + 1)).payload == vacancies("v3", 20)


def test_an_empty_dataset_is_data_when_there_was_none_before(store):
    snapshot = get_snapshot(store, DATASET, ttl_s=TTL, fetch=Upstream({"records": []}), now=T0)
    assert snapshot.payload == {"records": []} and snapshot.meta["rows"] == 0
    assert health(store.get(DATASET), TTL, at(1))["status"] == "ok"


def test_a_cold_failure_returns_none_and_spares_the_upstream(store):
    upstream = Upstream(SourceUnavailable("connection refused"))
    assert get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=T0, retry_s=30) is None
    assert upstream.calls == 1
    marker = store.get(DATASET)
    assert not marker.has_data and "connection refused" in marker.last_error
    state = health(marker, TTL, at(1))
    assert state["status"] == "failing" and "connection refused" in state["reason"] and state["age_s"] is None
    assert health(None, TTL, T0)["status"] == "failing"

    for seconds in (1, 10, 29.9):
        assert get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(seconds), retry_s=30) is None
    assert upstream.calls == 1  # no second fetch within the retry interval
    assert get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(30), retry_s=30) is None
    assert upstream.calls == 2 and store.get(DATASET).meta["consecutive_failures"] == 2
    upstream.outcome = vacancies("v1")
    assert get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(61), retry_s=30).payload == vacancies("v1")


def test_twenty_concurrent_cold_requests_against_a_dead_upstream_cause_one_fetch(store):
    upstream = Upstream(SourceUnavailable("timed out"), delay_s=0.2)
    results = at_once(20, lambda: get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, lock_timeout_s=10))
    assert upstream.calls == 1 and results == [None] * 20


# ---------------------------------------------------------------- the worker's refresh

def test_refresh_now_fetches_whatever_the_age_and_keeps_good_data_on_failure(store):
    upstream = Upstream()
    assert refresh_now(store, DATASET, upstream, now=T0).payload == vacancies("v1")
    upstream.outcome = vacancies("v2")
    assert refresh_now(store, DATASET, upstream, now=at(1)).payload == vacancies("v2")  # fresh, fetched anyway
    upstream.outcome = SourceUnavailable("HTTP 500")
    snapshot = refresh_now(store, DATASET, upstream, now=at(2))
    assert snapshot.payload == vacancies("v2") and "HTTP 500" in snapshot.meta["last_error"]
    assert store.get(DATASET).payload == vacancies("v2") and upstream.calls == 3
    with store.lock(DATASET):  # a refresh already running elsewhere: wait briefly, then skip
        assert refresh_now(store, DATASET, upstream, now=at(3), lock_timeout_s=0.1).payload == vacancies("v2")
    assert upstream.calls == 3


def test_refresh_now_without_data_and_a_dead_upstream_returns_none(store):
    upstream = Upstream(SourceUnavailable("no route to host"))
    assert refresh_now(store, DATASET, upstream, now=T0) is None
    assert refresh_now(store, DATASET, upstream, now=at(1)) is None  # the worker retries on its own schedule
    assert upstream.calls == 2 and store.get(DATASET).meta["consecutive_failures"] == 2


# ---------------------------------------------------------------- health and emptiness

def test_health_says_how_old_the_data_is():
    from data_sources.store import Snapshot

    snapshot = Snapshot(DATASET, vacancies("v1"), {"fetched_at": T0.isoformat(), "last_error": None})
    assert health(snapshot, TTL, at(59)) == {"status": "ok", "reason": None, "age_s": 59.0, "code": None, "detail": None}
    stale = health(snapshot, TTL, at(90))
    assert stale["status"] == "stale" and "60" in stale["reason"] and stale["age_s"] == 90.0
    failed = snapshot.with_failure("SourceUnavailable: HTTP 503", at(10))
    assert health(failed, TTL, at(20))["status"] == "stale"  # young, but the last refresh failed
    assert "HTTP 503" in health(failed, TTL, at(20))["reason"]
    assert {k: health(failed, TTL, at(20))[k] for k in ("code", "detail", "failures")} == {
        "code": "refresh_failed", "detail": "SourceUnavailable: HTTP 503", "failures": 1}
    assert stale["code"] == "expired" and health(None, TTL)["code"] == "no_data"


@pytest.mark.parametrize("payload, meta, empty", [
    (None, None, True), ({"records": []}, None, True), ([], None, True), ({}, None, True),
    ({"records": [{"id": 1}]}, None, False), ({"features": [1]}, {"rows": 0}, True),
    ({"features": [1]}, {"rows": 1}, False), (0, None, False),
])
def test_what_counts_as_an_empty_payload(payload, meta, empty):
    assert payload_is_empty(payload, meta) is empty


def test_a_cold_caller_gives_up_when_the_lock_is_not_freed_in_time(store):
    upstream = Upstream()
    with store.lock(DATASET):  # a refresh hanging in another worker
        started = time.monotonic()
        assert get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, lock_timeout_s=0.3) is None
        assert 0.25 < time.monotonic() - started < 2
    assert upstream.calls == 0


def test_refresh_works_on_the_file_fallback_while_redis_is_down(tmp_path):
    from data_sources.store import open_store
    from tests.redis_server import free_port

    store = open_store(f"redis://127.0.0.1:{free_port()}/0", tmp_path / "files")
    upstream = Upstream()
    assert get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=T0).payload == vacancies("v1")
    upstream.outcome = SourceUnavailable("HTTP 503")
    assert get_snapshot(store, DATASET, ttl_s=TTL, fetch=upstream, now=at(TTL),
                        background=inline).payload == vacancies("v1")
    assert upstream.calls == 2
    assert FileStore(tmp_path / "files").get(DATASET).meta["last_error"] == "SourceUnavailable: HTTP 503"
