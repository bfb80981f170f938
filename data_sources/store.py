"""The store of last-good dataset snapshots, shared by every worker process.

A `Snapshot` is one dataset's payload (JSON-able, shaped by the caller) plus its metadata:
when it was fetched, from where, how many rows, what was rejected, and the refresh
bookkeeping (last attempt, last error, consecutive failures). It travels as gzip-compressed
JSON, never pickle, because the store may be shared with other processes and hosts.

Backends:
- `FileStore(directory)`: one `<dataset>.json.gz` per dataset, written atomically
  (temp file + `os.replace`), with an `fcntl.flock` lock on `<dataset>.lock` that works
  across the processes of one host (gunicorn workers).
- `RedisStore(url)`: key `mieruka:snapshot:<dataset>`, lock `mieruka:lock:<dataset>`
  (`SET NX PX` with a token, released only by its holder), short socket timeouts.
- `FallbackStore(redis, files)`: Redis first, the files when Redis is unreachable (one
  warning per outage), Redis again once it answers; writes go to both so the files stay warm.

`open_store(redis_url, directory)` picks FallbackStore when a URL is given, else FileStore.
Writers (put, note_failure) are expected to hold `lock(dataset)`; readers need no lock.
"""
from __future__ import annotations

import abc
import contextlib
import dataclasses
import datetime as dt
import fcntl
import gzip
import json
import logging
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DEFAULT_LOCK_TIMEOUT_S = 10.0
#: How long a Redis lock outlives a holder that died without releasing it (killed in the middle
#: of a refresh). A live holder renews it every third of that, however long its fetch takes.
DEFAULT_LEASE_S = 15.0
_DATASET_ID = re.compile(r"^\w[\w.\-]{0,199}$")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def to_iso(moment: dt.datetime) -> str:
    """ISO 8601 in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).isoformat()


def from_iso(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def check_dataset(dataset: str) -> str:
    """A dataset id is a file name and a key part: letters, digits, '_', '-', '.' (no '/')."""
    if not isinstance(dataset, str) or not _DATASET_ID.match(dataset):
        raise ValueError(f"invalid dataset id: {dataset!r}")
    return dataset


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """One dataset's last-good payload and its metadata.

    `meta` keys: fetched_at (ISO, UTC), source_modified, rows, rejects, source_url, and the
    refresh bookkeeping last_attempt_at, last_error, consecutive_failures.
    A *failure marker* (payload None, `has_data` False) records failed attempts on a
    dataset that never had data, so that retries can be spaced out.
    """

    dataset: str
    payload: Any
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def has_data(self) -> bool:
        return self.payload is not None

    @property
    def fetched_at(self) -> dt.datetime | None:
        return from_iso(self.meta.get("fetched_at"))

    @property
    def last_attempt_at(self) -> dt.datetime | None:
        return from_iso(self.meta.get("last_attempt_at"))

    @property
    def last_error(self) -> str | None:
        return self.meta.get("last_error") or None

    def age_s(self, now: dt.datetime) -> float | None:
        fetched = self.fetched_at
        if fetched is None:
            return None
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.timezone.utc)
        return max(0.0, (now - fetched).total_seconds())  # a `now` read just before the fetch ended is age 0

    def with_failure(self, error: str, at: dt.datetime) -> "Snapshot":
        """This snapshot, same payload, with a failed attempt recorded in its meta."""
        meta = dict(self.meta)
        meta["last_attempt_at"] = to_iso(at)
        meta["last_error"] = str(error)
        meta["consecutive_failures"] = int(meta.get("consecutive_failures") or 0) + 1
        return dataclasses.replace(self, meta=meta)

    @classmethod
    def failure_marker(cls, dataset: str, error: str, at: dt.datetime) -> "Snapshot":
        return cls(dataset, None, {"fetched_at": None}).with_failure(error, at)

    def to_bytes(self) -> bytes:
        document = {"format": FORMAT_VERSION, "dataset": self.dataset, "payload": self.payload, "meta": self.meta}
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return gzip.compress(text.encode("utf-8"), compresslevel=5, mtime=0)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Snapshot":
        """Raises ValueError on anything that is not a snapshot this code wrote."""
        try:
            document = json.loads(gzip.decompress(data).decode("utf-8"))
        except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a snapshot: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
            raise ValueError("not a snapshot: unknown format")
        meta = document.get("meta")
        if not isinstance(document.get("dataset"), str) or not isinstance(meta, dict):
            raise ValueError("not a snapshot: dataset or meta missing")
        return cls(document["dataset"], document.get("payload"), meta)


@dataclasses.dataclass(frozen=True)
class LockHandle:
    """What `Store.lock` yields: whether this caller holds the lock."""

    acquired: bool

    def __bool__(self) -> bool:
        return self.acquired


class Store(abc.ABC):
    """Where snapshots live between fetches, shared by every process of the app."""

    backend: str = "?"

    @abc.abstractmethod
    def get(self, dataset: str) -> Snapshot | None:
        """The stored snapshot (or failure marker), None when there is nothing."""

    @abc.abstractmethod
    def put(self, snapshot: Snapshot) -> None:
        """Replace the dataset's snapshot, atomically for readers."""

    @abc.abstractmethod
    def note_failure(self, dataset: str, error: str, at: dt.datetime) -> None:
        """Record a failed attempt: in the meta of the stored snapshot (its payload kept),
        or as a failure marker when there is none."""

    @abc.abstractmethod
    def lock(self, dataset: str, timeout_s: float | None = DEFAULT_LOCK_TIMEOUT_S, *,
             blocking: bool = True, lease_s: float = DEFAULT_LEASE_S) -> contextlib.AbstractContextManager[LockHandle]:
        """A cross-process lock per dataset. Yields a LockHandle: `acquired` is False when
        `blocking=False` and another holder has it, or when `timeout_s` ran out."""

    @abc.abstractmethod
    def status(self) -> dict[str, Any]:
        """{"backend": name, "healthy": bool, ...details}."""

    @abc.abstractmethod
    def stamp(self, dataset: str) -> str | None:
        """A cheap token that changes whenever the dataset's snapshot is written (put or
        note_failure): readers that keep a decoded copy re-read only when it changes."""


