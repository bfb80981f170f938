"""Per-process views of datasets kept in the shared store (layers and indicators alike).

A dataset's last good data lives in the store (data_sources/store.py), put there by its
pipeline (data_sources/pipeline.py: fetch → normalise → payload and meta) and refreshed
stale-but-safe (data_sources/refresh.py). Each process derives what it serves from a
stored snapshot once (GeoJSON bodies, indexes by series …) and looks at the store again
at most every RECHECK_S seconds, so a request never parses stored data.

A derived view is a frozen dataclass with at least the fields `dataset` (its key in the
store), `stamp` (the store's stamp when it was read), `fetched_at` (aware, whole seconds)
and `health` (refresh.health of the stored snapshot).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import logging
import threading
from typing import Any, Callable, Iterable, TypeVar

from data_sources import SourceError, SourceLoading, SourceUnavailable, public_message, refresh
from data_sources.store import Snapshot, Store

log = logging.getLogger(__name__)
RECHECK_S = 30  # how often a process looks at the shared store for a newer snapshot

View = TypeVar("View")
Fetch = Callable[[], tuple[dict, dict]]


class StoredViews:
    def __init__(self, store: Store, clock: Callable[[], dt.datetime] | None = None,
                 background: Callable | None = None):
        """`clock` and `background` (how a stale refresh is run) are for tests; the defaults are
        the real time and a daemon thread."""
        self.store = store
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self._background = background
        self._locks_lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}  # one per view: a slow dataset holds up only its own
        self._views: dict[str, tuple[dt.datetime, Any, Snapshot | None]] = {}  # name → (checked at, view, stored)

    def _lock(self, name: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(name, threading.Lock())

    def get(self, name: str, key: str, ttl: float, fetch: Fetch,
            derive: Callable[[Snapshot, dict[str, Any]], View], *, local: bool = False) -> View:
        """The view `name` of dataset `key`: derived again only when the store holds a newer
        snapshot. Never waits for an upstream: a cold dataset from the network is fetched in
        the background and SourceLoading is raised meanwhile; `local` ones (the sample, a
        bundled snapshot, a file) are built at once. SourceUnavailable (with the last error)
        when there has never been data. When the store loses what this process has (a
        truncated file, an emptied Redis), the copy in memory is served and put back."""
        recheck = min(RECHECK_S, ttl)

        def current(entry):
            return entry and entry[1].dataset == key and (self.clock() - entry[0]).total_seconds() < recheck

        if current(cached := self._views.get(name)):
            return cached[1]
        with self._lock(name):
            if current(cached := self._views.get(name)):
                return cached[1]
            if cached and cached[1].dataset != key:
                cached = None  # the source changed: the old rows are not this dataset's
            now = self.clock()
            stamp = self.store.stamp(key)
            if (cached and stamp is not None and stamp == cached[1].stamp
                    and (now - cached[1].fetched_at).total_seconds() < ttl):
                self._views[name] = (now, cached[1], cached[2])  # unchanged and fresh: nothing to read
                return cached[1]
            stored = refresh.get_snapshot(self.store, key, ttl_s=ttl, fetch=fetch, now=self.clock,
                                          background=self._background, wait_when_cold=local)
            failure = self.store.get(key) if stored is None else None
            if stored is None and cached and cached[2] is not None:
                stored = self._put_back(cached[2], failure)
            if stored is None:
                if failure is None or not failure.last_error:
                    raise SourceLoading(f"{name}: loading (the first fetch is under way)")
                raise SourceUnavailable(f"{name}: {failure.last_error}")
            health = refresh.health(stored, ttl, now)
            stamp = self.store.stamp(key)
            if cached and cached[1].fetched_at == stored.fetched_at.replace(microsecond=0):
                view = dataclasses.replace(cached[1], health=health, stamp=stamp)
            else:
                view = dataclasses.replace(derive(stored, health), stamp=stamp)
                gc.freeze()  # long-lived data: keep the cyclic GC from walking it on every collection
            self._views[name] = (now, view, stored)
            return view

    def _put_back(self, kept: Snapshot, failure: Snapshot | None) -> Snapshot:
        """The store has no readable snapshot although this process had one: serve the copy in
        memory, with the failed attempt made since (if any), and write it back."""
        log.warning("the store lost %s (unreadable or emptied); serving this process's copy and storing it again",
                    kept.dataset)
        if failure is not None and failure.last_error:
            kept = kept.with_failure(failure.last_error, failure.last_attempt_at or self.clock())
        try:
            self.store.put(kept)
        except Exception as exc:
            log.error("could not store %s again: %s", kept.dataset, exc)
        return kept

    def refresh(self, name: str, key: str, ttl: float, fetch: Fetch, *, accept_drift: bool = False) -> dict[str, Any]:
        """Fetch now (the worker's job) under the store's lock; never replaces good data with
        a failure (but for schema drift, when `accept_drift`). Returns {"status", "reason",
        "age_s", "rows", "error"} afterwards."""
        stored = refresh.refresh_now(self.store, key, fetch, now=self.clock, accept_drift=accept_drift)
        self._views.pop(name, None)
        current = self.store.get(key)
        status = refresh.health(current if current is not None and current.has_data else None, ttl, self.clock())
        return {**status, "rows": len(stored.payload["records"]) if stored is not None else 0,
                "error": current.last_error if current is not None else None}


def available(snapshot: Callable[[str], View], ids: Iterable[str]) -> list[View]:
    """The snapshots of the datasets `ids` that have data; the others are left out (their
    reason is in `health_report`)."""
    out = []
    for dataset_id in ids:
        try:
            out.append(snapshot(dataset_id))
        except SourceError:
            continue
    return out


def health_report(snapshot: Callable[[str], Any], ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Dataset id → {"status", "reason", "age_s", "rows", "fetched_at", "code", "detail"} for
    /healthz (see refresh.health)."""
    report = {}
    for dataset_id in ids:
        try:
            snap = snapshot(dataset_id)
            report[dataset_id] = {**snap.health, "rows": snap.count, "fetched_at": snap.fetched_at.isoformat()}
        except SourceLoading as exc:
            report[dataset_id] = {"status": "loading", "reason": str(exc), "age_s": None, "rows": 0,
                                  "code": "loading", "detail": None}
        except SourceError as exc:
            report[dataset_id] = {"status": "failing", "reason": str(exc), "age_s": None, "rows": 0,
                                  "code": "no_data", "detail": str(exc)}
        for key in ("reason", "detail"):  # what /healthz, /data and the notices show: no server paths
            if isinstance(report[dataset_id].get(key), str):
                report[dataset_id][key] = public_message(report[dataset_id][key])
    return report



def dataset_metadata(spec, *, data_date: str, source_url: str | None, sample: bool) -> dict[str, Any]:
    """What a downloaded file says about itself (a layer's GeoJSON, an indicator's JSON): its
    title, credit, licence, the date its data is as of, its source, whether it is sample
    data, and its entry on /data. `spec`: a LayerSpec or IndicatorSpec."""
    return {
        "title": dict(spec.title),
        "credit": dict(spec.credit),
        "licence": dict(spec.licence),
        "data_date": data_date,
        "source": {"kind": spec.source.kind, "name": spec.source.name, "url": source_url},
        "sample": sample,
        "about": f"/data#dataset-{spec.id}",
    }
