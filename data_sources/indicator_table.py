"""Source rows of an indicator (a statistics table or an incident list, from a file, URL,
CKAN catalog or broker) → long-form records {area_code, period, measure, breakdown, value}
and a reject report.

The table mapping (registry.TableSpec) says which columns hold the area, the period and
each measure. Coercion follows what Japanese statistics files do: area codes in any form
(or a municipality's name), periods as dates, 年月, 年度 or 和暦 (令和/平成), numbers with
thousands separators or full-width digits, "-" for none (0) and "…", "x", "*" for a
value not published (missing, not zero). When the table says its values add up (`sum`),
or it is an incident list, rows of the same area and period are added up (町丁目 rows to
their municipality), wards to their city and municipalities to the prefecture where the
source does not give those totals itself.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from typing import Any, Iterable, Mapping

from registry import IndicatorSpec, TableSpec
from services.areas import AreaTable

from . import SourceFormatError
from .normalise import RejectReport, ValueProblem, first_value, matching_headers, to_number
from .text import nfkc

Key = tuple[str, str, str, str]  # (area code, period, measure, breakdown)

_ERAS = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988}
_ERA = re.compile(r"^(令和|平成|R|H)\s*(元|\d{1,2})\s*(年度?|[.\-/])\s*")
_DATE = re.compile(r"^(\d{4})\s*(?:(?:年度?|[-/.])\s*(?:(\d{1,2})\s*(?:月|[-/.])?\s*(?:(\d{1,2})\s*日?)?)?)?(?:[T\s].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
NONE_MARKS = {"-", "－", "―", "‐", "−", "ー"}  # 該当なし: zero
UNPUBLISHED_MARKS = {"…", "...", "x", "X", "*", "**", "***", "秘匿", "不詳", "na", "n/a"}  # missing, not zero
TOTAL_NAMES = {"", "計", "合計", "総数", "総計", "全体", "全域"}


def parse_period(raw: str, frequency: str) -> str:
    """'2026-10-01', '2026/10', '2026年10月1日', '令和8年10月', 'R8.10.1', '202610', '2026年度'
    → 'YYYY-MM-DD' (daily), 'YYYY-MM' (monthly) or 'YYYY' (yearly)."""
    text = nfkc(str(raw)).strip()
    era = _ERA.match(text)
    if era:
        year = _ERAS[era[1]] + (1 if era[2] == "元" else int(era[2]))
        text = f"{year}年{text[era.end():]}"
    compact = _COMPACT.match(text)
    match = _DATE.match(text)
    if compact:
        year, month, day = int(compact[1]), int(compact[2]), int(compact[3]) if compact[3] else None
    elif match:
        year, month, day = int(match[1]), int(match[2]) if match[2] else None, int(match[3]) if match[3] else None
    else:
        raise ValueProblem(f"not a period: {raw!r}")
    try:
        if month is not None:
            dt.date(year, month, day or 1)
    except ValueError:
        raise ValueProblem(f"not a period: {raw!r}") from None
    if frequency == "yearly":
        return f"{year:04d}"
    if month is None:
        raise ValueProblem(f"no month in {raw!r}")
    if frequency == "monthly":
        return f"{year:04d}-{month:02d}"
    if day is None:
        raise ValueProblem(f"no day in {raw!r}")
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_value(raw: Any, report: RejectReport, where: str) -> float | None:
    """A number; "-" (none) → 0; "…", "x", "*" (not published) → None; blank → None."""
    if raw is None:
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    text = str(raw)
    if "_" not in text:  # fast path: a plain number (float() would take "1_000")
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    text = nfkc(text).strip()
    if text in NONE_MARKS:
        report.repair("'-' (none) read as 0", where)
        return 0.0
    if text.lower() in UNPUBLISHED_MARKS or text in UNPUBLISHED_MARKS:
        report.repair("value not published (…, x, *): kept as missing", where)
        return None
    return to_number(text, float)


def normalise_indicator_rows(rows: Iterable[Mapping[str, Any]], spec: IndicatorSpec, table: TableSpec,
                             areas: AreaTable, prefecture: str) -> tuple[list[dict[str, Any]], RejectReport]:
    """Records of `spec` from source rows mapped by `table`; every rejected or repaired row
    is counted in the report by reason, with examples ("row N: …")."""
    rows = list(rows)
    report = RejectReport()
    headers = list(dict.fromkeys(h for row in rows[:50] for h in row))
    area_cols = matching_headers(headers, table.area)
    period_cols = matching_headers(headers, table.period)
    breakdown_cols = matching_headers(headers, table.breakdown) if table.breakdown else ()
    subarea_cols = matching_headers(headers, table.subarea) if table.subarea else ()
    missing = [f"area ({' / '.join(table.area)})"] if not area_cols else []
    missing += [f"period ({' / '.join(table.period)})"] if not period_cols else []
    if table.breakdown and not breakdown_cols:
        missing.append(f"breakdown ({' / '.join(table.breakdown)})")
    cells: list[tuple[str, str, str]] = []  # (measure, breakdown, column)
    for measure, column in table.values.items():
        cells.append((measure, "", column))
    for measure, mapping in table.breakdowns.items():
        cells += [(measure, breakdown, column) for breakdown, column in mapping.items()]
    resolved = []
    for measure, breakdown, column in cells:
        found = matching_headers(headers, (column,))
        if found:
            resolved.append((measure, breakdown, found[0]))
        elif breakdown == "":
            missing.append(f"{measure} ({column})")
    if rows and missing:
        raise SourceFormatError(f"{spec.id}: columns not found: {', '.join(missing)} "
                                f"(the file has: {', '.join(headers[:30])})")

    values: dict[Key, float | None] = {}
    totals: dict[Key, float | None] = {}  # rows that are an area's own total (subarea blank or 合計)
    counted = table.count is not None
    adds_up = counted or table.sum
    area_of: dict[str, tuple[Any, bool]] = {}  # raw value → (area or None, found by name); files repeat them
    period_of: dict[str, dict[str, str] | ValueProblem] = {}  # raw value → measure id → period
    for n, row in enumerate(rows, start=2):  # row 1 is the header line of a file
        where = f"row {n}"
        raw_area = first_value(row, area_cols)
        if raw_area not in area_of:
            area = areas.get(raw_area) if raw_area else None
            area_of[raw_area] = (area, False) if area is not None or not raw_area else (areas.find(raw_area), True)
        area, by_name = area_of[raw_area]
        if area is None:
            report.reject("unknown or missing area code", f"{where}: {raw_area!r}")
            continue
        if by_name:
            report.repair("area given by name", f"{where}: {raw_area}")
        raw_period = first_value(row, period_cols)
        if raw_period not in period_of:
            try:
                period_of[raw_period] = {m.id: parse_period(raw_period, m.frequency) for m in spec.measures}
            except ValueProblem as exc:
                period_of[raw_period] = exc
        period = period_of[raw_period]
        if isinstance(period, ValueProblem):
            report.reject("bad or missing period", f"{where}: {period}")
            continue
        row_breakdown = nfkc(first_value(row, breakdown_cols)).strip() if breakdown_cols else ""
        if row_breakdown in TOTAL_NAMES:
            row_breakdown = ""
        if counted:
            for b in {"", row_breakdown}:
                key = (area.code, period[table.count], table.count, b)
                values[key] = (values.get(key) or 0.0) + 1
            continue
        parsed: list[tuple[Key, float | None]] = []
        try:
            for measure, breakdown, column in resolved:
                b = breakdown or row_breakdown
                if breakdown and row_breakdown:
                    raise ValueProblem(f"{column}: a breakdown column and a breakdown row at once")
                parsed.append(((area.code, period[measure], measure, b), parse_value(row.get(column), report, where)))
        except ValueProblem as exc:
            report.reject("value is not a number", f"{where}: {exc}")
            continue
        if subarea_cols and _is_whole(nfkc(first_value(row, subarea_cols)).strip(), area, areas):
            for key, value in parsed:
                totals.setdefault(key, value)
            continue
        if adds_up:
            for key, value in parsed:
                if key in values and value is not None:
                    values[key] = (values[key] or 0.0) + value
                elif key not in values:
                    values[key] = value
            continue
        duplicate = next((key for key, _ in parsed if key in values), None)
        if duplicate is not None:
            report.reject("duplicate area and period", f"{where}: {duplicate[0]} {duplicate[1]}")
            continue
        values.update(parsed)

    for key, value in totals.items():  # an area's total row beats the sum of its parts
        if key in values:
            report.derive("the area's total row used, not the sum of its parts", f"{key[0]} {key[1]} {key[2]}")
        values[key] = value
    if counted:
        _fill_zero_counts(values, areas, table.count)
    if adds_up:
        _roll_up(values, areas, prefecture, report)
    records = [{"area_code": a, "period": p, "measure": m, "breakdown": b, "value": v}
               for (a, p, m, b), v in sorted(values.items())]
    return records, report


def _is_whole(subarea: str, area, areas: AreaTable) -> bool:
    """A row for the whole area, not a part: 地域名 blank, 合計/計/全域…, or the area's own name."""
    return subarea in TOTAL_NAMES or subarea == area.name_ja or areas.find(subarea) == area


