"""Source rows (dicts of strings, as read from a CSV) → canonical records + a reject report.

The layer's field mapping in the deployment config says which source columns feed each
canonical field and of what type. Coercion is forgiving where real files vary (有/無,
○/×, 1/blank, あり/なし; full-width digits; area codes in any form) and strict where a
wrong value would mislead (coordinates outside the deployment's box are rejected).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Protocol

from registry import FieldSpec, LayerSpec, ReadingsSpec
from services.areas import AreaTable, parse_code

from .text import nfkc

YES = {"有", "○", "〇", "◯", "1", "あり", "有り", "yes", "y", "true", "t", "可", "対応"}
NO = {"無", "×", "✕", "0", "なし", "無し", "no", "n", "false", "f", "不可", "", "-", "ー", "－"}
WEEKDAYS = "月火水木金土日"
_DAY_RANGE = re.compile(r"([月火水木金土日])\s*[~〜～\-−ー－]\s*([月火水木金土日])")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
# "9:00ー17:00", "9:00～17:00": opening and closing in one field
_TIME_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[~〜～\-−ー－―‐]\s*(\d{1,2}:\d{2})\s*$")
# What publishers write for "nothing here" in a field that holds a time, a number or a date
PLACEHOLDERS = {"ー", "-", "－", "―", "‐", "−", "—", "–", "ｰ", "なし", "無し", "不明"}
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")
_EXAMPLES = 5


@dataclass
class RejectReport:
    """Rejected and repaired rows counted by reason, with a few examples of each."""

    rejected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    repaired: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    derived: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # values computed, not read

    def derive(self, reason: str, example: str) -> None:
        self._note(self.derived, reason, example)

    def reject(self, reason: str, example: str) -> None:
        self._note(self.rejected, reason, example)

    def repair(self, reason: str, example: str) -> None:
        self._note(self.repaired, reason, example)

    def _note(self, counts: dict[str, int], reason: str, example: str) -> None:
        counts[reason] += 1
        if len(self.examples[reason]) < _EXAMPLES:
            self.examples[reason].append(example)

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RejectReport":
        """The inverse of as_dict (a report kept in a snapshot's meta)."""
        report = cls()
        report.rejected.update(data.get("rejected", {}))
        report.repaired.update(data.get("repaired", {}))
        report.derived.update(data.get("derived", {}))
        report.examples.update({k: list(v) for k, v in data.get("examples", {}).items()})
        return report

    def as_dict(self) -> dict[str, Any]:
        return {
            "rejected": dict(self.rejected),
            "repaired": dict(self.repaired),
            "derived": dict(self.derived),
            "examples": {k: list(v) for k, v in self.examples.items()},
        }


class ValueProblem(ValueError):
    """A single value that cannot be coerced to its declared type."""


def to_bool(value: str) -> bool | None:
    v = nfkc(value).strip().lower()
    if v in YES:
        return True
    if v in NO:
        return False if v else None
    raise ValueProblem(f"not a yes/no value: {value!r}")


def to_number(value: str, kind: type) -> float | int | None:
    v = nfkc(value).strip().replace(",", "")
    if not v:
        return None
    try:
        number = float(v)
    except ValueError:
        raise ValueProblem(f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise ValueProblem(f"not a number: {value!r}")
    return int(number) if kind is int else number


def is_placeholder(value: str) -> bool:
    return value.strip() in PLACEHOLDERS or nfkc(value).strip() in PLACEHOLDERS


def one_line(text: str) -> str:
    """A value split over lines (a quoted CSV cell: "宿院\n公衆便所") as one line: Japanese
    runs are joined directly, other words with a space."""
    parts = [p.strip() for p in text.splitlines() if p.strip()]
    out = parts[0] if parts else ""
    for part in parts[1:]:
        out += ("" if _CJK.match(out[-1]) and _CJK.match(part[0]) else " ") + part
    return out


def to_time(value: str) -> str | None:
    v = nfkc(value).strip().replace("：", ":")
    if not v:
        return None
    m = _TIME.match(v)
    if not m or int(m[1]) > 24 or int(m[2]) > 59:
        raise ValueProblem(f"not a time hh:mm: {value!r}")
    return f"{int(m[1]):02d}:{m[2]}"


def to_date(value: str) -> str | None:
    v = nfkc(value).strip().replace("/", "-")
    if not v:
        return None
    try:
        return dt.date.fromisoformat("-".join(p.zfill(2) for p in v.split("-"))).isoformat()
    except ValueError:
        raise ValueProblem(f"not a date: {value!r}") from None


def to_weekdays(value: str) -> list[int] | None:
    """'月火水木金' or '月～金' → [0, 1, 2, 3, 4] (Monday = 0); '毎日' → all; '平日' → Mon–Fri;
    '祝' (holidays) is kept as 7."""
    v = nfkc(value).strip()
    if not v:
        return None
    if "毎日" in v or "全日" in v or "年中無休" in v:
        return list(range(7))
    v = v.replace("平日", "月~金").replace("曜日", "").replace("曜", "")
    v = _DAY_RANGE.sub(lambda m: WEEKDAYS[WEEKDAYS.index(m[1]):WEEKDAYS.index(m[2]) + 1], v)
    days = sorted({WEEKDAYS.index(c) for c in v if c in WEEKDAYS} | ({7} if "祝" in v else set()))
    if not days:
        raise ValueProblem(f"no weekdays in {value!r}")
    return days


def to_list(value: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;；、,]", value) if p.strip()]


# Headers real files use in English for the fields every layer has; tried after the
# config's own column names (which cover the old and current standard editions).
ENGLISH_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "no", "number"),
    "name": ("name", "facility name", "title"),
    "name_kana": ("name kana", "kana", "name_kana"),
    "address": ("address", "location", "full address"),
    "lat": ("latitude", "lat", "y"),
    "lon": ("longitude", "lon", "lng", "long", "x"),
    "area_code": ("city code", "municipality code", "local government code", "lg code", "code"),
    "phone": ("phone", "tel", "telephone", "phone number"),
    "url": ("url", "website", "web", "homepage"),
}


