"""Shared building blocks for the sample-data generator.

Everything here is invented: facility names are built from generic town names and
words, phone numbers use unassignable local numbers (the digit after the area code is
0), and URLs point at example.org.  Nothing is derived from real facility lists or from
boundary geometry.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Sequence

# Kilometres per degree: 1° of latitude ≈ 110.9 km anywhere in Japan; 1° of longitude
# shrinks with the latitude (≈ 111.32 km × cos φ).  Osaka's points keep the figure they
# were generated with (91.6 km, Osaka's latitude) so that its sample output stays the same.
KM_PER_DEG_LAT = 110.9
KM_PER_DEG_LON = 91.6
_KM_PER_DEG_EQUATOR = 111.32

#: Scatter radius = SCATTER_FACTOR * sqrt(area_km2 / pi) km around the office.
SCATTER_FACTOR = 0.55

#: Outside Osaka the radius is at most that of the leaf's "settled" disc: its population
#: at the density that makes a census 人口集中地区 (4,000 people per km²), and at least
#: MIN_RADIUS_KM.  Facilities gather where people live, and the offices of large rural or
#: coastal municipalities (釧路市, 函館市, a mountain village) sit in their town centre, not
#: in the middle of their area: the plain area disc put only 79 % of Hokkaido's points
#: in their own municipality, this one 87–99 % in every prefecture (tests measure it).
#: Osaka keeps the plain area disc its sample output was generated with.
SETTLED_DENSITY = 4000.0
MIN_RADIUS_KM = 1.0

#: Optional hand-written per-area tweaks, keyed by the 5-digit code:
#: (radius multiplier, north offset km, east offset km).  Empty: with the truncated
#: gaussian scatter about 90 % of points already fall inside their own area.
SCATTER_TWEAKS: dict[str, tuple[float, float, float]] = {}

#: Osaka's two-digit prefecture code: the only prefecture with hand-made special cases
#: (its 06 / 072 phone prefixes, its coastal strip, its low-lying city wards).
OSAKA = "27"

#: Osaka's 2015 census population: the volumes in ``columns.TARGETS`` are sized for it,
#: and every other prefecture's are scaled by its own population relative to this.
REFERENCE_POPULATION = 8_839_469

#: Longitude west of which an Osaka point counts as "coastal" (tsunami / storm surge).
#: Only Osaka has such a line; elsewhere no point is treated as coastal.
COASTAL_LON = 135.48

#: Osaka municipalities whose numbers use the 06 area code (besides Osaka City's wards).
_AREA_06 = {"27203", "27205", "27213", "27223", "27224", "27227"}

#: Phone prefix outside Osaka: "00" is no area code anywhere in Japan (a leading 00 is the
#: international / carrier-selection prefix) and an exchange of 0000 is never assigned,
#: so "00-0000-1234" cannot reach anyone, and it names no region.
NEUTRAL_PHONE_PREFIX = "00-0000-"


def check_digit(code5: str) -> str:
    """Check digit of a 5-digit JIS municipality code (weights 6,5,4,3,2)."""
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2)))
    return str((11 - total % 11) % 10)


def code6(code5: str) -> str:
    return code5 + check_digit(code5)


def to_katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


@dataclass(frozen=True)
class Leaf:
    """A place rows are spread over: a leaf area of the prefecture's table (a ward, or a
    municipality without wards), or one of the few cities of the events' partner
    prefectures (events.py)."""

    code: str          # 6-digit 全国地方公共団体コード
    pref: str          # the prefecture's name: 大阪府 / 奈良県 / 東京都 / 北海道 …
    name: str          # municipality (+ ward) name, e.g. 大阪市北区, 札幌市中央区, 千代田区
    lat: float         # office latitude
    lon: float         # office longitude
    radius_km: float   # scatter radius
    weight: float
    phone_prefix: str  # e.g. "06-0000-" (followed by 4 digits)
    km_per_deg_lon: float = KM_PER_DEG_LON

    def coastal(self, lon: float) -> bool:
        """Whether a point of this leaf at ``lon`` counts as coastal (Osaka only)."""
        return self.code.startswith(OSAKA) and lon < COASTAL_LON


def _get(areas: Any, code: str) -> Any:
    try:
        return areas.get(code)
    except (KeyError, LookupError):
        return None


@dataclass(frozen=True)
class Prefecture:
    """What the generator needs of the prefecture an AreaTable is for."""

    code: str          # two digits, e.g. "29"
    name_ja: str       # 奈良県
    short_en: str      # "Nara" (name_en without " Prefecture" / " Metropolis")
    population: float  # 2015 census (the prefecture row's weight, else the leaves' sum)

    @property
    def is_osaka(self) -> bool:
        return self.code == OSAKA

    @property
    def scale(self) -> float:
        """Population relative to Osaka's (exactly 1.0 for Osaka)."""
        return 1.0 if self.is_osaka else self.population / REFERENCE_POPULATION


