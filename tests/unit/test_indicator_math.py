"""Hand-computed cases for services.indicator_math. The arithmetic behind each expected
value is written next to it."""
from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest
from hypothesis import given, settings, strategies as st

from services.indicator_math import (
    Change,
    assess,
    change,
    format_number,
    format_period,
    frequency,
    latest_period,
    mean,
    per_capita,
    population_for,
    previous_period,
    rank,
    same_period_last_year,
    series,
    weighted_mean,
    window_sorted,
    window,
)


def rec(period, value, area="27100", measure="m", breakdown=""):
    return {"area_code": area, "period": period, "measure": measure,
            "breakdown": breakdown, "value": value}


# --------------------------------------------------------------------------- frequency

@pytest.mark.parametrize("period, freq", [
    ("2025", "yearly"), ("2025-03", "monthly"), ("2024-02-29", "daily"),
])
def test_frequency(period, freq):
    assert frequency(period) == freq


@pytest.mark.parametrize("bad", ["", "25", "2025-13", "2025-00", "2025-3", "2023-02-29",
                                 "2025-04-31", "2025/03", "0000", "２０２５", None])
def test_malformed_periods_raise(bad):
    with pytest.raises(ValueError):
        frequency(bad)


# --------------------------------------------------------------------------- 1. per_capita

def test_per_capita_default_base():
    # 250 / 2,500,000 * 100,000 = 250 / 25 = 10.0
    assert per_capita(250, 2_500_000) == pytest.approx(10.0)


def test_per_capita_custom_base():
    # 3 / 1,500 * 1,000 = 2.0
    assert per_capita(3, 1_500, base=1_000) == pytest.approx(2.0)
    # 0 / 8,800,000 * 100,000 = 0.0 (a zero numerator is a real zero, not missing)
    assert per_capita(0, 8_800_000) == 0.0


@pytest.mark.parametrize("value, population", [
    (None, 1000), (5, None), (None, None), (5, 0), (5, -10), (float("nan"), 1000), (5, float("nan")),
])
def test_per_capita_missing_or_non_positive_population(value, population):
    assert per_capita(value, population) is None


def test_per_capita_bad_base():
    with pytest.raises(ValueError):
        per_capita(1, 1, base=0)


# --------------------------------------------------------------------------- 2. population_for

POP_MONTHLY = {"2024-10": 100.0, "2025-01": 110.0, "2025-06": 115.0, "2025-10": 120.0, "2025-12": 125.0}


def test_population_same_period():
    assert population_for("2025-06", POP_MONTHLY) == 115.0
    assert population_for("2025", {"2025": 7.0, "2025-10": 8.0}) == 7.0  # exact key beats "2025-10"


def test_population_yearly_prefers_october():
    # 2025 → "2025-10" (census convention), not the later "2025-12"
    assert population_for("2025", POP_MONTHLY) == 120.0


def test_population_yearly_latest_month_of_year():
    pops = {"2025-03": 1.0, "2025-07": 2.0, "2026-01": 3.0}
    # no "2025-10": latest month of 2025 is "2025-07" (never "2026-01", a later period)
    assert population_for("2025", pops) == 2.0


def test_population_yearly_nearest_earlier_month():
    pops = {"2023-05": 1.0, "2024-11": 2.0, "2026-10": 3.0}
    # nothing in 2025; nearest earlier is "2024-11"; "2026-10" is later, never used
    assert population_for("2025", pops) == 2.0
    # earlier yearly figures also count: "2024" is dated 2024-10-01, before 2024-11-01
    assert population_for("2025", {"2024": 5.0, "2024-06": 6.0}) == 5.0


def test_population_yearly_none_earlier():
    assert population_for("2020", POP_MONTHLY) is None


def test_population_daily_uses_its_month():
    assert population_for("2025-06-15", POP_MONTHLY) == 115.0