def header_key(name: str) -> str:
    """A header as compared: NFKC (full-width → half-width), trimmed, BOM and spacing folded."""
    return " ".join(nfkc(str(name)).replace("\ufeff", "").replace("_", " ").split()).lower()


def column_lookup(headers: Iterable[str], layer: LayerSpec) -> dict[str, tuple[str, ...]]:
    """Canonical field → the file's own header names to read, in order of preference: the
    source's override, the config's columns as written, then in another width, case or
    spacing, then English headers."""
    headers = sorted(set(headers))
    lookup = {}
    overrides = layer.source.columns or {}
    for spec in layer.fields:
        columns = ((overrides[spec.name],) if spec.name in overrides else ()) + spec.columns
        english = [h for h in matching_headers(headers, ENGLISH_HEADERS.get(spec.name, ()))
                   if header_key(h) in ENGLISH_HEADERS.get(spec.name, ())]
        lookup[spec.name] = tuple(dict.fromkeys(matching_headers(headers, columns) + tuple(english)))
    return lookup


def matching_headers(headers: Iterable[str], names: tuple[str, ...]) -> tuple[str, ...]:
    """The headers matching `names`, in the order of `names`: exact first (an NGSI entity's
    "id" must not stand in for a file's "ID" column), then in another width, case or spacing."""
    headers = list(headers)
    by_key: dict[str, str] = {}
    for header in sorted(headers):
        by_key.setdefault(header_key(header), header)
    found = [n for n in names if n in headers] + [by_key[header_key(n)] for n in names if header_key(n) in by_key]
    return tuple(dict.fromkeys(found))


def first_value(row: Mapping[str, Any], columns: tuple[str, ...]) -> str:
    """The first non-blank value among `columns` (a blank 住所 falls back to 所在地_連結表記)."""
    for column in columns:
        value = row.get(column)
        if value is not None and str(value).strip():
            return str(value)
    return ""


def coerce(spec: FieldSpec, raw: str) -> Any:
    if spec.type == "text":
        return raw.strip() or None
    if spec.type == "bool":
        return to_bool(raw)
    if spec.type in ("int", "float"):
        return to_number(raw, int if spec.type == "int" else float)
    if spec.type == "time":
        return to_time(raw)
    if spec.type == "date":
        return to_date(raw)
    if spec.type == "list":
        return to_list(raw)
    if spec.type == "weekdays":
        return to_weekdays(raw)
    raise AssertionError(spec.type)


