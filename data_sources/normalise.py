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
from services.areas import AreaTable, find_in_japan, parse_code

from .text import nfkc

YES = {"有", "○", "〇", "◯", "1", "あり", "有り", "yes", "y", "true", "t", "可", "対応"}
NO = {"無", "×", "✕", "0", "なし", "無し", "no", "n", "false", "f", "不可", ""}  # a dash means unknown, not no
WEEKDAYS = "月火水木金土日"
_DAY_RANGE = re.compile(r"([月火水木金土日])\s*[~〜～\-−ー－]\s*([月火水木金土日])")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
_HHMM = re.compile(r"^(\d{1,2})(\d{2})$")  # "1700", "0930", "930"
_JA_TIME = re.compile(r"^(午前|午後)?(\d{1,2})時(?:(\d{1,2})分|(半))?$")  # "9時", "9時30分", "17時半", "午後5時"
_TIME_TOKEN = r"(?:午前|午後)?\d{1,2}時(?:\d{1,2}分|半)?|\d{1,2}:\d{2}(?::\d{2})?|\d{3,4}"
_RANGE_SEP = r"(?:[~〜～\-−ー－―‐]|から)"
# "9:00ー17:00", "9時～17時30分", "0900-1700": opening and closing in one field
_TIME_RANGE = re.compile(rf"^\s*({_TIME_TOKEN})\s*{_RANGE_SEP}\s*({_TIME_TOKEN})\s*(?:まで)?\s*$")
# What publishers write for "nothing here" or "not known" in a typed field: the field is None
# (unknown), never 0 or False; "なし" stays "no" in a yes/no field
PLACEHOLDERS = {"ー", "-", "－", "―", "‐", "−", "—", "–", "ｰ", "なし", "無し", "不明", "不詳", "未定", "△",
                "調査中", "確認中", "未確認", "?"}
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")
_EXAMPLES = 5


@dataclass
class RejectReport:
    """Rejected and repaired rows counted by reason, with a few examples of each."""

    rejected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    repaired: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    derived: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # values computed, not read
    kept: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # values kept as the source wrote them

    def derive(self, reason: str, example: str) -> None:
        self._note(self.derived, reason, example)

    def keep(self, reason: str, example: str) -> None:
        """A value the importer could not (fully) type, kept as written in the record's `as_written`."""
        self._note(self.kept, reason, example)

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
        report.kept.update(data.get("kept", {}))
        report.examples.update({k: list(v) for k, v in data.get("examples", {}).items()})
        return report

    def as_dict(self) -> dict[str, Any]:
        return {
            "rejected": dict(self.rejected),
            "repaired": dict(self.repaired),
            "derived": dict(self.derived),
            "kept": dict(self.kept),
            "examples": {k: list(v) for k, v in self.examples.items()},
        }


class ValueProblem(ValueError):
    """A single value that cannot be coerced to its declared type."""


@dataclass(frozen=True)
class Partly:
    """A value read from a text that says more than the value can hold ("19（休床中）" → 19,
    "第2・第4土曜日" → Saturday): the value, and the reason its text is kept as written."""

    value: Any
    reason: str


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


# a count with its unit or a note: "120床", "30人", "19（休床中）", "約30"; "1号認定 30、2・3号認定 144" is not one
_NOTED_NUMBER = re.compile(r"^(約|およそ)?\s*([+-]?\d[\d,]*(?:\.\d+)?)\s*(?:人|名|床|台|基|件|室|個|か所|ヶ所|カ所|箇所)?"
                           r"\s*(\(.*\))?\s*$")


def read_number(value: str, kind: type) -> float | int | Partly | None:
    """A number as to_number reads it, or one written with its unit ("120床": 120) or with a note
    ("19（休床中）", "約30"): the number, as Partly so that the text is kept too."""
    try:
        return to_number(value, kind)
    except ValueProblem:
        match = _NOTED_NUMBER.match(nfkc(value).strip())
        if not match:
            raise
    number = to_number(match[2], kind)
    if match[1] or match[3]:
        return Partly(number, "a number with a note (the number read, the note kept)")
    return number


