"""Tabular payloads → rows: CSV, XLSX and GeoJSON bytes become lists of dicts of strings,
like `csv.DictReader` rows, for the normaliser to map with the layer's field mapping.

- CSV: the encoding is detected (UTF-8 with or without BOM, then CP932), never assumed.
- XLSX: the first sheet; the header is the first row with at least two non-empty cells
  (a title line above the table is skipped; a one-column sheet uses its first non-empty
  row); cells become text: dates ISO, integral numbers without ".0", empty cells "".
- GeoJSON: each feature's properties as text, plus `_lon` and `_lat` from a Point
  geometry ("" for other geometries, so the normaliser reports them).
Anything unreadable raises `SourceFormatError` naming where it came from.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from typing import Any
from urllib.parse import urlsplit

from . import FetchResult, SourceFormatError
from . import http

ENCODINGS = ("utf-8-sig", "cp932")
_EXTENSIONS = {"csv": "csv", "txt": "csv", "xlsx": "xlsx", "xlsm": "xlsx",
               "geojson": "geojson", "json": "geojson"}
_CONTENT_TYPES = {
    "text/csv": "csv", "application/csv": "csv", "text/comma-separated-values": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/geo+json": "geojson", "application/vnd.geo+json": "geojson", "application/json": "geojson",
}
# Names publishers put in a CKAN resource's "format" field.
_FORMAT_NAMES = {"csv": "csv", "text/csv": "csv", "xlsx": "xlsx", "excel": "xlsx", "ms excel": "xlsx",
                 "geojson": "geojson", "geo+json": "geojson", "application/geo+json": "geojson"}
_HEADER_SCAN = 30  # rows of a sheet searched for the header


def decode(data: bytes, where: str = "file") -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceFormatError(f"{where}: not UTF-8 or CP932 text")


def to_text(value: Any) -> str:
    """One value as the text a CSV cell would hold: None → "", booleans "true"/"false",
    integral numbers without ".0", lists joined with ";", objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() and value.tzinfo is None else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M") if value.second == 0 and value.microsecond == 0 else value.isoformat()
    if isinstance(value, dt.timedelta):  # an XLSX duration cell
        return str(value)
    if isinstance(value, (list, tuple)):
        return ";".join(to_text(v) if not isinstance(v, dict) else _json(v) for v in value)
    if isinstance(value, dict):
        return _json(value)
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def format_name(name: str | None) -> str | None:
    """A CKAN resource's "format" field ("CSV", ".xlsx", "Excel", "GeoJSON") → csv/xlsx/geojson."""
    key = (name or "").strip().lower().lstrip(".")
    return _FORMAT_NAMES.get(key)


def guess_format(name_or_url: str, content_type: str | None = None) -> str:
    """csv, xlsx or geojson from a file name or URL (its extension), else the content type."""
    path = urlsplit(name_or_url).path if "://" in name_or_url else name_or_url
    ext = path.rsplit("/", 1)[-1].rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _CONTENT_TYPES:
        return _CONTENT_TYPES[mime]
    if ext == "xls" or mime == "application/vnd.ms-excel":
        raise SourceFormatError(f"{http.redact(name_or_url)}: old Excel (.xls) files are not supported; "
                                "publish or convert to XLSX or CSV")
    raise SourceFormatError(f"{http.redact(name_or_url)}: cannot tell the format "
                            f"(extension {ext or 'none'}, content type {mime or 'none'}); "
                            "expected CSV, XLSX or GeoJSON")


def rows_from_bytes(data: bytes, fmt: str, where: str) -> list[dict[str, str]]:
    """Rows of a CSV, XLSX or GeoJSON payload (fmt: one of registry.TABULAR_FORMATS, case-insensitive)."""
    kind = (fmt or "").strip().lower().lstrip(".")
    kind = format_name(kind) or kind
    if kind == "csv":
        return read_csv(data, where)
    if kind == "xlsx":
        return read_xlsx(data, where)
    if kind == "geojson":
        return read_geojson(data, where)
    raise SourceFormatError(f"{where}: unsupported format {fmt!r} (expected CSV, XLSX or GeoJSON)")


def rows_from_parts(parts: list[tuple[bytes, str, str]], fmt: str | None) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
    """Rows of several files read as one dataset ((bytes, name, format) each), and the
    (reason, example) notes of what the reader derived: `fmt` "gsi" merges GSI's site and
    shelter lists (data_sources/gsi.py); otherwise the files' rows add up."""
    if (fmt or "").lower() == "gsi":
        from . import gsi
        return gsi.merge((rows_from_bytes(data, part_format, name), name) for data, name, part_format in parts)
    rows: list[dict[str, str]] = []
    for data, name, part_format in parts:
        part = rows_from_bytes(data, part_format, name)
        if len(parts) > 1:  # say which file a rejected row came from (the normaliser reads _row)
            short = name.rsplit("/", 1)[-1]
            for number, row in enumerate(part, start=2):
                row["_row"] = f"{short} row {number}"
        rows.extend(part)
    return rows, []