def prefecture_of(areas: Any) -> Prefecture:
    from services.areas import prefecture_short_name

    pref = areas.prefecture
    short = prefecture_short_name(str(pref.name_en or ""))
    population = float(pref.weight or 0) or float(sum(max(float(a.weight or 0), 0.0) for a in areas.leaves))
    return Prefecture(str(pref.code)[:2], pref.name_ja, short.strip() or pref.name_ja, population)


def _phone_prefix(code: str) -> str:
    if not code.startswith(OSAKA):
        return NEUTRAL_PHONE_PREFIX
    return "06-0000-" if code.startswith("271") or code[:5] in _AREA_06 else "072-000-"


def prefecture_leaves(areas: Any) -> list[Leaf]:
    """Turn ``areas.leaves`` (an AreaTable) into Leaf records sorted by code.

    Names, positions, sizes and weights all come from the table; addresses are prefixed
    with the table's own prefecture name.
    """
    pref = prefecture_of(areas)
    out: list[Leaf] = []
    for a in sorted(areas.leaves, key=lambda a: str(a.code)):
        code = str(a.code).zfill(6)
        name = a.name_ja
        parent = _get(areas, a.parent_code) if getattr(a, "parent_code", None) else None
        kind = getattr(a, "kind", None)
        if parent is not None and (kind == "ward" or getattr(parent, "kind", "") == "designated_city"):
            if not name.startswith(parent.name_ja):
                name = parent.name_ja + name
        area_km2 = float(a.area_km2) if a.area_km2 else 10.0
        factor, dn, de = SCATTER_TWEAKS.get(code[:5], (1.0, 0.0, 0.0))
        radius = SCATTER_FACTOR * math.sqrt(area_km2 / math.pi) * factor
        if not pref.is_osaka:
            settled = math.sqrt(max(float(a.weight or 0), 0.0) / SETTLED_DENSITY / math.pi)
            radius = min(radius, max(settled, MIN_RADIUS_KM) * factor)
        lat = float(a.lat) + dn / KM_PER_DEG_LAT
        km_lon = KM_PER_DEG_LON if pref.is_osaka else _KM_PER_DEG_EQUATOR * math.cos(math.radians(lat))
        out.append(Leaf(
            code=code, pref=pref.name_ja, name=name,
            lat=lat, lon=float(a.lon) + de / km_lon,
            radius_km=radius, weight=max(float(a.weight or 0), 0.0), phone_prefix=_phone_prefix(code),
            km_per_deg_lon=km_lon,
        ))
    if not out:
        raise ValueError("area table has no leaves")
    return out


def allocate(leaves: Sequence[Leaf], total: int, floor: int = 0) -> list[int]:
    """Largest-remainder split of ``total`` over ``leaves`` proportional to weight; with
    ``floor``, a leaf whose share rounds below it is raised to it (the total grows)."""
    weights = [lf.weight for lf in leaves]
    wsum = sum(weights)
    if wsum <= 0:
        weights = [1.0] * len(leaves)
        wsum = float(len(leaves))
    quotas = [total * w / wsum for w in weights]
    counts = [int(q) for q in quotas]
    order = sorted(range(len(leaves)), key=lambda i: (-(quotas[i] - counts[i]), leaves[i].code))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return [max(c, floor) for c in counts]


