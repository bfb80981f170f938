"""The 全国地方公共団体コード list (総務省) read into the area table's structure: each
code's kind, parent and short kanji name. Shared by the area-table and boundary
builders, so both agree on what a leaf area is.

The list has no kind column; it follows from the names: a prefecture's row is PP000+check
digit; a row named '<city>市<ward>区' whose city is also a row is a ward of that
designated city; Tokyo's 特別区 (131xx, '千代田区') are municipalities of their own
(kind special_ward); otherwise the last character says city, town or village.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CODE_LIST = "municipalities/japan-local-government-codes.csv"

_SUFFIX_KINDS = {"市": "city", "町": "town", "村": "village"}


@dataclass(frozen=True)
class CodeEntry:
    code: str
    name_ja: str  # as the area table has it: '北区' for a ward, '大阪市' for a city
    kind: str
    parent_code: str | None
    prefecture_ja: str


def _kind_of(name: str, code: str) -> str:
    if code[:2] == "13" and code[2] == "1" and name.endswith("区"):
        return "special_ward"
    kind = _SUFFIX_KINDS.get(name[-1])
    if kind is None:
        raise ValueError(f"{CODE_LIST}: cannot tell the kind of {code} {name}")
    return kind


@lru_cache(maxsize=4)
def read_code_list(shared: Path) -> dict[str, CodeEntry]:
    """Code → entry, for every row of the list (the 47 prefectures included)."""
    with (shared / CODE_LIST).open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    prefectures = {r["code"][:2]: r["code"] for r in rows if r["code"][2:5] == "000"}
    by_name = {(r["prefecture"], r["name"]): r["code"] for r in rows if r["code"][2:5] != "000"}
    entries: dict[str, CodeEntry] = {}
    wards_of: set[str] = set()
    for row in rows:
        code, name = row["code"], row["name"]
        if code[2:5] == "000":
            entries[code] = CodeEntry(code, name, "prefecture", None, row["prefecture"])
            continue
        city_code = None
        if name.endswith("区") and "市" in name[:-1]:
            city_name = name[: name.index("市") + 1]
            city_code = by_name.get((row["prefecture"], city_name))
        if city_code is not None and city_code != code:
            wards_of.add(city_code)
            entries[code] = CodeEntry(code, name[len(city_name):], "ward", city_code, row["prefecture"])
        else:
            entries[code] = CodeEntry(code, name, _kind_of(name, code), prefectures[code[:2]], row["prefecture"])
    for city_code in wards_of:
        entry = entries[city_code]
        entries[city_code] = CodeEntry(entry.code, entry.name_ja, "designated_city", entry.parent_code, entry.prefecture_ja)
    return entries


def is_leaf(entry: CodeEntry) -> bool:
    """A ward or a municipality without wards: the areas boundaries and data rows belong to."""
    return entry.kind not in ("prefecture", "designated_city")
