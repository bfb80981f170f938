"""The `file` source: a CSV, XLSX or GeoJSON file (or several, or gzipped) on disk in a standard open-data format.

Encodings seen in the wild are UTF-8 with or without a BOM and CP932 (Shift_JIS);
they are detected, never assumed. Parsing lives in `tabular` (shared with live sources);
`decode` and `read_csv` stay importable from here.
"""
from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import Sequence

from . import FetchResult, SourceFormatError, SourceUnavailable
from .http import MAX_DOWNLOAD_BYTES
from .tabular import ENCODINGS, decode, guess_format, read_csv, rows_from_bytes, rows_from_parts

__all__ = ["ENCODINGS", "decode", "read_csv", "fetch_rows", "fetch", "read_part"]


def _format(name: str) -> str:
    if name.lower().endswith(".xls"):
        return guess_format(name)  # raises, saying why
    try:
        return guess_format(name)
    except SourceFormatError:
        return "csv"  # files without a known extension have always been read as CSV


def read_part(path: Path, max_bytes: int = MAX_DOWNLOAD_BYTES) -> tuple[bytes, str]:
    """A file's bytes (gunzipped for .gz: bundled snapshots are compressed) and the name its
    format is told from; the download limit applies to the bytes read."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceUnavailable(f"{path.name}: {size:,} bytes is over the limit of {max_bytes:,} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise SourceUnavailable(f"{path.name}: {exc.strerror or type(exc).__name__}") from None
    name = str(path)
    if name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise SourceFormatError(f"{path.name}: not a readable gzip file ({exc})") from None
        name = name[:-3]
        if len(data) > max_bytes:
            raise SourceUnavailable(f"{path.name}: {len(data):,} bytes unpacked is over the limit of {max_bytes:,} bytes")
    return data, name


def fetch_rows(path: Path, max_bytes: int = MAX_DOWNLOAD_BYTES) -> list[dict[str, str]]:
    data, name = read_part(path, max_bytes)
    return rows_from_bytes(data, _format(name), str(path))


def fetch(path: Path | Sequence[Path], fmt: str | None = None, max_bytes: int = MAX_DOWNLOAD_BYTES) -> FetchResult:
    """The file's rows (or several files' as one dataset; `fmt` "gsi" merges GSI's site and
    shelter lists), with the newest modification time as `source_modified`."""
    paths = [path] if isinstance(path, Path) else list(path)
    parts = []
    for p in paths:
        data, name = read_part(p, max_bytes)
        parts.append((data, name, _format(name) if fmt in (None, "gsi") else fmt))
    rows, derived = rows_from_parts(parts, fmt)
    try:
        modified = max(dt.datetime.fromtimestamp(p.stat().st_mtime, dt.timezone.utc) for p in paths)
    except OSError:
        modified = None
    return FetchResult(rows=rows, source_url=", ".join(p.name for p in paths), source_modified=modified,
                       derived=tuple(derived))
