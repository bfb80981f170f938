"""The `file` source: a CSV, XLSX or GeoJSON file on disk in a standard open-data format.

Encodings seen in the wild are UTF-8 with or without a BOM and CP932 (Shift_JIS);
they are detected, never assumed. Parsing lives in `tabular` (shared with live sources);
`decode` and `read_csv` stay importable from here.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from . import FetchResult, SourceFormatError, SourceUnavailable
from .http import MAX_DOWNLOAD_BYTES
from .tabular import ENCODINGS, decode, guess_format, read_csv, rows_from_bytes

__all__ = ["ENCODINGS", "decode", "read_csv", "fetch_rows", "fetch"]


def _format(path: Path) -> str:
    if path.suffix.lower() == ".xls":
        return guess_format(path.name)  # raises, saying why
    try:
        return guess_format(path.name)
    except SourceFormatError:
        return "csv"  # files without a known extension have always been read as CSV


def fetch_rows(path: Path, max_bytes: int = MAX_DOWNLOAD_BYTES) -> list[dict[str, str]]:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceUnavailable(f"{path.name}: {size:,} bytes is over the limit of {max_bytes:,} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise SourceUnavailable(f"{path}: {exc.strerror or exc}") from None
    return rows_from_bytes(data, _format(path), str(path))


def fetch(path: Path, max_bytes: int = MAX_DOWNLOAD_BYTES) -> FetchResult:
    """The file's rows, with its modification time as `source_modified`."""
    rows = fetch_rows(path, max_bytes)
    try:
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
    except OSError:
        modified = None
    return FetchResult(rows=rows, source_url=path.name, source_modified=modified)
