"""Area tables for the 47 prefectures: data/real/areas/<PP>.csv, in AreaTable's format.

One row per prefecture, municipality and ward of a designated city, from:
- codes, kanji names and the structure (kinds, parents): 総務省 全国地方公共団体コード
  (tools/real_data/codes.py);
- readings (hiragana → katakana) and town-hall positions: code4fukui/localgovjp;
- English names: piuccio/open-data-jp-municipalities' romaji ('Osaka Shi' → 'Osaka City');
  wards, which it lacks, from their reading ('きたく' → 'Kita Ward (Osaka)');
- weight: the 2015 census population (a designated city missing there: its wards' sum);
- area_km2: the bundled boundaries (tools/real_data/boundaries.py) in an equal-area
  projection, a designated city the sum of its wards, a prefecture of its leaves.

Decisions (see boundaries.py for the two on the boundaries' side):
- 東京都 is "Tokyo Metropolis": like "Osaka Prefecture" it names the kind of area (都),
  and it is not mistaken for the 23 special wards, which people also call "Tokyo".
- Tokyo's 23 special wards are municipalities of kind `special_ward`, "Chiyoda City" as
  they call themselves in English.
- The Northern Territories' six villages are left out (no population, reading or town
  hall; no data source reports on them).
- Seven island municipalities lost their outline to the boundaries' simplification
  (利島村, 青ヶ島村, …); they stay (they have people and data), with area_km2 1.0, the
  floor the map uses for zooming anyway, listed in meta.json as `area_km2_unknown`.
- Hamamatsu's 2024 wards: readings and town halls are not in the 2018–2021 inputs; the
  readings are written here (NEW_WARDS) and the offices are the old wards' offices that
  became theirs; population is the sum of the 2015 wards they took over.
- A prefecture's position is its most populous municipality's town hall (the
  prefectural office is in none of the inputs).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import shapely
from pyproj import Transformer

from services.areas import COLUMNS

from . import boundaries
from .codes import CODE_LIST, CodeEntry, is_leaf, read_code_list
from .common import csv_bytes, inputs, write_meta
from .kana import to_katakana, to_romaji

LOCALGOV = "municipalities/localgovjp-utf8.csv"
ROMAJI = "municipalities/municipalities_romaji.json"
CENSUS = "population/census-2015-municipal-population.csv"

ENGLISH_KIND = {"designated_city": "City", "city": "City", "special_ward": "City", "town": "Town", "village": "Village"}
KANA_SUFFIX = {"市": ("し",), "町": ("ちょう", "まち"), "村": ("むら", "そん"), "区": ("く",)}
ROMAJI_SUFFIX = ("Shi", "Cho", "Machi", "Mura", "Son", "Ku")
PREFECTURE_ENGLISH = {"Hokkaido": "Hokkaido", "Tokyo To": "Tokyo Metropolis"}
UNKNOWN_AREA_KM2 = 1.0
# Where a municipality spells its own name otherwise than the Gazetteer's romaji ('Minoo Shi')
OFFICIAL_ENGLISH = {"272205": "Minoh"}
# Hamamatsu's wards of 2024-01-01: reading, and the 2021 ward whose office became theirs
NEW_WARDS = {"221384": ("ちゅうおうく", "221317"), "221392": ("はまなく", "221368"), "221406": ("てんりゅうく", "221376")}
# Albers equal-area, standard parallels spanning Japan
EQUAL_AREA = Transformer.from_crs("EPSG:4326", "+proj=aea +lat_0=35 +lon_0=137 +lat_1=25 +lat_2=45 +ellps=GRS80",
                                  always_xy=True)

META = {
    "id": "areas",
    "title": {"ja": "全国地方公共団体コード（都道府県・市区町村・行政区）", "en": "Local government codes of Japan (prefectures, municipalities, wards)"},
    "publisher": {"ja": "総務省", "en": "Ministry of Internal Affairs and Communications"},
    "source_url": "https://www.soumu.go.jp/denshijiti/code.html",
    "retrieved": "2025-10",
    "licence": {"name": "政府標準コード（公開情報、出典：総務省）", "url": "https://www.soumu.go.jp/denshijiti/code.html"},
    "credit": {"ja": "出典：総務省「全国地方公共団体コード」、総務省統計局「平成27年国勢調査」",
               "en": "Sources: MIC Local Government Codes; Statistics Bureau of Japan, 2015 Census"},
    "format": "areas",
    "parts": [
        {"what": "name_kana, lat, lon", "publisher": "code4fukui/localgovjp", "source_url": "https://github.com/code4fukui/localgovjp",
         "licence": {"name": "CC0 1.0", "url": "https://creativecommons.org/publicdomain/zero/1.0/"}},
        {"what": "name_en", "publisher": "piuccio/open-data-jp-municipalities (from GSI's Gazetteer), 2018",
         "source_url": "https://github.com/piuccio/open-data-jp-municipalities",
         "licence": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"}},
        {"what": "weight (2015 population)", "publisher": "総務省統計局 国勢調査 (via AlFontal/environmental-data-japan, MIT)",
         "source_url": "https://github.com/AlFontal/environmental-data-japan",
         "credit": {"ja": "出典：総務省統計局 平成27年国勢調査", "en": "Source: Statistics Bureau of Japan, 2015 Census"},
         "licence": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"}},
        {"what": "area_km2", "publisher": "国土交通省 国土数値情報（行政区域）, data/real/boundaries",
         "credit": {"ja": "国土数値情報（行政区域データ）（国土交通省）を加工して作成",
                    "en": "Based on MLIT National Land Numerical Information (Administrative Areas)"}},
    ],
}


# --------------------------------------------------------------------------- inputs


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _population(shared: Path) -> dict[str, int]:
    """5-digit code → 2015 total population."""
    return {r["area_code"]: int(r["Total population (Both sexes)"]) for r in _read_csv(shared / CENSUS)}


def _area_km2(geometry) -> float:
    projected = shapely.transform(geometry, lambda xy: _project(xy))
    return projected.area / 1e6


def _project(xy):
    import numpy as np

    x, y = EQUAL_AREA.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


# --------------------------------------------------------------------------- names


def _strip_suffix(text: str, suffixes) -> str:
    for suffix in suffixes:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def _base_romaji(entry: CodeEntry, romaji: dict, kana: str) -> str:
    """'Osaka' for 大阪市: the romaji list's name without its kind word, else from the reading."""
    record = romaji.get(entry.code)
    if record is None:
        return to_romaji(_strip_suffix(kana, KANA_SUFFIX[entry.name_ja[-1]]))
    words = record["name_romaji"].split()
    if len(words) > 1 and words[-1] in ROMAJI_SUFFIX:
        return " ".join(words[:-1])
    # one word: 'Edogawa', 'Aogashima', but also 'Akamura' (赤村) and 'Higashison' (東村)
    word = words[0]
    for suffix in KANA_SUFFIX[entry.name_ja[-1]]:
        if kana.endswith(suffix) and word.lower().endswith(to_romaji(suffix).lower()):
            return word[: -len(to_romaji(suffix))]
    return word