def normalise_rows(
    rows: Iterable[Mapping[str, str]],
    layer: LayerSpec,
    areas: AreaTable,
    bbox: tuple[float, float, float, float],
    readings: Iterable[Mapping[str, str]] | None = None,
    now: dt.datetime | None = None,
    locate: "Locate | None" = None,
) -> tuple[list[dict[str, Any]], RejectReport]:
    """Map, coerce and validate source rows into canonical records of `layer`.

    `now` (aware) drops readings stamped in the future; default: the current time.
    `locate` finds the municipality or ward of a position (services/locate.py): rows that give
    no area code, only a name or only a designated city get their area from it.
    """
    report = RejectReport()
    monthly = [f for f in layer.fields if f.type == "monthly"]
    plain = [f for f in layer.fields if f.type != "monthly"]
    records: dict[str, dict[str, Any]] = {}
    west, south, east, north = layer.bbox or bbox
    lookup: dict[str, tuple[str, ...]] = {}
    known: set[str] = set()
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        if row.keys() - known:  # the first row, or an entity with attributes not seen yet
            known |= row.keys()
            lookup = column_lookup(known, layer)
        record: dict[str, Any] = {}
        where = row.get("_row") or f"row {number}"
        try:
            for spec in plain:
                raw = first_value(row, lookup[spec.name])
                if "\n" in raw or "\r" in raw:
                    raw = one_line(raw)
                    if spec.name in ("name", "name_kana", "address"):
                        report.repair(f"line break in {spec.name}", f"{where}: {raw}")
                if spec.name in ("lat", "lon"):
                    record[spec.name] = raw
                elif spec.type == "area_code":
                    record[spec.name] = raw
                elif len(raw) <= 3 and raw and spec.type not in ("text", "list", "bool") and is_placeholder(raw):
                    report.repair("placeholder read as blank", f"{where}: {spec.name} {raw!r}")
                    record[spec.name] = None
                elif spec.type == "time" and len(raw) > 5 and _TIME_RANGE.match(nfkc(raw)):
                    _time_range(record, spec, nfkc(raw), report, where)
                else:
                    try:
                        record[spec.name] = coerce(spec, raw)
                    except ValueProblem as exc:
                        report.repair(f"unreadable {spec.name}", f"{where}: {exc}")
                        record[spec.name] = None
                if spec.parts:
                    _total_of_parts(record, spec, row, report, where)
            if not record.get("id") and record.get("name"):
                record["id"] = derived_id(record, row)
                report.derive("id made from the name and position (the source gives none)",
                              f"{where}: {record['name']} → {record['id']}")
            record_id = record.get("id")
            if not record_id:
                raise ValueProblem("missing id")
            if not record.get("name"):
                raise ValueProblem("missing name")
            where = f"{where} (id {record_id})"
            close = record.pop("_close_from_range", None)
            if close and not record.get("close_time"):
                record["close_time"] = close
            record["lat"], record["lon"] = _coordinates(record["lat"], record["lon"], west, south, east, north,
                                                        report, where)
            _area(record, areas, report, where, locate)
        except ValueProblem as exc:
            report.reject(str(exc), where)
            continue
        for spec in monthly:
            month = nfkc(str(row.get(spec.month_column, ""))).strip()[:7]
            values = []
            for column in spec.value_columns:
                try:
                    values.append(to_number(str(row.get(column, "")), int))
                except ValueProblem as exc:
                    report.repair(f"unreadable {spec.name}", f"{where}: {exc}")
                    values.append(None)
            record[spec.name] = {month: values} if month else {}
        existing = records.get(record["id"])
        if existing is None:
            records[record["id"]] = record
        elif monthly:  # one row per facility per month: merge the months
            for spec in monthly:
                existing[spec.name].update(record[spec.name])
        else:
            report.reject("duplicate id", where)
    result = list(records.values())
    if layer.readings is not None and readings is not None:
        _attach_readings(result, layer.readings, readings, report, now or dt.datetime.now(dt.timezone.utc))
    return result, report


def _time_range(record: dict[str, Any], spec: FieldSpec, raw: str, report: RejectReport, where: str) -> None:
    """"9:00ー17:00" in the opening-time field: the opening time, and the closing time too
    when its own field is blank (read before or after this one)."""
    start, end = _TIME_RANGE.match(raw).groups()
    record[spec.name] = to_time(start)
    if spec.name == "open_time":
        if not record.get("close_time"):
            record["_close_from_range"] = to_time(end)
        report.repair("opening and closing time in one field", f"{where}: {raw}")
    else:
        if spec.name == "close_time":
            record[spec.name] = to_time(end)
        report.repair("a time range in one time field", f"{where}: {spec.name} {raw}")


