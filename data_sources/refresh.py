"""Stale-but-safe refresh of dataset snapshots in the shared store.

- fresh (age < ttl): served as is, no fetch.
- stale (age >= ttl): served at once; one refresh runs in the background under the
  dataset's lock (non-blocking: when another thread or process holds it, skip).
- cold (nothing stored), for a source on the network: nothing waits. The first caller
  starts one fetch in the background (per dataset: across threads by an in-process
  registry, across processes by the dataset's lock, taken without waiting) and every
  caller gets None at once: the dataset is "loading" until the fetch has stored it. A slow
  or hanging upstream therefore holds up nothing but its own dataset.
- cold, for a local source (`wait_when_cold`: the bundled sample, a snapshot, a file):
  callers wait on the lock (bounded); the first one builds it, the others find its
  snapshot when they get the lock — N cold callers, one build.
- a fetch that raises, returns an empty payload where there was data, or drifted from the
  mapping against the last good data (data_sources/drift.py: a mapped field gone, its
  filled share or the row count collapsed) never replaces good data: the failure is noted
  in the snapshot's meta and the last good one is served.
  With no data at all the caller gets None, and the upstream is not asked again within
  `retry_s` of the end of the failed attempt (no thundering herd against a dead or slow
  source: a pause counted from the start of a long attempt would already be over).

`fetch` is a dataset's pipeline (data_sources/pipeline.py: fetch → normalise → the
(payload, meta) of a snapshot), handed in by the service that serves it.

`refresh_now` is the same fetch-under-lock for the refresh worker (worker.py).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from . import SchemaDrift, SourceError, drift
from .store import DEFAULT_LEASE_S, Snapshot, Store, to_iso, utcnow

log = logging.getLogger(__name__)

DEFAULT_RETRY_S = 30.0
DEFAULT_LOCK_TIMEOUT_S = 30.0
#: How long a cold caller waits for the lock before looking in the store again.
COLD_WAIT_SLICE_S = 0.2

Payload = Any
Fetch = Callable[[], tuple[Payload, dict[str, Any]]]
Clock = dt.datetime | Callable[[], dt.datetime] | None
Background = Callable[[Callable[[], None]], None]

# Background refreshes queued or running in this process ((store id, dataset) → monotonic
# start), so a burst of requests on a stale dataset starts one job, not one per request.
# An entry older than the lock lease is ignored (a job that was queued but never ran).
_inflight: dict[tuple[int, str], float] = {}
_inflight_lock = threading.Lock()


class EmptyPayload(Exception):
    """The upstream answered with nothing where the dataset had data: not a refresh."""


def payload_is_empty(payload: Payload, meta: dict[str, Any] | None = None) -> bool:
    """None, an empty container, a dict whose "records" is empty, or meta rows == 0."""
    if payload is None:
        return True
    if meta and meta.get("rows") == 0:
        return True
    if isinstance(payload, dict) and "records" in payload:
        return not payload["records"]
    if isinstance(payload, (dict, list, tuple, str)):
        return len(payload) == 0
    return False


def daemon_thread(job: Callable[[], None]) -> None:
    threading.Thread(target=job, name="mieruka-refresh", daemon=True).start()


def get_snapshot(store: Store, dataset: str, *, ttl_s: float, fetch: Fetch, now: Clock = None,
                 background: Background | None = None, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
                 retry_s: float = DEFAULT_RETRY_S, lease_s: float = DEFAULT_LEASE_S,
                 is_empty: Callable[[Payload, dict[str, Any] | None], bool] = payload_is_empty,
                 wait_when_cold: bool = True) -> Snapshot | None:
    """The dataset's snapshot to show now: fresh, or stale while a refresh runs, or None
    when there is no good data yet — still loading, or failed (the failure is then in
    `store.get(dataset).meta`). `wait_when_cold` False: a cold dataset is fetched in the
    background (through `background`) and None is returned at once."""
    clock = _clock(now)
    snapshot = store.get(dataset)
    if snapshot is not None and snapshot.has_data:
        moment = clock()
        if not _is_stale(snapshot, ttl_s, moment) or _retry_pending(snapshot, moment, retry_s):
            return snapshot
        return _refresh_in_background(store, dataset, snapshot, fetch, clock, ttl_s, retry_s, lease_s,
                                      background or daemon_thread, is_empty)

    # Cold: nothing good stored yet. One caller fetches under the lock; the others wait for
    # the lock in short slices and look in the store between them, so they all get the
    # winner's snapshot as soon as it is stored instead of passing the lock on one by one.
    if _retry_pending(snapshot, clock(), retry_s):
        return None
    if not wait_when_cold:
        return _refresh_in_background(store, dataset, None, fetch, clock, ttl_s, retry_s, lease_s,
                                      background or daemon_thread, is_empty)
    deadline = time.monotonic() + lock_timeout_s
    while True:
        wait_s = max(0.0, min(COLD_WAIT_SLICE_S, deadline - time.monotonic()))
        with store.lock(dataset, wait_s, lease_s=lease_s) as held:
            if held.acquired:
                snapshot = store.get(dataset)  # another worker may have filled it while we waited
                if snapshot is not None and snapshot.has_data:
                    return snapshot
                if _retry_pending(snapshot, clock(), retry_s):  # the holder before us just failed
                    return None
                return _fetch_and_store(store, dataset, fetch, clock, snapshot, is_empty)
        snapshot = store.get(dataset)
        if snapshot is not None and snapshot.has_data:
            return snapshot
        if _retry_pending(snapshot, clock(), retry_s):
            return None
        if time.monotonic() >= deadline:
            log.warning("gave up after %ss waiting for another refresh of %s", lock_timeout_s, dataset)
            return None


def refresh_now(store: Store, dataset: str, fetch: Fetch, *, now: Clock = None,
                lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S, lease_s: float = DEFAULT_LEASE_S,
                is_empty: Callable[[Payload, dict[str, Any] | None], bool] = payload_is_empty,
                accept_drift: bool = False) -> Snapshot | None:
    """Fetch now (whatever the age), under the lock, never replacing good data with a failure.
    Returns the new snapshot, or the last good one with the failure noted, or None.
    `accept_drift`: an operator's decision that the source really changed (a column dropped,
    half the rows withdrawn): the schema-drift check is skipped for this one fetch."""
    clock = _clock(now)
    with store.lock(dataset, lock_timeout_s, lease_s=lease_s) as held:
        current = store.get(dataset)
        if not held.acquired:
            log.warning("%s: another refresh still holds the lock after %ss; skipped", dataset, lock_timeout_s)
            return current if current is not None and current.has_data else None
        return _fetch_and_store(store, dataset, fetch, clock, current, is_empty, check_drift=not accept_drift)


def health(snapshot: Snapshot | None, ttl_s: float, now: dt.datetime | None = None) -> dict[str, Any]:
    """{"status": "ok" | "stale" | "failing", "reason": str | None, "age_s": float | None,
    "code", "detail"}.

    ok: fresh. stale: data older than ttl, or data whose last refresh failed (the reason
    says which). failing: no data (None, or a failure marker with the last error).
    `reason` is one English line for monitors; `code` (no_data, refresh_failed,
    age_unknown, expired) with `detail` (the upstream's own error, if any) and
    `failures` is what pages put in words of their language."""
    if snapshot is None or not snapshot.has_data:
        error = snapshot.last_error if snapshot is not None else None
        return {"status": "failing", "reason": f"no data: {error}" if error else "no data yet", "age_s": None,
                "code": "no_data", "detail": error}
    age = snapshot.age_s(now or utcnow())
    if snapshot.last_error:
        failures = int(snapshot.meta.get("consecutive_failures") or 1)
        return {"status": "stale", "age_s": age,
                "reason": f"last refresh failed ({failures}x, at {snapshot.meta.get('last_attempt_at')}): "
                          f"{snapshot.last_error}",
                "code": "refresh_failed", "detail": snapshot.last_error, "failures": failures}
    if age is None:
        return {"status": "stale", "age_s": age, "reason": "fetch time unknown", "code": "age_unknown", "detail": None}
    if age >= ttl_s:
        return {"status": "stale", "age_s": age, "reason": f"older than {ttl_s:g}s; refresh pending",
                "code": "expired", "detail": None}
    return {"status": "ok", "reason": None, "age_s": age, "code": None, "detail": None}


# ---------------------------------------------------------------- internals

def _clock(now: Clock) -> Callable[[], dt.datetime]:
    if now is None:
        return utcnow
    if isinstance(now, dt.datetime):
        return lambda: now
    return now


def _is_stale(snapshot: Snapshot, ttl_s: float, now: dt.datetime) -> bool:
    age = snapshot.age_s(now)
    return age is None or age >= ttl_s


def _retry_pending(snapshot: Snapshot | None, now: dt.datetime, retry_s: float) -> bool:
    """True when the last attempt failed less than retry_s ago: do not ask the upstream yet."""
    if snapshot is None or not snapshot.last_error:
        return False
    attempted = snapshot.last_attempt_at
    if attempted is None:
        return False
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    return (now - attempted).total_seconds() < retry_s


def _refresh_in_background(store: Store, dataset: str, snapshot: Snapshot | None, fetch: Fetch,
                           clock: Callable[[], dt.datetime], ttl_s: float, retry_s: float, lease_s: float,
                           background: Background, is_empty: Callable[..., bool]) -> Snapshot | None:
    """Start one refresh of `dataset` in the background (none when one is queued or running
    in this process, or another process holds the lock) and return `snapshot` — what the
    caller serves meanwhile: the stale data, or None for a cold dataset."""
    key = (id(store), dataset)
    with _inflight_lock:
        started = _inflight.get(key)
        if started is not None and time.monotonic() - started < lease_s:
            return snapshot
        _inflight[key] = time.monotonic()
    result = [snapshot]

    def job() -> None:
        try:
            with store.lock(dataset, 0.0, blocking=False, lease_s=lease_s) as held:
                if not held.acquired:
                    return  # another thread or process is refreshing it
                current = store.get(dataset)
                moment = clock()
                if current is not None and current.has_data and not _is_stale(current, ttl_s, moment):
                    result[0] = current  # refreshed by someone else meanwhile
                    return
                if _retry_pending(current, moment, retry_s):
                    result[0] = current if current is not None and current.has_data else None
                    return  # tried (and failed) by someone else meanwhile
                result[0] = _fetch_and_store(store, dataset, fetch, clock, current, is_empty) or result[0]
        except Exception:
            log.exception("background refresh of %s failed", dataset)
        finally:
            with _inflight_lock:
                _inflight.pop(key, None)

    try:
        background(job)
    except Exception:
        log.exception("could not start a background refresh of %s", dataset)
        with _inflight_lock:
            _inflight.pop(key, None)
    return result[0]  # the stale snapshot (or None), or the refreshed one if `background` ran the job inline


def _fetch_and_store(store: Store, dataset: str, fetch: Fetch, clock: Callable[[], dt.datetime],
                     previous: Snapshot | None, is_empty: Callable[..., bool], *,
                     check_drift: bool = True) -> Snapshot | None:
    """One fetch. Success: the new snapshot is stored and returned (also when the store
    could not keep it: the caller then serves it from memory, and the store's status says
    why it is unhealthy). Failure: noted in the store, stamped with the time the attempt
    ended; the previous good snapshot (with the failure in its meta) or None is returned."""
    attempt_at = clock()
    had_data = previous is not None and previous.has_data and not is_empty(previous.payload, previous.meta)
    try:
        payload, meta = fetch()
        meta = dict(meta or {})
        if payload is None or (had_data and is_empty(payload, meta)):
            raise EmptyPayload("upstream returned no records" + ("; the last good data is kept" if had_data else ""))
        meta = _success_meta(payload, meta, attempt_at)
        reason = drift.check(previous.meta, meta) if had_data and check_drift else None
        if reason:
            raise SchemaDrift(reason + "; the last good data is kept")
        snapshot = Snapshot(dataset, payload, meta)
    except (SourceError, EmptyPayload) as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.warning("refresh of %s failed: %s", dataset, error)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.exception("refresh of %s failed unexpectedly", dataset)
    else:
        try:
            store.put(snapshot)
        except Exception as exc:  # a full disk, a Redis refusing writes with no file fallback
            log.error("%s was fetched but could not be stored (%s: %s); this process serves it from memory",
                      dataset, type(exc).__name__, exc)
        return snapshot
    failed_at = clock()  # the retry pause runs from the end of the attempt, however long it took
    try:
        store.note_failure(dataset, error, failed_at)
    except Exception:
        log.exception("could not record the failed refresh of %s", dataset)
    if previous is not None and previous.has_data:
        return previous.with_failure(error, failed_at)
    return None


def _success_meta(payload: Payload, meta: dict[str, Any], at: dt.datetime) -> dict[str, Any]:
    meta.setdefault("fetched_at", to_iso(at))
    if "rows" not in meta and isinstance(payload, dict) and isinstance(payload.get("records"), list):
        meta["rows"] = len(payload["records"])
    meta["last_attempt_at"] = to_iso(at)
    meta["last_error"] = None
    meta["consecutive_failures"] = 0
    return meta
