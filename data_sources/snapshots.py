"""The `snapshot` source: real open data bundled with the app under data/real/<id>/, made
from the publishers' files by the build step (python -m tools.real_data) and read here,
for the deployment's prefecture, through the same importer as a live file.

Each snapshot's meta.json (see tools/real_data/common.py) says who published it, under which
licence, the exact credit line, when it was retrieved, the sha256 of its inputs and, by
2-digit prefecture code, which files hold that prefecture's rows.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import FetchResult, SourceUnavailable, files
from .http import MAX_DOWNLOAD_BYTES

FOLDER = Path(__file__).resolve().parents[1] / "data" / "real"


class SnapshotMissing(LookupError):
    """No bundled snapshot of that id, or none for that prefecture (a config problem)."""


@lru_cache(maxsize=None)
def meta(dataset: str) -> dict[str, Any]:
    """The snapshot's provenance (meta.json); SnapshotMissing when there is no such snapshot."""
    path = FOLDER / dataset / "meta.json"
    if "/" in dataset or ".." in dataset or not path.is_file():
        known = sorted(p.parent.name for p in FOLDER.glob("*/meta.json"))
        raise SnapshotMissing(f"no bundled snapshot {dataset!r} (bundled: {', '.join(known) or 'none'})")
    return json.loads(path.read_text(encoding="utf-8"))


def prefectures(dataset: str) -> tuple[str, ...]:
    """The 2-digit codes of the prefectures the snapshot has rows for."""
    return tuple(sorted(meta(dataset).get("files", {})))


def paths(dataset: str, prefecture: str) -> tuple[Path, ...]:
    """The files holding the prefecture's rows (prefecture: any code form, e.g. 270008 or 27)."""
    entry = meta(dataset).get("files", {}).get(str(prefecture)[:2].zfill(2))
    if not entry:
        raise SnapshotMissing(f"the bundled snapshot {dataset!r} has no data for prefecture {prefecture} "
                              f"(it covers {', '.join(prefectures(dataset)) or 'none'})")
    return tuple(FOLDER / dataset / name for name in entry["paths"])


def fingerprint(dataset: str) -> str:
    """A short hash of the snapshot's inputs and files: it changes when the snapshot is rebuilt
    from other data (the store keys a snapshot's records by it)."""
    info = meta(dataset)
    text = json.dumps([info.get("inputs"), info.get("files"), info.get("format")], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def retrieved(dataset: str) -> dt.date | None:
    value = meta(dataset).get("retrieved")
    return dt.date.fromisoformat(value) if value else None


def fetch(dataset: str, prefecture: str, max_bytes: int = MAX_DOWNLOAD_BYTES) -> FetchResult:
    """The prefecture's rows of the snapshot (read as `file` sources are); `source_url` is the
    publisher's page and `source_modified` the retrieval date (the data is as of then)."""
    try:
        files_of, info = paths(dataset, prefecture), meta(dataset)
    except SnapshotMissing as exc:
        raise SourceUnavailable(str(exc)) from None
    result = files.fetch(files_of, fmt=info.get("format"), max_bytes=max_bytes)
    day = retrieved(dataset)
    return dataclasses.replace(result, source_url=info.get("source_url") or dataset,
                               source_modified=dt.datetime.combine(day, dt.time(), dt.timezone.utc) if day else None)
