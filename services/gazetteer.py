"""Places by name, offline (issue 11): "中央区本町1丁目", "本町1-2-3", "すいた" → where to look.

The gazetteer holds the deployment's municipalities and wards (the area table: names in
kanji, kana and English, and their positions), and the towns (町・字) and chōme (丁目) found
in the addresses of its **real** layers (GSI's evacuation sites, the municipalities' toilets:
never sample data, whose addresses are made up), each at the mean position of the places
there. Nothing is asked of any outside service.

Addresses and queries are compared in one canonical form (`canonical`): NFKC (full-width
digits and letters), no spaces, the prefecture's name dropped, kanji numerals before 丁目,
番地, 番 and 号 as digits, 丁目/番地/番 as "-" (so 本町1丁目2番3号 = 本町1-2-3), 大字 dropped,
ヶ/ケ/ヵ/が as one. A query matches a name it begins (as you type: "本町" → 本町1丁目 …) or a
name it continues at a "-" (a full address → its chōme); exact matches come first, then the
most specific, then the places with most entries.
"""
from __future__ import annotations

import bisect
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from services.areas import AreaTable

LIMIT = 8
_KANJI = dict(zip("〇一二三四五六七八九", range(10)))
_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十]+(?=丁目|番地|番|号)")
_DASHES = re.compile(r"(?<=\d)[\-‐‑‒–—―ー−－](?=\d)")
_SPACES = re.compile(r"\s+")
_KE = str.maketrans({"ヶ": "ケ", "ヵ": "ケ", "が": "ケ", "ガ": "ケ", "ケ": "ケ"})
_HIRAGANA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}  # katakana → hiragana (ヶ first made ケ)
# an address after its municipality: the town (no digits), then a number, then the rest
_TOWN = re.compile(r"^(?P<town>[^\d\-]{1,16}?)(?P<num>\d{1,3})(?P<after>丁目|-|$)")
ZOOM = {"area": 13, "town": 15, "chome": 16}
KIND_ORDER = {"area": 0, "town": 1, "chome": 2}


def _kanji_to_digits(match: re.Match) -> str:
    text, value, digit = match.group(0), 0, 0
    for c in text:
        if c == "十":
            value += (digit or 1) * 10
            digit = 0
        else:
            digit = digit * 10 + _KANJI[c]
    return str(value + digit)


def canonical(text: object, prefecture: str = "") -> str:
    """The form addresses and queries are compared in (see the module's docstring)."""
    s = _SPACES.sub("", unicodedata.normalize("NFKC", str(text or "")))
    if prefecture and s.startswith(prefecture):
        s = s[len(prefecture):]
    s = _KANJI_NUMBER.sub(_kanji_to_digits, s)
    s = _DASHES.sub("-", s)
    s = s.replace("丁目", "-").replace("番地", "-").replace("番", "-").replace("号", "").replace("大字", "")
    s = s.translate(_KE).translate(_HIRAGANA).lower()
    return re.sub(r"-+", "-", s).strip("-")


@dataclass
class Entry:
    kind: str  # "area", "town" or "chome"
    area: str  # the municipality's or ward's code
    name_ja: str
    name_en: str
    lat: float = 0.0
    lon: float = 0.0
    count: int = 0  # places of the real layers there (an area: its weight, for the ranking only)
    keys: tuple[str, ...] = field(default=())

    def as_json(self, lang: str) -> dict:
        return {"name": self.name_ja if lang == "ja" else self.name_en, "kind": self.kind, "area": self.area,
                "lat": round(self.lat, 6), "lon": round(self.lon, 6), "zoom": ZOOM[self.kind],
                "places": None if self.kind == "area" else self.count}


