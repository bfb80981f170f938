"""Area reference tables (one per prefecture): codes, names, offices, weights.

Area codes are 全国地方公共団体コード: the 5-digit JIS code plus a check digit.
Real files carry the 6-digit form, the 5-digit form, or either with its leading
zero dropped by a spreadsheet, as numbers, floats ('27100.0') or full-width
digits; :func:`parse_code` turns any of these into candidate 6-digit codes and
:class:`AreaTable` resolves them against the table in ``data/real/areas/27.csv`` (built by tools/real_data/areas.py).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

__all__ = [
    "Area",
    "AreaTable",
    "COLUMNS",
    "DEFAULT_CSV",
    "KINDS",
    "MUNICIPALITY_KINDS",
    "check_digit",
    "code6_from_code5",
    "default_table",
    "find_in_japan",
    "parse_code",
    "prefecture_short_name",
]

DEFAULT_CSV = Path(__file__).resolve().parents[1] / "data" / "real" / "areas" / "27.csv"

COLUMNS = (
    "code",
    "name_ja",
    "name_kana",
    "name_en",
    "kind",
    "parent_code",
    "lat",
    "lon",
    "area_km2",
    "weight",
)
# special_ward: one of Tokyo's 23 特別区 (千代田区 …), a municipality of its own, unlike the
# wards (行政区) of a designated city
MUNICIPALITY_KINDS = frozenset({"designated_city", "city", "special_ward", "town", "village"})
KINDS = frozenset({"prefecture", "ward"}) | MUNICIPALITY_KINDS

_WEIGHTS = (6, 5, 4, 3, 2)
_FLOAT_ZERO = re.compile(r"^(\d+)\.0*$")


# --------------------------------------------------------------------------- codes


def check_digit(code5: str) -> int:
    """Check digit of a 5-digit JIS code: (11 − Σ(digit × 6,5,4,3,2) mod 11) mod 10."""
    if len(code5) != 5 or not code5.isascii() or not code5.isdigit():
        raise ValueError(f"not a 5-digit code: {code5!r}")
    total = sum(int(d) * w for d, w in zip(code5, _WEIGHTS))
    return (11 - total % 11) % 10


def code6_from_code5(code5: str) -> str:
    """The 6-digit code for a 5-digit JIS code ('27100' → '271004')."""
    return code5 + str(check_digit(code5))


def _valid6(code6: str) -> bool:
    """True for a 6-digit code with a prefecture part 01–47 and a correct check digit."""
    return (
        len(code6) == 6
        and code6.isascii()
        and code6.isdigit()
        and 1 <= int(code6[:2]) <= 47
        and check_digit(code6[:5]) == int(code6[5])
    )


def _plausible(code6: str) -> bool:
    """Municipal part is 000 (the prefecture itself) or ≥ 100, as all real codes are."""
    part = int(code6[2:5])
    return part == 0 or part >= 100


def _clean(raw: object) -> str | None:
    """Digits of a raw code value, or None when it cannot be a code."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, float):
        if raw != raw or raw < 0 or not raw.is_integer():
            return None
        text = str(int(raw))
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip()
    match = _FLOAT_ZERO.match(text)
    if match:
        text = match.group(1)
    if not text or not text.isascii() or not text.isdigit():
        return None
    return text


def parse_code(raw: object) -> tuple[str, ...]:
    """Candidate 6-digit codes for a raw code value, most likely first.

    Accepts 6-digit codes, 5-digit JIS codes, either with its leading zero
    dropped, ints, floats, '27100.0', full-width digits and surrounding spaces.
    Only interpretations with prefecture 01–47 and a correct check digit are
    returned; () for None, '', garbage or a wrong check digit.
    """
    text = _clean(raw)
    if text is None:
        return ()
    candidates: list[str] = []
    if len(text) == 6:
        candidates.append(text)
    elif len(text) == 5:
        candidates.append(code6_from_code5(text))  # 5-digit JIS code
        candidates.append("0" + text)  # 6-digit code that lost its leading zero
    elif len(text) == 4:
        candidates.append(code6_from_code5("0" + text))  # JIS code that lost its zero
    valid = [c for c in candidates if _valid6(c)]
    # Stable sort: structurally plausible codes first, else the order above.
    valid.sort(key=lambda c: not _plausible(c))
    return tuple(dict.fromkeys(valid))


# --------------------------------------------------------------------------- areas


@dataclass(frozen=True, slots=True)
class Area:
    """One row of the area table (prefecture, municipality or ward)."""

    code: str
    code5: str
    name_ja: str
    name_kana: str
    name_en: str
    kind: str
    parent_code: str | None
    lat: float
    lon: float
    area_km2: float
    weight: int

    def name(self, lang: str) -> str:
        """Display name: Japanese for 'ja', English otherwise."""
        return self.name_ja if lang == "ja" else self.name_en

    @property
    def is_ward(self) -> bool:
        """True for a ward (区) of a designated city."""
        return self.kind == "ward"

    @property
    def is_municipality(self) -> bool:
        """True for a designated city, city, special ward (Tokyo), town or village."""
        return self.kind in MUNICIPALITY_KINDS