def _total_of_parts(record: dict[str, Any], spec: FieldSpec, row: Mapping[str, Any], report: RejectReport,
                    where: str) -> None:
    """A total (男性トイレ総数) smaller than the sum of its parts (小便器 + 和式 + 洋式) cannot be
    right: the sum is shown, and counted. A blank total with parts given is their sum."""
    known = []
    for column in spec.parts:
        raw = str(row.get(column) or "")
        try:
            value = None if is_placeholder(raw) else to_number(raw, int)
        except ValueProblem:
            value = None
        if value is not None:
            known.append(value)
    if not known:
        return
    total, parts = record.get(spec.name), sum(known)
    if total is None:
        record[spec.name] = parts
    elif total < parts:
        report.repair("total smaller than the sum of its parts (the sum shown)",
                      f"{where}: {spec.name} {total} < {' + '.join(str(v) for v in known)}")
        record[spec.name] = parts


def derived_id(record: dict[str, Any], row: Mapping[str, Any]) -> str:
    """A stable id for a row without one: from its name, position and place in a building
    (so that a reordered file keeps its ids, and each floor of one building has its own)."""
    import hashlib

    key = "|".join(str(record.get(k) or "") for k in ("name", "lat", "lon", "location_detail", "address"))
    return "x" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:11]


def _coordinates(lat_raw: str, lon_raw: str, west, south, east, north, report: RejectReport, where: str):
    try:
        lat = to_number(lat_raw, float)
        lon = to_number(lon_raw, float)
    except ValueProblem:
        raise ValueProblem("unreadable coordinates") from None
    if lat is None or lon is None:
        raise ValueProblem("missing coordinates")
    if lat == 0 or lon == 0:
        raise ValueProblem("zero coordinates")

    def inside(la, lo):
        return south <= la <= north and west <= lo <= east

    if not inside(lat, lon):
        if inside(lon, lat):
            report.repair("latitude and longitude swapped", f"{where}: {lat_raw}, {lon_raw}")
            return round(lon, 6), round(lat, 6)
        raise ValueProblem("coordinates outside the area")
    return round(lat, 6), round(lon, 6)


WARD_SEARCH_KM = 5.0  # how far from its city's wards a site the source puts in that city may lie


class Locate(Protocol):
    """Point → leaf area (services/locate.py AreaLocator)."""

    def locate(self, lat: float, lon: float) -> tuple[Any, str]: ...

    def nearest_of(self, lat: float, lon: float, codes: Iterable[str], max_km: float) -> tuple[Any, float] | None: ...


def _area(record: dict[str, Any], areas: AreaTable, report: RejectReport, where: str,
          locate: Locate | None = None) -> None:
    raw = record.get("area_code") or ""
    area = areas.find(raw)  # a code in any form, or a name (a broker's areaServed: "大阪市北区")
    if locate is not None and (area is None or not parse_code(raw) or areas.wards(area.code)):
        area = _area_by_position(record, raw, area, areas, locate, report, where)
    if area is not None:
        record["area_code"] = area.code
        record["area_name"] = area.name_ja
        _address_with_municipality(record, area, areas, report, where)
        return
    candidates = parse_code(raw)
    if candidates:  # a valid code of an area outside this deployment's table (e.g. shared events)
        record["area_code"] = candidates[0]
        record["area_name"] = record.get("area_name") or None
        return
    report.repair("unknown area code", f"{where}: {raw!r}")
    record["area_code"] = None


def _area_by_position(record: dict[str, Any], raw: str, named, areas: AreaTable, locate: Locate,
                      report: RejectReport, where: str):
    """The area a row's position lies in, for a row that gives no code, only a name, or only a
    designated city (GSI says 大阪市, not which ward), cross-checked with the name it gives:
    the named municipality wins a disagreement (counted, with an example); a site its source
    puts in a designated city but that lies outside all its wards on the simplified outlines
    (an island cut off, a park across the border) gets the city's nearest ward, also counted."""
    lat, lon = record["lat"], record["lon"]
    found, how = locate.locate(lat, lon)
    label = raw.strip() or "—"
    by_address = named is not None and _ward_in_address(record.get("address"), named, areas)
    if by_address:
        if found is not None and found.code != by_address.code:
            report.repair("the address names another ward than the position (the address's taken)",
                          f"{where}: {record.get('address')} — {lat}, {lon} is in {areas.full_name(found, 'ja')}")
        else:
            report.derive("ward from the address (the source names only the city)",
                          f"{where}: {label} → {areas.full_name(by_address, 'ja')}")
        return by_address
    if named is None:
        if found is None:
            return None
        if raw.strip():
            report.repair("unknown area; the area of its position taken", f"{where}: {raw!r} → {areas.full_name(found, 'ja')}")
        else:
            report.derive("area from the position (the source gives none)", f"{where}: {areas.full_name(found, 'ja')}")
        return found
    municipality = areas.municipality_of(found.code) if found is not None else None
    if found is not None and (found.code == named.code or (municipality is not None and municipality.code == named.code)):
        if found.code != named.code:
            report.derive("ward from the position (the source names only the city)",
                          f"{where}: {label} → {areas.full_name(found, 'ja')}")
        return found
    elsewhere = f"in {areas.full_name(found, 'ja')}" if found is not None else "outside every municipal boundary"
    wards = areas.wards(named.code)
    nearest = locate.nearest_of(lat, lon, (w.code for w in wards), WARD_SEARCH_KM) if wards else None
    if nearest is not None:
        ward, km = nearest
        report.repair("position outside the named city's wards; its nearest ward taken",
                      f"{where}: {label} at {lat}, {lon} ({elsewhere}) → {areas.full_name(ward, 'ja')}, {km:.1f} km")
        return ward
    if found is None:
        report.repair("position outside every municipal boundary", f"{where}: {label} at {lat}, {lon}")
    else:
        report.repair("position lies in another municipality than the one named", f"{where}: {label}, but {lat}, {lon} is {elsewhere}")
    return named