def _updated_with_failure(current: Snapshot | None, dataset: str, error: str, at: dt.datetime) -> Snapshot:
    if current is None:
        return Snapshot.failure_marker(dataset, error, at)
    return current.with_failure(error, at)


# ---------------------------------------------------------------- files

#: A temporary file older than this was left by a write that was killed (a write takes well
#: under a second); it is removed when a store opens the folder.
STALE_TMP_S = 600.0


class FileStore(Store):
    backend = "file"

    def __init__(self, directory: Path | str, *, wall_clock: Callable[[], float] = time.time):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.write_error: str | None = None  # the last write's error, until a write succeeds
        self._remove_stale_tmp(wall_clock())

    def _remove_stale_tmp(self, now: float) -> None:
        """Delete the temporary files of writes killed mid-way (they are never read)."""
        for tmp in self.directory.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime > STALE_TMP_S:
                    tmp.unlink()
                    log.info("removed %s, left by an interrupted write", tmp.name)

    def __repr__(self) -> str:
        return f"FileStore({str(self.directory)!r})"

    def _path(self, dataset: str, suffix: str) -> Path:
        return self.directory / f"{check_dataset(dataset)}{suffix}"

    def get(self, dataset: str) -> Snapshot | None:
        path = self._path(dataset, ".json.gz")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return Snapshot.from_bytes(data)
        except ValueError as exc:
            log.warning("ignoring unreadable snapshot %s: %s", path, exc)
            return None

    def put(self, snapshot: Snapshot) -> None:
        data = snapshot.to_bytes()  # serialise before taking the lock: a bad payload fails here
        with self._write_lock(snapshot.dataset):
            self._write(snapshot.dataset, data)

    def note_failure(self, dataset: str, error: str, at: dt.datetime) -> None:
        with self._write_lock(dataset):
            updated = _updated_with_failure(self.get(dataset), dataset, error, at)
            self._write(dataset, updated.to_bytes())

    def stamp(self, dataset: str) -> str | None:
        try:
            info = self._path(dataset, ".json.gz").stat()
        except FileNotFoundError:
            return None
        return f"{info.st_mtime_ns}:{info.st_size}:{info.st_ino}"

    def _write(self, dataset: str, data: bytes) -> None:
        path = self._path(dataset, ".json.gz")
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{dataset}.", suffix=".tmp", dir=self.directory)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)  # readers see the old file or the new one, never half of one
        except OSError as exc:  # a full disk: the old file stays whole; the status says so
            self.write_error = f"{dataset}: {exc.strerror or type(exc).__name__}"
            raise
        finally:
            if tmp is not None and os.path.exists(tmp):
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        self.write_error = None

    @contextlib.contextmanager
    def _write_lock(self, dataset: str) -> Iterator[None]:
        """Short lock around one write, so that note_failure's read-modify-write and a put
        never interleave (separate from `lock`, which a refresh holds around its put)."""
        with _flocked(self._path(dataset, ".write.lock"), None) as acquired:
            assert acquired
            yield

    @contextlib.contextmanager
    def lock(self, dataset: str, timeout_s: float | None = DEFAULT_LOCK_TIMEOUT_S, *,
             blocking: bool = True, lease_s: float = DEFAULT_LEASE_S) -> Iterator[LockHandle]:
        # flock needs no lease: the kernel releases it when the holder's process dies.
        with _flocked(self._path(dataset, ".lock"), timeout_s if blocking else 0.0) as acquired:
            yield LockHandle(acquired)

    def status(self) -> dict[str, Any]:
        healthy = self.directory.is_dir() and os.access(self.directory, os.W_OK | os.X_OK) and not self.write_error
        return {"backend": self.backend, "healthy": healthy, "directory": str(self.directory),
                **({"error": f"cannot write: {self.write_error}"} if self.write_error else {})}