def test_population_daily_falls_back_to_earlier():
    # "2025-08" absent → nearest earlier month "2025-06"; "2025-10" is later
    assert population_for("2025-08-20", POP_MONTHLY) == 115.0
    # an earlier day in the same month also qualifies (2025-08-05 ≤ 2025-08-20), and is nearer
    assert population_for("2025-08-20", {**POP_MONTHLY, "2025-08-05": 116.0}) == 116.0
    # a later day of the same month does not
    assert population_for("2025-08-20", {**POP_MONTHLY, "2025-08-25": 117.0}) == 115.0


def test_population_monthly_nearest_earlier_never_later():
    assert population_for("2025-03", POP_MONTHLY) == 110.0   # "2025-01" ≤ 2025-03; not "2025-06"
    assert population_for("2026-05", POP_MONTHLY) == 125.0   # "2025-12", the latest earlier
    assert population_for("2024-09", POP_MONTHLY) is None    # "2024-10" is later


def test_population_monthly_from_yearly_figures():
    pops = {"2024": 1.0, "2025": 2.0}
    # yearly figures are dated 1 October: "2025" (2025-10-01) is later than 2025-03-01
    assert population_for("2025-03", pops) == 1.0
    assert population_for("2025-10", pops) == 2.0  # same date qualifies
    # tie on the same date: the finer "2025-10" wins over "2025"
    assert population_for("2025-11", {"2025": 2.0, "2025-10": 3.0}) == 3.0


def test_population_empty_and_none_values():
    assert population_for("2025", {}) is None
    assert population_for("2025-06-01", {}) is None
    # a None population counts as absent: falls back to "2025-01"
    assert population_for("2025-06", {"2025-01": 110.0, "2025-06": None}) == 110.0


def test_population_bad_key_raises():
    with pytest.raises(ValueError):
        population_for("2025-06", {"total": 1.0})


# --------------------------------------------------------------------------- 3. periods

@pytest.mark.parametrize("period, expected", [
    ("2026-01", "2025-12"),      # January wraps to December of the year before
    ("2026-10", "2026-09"),
    ("2025", "2024"),
    ("2026-03-01", "2026-02-28"),  # 2026 is not a leap year
    ("2024-03-01", "2024-02-29"),  # 2024 is
    ("2026-01-01", "2025-12-31"),
])
def test_previous_period(period, expected):
    assert previous_period(period) == expected


@pytest.mark.parametrize("period, expected", [
    ("2026-01", "2025-01"),
    ("2025", "2024"),
    ("2026-03-01", "2025-03-01"),
    ("2024-02-29", "2023-02-28"),  # no 29 Feb in 2023
    ("2025-02-28", "2024-02-28"),  # not 29 Feb even though 2024 is leap
])
def test_same_period_last_year(period, expected):
    assert same_period_last_year(period) == expected


def test_period_functions_reject_malformed():
    with pytest.raises(ValueError):
        previous_period("2026-1")
    with pytest.raises(ValueError):
        same_period_last_year("2026-02-30")


# --------------------------------------------------------------------------- 4. change

def test_change_up():
    # 105 − 100 = 5; 5 / 100 = 0.05
    c = change(105, 100)
    assert c.absolute == pytest.approx(5)
    assert c.relative == pytest.approx(0.05)
    assert c.direction == "up"


def test_change_down():
    # 80 − 100 = −20; −20 / 100 = −0.2
    assert change(80.0, 100.0) == Change(-20.0, -0.2, "down")


def test_change_flat_and_float_noise():
    assert change(7, 7) == Change(0.0, 0.0, "flat")
    # 0.1 + 0.2 = 0.30000000000000004: float noise, not an increase
    assert change(0.1 + 0.2, 0.3) == Change(0.0, 0.0, "flat")


def test_change_previous_zero():
    # 5 − 0 = 5; relative undefined
    assert change(5, 0) == Change(5, None, "up")
    assert change(0, 0) == Change(0.0, None, "flat")


def test_change_negative_previous_uses_magnitude():
    # −5 − (−10) = 5; 5 / |−10| = 0.5 (up, so the fraction is positive)
    assert change(-5, -10) == Change(5, 0.5, "up")


@pytest.mark.parametrize("current, previous", [(None, 1), (1, None), (None, None), (float("nan"), 1)])
def test_change_unknown(current, previous):
    assert change(current, previous) == Change(None, None, None)


