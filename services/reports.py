"""Residents' reports of a mistake in a place's data (issue 11: "この情報の誤りを報告").

A report names the place (layer and record id, with the name and data date it had when
reported), what is wrong (one of KINDS) and an optional note; it holds nothing about who
sent it. Reports are appended, never edited: to a Redis list when MIERUKA_REDIS_URL is set
(shared by every worker), else to a JSON-lines file in MIERUKA_CACHE_DIR. A report that Redis
cannot take goes to the file instead, and reading merges both: none is lost.

Sending is limited per client address (LIMIT per hour, counted in Redis or in the process);
the address itself is never stored, only a salted hash of it, in a counter that expires.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import threading
import unicodedata
from pathlib import Path
from typing import Any, Callable

from data_sources.store import redis_client

log = logging.getLogger(__name__)

KINDS = ("closed", "moved", "hours", "other")
NOTE_MAX = 500  # characters of a note
LIMIT = 10  # reports per client address per hour
_SALT = os.urandom(16)  # per process: the counters' keys cannot be turned back into addresses


class ReportError(ValueError):
    """A report that cannot be taken; the message says why (for the sender)."""


def clean_note(text: Any) -> str:
    """The note as stored: normalised (NFC), control characters but line breaks dropped,
    trimmed; ReportError when it is longer than NOTE_MAX."""
    note = unicodedata.normalize("NFC", str(text or ""))
    note = "".join(c for c in note if c in "\n\t" or unicodedata.category(c)[0] != "C").strip()
    if len(note) > NOTE_MAX:
        raise ReportError(f"note: {len(note)} characters, at most {NOTE_MAX}")
    return note


def checked(kind: Any, note: Any) -> tuple[str, str]:
    """(kind, note as stored); ReportError for a kind not in KINDS or a note too long."""
    if kind not in KINDS:
        raise ReportError(f"kind: {str(kind)[:20]!r} is not one of {', '.join(KINDS)}")
    return kind, clean_note(note)


class ReportBook:
    def __init__(self, redis_url: str | None, directory: Path | str, *, prefix: str = "mieruka",
                 clock: Callable[[], dt.datetime] | None = None):
        """`clock` (aware UTC) is for tests."""
        self.path = Path(directory) / "reports.jsonl"
        self.prefix = prefix
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.redis = redis_client(redis_url) if redis_url else None
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def key(self) -> str:
        return f"{self.prefix}:reports"

    def allow(self, client: str) -> bool:
        """Count one report from `client` (an address) in this hour; False once over LIMIT."""
        hour = self.clock().strftime("%Y%m%d%H")
        who = hashlib.sha256(_SALT + client.encode()).hexdigest()[:16]
        key = f"{self.prefix}:reports:rate:{hour}:{who}"
        if self.redis is not None:
            try:
                pipe = self.redis.pipeline()
                pipe.incr(key)
                pipe.expire(key, 3600)
                return int(pipe.execute()[0]) <= LIMIT
            except Exception as exc:  # noqa: BLE001 — Redis down: count here instead
                log.warning("reports: Redis unavailable for the rate count (%s); counting in this process", exc)
        with self._lock:
            self._counts = {k: v for k, v in self._counts.items() if k.split(":")[-2] == hour}
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key] <= LIMIT

    def add(self, layer: str, record_id: str, name: str, data_date: str | None, kind: str, note: Any) -> dict:
        """Store a report; returns it. ReportError for an unknown kind or a note too long."""
        kind, note = checked(kind, note)
        report = {"at": self.clock().replace(microsecond=0).isoformat(), "layer": layer, "id": record_id,
                  "name": name, "data_date": data_date, "kind": kind, "note": note}
        line = json.dumps(report, ensure_ascii=False)
        if self.redis is not None:
            try:
                self.redis.rpush(self.key, line)
                return report
            except Exception as exc:  # noqa: BLE001 — kept in the file, read back with the rest
                log.warning("reports: Redis unavailable (%s); the report is kept in %s", exc, self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # one line at a time from every worker
            f.write(line + "\n")
        return report

    def all(self) -> list[dict]:
        """Every report, newest first."""
        lines: list[str] = []
        if self.redis is not None:
            try:
                lines += [b.decode("utf-8") for b in self.redis.lrange(self.key, 0, -1)]
            except Exception as exc:  # noqa: BLE001
                log.warning("reports: Redis unavailable (%s); listing the file's reports only", exc)
        if self.path.exists():
            lines += self.path.read_text(encoding="utf-8").splitlines()
        reports = []
        for line in lines:
            try:
                reports.append(json.loads(line))
            except ValueError:
                log.warning("reports: an unreadable line skipped")
        return sorted(reports, key=lambda r: r.get("at", ""), reverse=True)
