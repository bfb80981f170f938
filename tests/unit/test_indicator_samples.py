"""Tests for the seeded SAMPLE indicator series (sample_data.indicators)."""

from __future__ import annotations

import collections
import datetime as dt
import re
from pathlib import Path

import pytest

from sample_data import generate_indicator
from sample_data.indicators import AGE_BINS, CRIME_TYPES, INDICATORS
from services.areas import AreaTable

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 25)
PREF = "270008"
OSAKA_CITY = "271004"

MONTHLY = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
YEARLY = re.compile(r"^\d{4}$")
DAILY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FORMATS = {
    "population": (MONTHLY,), "health": (YEARLY,), "crime": (MONTHLY,), "economy": (MONTHLY,),
    "childcare": (YEARLY,), "tourism": (MONTHLY,), "traffic": (MONTHLY,), "air": (DAILY, YEARLY),
    "emergency": (YEARLY,),
}
MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024, 2025, 2026) for m in range(1, 13)
          if "2023-11" <= f"{y}-{m:02d}" <= "2026-10"]
YEARS = [str(y) for y in range(2016, 2026)]
KEYS = ("area_code", "period", "measure", "breakdown", "value")


@pytest.fixture(scope="module")
def areas() -> AreaTable:
    return AreaTable.from_csv(ROOT / "data" / "real" / "areas" / "27.csv")


@pytest.fixture(scope="module")
def data(areas: AreaTable) -> dict[str, list[dict]]:
    return {name: generate_indicator(name, areas, AS_OF) for name in INDICATORS}


def _index(rows: list[dict]) -> dict[tuple, float | None]:
    """(area, period, measure, breakdown[, station]) → value; keys must be unique."""
    out: dict[tuple, float | None] = {}
    for r in rows:
        key = (r["area_code"], r["period"], r["measure"], r["breakdown"], r.get("station", ""))
        assert key not in out, key
        out[key] = r["value"]
    return out


def _series(rows: list[dict], area: str, measure: str, breakdown: str = "") -> dict[str, float | None]:
    return {r["period"]: r["value"] for r in rows
            if r["area_code"] == area and r["measure"] == measure and r["breakdown"] == breakdown
            and not r.get("station")}


# --------------------------------------------------------------------------- shape


def test_indicator_list_and_unknown(areas: AreaTable) -> None:
    assert INDICATORS == ("population", "health", "crime", "economy", "childcare", "tourism",
                          "traffic", "air", "emergency")
    with pytest.raises(ValueError, match="nope"):
        generate_indicator("nope", areas, AS_OF)


def test_deterministic_and_seeded(areas: AreaTable, data) -> None:
    for name in INDICATORS:
        assert generate_indicator(name, areas, AS_OF) == data[name], name
    assert generate_indicator("health", areas, AS_OF, seed=1) != data["health"]



def test_keys_types_and_periods(areas: AreaTable, data) -> None:
    codes = {a.code for a in areas}
    for name, rows in data.items():
        assert rows, name
        keys = KEYS + ("station",) if name == "air" else KEYS
        for r in rows:
            assert tuple(r) == keys, name
            assert r["area_code"] in codes, (name, r)
            assert isinstance(r["measure"], str) and r["measure"], name
            assert isinstance(r["breakdown"], str), name
            assert r["value"] is None or type(r["value"]) is float, (name, r)
            assert any(f.match(r["period"]) for f in FORMATS[name]), (name, r["period"])
        _index(rows)  # no duplicate keys


def test_areas_covered(areas: AreaTable, data) -> None:
    munis = {a.code for a in areas.municipalities}
    wards = {a.code for a in areas if a.is_ward}
    assert len(munis) == 43 and len(wards) == 31
    assert {r["area_code"] for r in data["population"]} == munis | wards | {PREF}
    for name in ("health", "crime", "childcare", "traffic", "emergency"):
        assert {r["area_code"] for r in data[name]} == munis | {PREF}, name
    for name in ("economy", "tourism"):
        assert {r["area_code"] for r in data[name]} == {PREF}, name