def test_change_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        change(1, 2).direction = "up"


# --------------------------------------------------------------------------- 5. assess

@pytest.mark.parametrize("direction, higher_is, expected", [
    ("up", "better", "good"), ("down", "better", "bad"),
    ("up", "worse", "bad"), ("down", "worse", "good"),
    ("up", "neutral", "neutral"), ("down", "neutral", "neutral"),
    ("flat", "better", "neutral"), ("flat", "worse", "neutral"),
    (None, "better", "unknown"), (None, "neutral", "unknown"),
])
def test_assess(direction, higher_is, expected):
    assert assess(direction, higher_is) == expected


def test_assess_rejects_unknown_inputs():
    with pytest.raises(ValueError):
        assess("up", "higher")
    with pytest.raises(ValueError):
        assess("sideways", "better")


# --------------------------------------------------------------------------- 6. means

def test_mean():
    # (1 + 2 + 6) / 3 = 3.0
    assert mean([1, 2, 6]) == pytest.approx(3.0)
    # None ignored: (10 + 20) / 2 = 15.0
    assert mean([10, None, 20]) == pytest.approx(15.0)
    # generator input: (0.5 + 1.5 + 4) / 3 = 2.0
    assert mean(v for v in (0.5, 1.5, 4)) == pytest.approx(2.0)


def test_mean_empty():
    assert mean([]) is None
    assert mean([None, None]) is None
    assert mean([float("nan")]) is None


def test_weighted_mean():
    # (10·1 + 20·3) / (1 + 3) = 70 / 4 = 17.5
    assert weighted_mean([(10, 1), (20, 3)]) == pytest.approx(17.5)
    # zero/negative weights and None values ignored: only (4, 2), (8, 2) → (8 + 16) / 4 = 6.0
    assert weighted_mean([(4, 2), (8, 2), (100, 0), (100, -1), (None, 5), (100, None)]) == pytest.approx(6.0)
    # a zero value is a real value: (0·1 + 9·2) / 3 = 6.0
    assert weighted_mean([(0, 1), (9, 2)]) == pytest.approx(6.0)


def test_weighted_mean_empty():
    assert weighted_mean([]) is None
    assert weighted_mean([(5, 0), (None, 1)]) is None  # nothing left: no division by zero


# --------------------------------------------------------------------------- 7. rank

def test_rank_descending_ties():
    values = {"a": 10, "b": 30, "c": 20, "d": 20}
    # 30 → 1; 20, 20 → 2, 2; 10 → 4 (3 skipped)
    assert rank(values) == {"a": 4, "b": 1, "c": 2, "d": 2}


def test_rank_ascending_with_missing():
    values = {"a": 5.0, "b": None, "c": 1.0, "d": 5.0, "e": 3.0}
    # ascending: 1 → 1; 3 → 2; 5, 5 → 3, 3; None → unranked, takes no rank
    assert rank(values, descending=False) == {"a": 3, "b": None, "c": 1, "d": 3, "e": 2}


def test_rank_missing_not_ranked_descending():
    # None does not push the others down: 7 → 1, 2 → 2
    assert rank({"x": None, "y": 7, "z": 2, "w": float("nan")}) == {"x": None, "y": 1, "z": 2, "w": None}


def test_rank_all_tied_and_empty():
    assert rank({"a": 1, "b": 1, "c": 1}) == {"a": 1, "b": 1, "c": 1}
    assert rank({}) == {}
    assert rank({"a": None}) == {"a": None}


def test_rank_keeps_key_order():
    assert list(rank({"z": 1, "a": 2, "m": 3})) == ["z", "a", "m"]


# --------------------------------------------------------------------------- 8. window

MONTHLY = [rec(p, i) for i, p in enumerate(["2024-11", "2024-12", "2025-01", "2025-06", "2025-12", "2026-01"])]
DAILY = [rec(p, 1) for p in ["2025-02-28", "2025-03-01", "2025-03-31", "2025-04-01"]]
YEARLY = [rec(p, 1) for p in ["2023", "2024", "2025", "2026"]]


def periods(rs):
    return [r["period"] for r in rs]