def is_placeholder(value: str) -> bool:
    return value.strip() in PLACEHOLDERS or nfkc(value).strip() in PLACEHOLDERS


def means_unknown(spec_type: str, value: str) -> bool:
    """A mark for "no value / not known" (ー, −, △, 不明, 未定 …) in a typed field; in a yes/no
    field "なし" is an answer (no), not such a mark."""
    if not value or len(value) > 3 or spec_type in ("text", "list") or not is_placeholder(value):
        return False
    return not (spec_type == "bool" and nfkc(value).strip().lower() in NO)


def one_line(text: str) -> str:
    """A value split over lines (a quoted CSV cell: "宿院\n公衆便所") as one line: Japanese
    runs are joined directly, other words with a space."""
    parts = [p.strip() for p in text.splitlines() if p.strip()]
    out = parts[0] if parts else ""
    for part in parts[1:]:
        out += ("" if _CJK.match(out[-1]) and _CJK.match(part[0]) else " ") + part
    return out


def to_time(value: str) -> str | None:
    """'9:00', '09:00:00', '０９：３０', '0930', '1700', '9時', '9時30分', '17時半', '午後5時' → 'hh:mm'
    (24:00 is the end of the day)."""
    v = nfkc(value).strip()
    if not v:
        return None
    if m := _TIME.match(v) or _HHMM.match(v):
        hour, minute = int(m[1]), int(m[2])
    elif m := _JA_TIME.match(v):
        hour, minute = int(m[2]), 30 if m[4] else int(m[3] or 0)
        if m[1] and hour > 12:
            raise ValueProblem(f"not a time hh:mm: {value!r}")
        if m[1] == "午後" and hour < 12:
            hour += 12
    else:
        raise ValueProblem(f"not a time hh:mm: {value!r}")
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise ValueProblem(f"not a time hh:mm: {value!r}")
    return f"{hour:02d}:{minute:02d}"


# One date as Japanese files write it (after NFKC): 2026-08-05, 2026/8/5, 2026.8.5, 2026年8月5日, 令和8年8月5日,
# 令和元年, R8.8.5, 8月5日 (no year), 16日 (the day only, as the end of a range), each with an optional
# weekday: （水）, (水曜日), (火・祝)
_DATE = re.compile(
    r"\s*(?:(?:(?P<era>令和|平成|昭和|大正|[RHS])\s*(?P<eyear>\d{1,2}|元)|(?P<year>\d{4}))\s*(?P<ysep>年|[.\-/])\s*)?"
    r"(?:(?P<month>\d{1,2})\s*(?P<msep>月|[.\-/])\s*)?(?P<day>\d{1,2})\s*(?P<dsep>日)?"
    r"\s*(?:\(\s*(?:(?P<wd>[月火水木金土日])(?:曜日?)?)?\s*(?:[・,、]?\s*(?:祝日?|休日|振休))?\s*\))?")