def test_windows(data) -> None:
    assert len(MONTHS) == 36 and MONTHS[-1] == "2026-10"
    for name in ("population", "crime", "economy", "tourism", "traffic"):
        assert sorted({r["period"] for r in data[name]}) == MONTHS, name
    for name in ("health", "childcare", "emergency"):
        assert sorted({r["period"] for r in data[name]}) == YEARS, name
    air = data["air"]
    days = sorted({r["period"] for r in air if DAILY.match(r["period"])})
    assert len(days) == 365 and days[0] == "2025-11-25" and days[-1] == "2026-11-24"
    assert sorted({r["period"] for r in air if YEARLY.match(r["period"])}) == YEARS


def test_measures(data) -> None:
    def measures(name):
        return {(r["measure"], r["breakdown"]) for r in data[name]}

    pop = {("total", ""), ("households", "")} | {(s, b) for s in ("male", "female") for b in AGE_BINS}
    assert len(AGE_BINS) == 18 and AGE_BINS[0] == "0-4" and AGE_BINS[-1] == "85+"
    assert measures("population") == pop
    assert measures("health") == {("checkup_rate", "")}
    assert measures("crime") == {("street_crimes", "")} | {("street_crimes", t) for t in CRIME_TYPES}
    assert len(CRIME_TYPES) == 7 and "自転車盗" in CRIME_TYPES
    assert measures("economy") == {("jobs_ratio", ""), ("ci", "")}
    assert measures("childcare") == {("waiting_children", ""), ("capacity_use", "")}
    assert measures("tourism") == {("guest_nights_total", ""), ("guest_nights_foreign", "")}
    assert measures("traffic") == {("accidents", ""), ("injuries", ""), ("deaths", "")}
    assert measures("emergency") == {("dispatches", ""), ("transported", "")}
    assert {m for m, _ in measures("air")} == {
        "pm25_daily_mean", "no2_daily_mean", "pm25_annual_mean", "no2_annual_mean",
        "standard_met", "standard_met_share"}


# --------------------------------------------------------------------------- missing values


def test_missing_values(data) -> None:
    for name, rows in data.items():
        missing = [r for r in rows if r["value"] is None]
        assert missing, name
        assert len(missing) <= max(3, 0.012 * len(rows)), (name, len(missing))
        latest = {}
        for r in rows:
            if r["area_code"] == PREF:
                n = len(r["period"])
                latest[n] = max(latest.get(n, ""), r["period"])
        for r in rows:
            if r["area_code"] == PREF and r["period"] == latest[len(r["period"])]:
                assert r["value"] is not None, (name, r)


# --------------------------------------------------------------------------- consistency


def test_population_consistency(areas: AreaTable, data) -> None:
    idx = _index(data["population"])
    munis = [a.code for a in areas.municipalities]
    wards = [a.code for a in areas.wards(OSAKA_CITY)]
    assert len(wards) == 24
    checked = collections.Counter()
    for period in MONTHS:
        parts = [idx[(m, period, "total", "", "")] for m in munis]
        pref = idx[(PREF, period, "total", "", "")]
        if None not in parts and pref is not None:
            assert pref == sum(parts)
            checked["pref"] += 1
        parts = [idx[(w, period, "households", "", "")] for w in wards]
        city = idx[(OSAKA_CITY, period, "households", "", "")]
        if None not in parts and city is not None:
            assert city == sum(parts)
        parts = [idx[(w, period, "total", "", "")] for w in wards]
        city = idx[(OSAKA_CITY, period, "total", "", "")]
        if None not in parts and city is not None:
            assert city == sum(parts)
            checked["city"] += 1
        for area in (PREF, OSAKA_CITY, "271276", "273830"):
            total = idx[(area, period, "total", "", "")]
            parts = [idx[(area, period, s, b, "")] for s in ("male", "female") for b in AGE_BINS]
            if None not in parts and total is not None:
                assert sum(parts) == total and all(p == int(p) and p >= 0 for p in parts)
                checked[area] += 1
    assert checked["pref"] > 20 and checked["city"] > 20 and checked[PREF] > 20