@contextlib.contextmanager
def _flocked(path: Path, timeout_s: float | None) -> Iterator[bool]:
    """An exclusive flock on `path`, waiting up to timeout_s (None: forever, 0: not at all).
    Each call opens its own file description, so threads of one process exclude each other too."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        acquired = _flock(fd, timeout_s)
        try:
            yield acquired
        finally:
            if acquired:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _flock(fd: int, timeout_s: float | None) -> bool:
    if timeout_s is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)


# ---------------------------------------------------------------- redis

#: Errors after which the FallbackStore treats Redis as unavailable (connection refused,
#: timeouts, and also server-side refusals such as OOM or a read-only replica).
REDIS_ERRORS = (redis.exceptions.RedisError,)


def redact_url(url: str) -> str:
    """The URL without its password, for logs and status pages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def redis_client(url: str, *, connect_timeout_s: float = 0.5, timeout_s: float = 1.0) -> redis.Redis:
    """A Redis client as the app uses one: one immediate retry (no backoff) lets a pooled
    connection that a Redis restart broke reconnect transparently; a Redis that is really down
    fails fast."""
    return redis.Redis.from_url(url, socket_connect_timeout=connect_timeout_s, socket_timeout=timeout_s,
                                retry=Retry(NoBackoff(), 1), health_check_interval=0)


