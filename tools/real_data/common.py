"""What every builder shares: where the inputs and outputs are, and the provenance file.

Each snapshot is a folder data/real/<id>/ holding its data files and a `meta.json`:

    {
      "id": "gsi-evacuation",
      "title": {"ja": "…", "en": "…"},          # the dataset, as its publisher calls it
      "publisher": {"ja": "国土地理院", "en": "Geospatial Information Authority of Japan"},
      "source_url": "https://…",                 # the publisher's page for the dataset
      "retrieved": "2025-10-27",                 # when the publisher's data was fetched
      "licence": {"name": "…", "url": "…"},
      "credit": {"ja": "出典：…", "en": "Source: …"},   # the exact credit line to show
      "inputs": [{"file": "gsi-hinanbasho/japan-emergency.geojson.gz", "sha256": "…"}],
      "format": "gsi",                           # how the app reads the files (see data_sources/snapshots.py)
      "files": {"27": {"paths": ["27-emergency.csv.gz"], "rows": 8430}},   # by 2-digit prefecture code
      "parts": [ … ]                             # optional: per-publisher credits (toilets: one per municipality)
    }

`inputs[].file` is relative to shared/real-data; `files` paths to the snapshot's folder.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import csv
import json
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "data" / "real"
DEFAULT_SHARED = ROOT.parent / "shared" / "real-data"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inputs(shared: Path, *names: str) -> list[dict[str, str]]:
    """The `inputs` entry of meta.json for files of shared/real-data."""
    return [{"file": name, "sha256": sha256(shared / name)} for name in names]


def write_gzip(path: Path, data: bytes) -> None:
    """A gzip file whose bytes depend only on `data` (no name or time in the header), so
    that rebuilding from the same inputs changes nothing in git."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as fh:
        fh.write(data)
    path.write_bytes(buffer.getvalue())


def csv_bytes(header: list[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """UTF-8 CSV (no BOM: these files are read by the app, not opened in Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode("utf-8")


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=False) + "\n",
                                      encoding="utf-8")