def test_counts_add_up(areas: AreaTable, data) -> None:
    munis = [a.code for a in areas.municipalities]
    cases = [("crime", "street_crimes", ("",) + CRIME_TYPES), ("childcare", "waiting_children", ("",)),
             ("traffic", "accidents", ("",)), ("traffic", "injuries", ("",)), ("traffic", "deaths", ("",)),
             ("emergency", "dispatches", ("",)), ("emergency", "transported", ("",))]
    for name, measure, breakdowns in cases:
        idx = _index(data[name])
        periods = sorted({r["period"] for r in data[name]})
        for period in periods:
            for b in breakdowns:
                parts = [idx[(m, period, measure, b, "")] for m in munis]
                pref = idx[(PREF, period, measure, b, "")]
                if None not in parts and pref is not None:
                    assert pref == sum(parts), (name, measure, b, period)
                    assert all(p == int(p) and p >= 0 for p in parts)
    # crime: the "" breakdown is the sum over the seven 手口
    idx = _index(data["crime"])
    for area in [PREF] + munis:
        for period in MONTHS:
            parts = [idx[(area, period, "street_crimes", t, "")] for t in CRIME_TYPES]
            total = idx[(area, period, "street_crimes", "", "")]
            if None not in parts and total is not None:
                assert total == sum(parts), (area, period)


def test_rates_are_weighted_means(areas: AreaTable, data) -> None:
    munis = list(areas.municipalities)
    for name, measure in (("health", "checkup_rate"), ("childcare", "capacity_use")):
        idx = _index(data[name])
        for period in YEARS:
            vals = [idx[(m.code, period, measure, "", "")] for m in munis]
            pref = idx[(PREF, period, measure, "", "")]
            if None in vals or pref is None:
                continue
            mean = sum(v * m.weight for v, m in zip(vals, munis)) / sum(m.weight for m in munis)
            assert abs(pref - mean) <= 0.051, (name, period)


def test_air_consistency(areas: AreaTable, data) -> None:
    air = data["air"]
    stations = {r["station"] for r in air if r["station"]}
    assert 60 <= len(stations) <= 120
    leaves = {a.code for a in areas.leaves}
    munis = {a.code for a in areas.municipalities}
    for r in air:
        if r["measure"] == "standard_met_share":
            assert r["station"] == "" and r["area_code"] in munis | {PREF}
        else:
            assert r["station"] and r["area_code"] in leaves
    idx = _index(air)
    by_year = collections.defaultdict(list)
    for r in air:
        if r["measure"] == "standard_met" and r["value"] is not None:
            by_year[r["period"]].append(r["value"])
    for period in YEARS:
        status = by_year[period]
        assert status and set(status) <= {0.0, 1.0}
        share = idx[(PREF, period, "standard_met_share", "", "")]
        assert share == round(100 * sum(status) / len(status), 1)
    # standard_met agrees with the annual-mean part of the standard
    for r in air:
        if r["measure"] == "standard_met" and r["value"] == 1.0:
            mean = idx[(r["area_code"], r["period"], "pm25_annual_mean", "", r["station"])]
            assert mean is None or mean <= 15.0
    assert idx[(PREF, "2025", "standard_met_share", "", "")] >= 80.0


# --------------------------------------------------------------------------- magnitudes


def _annual(rows, area, measure, periods, breakdown=""):
    s = _series(rows, area, measure, breakdown)
    vals = [s[p] for p in periods]
    return sum(v for v in vals if v is not None) * len(vals) / sum(v is not None for v in vals)


