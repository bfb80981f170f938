"""The `file` source: a CSV on disk in a standard open-data format.

Encodings seen in the wild are UTF-8 with or without a BOM and CP932 (Shift_JIS);
they are detected, never assumed. (XLSX, GeoJSON and URLs arrive with the live-data issue.)
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from . import SourceFormatError, SourceUnavailable

ENCODINGS = ("utf-8-sig", "cp932")


def decode(data: bytes, where: str = "file") -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceFormatError(f"{where}: not UTF-8 or CP932 text")


def read_csv(data: bytes, where: str = "file") -> list[dict[str, str]]:
    text = decode(data, where)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise SourceFormatError(f"{where}: empty CSV")
    fieldnames = [name.strip() for name in reader.fieldnames]
    reader.fieldnames = fieldnames
    return [{k: (v if v is not None else "") for k, v in row.items() if k is not None} for row in reader]


def fetch_rows(path: Path) -> list[dict[str, str]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceUnavailable(f"{path}: {exc.strerror or exc}") from None
    return read_csv(data, str(path))