def spread(leaves: Sequence[Leaf], total: int, floor: int = 0) -> list[Leaf]:
    """One Leaf per row, rows grouped by leaf in code order (see ``allocate``)."""
    out: list[Leaf] = []
    for leaf, n in zip(leaves, allocate(leaves, total, floor)):
        out.extend([leaf] * n)
    return out


def scatter(rng: random.Random, leaf: Leaf, shrink: float = 1.0) -> tuple[str, str]:
    """A point around the leaf's office, as (lat, lon) strings with 6 decimals.

    The distance follows a 2-D gaussian (sigma = radius/2) truncated at the radius,
    drawn by inverting its CDF, so facilities thin out towards the disc's edge.
    """
    r = leaf.radius_km * shrink
    rho = 0.5 * r * math.sqrt(-2.0 * math.log(1.0 - rng.random() * _TRUNC))
    theta = rng.random() * 2 * math.pi
    lat = leaf.lat + rho * math.sin(theta) / KM_PER_DEG_LAT
    lon = leaf.lon + rho * math.cos(theta) / leaf.km_per_deg_lon
    return f"{lat:.6f}", f"{lon:.6f}"


_TRUNC = 1.0 - math.exp(-2.0)  # CDF of the radius/2-sigma Rayleigh at the radius


def phone(rng: random.Random, leaf: Leaf) -> str:
    return f"{leaf.phone_prefix}{rng.randrange(10000):04d}"


def sample_url(dataset: str, ident: str) -> str:
    return f"https://example.org/mieruka-sample/{dataset}/{ident}"


def chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def pick_weighted(rng: random.Random, items: Sequence[Any], weights: Sequence[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


# --- vocabulary -------------------------------------------------------------------
# (kanji, hiragana reading, romaji)
TOWNS: tuple[tuple[str, str, str], ...] = (
    ("本町", "ほんまち", "Honmachi"),
    ("中央", "ちゅうおう", "Chuo"),
    ("東町", "ひがしまち", "Higashimachi"),
    ("西町", "にしまち", "Nishimachi"),
    ("南町", "みなみまち", "Minamimachi"),
    ("北町", "きたまち", "Kitamachi"),
    ("栄町", "さかえまち", "Sakaemachi"),
    ("緑町", "みどりまち", "Midorimachi"),
    ("旭町", "あさひまち", "Asahimachi"),
    ("寿町", "ことぶきちょう", "Kotobukicho"),
    ("新町", "しんまち", "Shinmachi"),
    ("幸町", "さいわいちょう", "Saiwaicho"),
    ("桜町", "さくらまち", "Sakuramachi"),
    ("若葉町", "わかばちょう", "Wakabacho"),
    ("春日町", "かすがちょう", "Kasugacho"),
    ("宮前町", "みやまえちょう", "Miyamaecho"),
    ("日の出町", "ひのでちょう", "Hinodecho"),
    ("松が丘", "まつがおか", "Matsugaoka"),
    ("青葉台", "あおばだい", "Aobadai"),
    ("平和町", "へいわちょう", "Heiwacho"),
)

WORDS: tuple[tuple[str, str, str], ...] = (
    ("さくら", "さくら", "Sakura"),
    ("ひまわり", "ひまわり", "Himawari"),
    ("たんぽぽ", "たんぽぽ", "Tanpopo"),
    ("すみれ", "すみれ", "Sumire"),
    ("あおば", "あおば", "Aoba"),
    ("わかば", "わかば", "Wakaba"),
    ("ひかり", "ひかり", "Hikari"),
    ("そら", "そら", "Sora"),
    ("にじ", "にじ", "Niji"),
    ("こすもす", "こすもす", "Kosumosu"),
    ("つばさ", "つばさ", "Tsubasa"),
    ("めぐみ", "めぐみ", "Megumi"),
    ("すずらん", "すずらん", "Suzuran"),
    ("もみじ", "もみじ", "Momiji"),
    ("どんぐり", "どんぐり", "Donguri"),
    ("あさひ", "あさひ", "Asahi"),
    ("みのり", "みのり", "Minori"),
    ("ほほえみ", "ほほえみ", "Hohoemi"),
    ("なかよし", "なかよし", "Nakayoshi"),
    ("すくすく", "すくすく", "Sukusuku"),
)

ORDINALS: tuple[tuple[str, str, str], ...] = (
    ("", "", ""),
    ("第二", "だいに", "No.2 "),
    ("第三", "だいさん", "No.3 "),
    ("第四", "だいよん", "No.4 "),
    ("第五", "だいご", "No.5 "),
    ("第六", "だいろく", "No.6 "),
    ("第七", "だいなな", "No.7 "),
    ("第八", "だいはち", "No.8 "),
    ("第九", "だいきゅう", "No.9 "),
    ("第十", "だいじゅう", "No.10 "),
)


@dataclass(frozen=True)
class Name:
    ja: str
    kana: str  # full-width katakana
    en: str
    town_index: int  # index into TOWNS of the address town
    prefix: str = ""  # the town/word part, e.g. 緑町 or さくら
    kind: str = ""    # the kind part, e.g. 公園


class Namer:
    """Builds unique, generic facility names within one leaf.

    ``kinds`` are (kanji, hiragana, english) suffixes such as ("公園", "こうえん", "Park").
    With ``words`` the prefix is a generic word (さくら…) instead of a town name; the
    address town is then picked separately.
    """

    def __init__(self) -> None:
        self._used: set[tuple[str, str]] = set()

    def make(self, rng: random.Random, leaf: Leaf, kinds: Sequence[tuple[str, str, str]],
             kind_weights: Sequence[float] | None = None, words: bool = False,
             kind: tuple[str, str, str] | None = None) -> Name:
        k = kind or (rng.choices(kinds, weights=kind_weights, k=1)[0] if kind_weights else rng.choice(kinds))
        town_i = rng.randrange(len(TOWNS))
        prefixes = WORDS if words else TOWNS
        start = rng.randrange(len(prefixes)) if words else town_i
        for ordinal in ORDINALS:
            for step in range(len(prefixes)):
                p = prefixes[(start + step) % len(prefixes)]
                ja = p[0] + ordinal[0] + k[0]
                if (leaf.code, ja) in self._used:
                    continue
                self._used.add((leaf.code, ja))
                if not words:
                    town_i = (start + step) % len(prefixes)
                en_kind = k[2]
                en = f"{p[2]} {ordinal[2]}{en_kind}".replace("  ", " ").strip()
                return Name(ja, to_katakana(p[1] + ordinal[1] + k[1]), en, town_i, p[0], k[0])
        # Practically unreachable; keep names unique anyway.
        n = len(self._used)
        ja = f"{prefixes[start][0]}{k[0]}{n}"
        return Name(ja, to_katakana(prefixes[start][1] + k[1]) + str(n), f"{prefixes[start][2]} {k[2]} {n}",
                    town_i, prefixes[start][0], k[0])


@dataclass(frozen=True)
class Address:
    full: str       # 所在地_連結表記 / 住所
    pref: str
    muni: str
    chouaza: str    # 町字, e.g. 緑町1丁目
    banchi: str     # 番地以下, e.g. 2-3
    chouaza_id: str


def address(rng: random.Random, leaf: Leaf, town_index: int) -> Address:
    town = TOWNS[town_index][0]
    chome = rng.randint(1, 5)
    banchi = f"{rng.randint(1, 30)}-{rng.randint(1, 20)}"
    chouaza = f"{town}{chome}丁目"
    return Address(
        full=f"{leaf.pref}{leaf.name}{chouaza}{banchi}", pref=leaf.pref, muni=leaf.name,
        chouaza=chouaza, banchi=banchi, chouaza_id=f"{town_index + 1:04d}{chome:03d}",
    )


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