def test_window_same_format_inclusive():
    assert periods(window(MONTHLY, "2024-12", "2025-06")) == ["2024-12", "2025-01", "2025-06"]


def test_window_coarse_bounds_monthly():
    # "2025" → from "2025-01" through "2025-12"
    assert periods(window(MONTHLY, "2025", "2025")) == ["2025-01", "2025-06", "2025-12"]


def test_window_coarse_bounds_daily():
    # start "2025-03" → "2025-03-01"; end "2025-03" → "2025-03-31"
    assert periods(window(DAILY, "2025-03", "2025-03")) == ["2025-03-01", "2025-03-31"]
    # end "2025" → "2025-12-31"
    assert periods(window(DAILY, "2025-03-31", "2025")) == ["2025-03-31", "2025-04-01"]


def test_window_finer_bounds_on_yearly_overlap():
    # start "2024-06" → "2024", end "2025-02-01" → "2025": years overlapping the window
    assert periods(window(YEARLY, "2024-06", "2025-02-01")) == ["2024", "2025"]


def test_window_open_bounds_and_empty():
    assert periods(window(MONTHLY, None, None)) == periods(MONTHLY)
    assert periods(window(MONTHLY, "2025-12", None)) == ["2025-12", "2026-01"]
    assert periods(window(MONTHLY, None, "2024")) == ["2024-11", "2024-12"]
    assert window([], "2025", "2026") == []
    assert window(MONTHLY, "2026", "2025") == []  # start after end


def test_window_keeps_none_values_and_identity():
    rs = [rec("2025-01", None)]
    out = window(rs, "2025", "2025")
    assert out == rs and out[0] is rs[0]


def test_window_bad_bound():
    with pytest.raises(ValueError):
        window(MONTHLY, "2025-13", None)
    with pytest.raises(ValueError):
        window_sorted(MONTHLY, tuple(periods(MONTHLY)), None, "2025-02-30")


_DAYS = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2027, 12, 31))
_BOUND = st.one_of(st.none(), _DAYS.map(lambda d: d.isoformat()), _DAYS.map(lambda d: d.isoformat()[:7]),
                   _DAYS.map(lambda d: d.isoformat()[:4]))


@given(days=st.lists(_DAYS, max_size=40, unique=True), cut=st.sampled_from([10, 7, 4]), start=_BOUND, end=_BOUND)
@settings(max_examples=300, deadline=None)
def test_a_window_by_bisection_is_the_same_as_by_looking_at_every_record(days, cut, start, end):
    series = sorted({rec(d.isoformat()[:cut], 1)["period"]: rec(d.isoformat()[:cut], 1) for d in days}.values(),
                    key=lambda r: r["period"])
    assert window_sorted(series, tuple(periods(series)), start, end) == window(series, start, end)


# --------------------------------------------------------------------------- 9. latest_period

def test_latest_period_skips_missing():
    rs = [rec("2025-01", 1), rec("2025-03", None), rec("2025-02", 2)]
    # "2025-03" has no value → "2025-02"
    assert latest_period(rs) == "2025-02"


def test_latest_period_for_area():
    rs = [rec("2025-05", 1, area="27100"), rec("2025-04", 1, area="27140"),
          rec("2025-06", None, area="27140")]
    assert latest_period(rs, require_area="27140") == "2025-04"
    assert latest_period(rs) == "2025-05"
    assert latest_period(rs, require_area="99999") is None


def test_latest_period_empty_and_daily():
    assert latest_period([]) is None
    assert latest_period([rec("2025-01-01", None)]) is None
    # a zero value counts as present
    assert latest_period([rec("2025-12-31", 0), rec("2025-02-01", 5)]) == "2025-12-31"


# --------------------------------------------------------------------------- 10. series

def test_series_filters_and_sorts():
    rs = [rec("2025-03", 3), rec("2025-01", 1), rec("2025-02", None),
          rec("2025-01", 99, area="27140"), rec("2025-01", 98, measure="other"),
          rec("2025-01", 97, breakdown="male")]
    assert series(rs, "27100", "m") == [("2025-01", 1), ("2025-02", None), ("2025-03", 3)]