def _prefecture_english(romaji_name: str) -> str:
    plain = romaji_name.translate(str.maketrans("ŌōŪū", "OoUu"))
    return PREFECTURE_ENGLISH.get(plain) or plain.rsplit(" ", 1)[0] + " Prefecture"


# --------------------------------------------------------------------------- rows


def area_rows(shared: Path) -> tuple[dict[str, list[dict]], list[str]]:
    """Prefecture code → its table's rows (dicts with COLUMNS); and the codes whose
    area is unknown (no boundary)."""
    codes = {c: e for c, e in read_code_list(shared).items() if c not in boundaries.EXCLUDED}
    geometries, _ = boundaries.leaf_geometries(shared)
    localgov = {r["lgcode"]: r for r in _read_csv(shared / LOCALGOV)}
    romaji = {r["code"]: r for r in json.loads((shared / ROMAJI).read_text(encoding="utf-8"))}
    population = _population(shared)
    for code, (reading, office) in NEW_WARDS.items():
        old = [c5 for c5, successor in boundaries.HAMAMATSU_2024.items() if successor == code]
        population.setdefault(code[:5], sum(population[c5] for c5 in old))
        localgov.setdefault(code, dict(localgov[office], citykana="はままつし " + reading))

    rows: dict[str, dict] = {}
    unknown_area: list[str] = []
    for code, entry in sorted(codes.items()):
        if entry.kind == "prefecture":
            continue
        hall = localgov[code]
        kana = hall["citykana"].split()[-1]
        rows[code] = {"code": code, "name_ja": entry.name_ja, "name_kana": to_katakana(kana),
                      "kind": entry.kind, "parent_code": entry.parent_code,
                      "lat": float(hall["lat"]), "lon": float(hall["lng"]),
                      "weight": population.get(code[:5]), "_kana": kana}
        if is_leaf(entry):
            if code in geometries:
                rows[code]["area_km2"] = _area_km2(geometries[code])
            else:
                rows[code]["area_km2"] = UNKNOWN_AREA_KM2
                unknown_area.append(code)
    _english_names(rows, codes, romaji)
    _sum_designated_cities(rows)
    tables: dict[str, list[dict]] = {}
    for prefecture_code, entry in codes.items():
        if entry.kind == "prefecture":
            members = [r for c, r in rows.items() if c[:2] == prefecture_code[:2]]
            tables[prefecture_code[:2]] = [_prefecture_row(entry, members, romaji)] + members
    return dict(sorted(tables.items())), unknown_area


