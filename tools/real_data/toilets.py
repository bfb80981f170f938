"""Osaka municipalities' public-toilet lists in the standard format (自治体標準オープンデータ
セット 公衆トイレ一覧), one file per municipality that publishes one and was collected.

Input: shared/real-data/toilets-osaka/<code>-<name>.csv, SOURCES.csv (each file's licence,
attribution and source) and catalog_osaka_rows.csv (when each was modified and retrieved).
Output: data/real/toilets/27-<code>.csv.gz — each municipality's file byte for byte (the
app's importer meets every real-world quirk itself and reports it on /data) — and
meta.json whose `parts` credit each municipality separately, as their licences require,
and whose `not_included` lists the municipalities that publish a list not bundled here.
"""
from __future__ import annotations

import csv
from pathlib import Path

from .common import OUT, inputs, write_gzip, write_meta

ID = "toilets"
FOLDER = "toilets-osaka"
PREFECTURE = "27"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _catalog(shared: Path) -> dict[str, dict[str, str]]:
    """5-digit code → {"modified", "retrieved"} from the catalog rows (a file without a header)."""
    dates = {}
    with (shared / FOLDER / "catalog_osaka_rows.csv").open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            if len(row) >= 17:
                dates[row[3]] = {"modified": row[15] or None, "retrieved": row[16] or None}
    return dates


def _english_names(out: Path) -> dict[str, str]:
    """5-digit code → English name, from the area table the `areas` builder wrote (into `out`,
    else the bundled one)."""
    table = out / "areas" / f"{PREFECTURE}.csv"
    return {row["code"][:5]: row["name_en"] for row in _read(table if table.is_file() else OUT / "areas" / table.name)}


def build(shared: Path, out: Path) -> str:
    sources = _read(shared / FOLDER / "SOURCES.csv")
    english = _english_names(out)
    catalog = _catalog(shared)
    folder = out / ID
    parts, not_included, paths, names = [], [], [], []
    for source in sources:
        code5 = source["municipality_code"]
        if not source["file"]:
            not_included.append({"code5": code5, "name": source["name"], "source_url": source["source_url"]})
            continue
        raw = (shared / FOLDER / source["file"]).read_bytes()
        path = f"{PREFECTURE}-{code5}.csv.gz"
        write_gzip(folder / path, raw)
        paths.append(path)
        names.append(f"{FOLDER}/{source['file']}")
        parts.append({
            "code5": code5, "name": source["name"], "rows": int(source["rows"]),
            "title": source["attribution"].split("「", 1)[-1].split("」", 1)[0],
            "credit": source["attribution"], "licence": {"name": source["licence"], "url": source["licence_url"]},
            "source_url": source["source_url"], "download_url": source["download_url"],
            **catalog.get(code5, {}), "file": path,
        })
    retrieved = max((p.get("retrieved") or "" for p in parts), default="") or None
    write_meta(folder, {
        "id": ID,
        "title": {"ja": "公衆トイレ一覧", "en": "Public toilets"},
        "publisher": {"ja": "大阪府内の市町村", "en": "Municipalities of Osaka Prefecture"},
        "source_url": "https://github.com/tsunagu-bosai/open-infra-japan",
        "retrieved": retrieved,
        "licence": {"name": "CC BY 4.0 ほか（市町村ごと）", "url": "https://creativecommons.org/licenses/by/4.0/"},
        "credit": {"ja": "、".join(p["credit"] for p in parts),
                   "en": "Based on the public-toilet lists of " + ", ".join(english.get(p["code5"], p["name"]) for p in parts)},
        "inputs": inputs(shared, *names, f"{FOLDER}/SOURCES.csv", f"{FOLDER}/catalog_osaka_rows.csv"),
        "format": "csv",
        "files": {PREFECTURE: {"paths": paths, "rows": sum(p["rows"] for p in parts)}},
        "parts": parts,
        "not_included": not_included,
    })
    return f"{sum(p['rows'] for p in parts)} rows from {len(parts)} municipalities ({len(not_included)} published, not bundled)"