def test_magnitudes(areas: AreaTable, data) -> None:
    pref_pop = sum(a.weight for a in areas.municipalities)
    last12 = MONTHS[-12:]
    pop = _series(data["population"], PREF, "total")
    assert 0.97 * pref_pop <= pop["2026-10"] <= 1.01 * pref_pop
    assert pop["2026-10"] < pop["2023-11"]  # gently declining
    hh = _series(data["population"], PREF, "households")
    assert 2.0 <= pop["2026-10"] / hh["2026-10"] <= 2.3

    crime_rate = _annual(data["crime"], PREF, "street_crimes", last12) / pref_pop * 1e5
    assert 400 <= crime_rate <= 900
    city = next(a for a in areas.municipalities if a.code == OSAKA_CITY)
    assert _annual(data["crime"], OSAKA_CITY, "street_crimes", last12) / city.weight * 1e5 > crime_rate
    bikes = _annual(data["crime"], PREF, "street_crimes", last12, "自転車盗")
    assert 0.5 <= bikes / _annual(data["crime"], PREF, "street_crimes", last12) <= 0.7
    summer = sum(_series(data["crime"], PREF, "street_crimes")[p] or 0 for p in ("2025-07", "2025-08"))
    winter = sum(_series(data["crime"], PREF, "street_crimes")[p] or 0 for p in ("2025-01", "2025-02"))
    assert summer > winter

    for name, measure, lo, hi in (("health", "checkup_rate", 25, 45), ("childcare", "capacity_use", 85, 102),
                                  ("economy", "jobs_ratio", 1.0, 1.5), ("economy", "ci", 85, 110)):
        vals = [r["value"] for r in data[name] if r["measure"] == measure and r["value"] is not None]
        assert vals and lo <= min(vals) and max(vals) <= hi, (name, measure)
    health = _series(data["health"], PREF, "checkup_rate")
    assert health["2020"] < health["2019"] and health["2025"] > health["2016"]

    waiting = _series(data["childcare"], OSAKA_CITY, "waiting_children")
    assert 100 <= waiting["2016"] <= 500 and waiting["2025"] < waiting["2016"]

    tourism = _series(data["tourism"], PREF, "guest_nights_total")
    foreign = _series(data["tourism"], PREF, "guest_nights_foreign")
    for p in MONTHS:
        if tourism[p] is not None:
            assert 3e6 <= tourism[p] <= 5.5e6
            if foreign[p] is not None:
                assert 0.34 <= foreign[p] / tourism[p] <= 0.51

    acc_rate = _annual(data["traffic"], PREF, "accidents", last12) / pref_pop * 1e5
    assert 250 <= acc_rate <= 350
    inj = _annual(data["traffic"], PREF, "injuries", last12) / _annual(data["traffic"], PREF, "accidents", last12)
    assert 1.1 <= inj <= 1.3
    deaths = [r["value"] for r in data["traffic"] if r["measure"] == "deaths" and r["value"] is not None]
    assert deaths.count(0.0) > len(deaths) / 4

    disp = _series(data["emergency"], PREF, "dispatches")
    assert 5000 <= disp["2025"] / pref_pop * 1e5 <= 6500 and disp["2025"] > disp["2016"]
    trans = _series(data["emergency"], PREF, "transported")
    assert 0.85 <= trans["2025"] / disp["2025"] <= 0.91

    air = data["air"]
    pm = sorted(r["value"] for r in air if r["measure"] == "pm25_daily_mean" and r["value"] is not None)
    no2 = sorted(r["value"] for r in air if r["measure"] == "no2_daily_mean" and r["value"] is not None)
    assert 5 <= pm[len(pm) // 2] <= 30 and sum(5 <= v <= 30 for v in pm) >= 0.9 * len(pm)
    assert 0.005 <= no2[len(no2) // 2] <= 0.035 and sum(0.005 <= v <= 0.035 for v in no2) >= 0.95 * len(no2)
    winter_pm = [r["value"] for r in air if r["measure"] == "pm25_daily_mean" and r["value"] is not None
                 and r["period"][5:7] in ("02", "03", "04")]
    autumn_pm = [r["value"] for r in air if r["measure"] == "pm25_daily_mean" and r["value"] is not None
                 and r["period"][5:7] in ("08", "09", "10")]
    assert sum(winter_pm) / len(winter_pm) > sum(autumn_pm) / len(autumn_pm)
    annual = collections.defaultdict(list)
    for r in air:
        if r["measure"] == "pm25_annual_mean" and r["value"] is not None:
            annual[r["period"]].append(r["value"])
    first, last = (sum(annual[p]) / len(annual[p]) for p in ("2016", "2025"))
    assert 13 <= first <= 17 and 7.5 <= last <= 10.5


def test_other_as_of_windows(areas: AreaTable) -> None:
    rows = generate_indicator("economy", areas, dt.date(2024, 1, 1))
    periods = sorted({r["period"] for r in rows})
    assert len(periods) == 36 and periods[0] == "2021-01" and periods[-1] == "2023-12"
    rows = generate_indicator("emergency", areas, dt.date(2024, 3, 1))
    assert sorted({r["period"] for r in rows}) == [str(y) for y in range(2014, 2024)]