def read_csv(data: bytes, where: str = "file") -> list[dict[str, str]]:
    text = decode(data, where)
    head = text.lstrip()[:100].lower()
    if head.startswith(("<!doctype html", "<html")):
        raise SourceFormatError(f"{where}: got an HTML page, not CSV")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            raise SourceFormatError(f"{where}: empty CSV")
        fieldnames = [name.strip() for name in reader.fieldnames]
        reader.fieldnames = fieldnames
        return [{k: (v if v is not None else "") for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:
        raise SourceFormatError(f"{where}: unreadable CSV ({exc})") from None


def read_xlsx(data: bytes, where: str = "file") -> list[dict[str, str]]:
    from openpyxl import load_workbook  # imported on use: only XLSX sources need it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError, openpyxl's InvalidFileException, …
        raise SourceFormatError(f"{where}: not an XLSX workbook ({type(exc).__name__})") from None
    try:
        if not book.worksheets:
            raise SourceFormatError(f"{where}: the workbook has no sheets")
        cells = [[to_text(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    filled = [sum(1 for v in row if v.strip()) for row in cells]
    candidates = [i for i, n in enumerate(filled[:_HEADER_SCAN]) if n >= 2] or \
                 [i for i, n in enumerate(filled[:_HEADER_SCAN]) if n >= 1]
    if not candidates:
        raise SourceFormatError(f"{where}: the first sheet is empty")
    header_at = candidates[0]
    columns = [(i, name.strip()) for i, name in enumerate(cells[header_at]) if name.strip()]
    rows = []
    for row in cells[header_at + 1:]:
        if not any(v.strip() for v in row):
            continue
        rows.append({name: (row[i] if i < len(row) else "") for i, name in columns})
    return rows


def read_geojson(data: bytes, where: str = "file") -> list[dict[str, str]]:
    try:
        doc = json.loads(decode(data, where))
    except json.JSONDecodeError as exc:
        raise SourceFormatError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif isinstance(doc, dict) and isinstance(doc.get("features"), list):
        features = doc["features"]
    else:
        raise SourceFormatError(f"{where}: not a GeoJSON FeatureCollection")
    rows = []
    for n, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            raise SourceFormatError(f"{where}: feature {n} is not a GeoJSON Feature")
        row = {str(k): to_text(v) for k, v in (feature.get("properties") or {}).items()}
        if feature.get("id") is not None:
            row.setdefault("_id", to_text(feature["id"]))
        row["_lon"], row["_lat"] = point_of(feature.get("geometry"))
        rows.append(row)
    return rows


def point_of(geometry: Any) -> tuple[str, str]:
    """("lon", "lat") of a GeoJSON Point (a JSON string of one is accepted), else ("", "")."""
    if isinstance(geometry, str):
        try:
            geometry = json.loads(geometry)
        except json.JSONDecodeError:
            return "", ""
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return "", ""
    coords = geometry.get("coordinates")
    if not isinstance(coords, (list, tuple)) or len(coords) < 2:
        return "", ""
    lon, lat = coords[0], coords[1]
    if not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in (lon, lat)):
        return "", ""
    return to_text(lon), to_text(lat)


def fetch_url(url: str, *, fmt: str | None = None, user_agent: str, timeout: http.Timeout = (5, 20),
              retries: int = 2, backoff: float = 0.5, max_bytes: int = http.MAX_DOWNLOAD_BYTES) -> FetchResult:
    """The `url` source: download a CSV/XLSX/GeoJSON file; fmt from the URL or Content-Type if not given."""
    with http.session(user_agent, max_bytes) as s:
        response = http.get(s, url, timeout=timeout, retries=retries, backoff=backoff)
        where = http.redact(url)
        kind = fmt or guess_format(url, response.headers.get("Content-Type"))
        rows = rows_from_bytes(response.content, kind, where)
        return FetchResult(rows=rows, source_url=where, source_modified=http.last_modified(response))


def fetch_urls(urls: tuple[str, ...], *, fmt: str | None = None, user_agent: str, timeout: http.Timeout = (5, 20),
               retries: int = 2, backoff: float = 0.5, max_bytes: int = http.MAX_DOWNLOAD_BYTES) -> FetchResult:
    """Several files read as one dataset (`fmt` "gsi": GSI's site and shelter lists, merged)."""
    if len(urls) == 1 and (fmt or "").lower() != "gsi":
        return fetch_url(urls[0], fmt=fmt, user_agent=user_agent, timeout=timeout, retries=retries,
                         backoff=backoff, max_bytes=max_bytes)
    gsi = (fmt or "").lower() == "gsi"
    parts, modified = [], []
    with http.session(user_agent, max_bytes) as s:
        for url in urls:
            response = http.get(s, url, timeout=timeout, retries=retries, backoff=backoff)
            part_format = guess_format(url, response.headers.get("Content-Type")) if gsi or not fmt else fmt
            parts.append((response.content, http.redact(url), part_format))
            modified.append(http.last_modified(response))
    rows, derived = rows_from_parts(parts, fmt)
    known = [m for m in modified if m is not None]
    return FetchResult(rows=rows, source_url=", ".join(http.redact(u) for u in urls),
                       source_modified=max(known) if known else None, derived=tuple(derived))