_DATE_SEP = re.compile(rf"\s*{_RANGE_SEP}\s*")
_DATE_END = re.compile(r"\s*(?:まで)?\s*$")
# era → (its first day, its last day): 令和8年 is 2026, 元年 its first year
_ERAS = {"令和": (dt.date(2019, 5, 1), None), "平成": (dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
         "昭和": (dt.date(1926, 12, 25), dt.date(1989, 1, 7)), "大正": (dt.date(1912, 7, 30), dt.date(1926, 12, 25))}
_ERA_LETTERS = {"R": "令和", "H": "平成", "S": "昭和"}


@dataclass(frozen=True)
class DatePart:
    """One date of a text as written: its year (None when the text gives none), month (None: the
    month of the range's start), day and weekday (Monday = 0; None when the text gives none)."""

    year: int | None
    month: int | None
    day: int
    weekday: int | None = None

    def on(self, year: int, month: int | None = None) -> dt.date:
        """This date in `year` (and `month` when the text gives none); ValueError if there is none."""
        return dt.date(year, self.month or month, self.day)


def _date_part(match: re.Match | None, *, first: bool) -> DatePart | None:
    """A matched date as a DatePart; None when the match is not a date ("2026/11", "8.5", "平成32年")."""
    if match is None or not match.group().strip():
        return None
    month, day = match["month"], int(match["day"])
    year = None
    if match["era"] or match["year"]:
        if month is None:
            return None
        year = int(match["year"]) if match["year"] else None
        if match["era"]:
            start, end = _ERAS[_ERA_LETTERS.get(match["era"], match["era"])]
            year = start.year - 1 + (1 if match["eyear"] == "元" else int(match["eyear"]))
            try:
                when = dt.date(year, int(month), day)
            except ValueError:
                return None
            if when < start or (end is not None and when > end):
                return None
    elif month is not None and match["msep"] != "月":  # "8/5", "8.5" without a year: too like a fraction or a number
        return None
    elif month is None and (first or not match["dsep"]):  # "16日" only as the end of a range that names its month
        return None
    weekday = WEEKDAYS.index(match["wd"]) if match["wd"] else None
    return DatePart(year, int(month) if month else None, day, weekday)


def read_dates(value: str) -> tuple[DatePart, ...]:
    """The one or two dates of a date text: "2026-08-05", "令和8年8月5日（水）", "8月5日（水）～8月16日（日）",
    "8月5日から16日まで"; () when it is blank; ValueProblem when it is not a date or a range of two."""
    v = nfkc(value).strip()
    if not v:
        return ()
    if re.match(r"^\d{4}-\d{2}-\d{2}T\d", v):  # a date-time (a broker's): its date as written
        v = v[:10]
    first = _DATE.match(v)
    parts = [_date_part(first, first=True)]
    rest = first.end() if parts[0] else 0
    sep = _DATE_SEP.match(v, rest) if parts[0] else None
    if sep and sep.end() > rest:
        second = _DATE.match(v, sep.end())
        parts.append(_date_part(second, first=False))
        rest = second.end() if second else rest
    if None in parts or not _DATE_END.match(v, rest):
        raise ValueProblem(f"not a date: {value!r}")
    for part in parts:  # a day that exists (29 February: in a leap year, such as 2000)
        try:
            part.on(part.year or 2000, parts[0].month)
        except ValueError:
            raise ValueProblem(f"not a date: {value!r}") from None
    return tuple(parts)


def to_date(value: str) -> str | None:
    """One complete date as ISO 'YYYY-MM-DD' (a weekday given must be its own)."""
    parts = read_dates(value)
    if not parts:
        return None
    if len(parts) > 1 or parts[0].year is None:
        raise ValueProblem(f"not one date with its year: {value!r}")
    when = parts[0].on(parts[0].year)
    if parts[0].weekday is not None and parts[0].weekday != when.weekday():
        raise ValueProblem(f"the weekday is not the date's: {value!r}")
    return when.isoformat()


def resolve_year(month: int, day: int, weekday: int | None, as_of: dt.date) -> int | None:
    """The year of a date written without one ("8月5日（水）"): of the years around the data's date
    `as_of` (its year, the one before, the one after), the one that puts the date nearest to
    `as_of` — among those whose weekday is the one written, if one is. None when no such year:
    the text is then kept as written, not given a guess."""
    candidates = []
    for year in (as_of.year - 1, as_of.year, as_of.year + 1):
        try:
            when = dt.date(year, month, day)
        except ValueError:
            continue
        if weekday is None or when.weekday() == weekday:
            candidates.append((abs((when - as_of).days), year))
    return min(candidates)[1] if candidates else None


_DAY_SET = r"[月火水木金土日祝・,、/\s]+"
_CLOSED = r"(?:定休日?|休業日?|休館日?|休診日?|休所日?|休み)"
_AFTER_A_BREAK = r"(?:^|(?<=[\s(,、・/:]))"  # 土日祝以外, not the 日 of 祝日の翌日を除く
_EXCLUDED = (  # the days a text names as closed, or as the exception: each removed from the days open
    re.compile(rf"{_CLOSED}\s*[:は]?\s*({_DAY_SET})"),  # 定休日：日・祝
    re.compile(rf"{_AFTER_A_BREAK}({_DAY_SET})\s*(?:は)?\s*(?:{_CLOSED}|休)"),  # 水曜定休, 日曜休み
    re.compile(rf"{_AFTER_A_BREAK}({_DAY_SET})\s*(?:を|は)?\s*(?:以外|除く|除き|除)"),  # 土日祝以外, 日曜・祝日を除く
)
_EVERY_DAY = re.compile(r"毎日|全日|年中無休")
# what a day list may hold besides its days: anything else (第2・第4, 9:00～17:00, 年末年始) is a note
_DAY_WORDS = re.compile(rf"{_EVERY_DAY.pattern}|{_CLOSED}|以外|を除く|除く|除き|のみ|だけ|および|及び|[月火水木金土日祝・,、/\s()~〜:はをと]")


def read_weekdays(value: str) -> list[int] | Partly | None:
    """'月火水木金' or '月～金' → [0, 1, 2, 3, 4] (Monday = 0); '毎日' → every day; '平日' → Mon–Fri;
    '祝' (holidays) is kept as 7. Days named as the exception or as closed are left out:
    '土日祝以外' → Mon–Fri, '日曜・祝日を除く' → Mon–Sat, '水曜定休' → all but Wednesday. A text
    that says more than its days ('第2・第4土曜日') gives them as Partly, so that it is kept."""
    v = nfkc(value).strip()
    if not v:
        return None
    v = v.replace("曜日", "").replace("曜", "")
    v = re.sub(r"祝祭日|祝休日|国民の祝日|祝日|祭日", "祝", v).replace("平日", "月~金")
    v = _DAY_RANGE.sub(lambda m: WEEKDAYS[WEEKDAYS.index(m[1]):WEEKDAYS.index(m[2]) + 1], v)
    excluded: set[int] = set()
    for pattern in _EXCLUDED:
        for match in pattern.finditer(v):
            excluded |= _days_in(match[1])
        v = pattern.sub(" ", v)
    named = _days_in(_EVERY_DAY.sub("", v))
    if _EVERY_DAY.search(v) or (excluded and not named):
        named |= set(range(7))
    days = sorted(named - excluded)
    if not days:
        raise ValueProblem(f"no weekdays in {value!r}")
    if _DAY_WORDS.sub("", v):
        return Partly(days, "days with a note (the days read, the note kept)")
    return days


def _days_in(text: str) -> set[int]:
    return {WEEKDAYS.index(c) for c in text if c in WEEKDAYS} | ({7} if "祝" in text else set())


def to_weekdays(value: str) -> list[int] | None:
    """The days of a day list (read_weekdays), whatever else it says."""
    days = read_weekdays(value)
    return days.value if isinstance(days, Partly) else days


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
    """`raw` as the field's type; Partly when the text says more than the value; ValueProblem
    when it cannot be read as one."""
    if spec.type == "text":
        return raw.strip() or None
    if spec.type == "bool":
        return to_bool(raw)
    if spec.type in ("int", "float"):
        return read_number(raw, int if spec.type == "int" else float)
    if spec.type == "time":
        return to_time(raw)
    if spec.type == "date":
        return to_date(raw)
    if spec.type == "list":
        return to_list(raw)
    if spec.type == "weekdays":
        return read_weekdays(raw)
    raise AssertionError(spec.type)


def normalise_rows(
    rows: Iterable[Mapping[str, str]],
    layer: LayerSpec,
    areas: AreaTable,
    bbox: tuple[float, float, float, float],
    readings: Iterable[Mapping[str, str]] | None = None,
    now: dt.datetime | None = None,
    locate: "Locate | None" = None,
    as_of: dt.date | None = None,
) -> tuple[list[dict[str, Any]], RejectReport]:
    """Map, coerce and validate source rows into canonical records of `layer`.

    No row is lost because one of its values cannot be typed: that field is None (for filters
    and sorting) and the source's own text is kept in the record's `as_written` ({field: text},
    present only when there is one), counted in the report's `kept` bucket; a mark for unknown
    (ー, △, 不明) is None. A row is rejected only without an id, a name or a usable position.

    `now` (aware) drops readings stamped in the future; default: the current time.
    `as_of`, the date the data is as of, gives a date written without a year its year
    (resolve_year); default: the date of `now`.
    `locate` finds the municipality or ward of a position (services/locate.py): rows that give
    no area code, only a name or only a designated city get their area from it.
    """
    report = RejectReport()
    now = now or dt.datetime.now(dt.timezone.utc)
    as_of = as_of or now.date()
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
        written: dict[str, str] = {}  # field → the source's text, where the typed value does not say it all
        dates: dict[str, tuple[str, tuple[DatePart, ...]]] = {}
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
                elif means_unknown(spec.type, raw):
                    report.repair("placeholder read as blank", f"{where}: {spec.name} {raw!r}")
                    record[spec.name] = None
                elif spec.type == "time" and _TIME_RANGE.match(nfkc(raw)):
                    _time_range(record, written, spec, raw, report, where)
                elif spec.type == "date":
                    record[spec.name] = None  # its date is read once the row's other dates are known
                    try:
                        dates[spec.name] = (raw.strip(), read_dates(raw))
                    except ValueProblem:
                        _keep_as_written(record, written, spec.name, raw, report, where)
                else:
                    try:
                        value = coerce(spec, raw)
                    except ValueProblem:
                        _keep_as_written(record, written, spec.name, raw, report, where)
                    else:
                        if isinstance(value, Partly):
                            written[spec.name] = raw.strip()
                            report.keep(value.reason, f"{where}: {spec.name} {raw.strip()!r}")
                            value = value.value
                        record[spec.name] = value
                if spec.parts:
                    _total_of_parts(record, spec, row, report, where)
            if dates:
                _dates(record, written, dates, as_of, report, where)
            if written:
                record["as_written"] = written
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
            _area(record, areas, report, where, locate, japan=layer.scope == "japan")
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
        _attach_readings(result, layer.readings, readings, report, now)
    return result, report


def _keep_as_written(record: dict[str, Any], written: dict[str, str], name: str, raw: str, report: RejectReport,
                     where: str) -> None:
    """A value that cannot be read as its field's type: None, its text kept as written, counted."""
    record[name] = None
    written[name] = raw.strip()
    report.keep(f"{name} kept as written", f"{where}: {name} {raw.strip()!r}")


def _time_range(record: dict[str, Any], written: dict[str, str], spec: FieldSpec, raw: str, report: RejectReport,
                where: str) -> None:
    """"9:00ー17:00" in the opening-time field: the opening time, and the closing time too
    when its own field is blank (read before or after this one). A range with a time that is
    none ("9:00～25:00") is kept as written."""
    start, end = _TIME_RANGE.match(nfkc(raw)).groups()
    try:
        start, end = to_time(start), to_time(end)
    except ValueProblem:
        _keep_as_written(record, written, spec.name, raw, report, where)
        return
    record[spec.name] = start
    if spec.name == "open_time":
        if not record.get("close_time"):
            record["_close_from_range"] = end
        report.repair("opening and closing time in one field", f"{where}: {raw}")
    else:
        if spec.name == "close_time":
            record[spec.name] = end
        report.repair("a time range in one time field", f"{where}: {spec.name} {raw}")


def _date_role(name: str) -> tuple[str, str | None]:
    """'start_date' → ('start', 'end_date'), 'end_date' → ('end', 'start_date'), else ('', None)."""
    for role, twin in (("start", "end"), ("end", "start")):
        if name.startswith(role + "_"):
            return role, twin + name[len(role):]
    return "", None


def _dates(record: dict[str, Any], written: dict[str, str], dates: dict[str, tuple[str, tuple[DatePart, ...]]],
           as_of: dt.date, report: RejectReport, where: str) -> None:
    """The row's dates, read together. A range in a start or end field ("8月5日（水）～8月16日（日）")
    gives both, the other field's own value first. A date written without a year takes it from
    the row's other date (an end on or after its start: 12月28日～1月5日 ends the next year), else
    the year nearest the data's date `as_of` whose weekday is the one written (resolve_year);
    each such year is counted, with an example. A weekday that is not the date's keeps the text."""
    wanted: dict[str, tuple[str, str, DatePart]] = {}  # field → (the field its text is in, that text, its date)
    for name, (raw, parts) in dates.items():
        role, twin = _date_role(name)
        if len(parts) == 1:
            wanted[name] = (name, raw, parts[0])
        elif len(parts) == 2 and role:
            wanted[name] = (name, raw, parts[0] if role == "start" else parts[1])
            if twin in dates and not dates[twin][1] and twin not in written:
                wanted[twin] = (name, raw, parts[1] if role == "start" else parts[0])
            report.repair("start and end date in one field", f"{where}: {name} {raw!r}")
        elif parts:
            _keep_as_written(record, written, name, raw, report, where)
    order = {"": 1, "start": 0, "end": 2}  # a start before its end, which may take its year
    for name, (source, raw, part) in sorted(wanted.items(), key=lambda kv: (kv[1][2].year is None,
                                                                             order[_date_role(kv[0])[0]])):
        role, twin = _date_role(name)
        other = dt.date.fromisoformat(record[twin]) if role and record.get(twin) else None
        when = _date_of(part, role, other, as_of)
        if when is None:
            _keep_as_written(record, written, name, raw, report, where)
            continue
        record[name] = when.isoformat()
        if part.year is None and other is not None:
            report.derive("year of a date written without one (from the row's other date)",
                          f"{where}: {name} {raw!r} → {record[name]}")
        elif part.year is None:
            report.derive("year of a date written without one (the nearest year to the data's date)",
                          f"{where}: {name} {raw!r} → {record[name]}")
        if part.weekday is not None and part.weekday != when.weekday() and source not in written:
            written[source] = raw
            report.keep("date and weekday disagree (the date read, the text kept)", f"{where}: {name} {raw!r}")


def _date_of(part: DatePart, role: str, other: dt.date | None, as_of: dt.date) -> dt.date | None:
    """`part` as a date: with its own year; else in the year (and month) of `other`, the row's
    other date (the next year or month for an end before its start, the year before for a
    start after its end); else in the year resolve_year gives. None when there is no such day."""
    try:
        if part.year is not None:
            return part.on(part.year)
        if other is not None:
            when = part.on(other.year, other.month)
            if role == "end" and when < other:
                when = part.on(other.year + 1) if part.month else _next_month(other, part.day)
            elif role == "start" and when > other:
                when = part.on(other.year - 1)
            return when
        if part.month is None:  # "16日" with no month to be in
            return None
        year = resolve_year(part.month, part.day, part.weekday, as_of)
        return part.on(year) if year is not None else None
    except ValueError:
        return None


def _next_month(date: dt.date, day: int) -> dt.date:
    return dt.date(date.year + date.month // 12, date.month % 12 + 1, day)


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
          locate: Locate | None = None, japan: bool = False) -> None:
    raw = record.get("area_code") or ""
    area = areas.find(raw)  # a code in any form, or a name (a broker's areaServed: "大阪市北区")
    if area is None and japan and _area_elsewhere(record, raw, areas, report, where):
        return
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


def _area_elsewhere(record: dict[str, Any], raw: str, areas: AreaTable, report: RejectReport, where: str) -> bool:
    """A layer of all Japan (scope "japan"): a row naming a municipality of another prefecture
    by code or by its name with the prefecture's (GSI: 北海道札幌市) gets it from that
    prefecture's bundled table (for a designated city, the ward its address names), its
    area_name written in full (北海道札幌市中央区: not an area of this deployment); counted.
    False when the row names no such area (it is then placed as any other row)."""
    found = find_in_japan(raw)
    if found is None or found[0].prefecture.code == areas.prefecture.code:
        return False
    table, area = found
    area = _ward_in_address(record.get("address"), area, table) or area
    record["area_code"] = area.code
    record["area_name"] = table.prefecture.name_ja + table.full_name(area, "ja")
    report.derive("area in another prefecture (a layer of all Japan)", f"{where}: {raw} → {record['area_name']}")
    return True


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
    if areas.begins_with_a_place("".join(nfkc(address).split())):
        return  # it names the prefecture or another municipality: the position's is not put before it
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
