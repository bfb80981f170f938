"""The indicator importer (data_sources/indicator_table.py): statistics tables and incident
lists from live sources become the long-form records the dashboards read, with every
rejected or repaired row counted by reason."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from data_sources import SourceFormatError
from data_sources.indicator_table import normalise_indicator_rows, parse_period
from data_sources.normalise import ValueProblem
from registry import TableSpec, load_deployment
from services.areas import AreaTable

from tests.conftest import reference_file
from tests.fakes.servers import crime_row, population_row

ROOT = Path(__file__).resolve().parents[2]
LIVE = load_deployment(ROOT / "config" / "osaka-live.toml")
AREAS = AreaTable.from_csv(ROOT / "data" / "real" / "areas" / "27.csv")
PREF = "270008"
POPULATION = LIVE.indicator("population")
CRIME = LIVE.indicator("crime")


@pytest.mark.parametrize("raw, frequency, expected", [
    ("2026-10-01", "monthly", "2026-10"),
    ("2026/10/1", "monthly", "2026-10"),
    ("2026年10月1日", "monthly", "2026-10"),
    ("２０２６年１０月", "monthly", "2026-10"),
    ("令和8年10月1日", "monthly", "2026-10"),
    ("R8.10.1", "daily", "2026-10-01"),
    ("令和元年5月", "monthly", "2019-05"),
    ("平成31年4月1日", "yearly", "2019"),
    ("202610", "monthly", "2026-10"),
    ("20261001", "daily", "2026-10-01"),
    ("2026年度", "yearly", "2026"),
    ("2026", "yearly", "2026"),
    ("2026-10-01T09:00:00+09:00", "daily", "2026-10-01"),
])
def test_periods_in_the_forms_japanese_files_use(raw, frequency, expected) -> None:
    assert parse_period(raw, frequency) == expected


@pytest.mark.parametrize("raw, frequency", [
    ("", "monthly"), ("不明", "monthly"), ("2026-13-01", "monthly"), ("2026-02-30", "daily"),
    ("2026", "monthly"), ("2026-10", "daily"),
])
def test_what_is_not_a_period_is_refused(raw, frequency) -> None:
    with pytest.raises(ValueProblem):
        parse_period(raw, frequency)


def test_population_table_by_ward_adds_up_to_cities_and_the_prefecture() -> None:
    leaves = [a.code for a in AREAS.leaves]  # wards, and municipalities without wards
    rows = [population_row(code, date, 10_000 + i) for date in ("2026-09-01", "2026-10-01")
            for i, code in enumerate(leaves)]
    # one town by 町丁目: its rows of the same date add up
    rows = [r for r in rows if not (r["都道府県コード又は市区町村コード"] == "273813" and r["調査年月日"] == "2026-10-01")]
    rows += [population_row("273813", "2026-10-01", 500, 地域名="大字太井"),
             population_row("273813", "2026-10-01", 700, 地域名="大字平石")]
    records, report = normalise_indicator_rows(rows, POPULATION, POPULATION.source.table, AREAS, PREF)
    value = {(r["area_code"], r["period"], r["measure"], r["breakdown"]): r["value"] for r in records}

    osaka_wards = [w.code for w in AREAS.wards("271004")]
    expected_city = sum(float(r["総人口"].replace(",", "")) for r in rows
                        if r["調査年月日"] == "2026-10-01" and r["都道府県コード又は市区町村コード"] in osaka_wards)
    assert value[("271004", "2026-10", "total", "")] == expected_city
    town = [r for r in rows if r["都道府県コード又は市区町村コード"] == "273813" and r["調査年月日"] == "2026-10-01"]
    assert value[("273813", "2026-10", "total", "")] == sum(float(r["総人口"].replace(",", "")) for r in town)
    october = [r for r in rows if r["調査年月日"] == "2026-10-01"]
    assert value[(PREF, "2026-10", "total", "")] == sum(float(r["総人口"].replace(",", "")) for r in october)
    assert value[(PREF, "2026-10", "male", "85+")] == sum(float(r["85歳以上の男性"]) for r in october)
    assert value[("271021", "2026-09", "female", "0-4")] == float(rows[0]["0-4歳の女性"])
    assert not report.rejected
    assert report.derived["prefecture total computed from municipalities"] > 0


def test_broken_rows_are_counted_by_reason_and_the_rest_kept() -> None:
    rows = [population_row("27205", "2026-10-01", 1000),          # 吹田市, 5-digit code
            population_row("272051", "2026-09-01", 990),
            population_row("99999", "2026-10-01", 5),             # no such area
            population_row("", "2026-10-01", 5),                  # no area at all
            population_row("豊中市", "2026-10-01", 4000),           # a name instead of a code
            population_row("272060", "令和8年10月", 3000),           # 和暦
            population_row("272078", "不明", 3000),                 # no period
            population_row("272086", "2026-10-01", 3000, 総人口="約3千"),  # not a number
            population_row("272094", "2026-10-01", 3000, 世帯数="x"),     # not published
            population_row("272108", "2026-10-01", 3000, 世帯数="-")]     # none
    records, report = normalise_indicator_rows(rows, POPULATION, POPULATION.source.table, AREAS, PREF)
    value = {(r["area_code"], r["period"], r["measure"], r["breakdown"]): r["value"] for r in records}
    assert dict(report.rejected) == {"unknown or missing area code": 2, "bad or missing period": 1,
                                     "value is not a number": 1}
    assert report.repaired["area given by name"] == 1
    assert any("不明" in e for e in report.examples["bad or missing period"])
    assert value[("272051", "2026-10", "total", "")] == 1000
    assert value[("272035", "2026-10", "total", "")] == 4000  # 豊中市
    assert value[("272060", "2026-10", "total", "")] == 3000
    assert value[("272094", "2026-10", "households", "")] is None
    assert value[("272108", "2026-10", "households", "")] == 0
    assert ("272086", "2026-10", "total", "") not in value
    # a handful of municipalities is not the prefecture: no total is made up
    assert not any(area == PREF for (area, *_rest) in value)
    assert report.derived["prefecture total left out (a municipality has no value)"] > 0


def test_without_sum_a_second_row_of_the_same_area_and_period_is_a_duplicate() -> None:
    table = dataclasses.replace(POPULATION.source.table, sum=False, subarea=())
    rows = [population_row("272051", "2026-10-01", 1000), population_row("272051", "2026-10-01", 2000)]
    records, report = normalise_indicator_rows(rows, POPULATION, table, AREAS, PREF)
    assert report.rejected == {"duplicate area and period": 1}
    assert {r["value"] for r in records if r["measure"] == "total"} == {1000}


def test_missing_columns_are_named() -> None:
    rows = [{"市区町村コード": "272051", "調査年月日": "2026-10-01", "人口": "1"}]
    with pytest.raises(SourceFormatError, match="columns not found: .*total \\(総人口\\)"):
        normalise_indicator_rows(rows, POPULATION, POPULATION.source.table, AREAS, PREF)


def test_headers_in_another_width_still_match() -> None:
    row = {k.replace("0-4", "０－４") if k.startswith("0-4") else k: v for k, v in population_row("272051", "2026-10-01", 1000).items()}
    row[" 総人口 "] = row.pop("総人口")
    records, report = normalise_indicator_rows([row], POPULATION, POPULATION.source.table, AREAS, PREF)
    value = {(r["area_code"], r["measure"], r["breakdown"]): r["value"] for r in records}
    assert value[("272051", "total", "")] == 1000
    assert not report.rejected


CRIME_TABLE = TableSpec(area=("市区町村コード（発生地）",), period=("発生年月日（始期）",), count="street_crimes",
                        breakdown=("手口",))


def test_an_incident_list_is_counted_by_area_month_and_method() -> None:
    rows = ([crime_row("272051", "2026/08/03", "自転車盗")] * 3 + [crime_row("272051", "2026/08/20", "ひったくり")]
            + [crime_row("271276", "2026/10/01", "自転車盗")] * 2 + [crime_row("", "2026/10/01", "自転車盗")])
    records, report = normalise_indicator_rows(rows, CRIME, CRIME_TABLE, AREAS, PREF)
    value = {(r["area_code"], r["period"], r["breakdown"]): r["value"] for r in records}
    assert value[("272051", "2026-08", "")] == 4
    assert value[("272051", "2026-08", "自転車盗")] == 3
    assert value[("272051", "2026-08", "ひったくり")] == 1
    assert value[("271276", "2026-10", "自転車盗")] == 2      # 大阪市北区
    assert value[("271004", "2026-10", "")] == 2              # 大阪市, from its wards
    assert value[("272051", "2026-09", "")] == 0              # a month without incidents is 0
    assert value[("272035", "2026-08", "自転車盗")] == 0       # so is a municipality without any
    assert value[(PREF, "2026-08", "")] == 4 and value[(PREF, "2026-10", "")] == 2
    assert report.rejected == {"unknown or missing area code": 1}


def test_the_live_population_mapping_names_columns_of_the_standard_dataset() -> None:
    model = reference_file("ngsi-ld-standard-datasets/cio/11_地域・年齢別人口/datamodels.md").read_text(encoding="utf-8")
    table = POPULATION.source.table
    columns = list(table.values.values()) + [c for m in table.breakdowns.values() for c in m.values()]
    columns += [table.area[0], table.period[0]]
    assert len(columns) == 42
    for column in columns:
        assert f"`{column}`" in model, column


@pytest.mark.parametrize("raw, expected", [
    ("1234", 1234.0), (" 1,234 ", 1234.0), ("１，２３４", 1234.0), ("12.5", 12.5), (7, 7.0), ("", None),
    ("-", 0.0), ("－", 0.0), ("…", None), ("x", None), ("***", None),
])
def test_values_in_the_forms_statistics_tables_use(raw, expected) -> None:
    from data_sources.indicator_table import parse_value
    from data_sources.normalise import RejectReport

    assert parse_value(raw, RejectReport(), "row 2") == expected


@pytest.mark.parametrize("raw", ["nan", "inf", "約3千", "12人"])
def test_what_is_not_a_value_is_refused(raw) -> None:
    from data_sources.indicator_table import parse_value
    from data_sources.normalise import RejectReport

    with pytest.raises(ValueProblem):
        parse_value(raw, RejectReport(), "row 2")


def test_an_areas_own_total_row_beats_the_sum_of_its_parts() -> None:
    rows = [population_row("272051", "2026-10-01", 1000, 地域名="千里山東"),
            population_row("272051", "2026-10-01", 2000, 地域名="千里山西"),
            population_row("272051", "2026-10-01", 3100, 地域名="吹田市"),     # the city's own row
            population_row("272060", "2026-10-01", 400, 地域名="中央町"),
            population_row("272060", "2026-10-01", 600, 地域名="合計"),
            population_row("272078", "2026-10-01", 800, 地域名="栄町"),
            population_row("272078", "2026-10-01", 900, 地域名="旭町")]
    records, report = normalise_indicator_rows(rows, POPULATION, POPULATION.source.table, AREAS, PREF)
    value = {(r["area_code"], r["measure"], r["breakdown"]): r["value"] for r in records}
    assert value[("272051", "total", "")] == 3100  # not 6100
    assert value[("272060", "total", "")] == 600
    assert value[("272078", "total", "")] == 1700  # parts only: their sum
    assert report.derived["the area's total row used, not the sum of its parts"] > 0