class RedisStore(Store):
    backend = "redis"

    def __init__(self, url: str, *, prefix: str = "mieruka", connect_timeout_s: float = 0.5,
                 timeout_s: float = 1.0):
        self.url = url
        self.prefix = prefix
        self.client = redis_client(url, connect_timeout_s=connect_timeout_s, timeout_s=timeout_s)

    def __repr__(self) -> str:
        return f"RedisStore({redact_url(self.url)!r})"

    def key(self, dataset: str) -> str:
        return f"{self.prefix}:snapshot:{check_dataset(dataset)}"

    def lock_key(self, dataset: str) -> str:
        return f"{self.prefix}:lock:{check_dataset(dataset)}"

    def stamp_key(self, dataset: str) -> str:
        return f"{self.prefix}:stamp:{check_dataset(dataset)}"

    def stamp(self, dataset: str) -> str | None:
        value = self.client.get(self.stamp_key(dataset))
        return value.decode() if value is not None else None

    def get(self, dataset: str) -> Snapshot | None:
        data = self.client.get(self.key(dataset))
        if data is None:
            return None
        try:
            return Snapshot.from_bytes(data)
        except ValueError as exc:
            log.warning("ignoring unreadable snapshot %s: %s", self.key(dataset), exc)
            return None

    def put(self, snapshot: Snapshot) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.key(snapshot.dataset), snapshot.to_bytes())
        pipe.set(self.stamp_key(snapshot.dataset), uuid.uuid4().hex)
        pipe.execute()

    def put_if_absent(self, snapshot: Snapshot) -> bool:
        """Store the snapshot unless the key exists (to warm a restarted Redis from files)."""
        stored = bool(self.client.set(self.key(snapshot.dataset), snapshot.to_bytes(), nx=True))
        if stored:
            self.client.set(self.stamp_key(snapshot.dataset), uuid.uuid4().hex)
        return stored

    def note_failure(self, dataset: str, error: str, at: dt.datetime) -> None:
        key = self.key(dataset)

        def update(pipe: redis.client.Pipeline) -> None:  # WATCHed: retried if a put slips in
            data = pipe.get(key)
            current = None
            if data is not None:
                with contextlib.suppress(ValueError):
                    current = Snapshot.from_bytes(data)
            updated = _updated_with_failure(current, dataset, error, at)
            pipe.multi()
            pipe.set(key, updated.to_bytes())
            pipe.set(self.stamp_key(dataset), uuid.uuid4().hex)

        self.client.transaction(update, key)

    @contextlib.contextmanager
    def lock(self, dataset: str, timeout_s: float | None = DEFAULT_LOCK_TIMEOUT_S, *,
             blocking: bool = True, lease_s: float = DEFAULT_LEASE_S) -> Iterator[LockHandle]:
        # redis-py's Lock: SET key token NX PX lease; release by a Lua script that checks the token.
        lock = self.client.lock(self.lock_key(dataset), timeout=lease_s, sleep=0.02, blocking=blocking,
                                blocking_timeout=timeout_s, thread_local=False)
        acquired = bool(lock.acquire())
        renewing = _LeaseRenewal(lock, lease_s) if acquired else None
        try:
            yield LockHandle(acquired)
        finally:
            if renewing is not None:
                renewing.stop()
                try:
                    lock.release()
                except redis.exceptions.LockNotOwnedError:
                    log.warning("lock %s expired before release (Redis unreachable for longer than its %ss lease?)",
                                lock.name, lease_s)
                except REDIS_ERRORS as exc:  # the lease frees it in time
                    log.warning("could not release lock %s: %s", lock.name, exc)

    def ping(self) -> bool:
        return bool(self.client.ping())

    def status(self) -> dict[str, Any]:
        try:
            self.ping()
        except REDIS_ERRORS as exc:
            return {"backend": self.backend, "healthy": False, "url": redact_url(self.url),
                    "error": f"{type(exc).__name__}: {exc}"}
        return {"backend": self.backend, "healthy": True, "url": redact_url(self.url)}


class _LeaseRenewal:
    """Renews a held Redis lock's lease every third of it, in a daemon thread, until stopped:
    a slow fetch keeps its lock, and a holder that dies frees it within one lease."""

    def __init__(self, lock: redis.lock.Lock, lease_s: float):
        self._lock = lock
        self._lease_s = lease_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease {lock.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._lease_s / 3):
            try:
                self._lock.reacquire()  # the lease starts again from now
            except redis.exceptions.LockNotOwnedError:
                log.warning("lock %s was lost (its lease ran out before it was renewed)", self._lock.name)
                return
            except REDIS_ERRORS as exc:
                log.warning("could not renew lock %s: %s", self._lock.name, exc)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


# ---------------------------------------------------------------- fallback