def _periods_between(first: str, last: str) -> list[str]:
    if len(first) == 4:
        return [f"{y:04d}" for y in range(int(first), int(last) + 1)]
    if len(first) == 7:
        start, end = int(first[:4]) * 12 + int(first[5:]) - 1, int(last[:4]) * 12 + int(last[5:]) - 1
        return [f"{k // 12:04d}-{k % 12 + 1:02d}" for k in range(start, end + 1)]
    day, end_day = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(day + dt.timedelta(days=i)).isoformat() for i in range((end_day - day).days + 1)]


def _fill_zero_counts(values: dict[Key, float | None], areas: AreaTable, measure: str) -> None:
    """An incident list says nothing of the areas and periods without incidents: those are 0
    (for every municipality, or ward where the list is by ward, in the list's period range)."""
    if not values:
        return
    periods = sorted({p for (_a, p, _m, _b) in values})
    breakdowns = {b for (_a, _p, _m, b) in values}
    present = {a for (a, _p, _m, _b) in values}
    leaves = []
    for city in areas.municipalities:
        wards = [w.code for w in areas.wards(city.code)]
        leaves += wards if present.intersection(wards) else [city.code]
    for period in _periods_between(periods[0], periods[-1]):
        for code in leaves:
            for b in breakdowns:
                values.setdefault((code, period, measure, b), 0.0)


