"""Pure arithmetic for indicator dashboards: per-capita rates, period arithmetic,
changes and their assessment, means, rankings, windows over long-form records and
number/period formatting.

Every function here is pure: no I/O, no globals read or written, inputs never mutated.

Long-form records are dicts with keys ``area_code``, ``period``, ``measure``,
``breakdown`` ("" for none) and ``value`` (float or None).

Periods are strings of one of three formats:
    "YYYY"        yearly
    "YYYY-MM"     monthly
    "YYYY-MM-DD"  daily
Malformed periods raise ``ValueError`` wherever a period is interpreted.

A missing value is ``None``; a float NaN is treated as missing too, so that a NaN
that slipped through parsing never turns into a plausible-looking number.
"""
from __future__ import annotations

import bisect
import calendar
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any, Iterable, Mapping

Record = Mapping[str, Any]

YEARLY = "yearly"
MONTHLY = "monthly"
DAILY = "daily"

_PERIOD_RE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LANGS = ("ja", "en")
MISSING = "—"  # em dash, shown for a missing number


# --------------------------------------------------------------------------- helpers

def _missing(x: float | None) -> bool:
    """True for None and for a float NaN."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def _parse(period: str) -> tuple[str, int, int, int]:
    """(frequency, year, month, day) of a period; month/day are 0 where absent.

    Raises ValueError for anything but a valid "YYYY", "YYYY-MM" or "YYYY-MM-DD".
    """
    m = _PERIOD_RE.match(period) if isinstance(period, str) else None
    if not m:
        raise ValueError(f"not a period (YYYY, YYYY-MM or YYYY-MM-DD): {period!r}")
    year = int(m.group(1))
    if year < 1:
        raise ValueError(f"year out of range: {period!r}")
    if m.group(2) is None:
        return YEARLY, year, 0, 0
    month = int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"month out of range: {period!r}")
    if m.group(3) is None:
        return MONTHLY, year, month, 0
    day = int(m.group(3))
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ValueError(f"day out of range: {period!r}")
    return DAILY, year, month, day


def frequency(period: str) -> str:
    """"yearly", "monthly" or "daily" for a period string (ValueError if malformed)."""
    return _parse(period)[0]


def _anchor(period: str) -> date:
    """The date a population figure for this period refers to.

    Monthly and daily figures refer to the first day of the month / the day itself
    (Japanese estimated population is "as of the 1st"); yearly figures to 1 October
    (census convention).
    """
    freq, y, m, d = _parse(period)
    if freq == YEARLY:
        return date(y, 10, 1)
    if freq == MONTHLY:
        return date(y, m, 1)
    return date(y, m, d)


def _as_format(bound: str, freq: str, *, end: bool) -> str:
    """A window bound rewritten in the format of `freq`.

    A coarser bound is expanded to its first (start) or last (end) sub-period; a finer
    bound is truncated to the enclosing period, so a record is kept when its period
    overlaps the window.
    """
    bfreq, y, m, d = _parse(bound)
    order = {YEARLY: 0, MONTHLY: 1, DAILY: 2}
    if order[bfreq] >= order[freq]:  # same or finer: truncate
        if freq == YEARLY:
            return f"{y:04d}"
        if freq == MONTHLY:
            return f"{y:04d}-{m:02d}"
        return bound
    # coarser bound: expand
    if freq == MONTHLY:  # bound is yearly
        return f"{y:04d}-12" if end else f"{y:04d}-01"
    # freq is daily; bound is yearly or monthly
    if bfreq == YEARLY:
        return f"{y:04d}-12-31" if end else f"{y:04d}-01-01"
    last = calendar.monthrange(y, m)[1]
    return f"{y:04d}-{m:02d}-{last:02d}" if end else f"{y:04d}-{m:02d}-01"


def _check_lang(lang: str) -> None:
    if lang not in _LANGS:
        raise ValueError(f"unsupported language {lang!r}; expected one of {_LANGS}")


# --------------------------------------------------------------------------- 1. per capita

def per_capita(value: float | None, population: float | None, base: int = 100_000) -> float | None:
    """`value` per `base` residents: value / population * base.

    None if value or population is missing, or population ≤ 0.
    Raises ValueError if `base` is not positive.
    """
    if base <= 0:
        raise ValueError(f"base must be positive, got {base!r}")
    if _missing(value) or _missing(population) or population <= 0:
        return None
    return value / population * base


# --------------------------------------------------------------------------- 2. population

def population_for(period: str, population_by_period: Mapping[str, float | None]) -> float | None:
    """The population to divide by for `period` (any frequency).

    Order of preference:
      1. the same period, if present;
      2. yearly "YYYY": "YYYY-10" (1 October, census convention), else the latest month
         of that year present;
         daily "YYYY-MM-DD": its month "YYYY-MM";
      3. otherwise the nearest EARLIER figure of any format, never a later one.
         Each figure is dated by `_anchor` (month → its 1st, day → itself,
         year → 1 October); for a monthly/daily period a figure dated on or before the
         period's own anchor qualifies, for a yearly period only figures dated before
         1 January of that year (its own months were handled in step 2).
         On equal dates the finer format wins (e.g. "2025-10" over "2025").
    None if nothing qualifies. Entries whose value is None/NaN count as absent.
    Raises ValueError for a malformed period or key.
    """
    freq, y, m, _ = _parse(period)
    pops = {k: v for k, v in population_by_period.items() if not _missing(v)}
    for key in pops:
        _parse(key)  # validate every key, so bad data surfaces rather than being skipped

    if period in pops:
        return pops[period]
    if freq == YEARLY:
        october = f"{y:04d}-10"
        if october in pops:
            return pops[october]
        months = [k for k in pops if frequency(k) == MONTHLY and k.startswith(f"{y:04d}-")]
        if months:
            return pops[max(months)]
        cutoff = date(y, 1, 1)
        candidates = [k for k in pops if _anchor(k) < cutoff]
    else:
        if freq == DAILY:
            month = f"{y:04d}-{m:02d}"
            if month in pops:
                return pops[month]
        cutoff = _anchor(period)
        candidates = [k for k in pops if _anchor(k) <= cutoff]
    if not candidates:
        return None
    # latest anchor; on a tie the finer (longer) key
    best = max(candidates, key=lambda k: (_anchor(k), len(k)))
    return pops[best]


# --------------------------------------------------------------------------- 3. periods

def previous_period(period: str) -> str:
    """The period immediately before `period`, in the same format.

    "2026-01" → "2025-12"; "2025" → "2024"; "2026-03-01" → "2026-02-28".
    """
    freq, y, m, d = _parse(period)
    if freq == YEARLY:
        return f"{y - 1:04d}"
    if freq == MONTHLY:
        return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"
    return (date(y, m, d) - timedelta(days=1)).isoformat()


def same_period_last_year(period: str) -> str:
    """The same period one year earlier, in the same format.

    "2026-03" → "2025-03"; "2025" → "2024"; "2024-02-29" → "2023-02-28"
    (29 February maps to 28 February in a non-leap year).
    """
    freq, y, m, d = _parse(period)
    if freq == YEARLY:
        return f"{y - 1:04d}"
    if freq == MONTHLY:
        return f"{y - 1:04d}-{m:02d}"
    d = min(d, calendar.monthrange(y - 1, m)[1])
    return f"{y - 1:04d}-{m:02d}-{d:02d}"


# --------------------------------------------------------------------------- 4. change

@dataclass(frozen=True)
class Change:
    """A change from a previous to a current value.

    absolute: current − previous (None if either is missing).
    relative: absolute / |previous| as a fraction (0.05 = +5 %); None if either is
              missing or previous is 0. Dividing by |previous| keeps the sign of
              `relative` equal to the direction when previous is negative.
    direction: "up", "down", "flat", or None when unknown.
    """

    absolute: float | None
    relative: float | None
    direction: str | None


# Differences this small relative to the operands are float noise, not change.
_FLAT_REL_TOL = 1e-9


def change(current: float | None, previous: float | None) -> Change:
    """The change from `previous` to `current` (see `Change`).

    Values equal within a relative tolerance of 1e-9 (e.g. 0.1 + 0.2 vs 0.3) are
    "flat", with absolute and relative snapped to 0.0 (relative stays None if
    previous is 0).
    """
    if _missing(current) or _missing(previous):
        return Change(None, None, None)
    if math.isclose(current, previous, rel_tol=_FLAT_REL_TOL, abs_tol=0.0):
        return Change(0.0, None if previous == 0 else 0.0, "flat")
    absolute = current - previous
    relative = None if previous == 0 else absolute / abs(previous)
    return Change(absolute, relative, "up" if absolute > 0 else "down")


# --------------------------------------------------------------------------- 5. assess

_HIGHER_IS = ("better", "worse", "neutral")
_DIRECTIONS = ("up", "down", "flat")


def assess(direction: str | None, higher_is: str) -> str:
    """Whether a move is "good", "bad", "neutral" or "unknown".

    direction None → "unknown"; "flat" → "neutral"; higher_is "neutral" → "neutral";
    otherwise up is good when higher is better and bad when higher is worse, and
    down the reverse. Raises ValueError for an unknown direction or higher_is.
    """
    if higher_is not in _HIGHER_IS:
        raise ValueError(f"higher_is must be one of {_HIGHER_IS}, got {higher_is!r}")
    if direction is None:
        return "unknown"
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS} or None, got {direction!r}")
    if direction == "flat" or higher_is == "neutral":
        return "neutral"
    good = (direction == "up") == (higher_is == "better")
    return "good" if good else "bad"


# --------------------------------------------------------------------------- 6. means

def mean(values: Iterable[float | None]) -> float | None:
    """Arithmetic mean of the non-missing values; None if there are none."""
    present = [v for v in values if not _missing(v)]
    if not present:
        return None
    return math.fsum(present) / len(present)


def weighted_mean(pairs: Iterable[tuple[float | None, float | None]]) -> float | None:
    """Σ value·weight / Σ weight over pairs with a non-missing value and a weight > 0.

    Pairs with a missing value, or a missing / zero / negative weight, are ignored.
    None if no pair remains.
    """
    kept = [(v, w) for v, w in pairs if not _missing(v) and not _missing(w) and w > 0]
    if not kept:
        return None
    return math.fsum(v * w for v, w in kept) / math.fsum(w for _, w in kept)


# --------------------------------------------------------------------------- 7. rank

def rank(values: Mapping[str, float | None], descending: bool = True) -> dict[str, int | None]:
    """Competition ranking ("1224") of the keys by value.

    descending=True ranks the largest value 1. Equal values share the best rank and
    the following rank is skipped. Missing values (None/NaN) get None and do not take
    up a rank. Keys keep their input order. Ties are exact equality.
    """
    present = sorted(v for v in values.values() if not _missing(v))
    n = len(present)
    out: dict[str, int | None] = {}
    for key, v in values.items():
        if _missing(v):
            out[key] = None
        elif descending:
            out[key] = 1 + (n - bisect.bisect_right(present, v))  # 1 + count strictly greater
        else:
            out[key] = 1 + bisect.bisect_left(present, v)  # 1 + count strictly smaller
    return out


# --------------------------------------------------------------------------- 8–10. records

def window(records: Iterable[Record], start: str | None, end: str | None) -> list[Record]:
    """Records whose period lies in [start, end] inclusive (None = unbounded).

    Each bound is rewritten in the record's own format and compared lexicographically:
    a coarser bound is expanded (start "2025" → "2025-01" / "2025-01-01"; end "2025" →
    "2025-12" / "2025-12-31"; end "2025-03" → "2025-03-31" for daily data); a finer
    bound is truncated (start "2025-03" → "2025" for yearly data), i.e. a record is
    kept when its period overlaps the window. Input order is kept; records are not
    copied. Raises ValueError for a malformed period or bound.
    """
    if start is not None:
        _parse(start)
    if end is not None:
        _parse(end)
    out: list[Record] = []
    bounds: dict[int, tuple[str | None, str | None]] = {}  # period length → bounds in that format
    for r in records:
        period = r["period"]
        limits = bounds.get(len(period))
        if limits is None:
            freq = frequency(period)
            limits = bounds[len(period)] = (None if start is None else _as_format(start, freq, end=False),
                                            None if end is None else _as_format(end, freq, end=True))
        elif not _PERIOD_RE.match(period):  # the first period of each format was parsed in full
            frequency(period)  # raises ValueError with the reason
        if limits[0] is not None and period < limits[0]:
            continue
        if limits[1] is not None and period > limits[1]:
            continue
        out.append(r)
    return out


def window_sorted(records: list[Record], periods: tuple[str, ...], start: str | None, end: str | None) -> list[Record]:
    """window() of `records` sorted by period, all in one format, whose periods (in the same
    order) are `periods`: found by bisection rather than by looking at every record."""
    if start is not None:
        _parse(start)
    if end is not None:
        _parse(end)
    if not periods:
        return []
    freq = frequency(periods[0])
    lo = 0 if start is None else bisect.bisect_left(periods, _as_format(start, freq, end=False))
    hi = len(periods) if end is None else bisect.bisect_right(periods, _as_format(end, freq, end=True))
    return records[lo:hi]


def latest_period(records: Iterable[Record], require_area: str | None = None) -> str | None:
    """The newest period having a non-missing value (for area `require_area` if given).

    Periods compare as strings, which orders each format chronologically.
    None if no record qualifies.
    """
    periods = [r["period"] for r in records
               if not _missing(r.get("value"))
               and (require_area is None or r.get("area_code") == require_area)]
    return max(periods) if periods else None


def series(records: Iterable[Record], area_code: str, measure: str,
           breakdown: str = "") -> list[tuple[str, float | None]]:
    """(period, value) pairs of one area/measure/breakdown, sorted by period.

    A record without a breakdown key (or with breakdown None) counts as breakdown "".
    NaN values come back as None. Records repeating a period with the same value are
    collapsed; with a different value they raise ValueError (the data is ambiguous).
    """
    by_period: dict[str, float | None] = {}
    for r in records:
        if r.get("area_code") != area_code or r.get("measure") != measure:
            continue
        if (r.get("breakdown") or "") != breakdown:
            continue
        value = r.get("value")
        value = None if _missing(value) else value
        period = r["period"]
        if period in by_period and by_period[period] != value:
            raise ValueError(
                f"conflicting values for {area_code}/{measure}/{breakdown!r} in {period}: "
                f"{by_period[period]!r} and {value!r}")
        by_period[period] = value
    return sorted(by_period.items())


# --------------------------------------------------------------------------- 11. format

def format_number(value: float | None, lang: str, decimals: int | None = None) -> str:
    """A number with "," thousands separators and "." decimal point (ja and en alike).

    None, NaN and ±inf → "—". Rounding is half-up on the decimal form of the value
    (四捨五入: 0.125 → "0.13", 2.675 → "2.68").
    decimals=None: whole numbers without decimals; others rounded to at most 2 decimals
    with trailing zeros dropped, except that a non-zero value which would round to 0
    keeps 2 significant digits (0.001234 → "0.0012").
    A result that rounds to zero never shows a minus sign.
    """
    _check_lang(lang)
    if decimals is not None and decimals < 0:
        raise ValueError(f"decimals must be ≥ 0, got {decimals!r}")
    if _missing(value) or math.isinf(value):
        return MISSING
    dec = Decimal(str(value))
    if decimals is None:
        if dec == dec.to_integral_value():
            places, strip = 0, False
        else:
            places, strip = 2, True
            if dec.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == 0:
                # 2 significant digits: exponent of the leading digit, minus one more
                places = -dec.adjusted() + 1
    else:
        places, strip = decimals, False
    with localcontext() as ctx:  # enough precision for any float at any place count
        ctx.prec = 400
        q = dec.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if q == 0:
        q = abs(q)
    text = f"{q:,.{places}f}"
    if strip and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_period(period: str, lang: str) -> str:
    """A period for display.

    ja: "2026年10月", "2025年", "2026年3月1日"; en: "Oct 2026", "2025", "1 Mar 2026".
    """
    _check_lang(lang)
    freq, y, m, d = _parse(period)
    if lang == "ja":
        if freq == YEARLY:
            return f"{y}年"
        if freq == MONTHLY:
            return f"{y}年{m}月"
        return f"{y}年{m}月{d}日"
    if freq == YEARLY:
        return f"{y}"
    if freq == MONTHLY:
        return f"{_MONTHS_EN[m - 1]} {y}"
    return f"{d} {_MONTHS_EN[m - 1]} {y}"
