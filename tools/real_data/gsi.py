"""GSI's designated emergency evacuation sites and designated shelters (国土地理院
「指定緊急避難場所・指定避難所データ」), nationwide, split by prefecture.

Input: shared/real-data/gsi-hinanbasho/japan-emergency.geojson.gz and
japan-evacuation.geojson.gz (GSI's own GeoJSON properties). Output, per prefecture PP:
data/real/gsi-evacuation/PP-emergency.csv.gz and PP-shelters.csv.gz — GSI's properties
unchanged as CSV columns, plus 緯度 and 経度 from the Point, in GSI's order. The app reads
them with the `gsi` format (data_sources/gsi.py), exactly as it reads GSI's published files:
merging the two lists into one layer and finding each place's ward happen there, so a live
deployment reading GSI directly gets the same treatment.
"""
from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from pathlib import Path

from .common import csv_bytes, inputs, write_gzip, write_meta

ID = "gsi-evacuation"
KINDS = {"emergency": "gsi-hinanbasho/japan-emergency.geojson.gz",
         "shelters": "gsi-hinanbasho/japan-evacuation.geojson.gz"}
RETRIEVED = "2025-10-27"


def prefecture_codes(shared: Path) -> dict[str, str]:
    """Prefecture name (北海道, 大阪府 …) → 2-digit code, from the national code list."""
    with (shared / "municipalities" / "japan-local-government-codes.csv").open(encoding="utf-8-sig") as fh:
        return {row["prefecture"]: row["code"][:2] for row in csv.DictReader(fh) if row["code"][2:5] == "000"}


def prefecture_of(props: dict, codes: dict[str, str]) -> str | None:
    """The 2-digit prefecture of a GSI place: its 都道府県名及び市町村名 begins with the
    prefecture's name; else its 共通ID (E + 5-digit municipal code + …)."""
    place = str(props.get("都道府県名及び市町村名") or "")
    for name, code in codes.items():
        if place.startswith(name):
            return code
    ident = str(props.get("共通ID") or "")
    if len(ident) > 3 and ident[1:3].isdigit() and ident[1:3] in codes.values():
        return ident[1:3]
    return None


def build(shared: Path, out: Path) -> str:
    codes = prefecture_codes(shared)
    folder = out / ID
    files: dict[str, dict] = defaultdict(lambda: {"paths": [], "rows": 0})
    totals, unplaced = {}, {}
    for kind, name in KINDS.items():
        with gzip.open(shared / name, "rt", encoding="utf-8") as fh:
            features = json.load(fh)["features"]
        totals[kind] = len(features)
        columns: list[str] = []
        by_prefecture: dict[str, list[dict]] = defaultdict(list)
        unplaced[kind] = 0
        for feature in features:
            props = feature["properties"]
            for key in props:
                if key not in columns:
                    columns.append(key)
            pref = prefecture_of(props, codes)
            if pref is None:
                unplaced[kind] += 1
                continue
            geometry = feature.get("geometry") or {}
            lon, lat = (geometry.get("coordinates") or [None, None])[:2] if geometry.get("type") == "Point" else (None, None)
            by_prefecture[pref].append({**props, "緯度": lat, "経度": lon})
        header = columns + ["緯度", "経度"]
        for pref, rows in sorted(by_prefecture.items()):
            path = f"{pref}-{kind}.csv.gz"
            write_gzip(folder / path, csv_bytes(header, ([row.get(c) for c in header] for row in rows)))
            files[pref]["paths"].append(path)
            files[pref]["rows"] += len(rows)
    write_meta(folder, {
        "id": ID,
        "title": {"ja": "指定緊急避難場所・指定避難所データ", "en": "Designated emergency evacuation sites and shelters"},
        "publisher": {"ja": "国土地理院", "en": "Geospatial Information Authority of Japan (GSI)"},
        "source_url": "https://www.gsi.go.jp/bousaichiri/hinanbasho.html",
        "retrieved": RETRIEVED,
        "licence": {"name": "国土地理院コンテンツ利用規約（CC BY 4.0 互換）",
                    "url": "https://www.gsi.go.jp/kikakuchousei/kikakuchousei40182.html"},
        "credit": {"ja": "出典：国土地理院 指定緊急避難場所・指定避難所データ",
                   "en": "Source: GSI, designated emergency evacuation sites and shelters data"},
        "inputs": inputs(shared, *KINDS.values()),
        "format": "gsi",
        "files": {pref: files[pref] for pref in sorted(files)},
    })
    return (f"{totals['emergency']:,} sites and {totals['shelters']:,} shelters in {len(files)} prefectures"
            f" ({unplaced['emergency'] + unplaced['shelters']} without a prefecture)")