class Gazetteer:
    def __init__(self, areas: AreaTable, records: Iterable[dict]):
        """`records`: places of real layers (address, lat, lon, area_code)."""
        self.prefecture = canonical(areas.prefecture.name_ja)
        entries: dict[tuple, Entry] = {}
        for area in areas:
            if area.kind == "prefecture":
                continue
            full = areas.full_name(area, "ja")
            keys = {canonical(n, self.prefecture) for n in (full, area.name_ja, area.name_kana, area.name_en) if n}
            entries[(area.code,)] = Entry("area", area.code, full, areas.full_name(area, "en"), area.lat, area.lon,
                                          area.weight, tuple(sorted(k for k in keys if k)))
        sums: dict[tuple, list[float]] = {}
        for record in records:
            found = self._town_of(areas, record)
            if found is None:
                continue
            area, town, chome = found
            for key in ((area.code, town), (area.code, town, chome)) if chome else ((area.code, town),):
                total = sums.setdefault(key, [0.0, 0.0, 0])
                total[0] += record["lat"]
                total[1] += record["lon"]
                total[2] += 1
        for key, (lat, lon, n) in sums.items():
            area = areas.get(key[0])
            full, short = areas.full_name(area, "ja"), area.name_ja
            town = key[1] + (f"{key[2]}丁目" if len(key) == 3 else "")
            names = (full + town, short + town, town)
            entries[key] = Entry("chome" if len(key) == 3 else "town", area.code, f"{full}{town}",
                                 f"{town}, {areas.full_name(area, 'en')}", lat / n, lon / n, n,
                                 tuple(sorted({canonical(x, self.prefecture) for x in names})))
        self.entries = list(entries.values())
        pairs = sorted((key, i) for i, e in enumerate(self.entries) for key in e.keys)
        self._keys = [k for k, _ in pairs]
        self._owners = [i for _, i in pairs]
        self._exact: dict[str, list[int]] = {}
        for key, i in pairs:
            self._exact.setdefault(key, []).append(i)

    def _town_of(self, areas: AreaTable, record: dict):
        """(area, town, chōme or None) of a record's address, or None where it cannot be read."""
        area = areas.get(record.get("area_code"))
        lat, lon = record.get("lat"), record.get("lon")
        if area is None or not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
            return None
        written = _SPACES.sub("", unicodedata.normalize("NFKC", str(record.get("address") or "")))
        written = _KANJI_NUMBER.sub(_kanji_to_digits, written)
        if written.startswith(areas.prefecture.name_ja):
            written = written[len(areas.prefecture.name_ja):]
        for name in sorted({areas.full_name(area, "ja"), area.name_ja}, key=len, reverse=True):
            if written.startswith(name):
                written = written[len(name):]
                break
        else:
            return None
        match = _TOWN.match(written.replace("大字", ""))
        if not match:
            return None
        town, number, after = match.group("town"), int(match.group("num")), match.group("after")
        # 1丁目 as written, or a small first number before a "-" (本町1-2-3); 箱作446-73 has no chōme
        chome = number if after == "丁目" or (after == "-" and 1 <= number <= 9) else None
        return area, town, chome

    def search(self, query: object, lang: str = "ja", limit: int = LIMIT) -> list[dict]:
        """The best `limit` places for `query`, as JSON-ready dicts (name, kind, area, lat,
        lon, zoom, places)."""
        q = canonical(query, self.prefecture)
        if not q:
            return []
        ranked: dict[int, tuple] = {}

        def offer(i: int, rank: tuple) -> None:
            if i not in ranked or rank < ranked[i]:
                ranked[i] = rank

        for i in self._exact.get(q, ()):
            offer(i, (0, 0, 0))
        # a more specific query (本町1-2-3, or 本町1 where only 本町 is known): the names it
        # continues at a "-" or where its number begins, longest first
        for cut in range(len(q) - 1, 0, -1):
            if q[cut] == "-" or (q[cut].isdigit() and not q[cut - 1].isdigit()):
                for i in self._exact.get(q[:cut], ()):
                    offer(i, (1, -cut, 0))
        # as you type: the names it begins, the fewest kinds deep and the most places first
        start = bisect.bisect_left(self._keys, q)
        end = bisect.bisect_left(self._keys, q + "\uffff")
        for j in range(start, min(end, start + 2000)):
            i = self._owners[j]
            e = self.entries[i]
            offer(i, (2, KIND_ORDER[e.kind], -e.count))
        best = sorted(ranked, key=lambda i: (ranked[i], self.entries[i].name_ja))[:limit]
        return [self.entries[i].as_json(lang) for i in best]


_built: dict[tuple, Gazetteer] = {}
_lock = threading.Lock()


def gazetteer(areas: AreaTable, snapshots) -> Gazetteer:
    """The gazetteer of `snapshots`' real layers, built once per set of their versions."""
    real = [s for s in snapshots if not s.sample]
    key = (id(areas), tuple((s.layer.id, s.version) for s in real))
    with _lock:
        found = _built.get(key)
        if found is None:
            found = Gazetteer(areas, (r for s in real for r in s.records))
            _built.clear()  # only the latest data's
            _built[key] = found
        return found