def prefecture_short_name(name: str) -> str:
    """A prefecture's name without its kind: 奈良県 → 奈良, 東京都 → 東京, Nara Prefecture → Nara,
    Tokyo Metropolis → Tokyo (北海道 and Hokkaido stay as they are)."""
    for suffix in (" Prefecture", " Metropolis"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name[:-1] if name[-1:] in "都府県" and len(name) > 2 else name


def _fold(text: str) -> str:
    """Key for name matching: NFKC, no spaces, case-folded, hiragana → katakana."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not ch.isspace())
    text = "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)
    return text.casefold()


class AreaTable:
    """The set of areas, with code normalisation and hierarchy look-ups."""

    def __init__(self, areas: Iterable[Area]) -> None:
        ordered = sorted(areas, key=lambda a: a.code)
        self._by_code: dict[str, Area] = {a.code: a for a in ordered}
        if len(self._by_code) != len(ordered):
            raise ValueError("duplicate area codes")
        self._areas: tuple[Area, ...] = tuple(ordered)
        prefectures = [a for a in ordered if a.kind == "prefecture"]
        if len(prefectures) != 1:
            raise ValueError(f"expected exactly one prefecture, found {len(prefectures)}")
        self.prefecture: Area = prefectures[0]
        self.municipalities: tuple[Area, ...] = tuple(a for a in ordered if a.is_municipality)
        self._place_names = (self.prefecture.name_ja, *(a.name_ja for a in self.municipalities))
        self.leaves: tuple[Area, ...] = tuple(
            a for a in ordered if a.is_ward or (a.is_municipality and a.kind != "designated_city")
        )
        self._wards: dict[str, tuple[Area, ...]] = {}
        for area in ordered:
            if area.is_ward and area.parent_code:
                self._wards[area.parent_code] = self._wards.get(area.parent_code, ()) + (area,)
        self._names = self._build_name_index()

    # ---- loading

    @classmethod
    def from_csv(cls, path: str | Path) -> AreaTable:
        """Load and validate a table; ValueError names the file, row and problem."""
        path = Path(path)
        areas: list[Area] = []
        rows: dict[str, int] = {}
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise ValueError(
                    f"{path}: row 1: header {reader.fieldnames!r} is not {','.join(COLUMNS)}"
                )
            for row in reader:
                line = reader.line_num

                def fail(problem: str) -> ValueError:
                    return ValueError(f"{path}: row {line}: {problem}")

                if None in row or any(row[c] is None for c in COLUMNS):
                    raise fail("wrong number of fields")
                code = row["code"].strip()
                if len(code) != 6 or not code.isascii() or not code.isdigit():
                    raise fail(f"code {code!r} is not 6 digits")
                if not _valid6(code):
                    raise fail(f"code {code} has a wrong check digit (expected {code6_from_code5(code[:5])})")
                if code in rows:
                    raise fail(f"code {code} duplicates row {rows[code]}")
                rows[code] = line
                kind = row["kind"].strip()
                if kind not in KINDS:
                    raise fail(f"unknown kind {kind!r}")
                for col in ("name_ja", "name_kana", "name_en"):
                    if not row[col].strip():
                        raise fail(f"empty {col}")
                parent = row["parent_code"].strip() or None
                if (parent is None) != (kind == "prefecture"):
                    raise fail("parent_code must be empty exactly for the prefecture")
                try:
                    lat, lon = float(row["lat"]), float(row["lon"])
                    area_km2 = float(row["area_km2"])
                    weight = int(row["weight"])
                except ValueError as exc:
                    raise fail(f"bad number ({exc})") from None
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise fail(f"lat/lon out of range: {lat}, {lon}")
                if area_km2 <= 0 or weight < 0:
                    raise fail("area_km2 must be positive and weight non-negative")
                areas.append(
                    Area(
                        code=code,
                        code5=code[:5],
                        name_ja=row["name_ja"].strip(),
                        name_kana=row["name_kana"].strip(),
                        name_en=row["name_en"].strip(),
                        kind=kind,
                        parent_code=parent,
                        lat=lat,
                        lon=lon,
                        area_km2=area_km2,
                        weight=weight,
                    )
                )
        by_code = {a.code: a for a in areas}
        for area in areas:
            if area.parent_code is None:
                continue
            parent = by_code.get(area.parent_code)
            line = rows[area.code]
            if parent is None:
                raise ValueError(f"{path}: row {line}: parent_code {area.parent_code} not in the table")
            expected = "designated_city" if area.is_ward else "prefecture"
            if parent.kind != expected:
                raise ValueError(
                    f"{path}: row {line}: parent {parent.code} of a {area.kind} is a {parent.kind}, "
                    f"expected {expected}"
                )
        try:
            return cls(areas)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    # ---- look-ups

    def get(self, raw: object) -> Area | None:
        """The area for any code form :func:`parse_code` accepts, else None."""
        if isinstance(raw, Area):
            return self._by_code.get(raw.code)
        if isinstance(raw, str) and raw in self._by_code:  # already canonical: the common case, by far
            return self._by_code[raw]
        for code in parse_code(raw):
            area = self._by_code.get(code)
            if area is not None:
                return area
        return None

    def normalise(self, raw: object) -> str | None:
        """The 6-digit code of a known area, else None."""
        area = self.get(raw)
        return area.code if area else None

    def wards(self, city_code: object) -> tuple[Area, ...]:
        """Wards of a designated city (any code form); () for other areas."""
        city = self.get(city_code)
        return self._wards.get(city.code, ()) if city else ()

    def full_name(self, area: Area, lang: str) -> str:
        """The name a reader needs out of context: a ward with its city in Japanese
        (大阪市北区; the English names already say it: "Kita Ward (Osaka)")."""
        if area.is_ward and lang == "ja":
            return f"{self.municipality_of(area.code).name_ja}{area.name_ja}"
        return area.name(lang)

    def municipality_of(self, code: object) -> Area | None:
        """Ward → its city; municipality → itself; prefecture or unknown → None."""
        area = self.get(code)
        if area is None:
            return None
        if area.is_ward:
            return self._by_code.get(area.parent_code or "")
        return area if area.is_municipality else None

    def begins_with_a_place(self, text: str) -> bool:
        """True when `text` (an address) begins with the prefecture's or a municipality's name."""
        return text.startswith(self._place_names)

    def find(self, text: object) -> Area | None:
        """Area by exact name (ja, kana or en, case-insensitive) or by code.

        Also accepts a ward written with its city ('大阪市北区', '堺市北区') and names
        prefixed with the prefecture ('大阪府豊中市'). A bare name shared by two
        areas ('北区', 'キタク') is ambiguous and gives None.
        """
        if text is None:
            return None
        area = self.get(text)
        if area is not None:
            return area
        key = _fold(str(text))
        if not key:
            return None
        found = self._names.get(key)
        if found is None:
            pref = _fold(self.prefecture.name_ja)
            if key.startswith(pref) and key != pref:
                found = self._names.get(key[len(pref):])
        return found if isinstance(found, Area) else None

    def _build_name_index(self) -> dict[str, Area | None]:
        """Folded name → area; None marks a name shared by several areas."""
        index: dict[str, Area | None] = {}

        def add(name: str, area: Area) -> None:
            key = _fold(name)
            if key in index and index[key] is not area:
                index[key] = None
            else:
                index[key] = area

        for area in self._areas:
            for name in (area.name_ja, area.name_kana, area.name_en):
                add(name, area)
            if area.is_ward and area.parent_code in self._by_code:
                city = self._by_code[area.parent_code]
                add(city.name_ja + area.name_ja, area)
                add(city.name_kana + area.name_kana, area)
        return index

    # ---- container protocol

    def __iter__(self) -> Iterator[Area]:
        return iter(self._areas)

    def __len__(self) -> int:
        return len(self._areas)

    def __contains__(self, raw: object) -> bool:
        return self.get(raw) is not None

    def __repr__(self) -> str:
        return f"AreaTable({len(self)} areas)"


@lru_cache(maxsize=1)
def default_table() -> AreaTable:
    """The project's own table, ``data/real/areas/27.csv`` (built by tools/real_data/areas.py; loaded once)."""
    return AreaTable.from_csv(DEFAULT_CSV)


@lru_cache(maxsize=None)
def prefecture_tables() -> tuple[AreaTable, ...]:
    """The bundled area tables of all 47 prefectures (``data/real/areas/PP.csv``; loaded once)."""
    return tuple(AreaTable.from_csv(path) for path in sorted(DEFAULT_CSV.parent.glob("[0-4][0-9].csv")))


@lru_cache(maxsize=8192)
def find_in_japan(text: object) -> tuple[AreaTable, Area] | None:
    """An area of any prefecture, with its prefecture's table: by code in any form
    :func:`parse_code` accepts, or by a name that starts with its prefecture's
    ('北海道札幌市', '東京都千代田区': as GSI's 都道府県名及び市町村名 says it). None otherwise:
    a name without its prefecture ('府中市') may be in more than one."""
    if text is None:
        return None
    by_code = {t.prefecture.code[:2]: t for t in prefecture_tables()}
    for code in parse_code(text):
        table = by_code.get(code[:2])
        if table is not None and table.get(code) is not None:
            return table, table.get(code)
    key = _fold(str(text))
    for table in by_code.values():
        if key.startswith(_fold(table.prefecture.name_ja)):
            area = table.find(text)
            return (table, area) if area is not None else None
    return None
