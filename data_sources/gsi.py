"""The `gsi` format: the Geospatial Information Authority of Japan's designated emergency
evacuation sites (指定緊急避難場所) and designated shelters (指定避難所), as GSI publishes
them (GeoJSON or CSV, one file per list), turned into one dataset in the standard columns of
the 指定緊急避難場所一覧 that the evacuation layer maps.

- A place GSI lists in both files (the same name at the same address) becomes one row whose
  種別 is both; every merge is counted (see `merge`).
- Hazard flags ("1" or blank) become 災害種別_<hazard> columns, 共通ID the row's ID,
  施設・場所名 its 名称. 都道府県名及び市町村名 is kept: GSI names only the municipality
  (only the whole city for designated cities), so the normaliser finds the ward from the
  place's position.
"""
from __future__ import annotations

import unicodedata
from typing import Iterable

from . import SourceFormatError

HAZARDS = ("洪水", "崖崩れ、土石流及び地滑り", "高潮", "地震", "津波", "大規模な火事", "内水氾濫", "火山現象")
SITE, SHELTER = "指定緊急避難場所", "指定避難所"
_SHELTER_KEYS = ("受入対象者", "指定緊急避難場所との住所同一", "その他市町村長が必要と認める事項")


def kind_of(rows: list[dict[str, str]], where: str) -> str:
    """Which of GSI's two lists these rows are, from their columns."""
    keys = set().union(*(row.keys() for row in rows[:50])) if rows else set()
    if keys & set(HAZARDS):
        return SITE
    if keys & set(_SHELTER_KEYS):
        return SHELTER
    raise SourceFormatError(f"{where}: neither GSI's evacuation-site list (hazard columns such as 洪水) "
                            "nor its shelter list (受入対象者)")


def _key(row: dict[str, str]) -> tuple[str, str]:
    """What makes two entries the same place: name and address, ignoring width and spacing."""
    def fold(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text or "").split())
    return fold(row.get("施設・場所名", "")), fold(row.get("住所", ""))


def _standard(row: dict[str, str], kinds: list[str]) -> dict[str, str]:
    out = {k: v for k, v in row.items() if k not in HAZARDS and k not in ("共通ID", "施設・場所名")}
    out["ID"] = row.get("共通ID") or row.get("NO") or ""
    out["名称"] = row.get("施設・場所名", "")
    out["種別"] = ";".join(kinds)
    for hazard in HAZARDS:
        out[f"災害種別_{hazard}"] = row.get(hazard, "")
    out["指定避難所との重複"] = "1" if SHELTER in kinds else row.get("指定避難所との住所同一", "")
    notes = [row.get("備考", ""), row.get("その他市町村長が必要と認める事項", "")]
    out["備考"] = " / ".join(n.strip() for n in notes if n and n.strip())
    return out


def merge(lists: Iterable[tuple[list[dict[str, str]], str]]) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
    """Rows of GSI's lists ((rows, where) each) → (standard rows, derived notes). A shelter
    is merged into the first not yet merged site with its name and address."""
    sites: list[dict[str, str]] = []
    shelters: list[dict[str, str]] = []
    for rows, where in lists:
        (sites if kind_of(rows, where) == SITE else shelters).extend(rows)
    unmatched: dict[tuple[str, str], list[int]] = {}
    for i, site in enumerate(sites):
        unmatched.setdefault(_key(site), []).append(i)
    partner: dict[int, dict[str, str]] = {}
    lone_shelters, notes = [], []
    for shelter in shelters:
        candidates = unmatched.get(_key(shelter))
        if candidates:
            index = candidates.pop(0)
            partner[index] = shelter
            notes.append(("listed as both an evacuation site and a shelter",
                          f"{shelter.get('施設・場所名', '')} ({sites[index].get('共通ID', '')} + {shelter.get('共通ID', '')})"))
        else:
            lone_shelters.append(shelter)
    rows = []
    for i, site in enumerate(sites):
        shelter = partner.get(i)
        if shelter is None:
            rows.append(_standard(site, [SITE]))
        else:
            merged = _standard(site, [SITE, SHELTER])
            merged["受入対象者"] = shelter.get("受入対象者", "")
            extra = [merged["備考"], shelter.get("備考", ""), shelter.get("その他市町村長が必要と認める事項", "")]
            merged["備考"] = " / ".join(dict.fromkeys(n.strip() for n in extra if n and n.strip()))
            rows.append(merged)
    rows.extend(_standard(shelter, [SHELTER]) for shelter in lone_shelters)
    return rows, notes