def test_series_breakdown():
    rs = [rec("2025", 5, breakdown="male"), rec("2024", 4, breakdown="male"), rec("2025", 6)]
    assert series(rs, "27100", "m", "male") == [("2024", 4), ("2025", 5)]
    # missing breakdown key counts as ""
    no_key = [{"area_code": "27100", "period": "2025", "measure": "m", "value": 6}]
    assert series(no_key, "27100", "m") == [("2025", 6)]


def test_series_empty_and_nan():
    assert series([], "27100", "m") == []
    assert series([rec("2025", 1)], "27100", "nope") == []
    assert series([rec("2025", float("nan"))], "27100", "m") == [("2025", None)]


def test_series_duplicates():
    # identical duplicates collapse
    assert series([rec("2025", 1), rec("2025", 1)], "27100", "m") == [("2025", 1)]
    # conflicting duplicates are an error
    with pytest.raises(ValueError):
        series([rec("2025", 1), rec("2025", 2)], "27100", "m")


# --------------------------------------------------------------------------- 11. format_number

@pytest.mark.parametrize("lang", ["ja", "en"])
def test_format_number_thousands(lang):
    assert format_number(12345, lang) == "12,345"
    assert format_number(1234567.0, lang) == "1,234,567"
    assert format_number(-9876543, lang) == "-9,876,543"
    assert format_number(999, lang) == "999"
    assert format_number(0, lang) == "0"


def test_format_number_decimals():
    assert format_number(12345.678, "ja", 1) == "12,345.7"   # .678 → .7
    assert format_number(12345, "en", 2) == "12,345.00"
    assert format_number(2.5, "en", 0) == "3"                # half-up (四捨五入), not half-even "2"
    assert format_number(0.125, "ja", 2) == "0.13"           # half-up
    assert format_number(2.675, "ja", 2) == "2.68"           # decimal form 2.675, not binary 2.67499…
    assert format_number(-0.004, "en", 2) == "0.00"          # no "-0.00"


def test_format_number_auto_decimals():
    assert format_number(1234.5, "en") == "1,234.5"          # at most 2 decimals, zeros dropped
    assert format_number(12.3456, "ja") == "12.35"
    assert format_number(0.1 + 0.2, "ja") == "0.3"
    assert format_number(0.001234, "en") == "0.0012"         # would round to 0: 2 significant digits


@pytest.mark.parametrize("value", [None, float("nan"), float("inf")])
def test_format_number_missing(value):
    assert format_number(value, "ja") == "—"
    assert format_number(value, "en", 2) == "—"


def test_format_number_bad_args():
    with pytest.raises(ValueError):
        format_number(1, "fr")
    with pytest.raises(ValueError):
        format_number(1, "en", -1)


# --------------------------------------------------------------------------- 11. format_period

@pytest.mark.parametrize("period, ja, en", [
    ("2026-10", "2026年10月", "Oct 2026"),
    ("2025", "2025年", "2025"),
    ("2026-03-01", "2026年3月1日", "1 Mar 2026"),
    ("2025-01", "2025年1月", "Jan 2025"),
    ("2024-12-25", "2024年12月25日", "25 Dec 2024"),
])
def test_format_period(period, ja, en):
    assert format_period(period, "ja") == ja
    assert format_period(period, "en") == en


def test_format_period_bad_args():
    with pytest.raises(ValueError):
        format_period("2025-13", "ja")
    with pytest.raises(ValueError):
        format_period("2025", "de")


# --------------------------------------------------------------------------- purity

def test_inputs_not_mutated():
    pops = dict(POP_MONTHLY)
    values = {"a": 1, "b": None}
    rs = [rec("2025-02", 1), rec("2025-01", 2)]
    snapshot = [dict(r) for r in rs]
    population_for("2025", pops)
    rank(values)
    window(rs, "2025", None)
    series(rs, "27100", "m")
    latest_period(rs)
    assert pops == POP_MONTHLY and values == {"a": 1, "b": None} and rs == snapshot
    assert math.isclose(per_capita(1, 1), 100_000)