def _ward_in_address(address: str | None, city, areas: AreaTable):
    """The ward of designated city `city` that an address names (大阪府大阪市住之江区南港北…,
    or 住之江区南港北… without the city), else None."""
    wards = areas.wards(city.code)
    if not address or not wards:
        return None
    text = "".join(nfkc(address).split())
    for prefix in (areas.prefecture.name_ja, city.name_ja):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return next((w for w in wards if text.startswith(w.name_ja)), None)


def _address_with_municipality(record: dict[str, Any], area, areas: AreaTable, report: RejectReport, where: str) -> None:
    """An address written without its municipality (堺市's 「堺区宿院町東2丁1番」) gets it in front,
    so that it reads on its own and is found by a search for the city."""
    address = record.get("address")
    municipality = areas.municipality_of(area.code)
    if not address or municipality is None or municipality.name_ja in address:
        return
    record["address"] = municipality.name_ja + address
    report.derive("municipality added to an address written without it", f"{where}: {record['address']}")


def level_of(value: float, thresholds: tuple[float, ...]) -> int:
    """1-based level: 1 when value ≤ thresholds[0], … len(thresholds)+1 above the last."""
    for i, upper in enumerate(thresholds):
        if value <= upper:
            return i + 1
    return len(thresholds) + 1


def _attach_readings(stations: list[dict[str, Any]], spec: ReadingsSpec,
                     readings: Iterable[Mapping[str, str]], report: RejectReport, now: dt.datetime) -> None:
    """Attach each station's latest non-blank value per pollutant, with its time and level."""
    latest: dict[str, dict[str, tuple[dt.datetime, str, float]]] = defaultdict(dict)
    lookups: dict[frozenset, dict[str, tuple[str, ...]]] = {}
    for row in readings:
        keys = frozenset(row)
        names = lookups.get(keys)
        if names is None:  # the columns of this shape of row (a file's header, or a kind of entity)
            names = lookups[keys] = {
                "station": matching_headers(keys, spec.station_columns), "time": matching_headers(keys, spec.time_columns),
                **{p.id: matching_headers(keys, p.columns) for p in spec.pollutants}}
        station = first_value(row, names["station"]).strip()
        when = first_value(row, names["time"]).strip()
        try:
            stamp = dt.datetime.fromisoformat(when)
            if stamp.tzinfo is None:
                raise ValueError
        except ValueError:
            report.reject("unreadable reading time", f"station {station}: {when!r}")
            continue
        if stamp > now:
            continue  # not yet measured: sample series run to the end of the day
        for p in spec.pollutants:
            raw = first_value(row, names[p.id])
            try:
                value = to_number(raw, float)
            except ValueProblem:
                report.repair(f"unreadable {p.id} reading", f"station {station} at {when}: {raw!r}")
                continue
            if value is None:
                continue
            seen = latest[station].get(p.id)
            if seen is None or stamp > seen[0]:  # compare instants: sources mix offsets and formats
                latest[station][p.id] = (stamp, when, value)
    for record in stations:
        values = latest.get(str(record["id"]), {})
        record["readings"] = {
            p.id: {"value": values[p.id][2], "time": values[p.id][1], "unit": p.unit,
                   "level": level_of(values[p.id][2], p.thresholds)}
            for p in spec.pollutants if p.id in values
        }