class FallbackStore(Store):
    """Redis while it answers, the files while it does not.

    On a Redis error the store logs one warning and serves from the files; it tries Redis
    again at most every `retry_s` seconds, and logs again only after Redis came back and
    then failed anew. Writes go to both while Redis is up, so the files stay a warm copy.
    Its lock is the file lock (one holder per host, also across an outage) plus, while
    Redis is up, the Redis lock (one holder across hosts).
    """

    backend = "redis+file"

    def __init__(self, primary: RedisStore, fallback: FileStore, *, retry_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic):
        self.primary = primary
        self.fallback = fallback
        self.retry_s = retry_s
        self._clock = clock
        self._state = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    def __repr__(self) -> str:
        return f"FallbackStore({self.primary!r}, {self.fallback!r})"

    @property
    def primary_down(self) -> bool:
        return self._down_since is not None

    def _usable(self) -> bool:
        return self._down_since is None or self._clock() >= self._retry_at

    def _failed(self, exc: Exception) -> None:
        with self._state:
            now = self._clock()
            if self._down_since is None:
                self._down_since = now
                log.warning("Redis store %s unavailable (%s: %s); using the file store %s until it is back",
                            redact_url(self.primary.url), type(exc).__name__, exc, self.fallback.directory)
            self._retry_at = now + self.retry_s

    def _recovered(self) -> None:
        if self._down_since is None:
            return
        with self._state:
            if self._down_since is not None:
                log.info("Redis store %s is back after %.1fs", redact_url(self.primary.url),
                         self._clock() - self._down_since)
                self._down_since = None

    def _try(self, operation: Callable[[RedisStore], Any]) -> tuple[bool, Any]:
        """(True, result) when Redis answered, (False, None) when it is or just went down."""
        if not self._usable():
            return False, None
        try:
            result = operation(self.primary)
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return False, None
        self._recovered()
        return True, result

    def get(self, dataset: str) -> Snapshot | None:
        ok, snapshot = self._try(lambda r: r.get(dataset))
        if snapshot is not None:
            return snapshot
        snapshot = self.fallback.get(dataset)
        if ok and snapshot is not None:  # Redis answered but was empty (restarted): warm it
            self._try(lambda r: r.put_if_absent(snapshot))
        return snapshot

    def put(self, snapshot: Snapshot) -> None:
        ok, _ = self._try(lambda r: r.put(snapshot))
        self._to_files(ok, lambda: self.fallback.put(snapshot))

    def note_failure(self, dataset: str, error: str, at: dt.datetime) -> None:
        ok, _ = self._try(lambda r: r.note_failure(dataset, error, at))
        self._to_files(ok, lambda: self.fallback.note_failure(dataset, error, at))

    def stamp(self, dataset: str) -> str | None:
        ok, value = self._try(lambda r: r.stamp(dataset))
        if ok and value is not None:
            return "redis:" + value
        on_file = self.fallback.stamp(dataset)
        if ok and on_file is not None:  # Redis answers but lost it (restarted): warm it from the file
            snapshot = self.fallback.get(dataset)
            if snapshot is not None:
                self._try(lambda r: r.put_if_absent(snapshot))
                ok, value = self._try(lambda r: r.stamp(dataset))
                if ok and value is not None:
                    return "redis:" + value
        return None if on_file is None else "file:" + on_file

    def _to_files(self, redis_ok: bool, write: Callable[[], None]) -> None:
        if not redis_ok:
            write()  # the only copy: errors propagate
            return
        try:
            write()
        except OSError as exc:
            log.warning("file store %s not updated (%s); Redis has the data", self.fallback.directory, exc)

    @contextlib.contextmanager
    def lock(self, dataset: str, timeout_s: float | None = DEFAULT_LOCK_TIMEOUT_S, *,
             blocking: bool = True, lease_s: float = DEFAULT_LEASE_S) -> Iterator[LockHandle]:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with contextlib.ExitStack() as stack:
            local = stack.enter_context(self.fallback.lock(dataset, timeout_s, blocking=blocking, lease_s=lease_s))
            if not local.acquired or not self._usable():
                yield local
                return
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                shared = stack.enter_context(self.primary.lock(dataset, remaining, blocking=blocking, lease_s=lease_s))
            except REDIS_ERRORS as exc:
                self._failed(exc)
                yield local
                return
            self._recovered()
            yield shared

    def status(self) -> dict[str, Any]:
        ok, _ = self._try(lambda r: r.ping())
        files = self.fallback.status()
        return {"backend": "redis" if ok else "file", "healthy": ok or files["healthy"],
                "degraded": not ok, "redis": {"url": redact_url(self.primary.url), "healthy": ok},
                "file": files}


def open_store(redis_url: str | None, directory: Path | str, *, redis_retry_s: float = 5.0) -> Store:
    """The app's store: Redis with a file fallback when a URL is configured, else files."""
    files = FileStore(directory)
    if not redis_url:
        return files
    return FallbackStore(RedisStore(redis_url), files, retry_s=redis_retry_s)