def _roll_up(values: dict[Key, float | None], areas: AreaTable, prefecture: str, report: RejectReport) -> None:
    """Wards → their city and municipalities → the prefecture, where the source lacks the total.
    A prefecture total is only computed when every municipality of the area table has a value
    (a file of one city's data never stands in for the prefecture)."""
    groups: dict[tuple[str, str, str], dict[str, float | None]] = defaultdict(dict)
    for (area, period, measure, breakdown), value in values.items():
        groups[(period, measure, breakdown)][area] = value
    municipalities = sorted(a.code for a in areas.municipalities)
    for code in municipalities:  # cities from their wards
        ward_codes = [w.code for w in areas.wards(code)]
        if not ward_codes:
            continue
        for (period, measure, breakdown), by_area in groups.items():
            if code in by_area or not any(w in by_area for w in ward_codes):
                continue
            parts = [by_area.get(w) for w in ward_codes]
            if all(p is not None for p in parts):
                by_area[code] = values[(code, period, measure, breakdown)] = sum(parts)
    for (period, measure, breakdown), by_area in sorted(groups.items()):
        if prefecture in by_area:
            continue
        parts = [by_area.get(code) for code in municipalities]
        if all(p is not None for p in parts):
            values[(prefecture, period, measure, breakdown)] = sum(parts)
            report.derive("prefecture total computed from municipalities", f"{period} {measure} {breakdown}".strip())
        else:
            report.derive("prefecture total left out (a municipality has no value)", f"{period} {measure} {breakdown}".strip())