def _english_names(rows: dict[str, dict], codes: dict, romaji: dict) -> None:
    """name_en in the table's style: 'Osaka City', 'Shimamoto Town', 'Kita Ward (Osaka)'."""
    for code, row in rows.items():
        entry = codes[code]
        if entry.kind != "ward":
            row["_base_en"] = OFFICIAL_ENGLISH.get(code) or _base_romaji(entry, romaji, row["_kana"])
            row["name_en"] = f"{row['_base_en']} {ENGLISH_KIND[entry.kind]}"
    for row in rows.values():
        if row["kind"] == "ward":
            ward = to_romaji(_strip_suffix(row["_kana"], KANA_SUFFIX["区"]))
            row["name_en"] = f"{ward} Ward ({rows[row['parent_code']]['_base_en']})"


def _sum_designated_cities(rows: dict[str, dict]) -> None:
    """A designated city's area is its wards'; its population too when the census lacks it."""
    for code, row in rows.items():
        if row["kind"] != "designated_city":
            continue
        wards = [r for r in rows.values() if r["parent_code"] == code]
        row["area_km2"] = sum(w["area_km2"] for w in wards)
        if row["weight"] is None:
            row["weight"] = sum(w["weight"] for w in wards)


def _prefecture_row(entry: CodeEntry, members: list[dict], romaji: dict) -> dict:
    municipalities = [r for r in members if r["kind"] != "ward"]
    sample = next(r for r in romaji.values() if r["prefecture_kanji"] == entry.name_ja)
    seat = max(municipalities, key=lambda r: r["weight"] or 0)
    return {"code": entry.code, "name_ja": entry.name_ja, "name_kana": to_katakana(sample["prefecture_kana"]),
            "name_en": _prefecture_english(sample["prefecture_romaji"]), "kind": "prefecture", "parent_code": None,
            "lat": seat["lat"], "lon": seat["lon"],
            "area_km2": sum(r["area_km2"] for r in members if r["kind"] != "designated_city"),
            "weight": sum(r["weight"] or 0 for r in municipalities)}


def table_csv(rows: list[dict]) -> bytes:
    def cells(row: dict) -> list:
        return [row["code"], row["name_ja"], row["name_kana"], row["name_en"], row["kind"], row["parent_code"],
                f"{row['lat']:.5f}", f"{row['lon']:.5f}", f"{row['area_km2']:.2f}", row["weight"] or 0]

    return csv_bytes(list(COLUMNS), (cells(r) for r in rows))


def build(shared: Path, out: Path) -> str:
    tables, unknown_area = area_rows(shared)
    folder = out / "areas"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for prefecture, rows in tables.items():
        (folder / f"{prefecture}.csv").write_bytes(table_csv(rows))
        files[prefecture] = {"paths": [f"{prefecture}.csv"], "rows": len(rows)}
    no_weight = [r["code"] for rows in tables.values() for r in rows if not r["weight"]]
    meta = dict(META, inputs=inputs(shared, CODE_LIST, LOCALGOV, ROMAJI, CENSUS), files=files,
                area_km2_unknown=sorted(unknown_area), weight_unknown=sorted(no_weight),
                left_out=sorted(boundaries.EXCLUDED))
    write_meta(folder, meta)
    total = sum(len(rows) for rows in tables.values())
    size = sum(p.stat().st_size for p in folder.glob("*.csv"))
    return (f"{total} areas in {len(tables)} tables, {size / 1024:.0f} KB; "
            f"{len(unknown_area)} without a boundary (area {UNKNOWN_AREA_KM2} km²), {len(no_weight)} without population")
