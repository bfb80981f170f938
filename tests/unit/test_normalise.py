"""Tests for data_sources.normalise: source rows → canonical records + reject report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from data_sources.normalise import (
    ValueProblem,
    level_of,
    normalise_rows,
    to_bool,
    to_date,
    to_time,
    to_weekdays,
)
from registry import Deployment, load_deployment
from services.areas import AreaTable

ROOT = Path(__file__).resolve().parents[2]
JST = dt.timezone(dt.timedelta(hours=9))
TOYONAKA = "272035"


@pytest.fixture(scope="module")
def deployment() -> Deployment:
    return load_deployment(ROOT / "config" / "osaka.toml")


@pytest.fixture(scope="module")
def areas(deployment: Deployment) -> AreaTable:
    return AreaTable.from_csv(deployment.area_table)


def toilet(**columns: str) -> dict[str, str]:
    """A toilets source row (column names as in the open-data standard), overridable."""
    row = {
        "ID": "T1", "名称": "テスト公衆トイレ", "名称_カナ": "テストコウシュウトイレ",
        "所在地_連結表記": "大阪府豊中市中桜塚3丁目1-1", "設置位置": "公園内",
        "緯度": "34.7813", "経度": "135.4695", "全国地方公共団体コード": TOYONAKA,
        "車椅子使用者用トイレ有無": "有", "乳幼児用設備設置トイレ有無": "無", "オストメイト設置トイレ有無": "",
        "利用開始時間": "9:00", "利用終了時間": "17:00", "利用可能時間特記事項": "", "備考": "",
    }
    row.update(columns)
    return row


def run(deployment, areas, layer_id, rows, **kwargs):
    return normalise_rows(rows, deployment.layer(layer_id), areas, deployment.bbox, **kwargs)


# --------------------------------------------------------------------------- yes/no


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("有", True), ("無", False), ("○", True), ("〇", True), ("×", False), ("1", True), ("0", False),
     ("", None), ("あり", True), ("なし", False), ("有り", True), ("無し", False),
     ("１", True), ("０", False), ("ＹＥＳ", True), ("Ｎｏ", False), (" 有 ", True)],
)
def test_yes_no_forms(deployment, areas, raw: str, expected: bool | None) -> None:
    records, report = run(deployment, areas, "toilets", [toilet(**{"車椅子使用者用トイレ有無": raw})])
    assert len(records) == 1
    assert records[0]["wheelchair"] is expected
    assert report.total_rejected == 0 and not report.repaired
    assert to_bool(raw) is expected


def test_unreadable_yes_no_keeps_the_row_as_unknown(deployment, areas) -> None:
    records, report = run(deployment, areas, "toilets", [toilet(**{"車椅子使用者用トイレ有無": "たぶん"})])
    assert len(records) == 1 and records[0]["wheelchair"] is None
    assert records[0]["as_written"] == {"wheelchair": "たぶん"}  # the details panel shows what the file says
    assert report.kept == {"wheelchair kept as written": 1} and not report.repaired
    assert "たぶん" in report.examples["wheelchair kept as written"][0]
    with pytest.raises(ValueProblem):
        to_bool("たぶん")


# --------------------------------------------------------------------------- coordinates


def test_full_width_coordinates(deployment, areas) -> None:
    records, report = run(deployment, areas, "toilets", [toilet(緯度="３４．７８１３", 経度="１３５．４６９５")])
    assert (records[0]["lat"], records[0]["lon"]) == (34.7813, 135.4695)
    assert report.total_rejected == 0


def test_bad_coordinates_rejected_and_counted(deployment, areas) -> None:
    rows = [
        toilet(ID="ok"),
        toilet(ID="blank-lat", 緯度=""),
        toilet(ID="blank-lon", 経度="  "),
        toilet(ID="zero", 緯度="0", 経度="0"),
        toilet(ID="zero-lon", 経度="0.0"),
        toilet(ID="text", 緯度="北緯34度"),
        toilet(ID="nan", 経度="nan"),
        toilet(ID="tokyo", 緯度="35.6812", 経度="139.7671"),
    ]
    records, report = run(deployment, areas, "toilets", rows)
    assert [r["id"] for r in records] == ["ok"]
    assert dict(report.rejected) == {
        "missing coordinates": 2,
        "zero coordinates": 2,
        "unreadable coordinates": 2,
        "coordinates outside the area": 1,
    }
    assert report.total_rejected == 7
    # Examples say where: the row number (header is row 1) and the id.
    assert report.examples["coordinates outside the area"] == ["row 9 (id tokyo)"]
    assert report.examples["missing coordinates"] == ["row 3 (id blank-lat)", "row 4 (id blank-lon)"]


def test_swapped_coordinates_repaired(deployment, areas) -> None:
    records, report = run(deployment, areas, "toilets", [toilet(緯度="135.4695", 経度="34.7813")])
    assert (records[0]["lat"], records[0]["lon"]) == (34.7813, 135.4695)
    assert report.repaired == {"latitude and longitude swapped": 1}
    assert report.total_rejected == 0


def test_layer_bbox_widens_the_deployment_box(deployment, areas) -> None:
    """Events share Osaka, Nara and Tottori: a Tottori point is kept there, rejected elsewhere."""
    tottori = {"緯度": "35.5011", "経度": "134.2351"}
    event = {"ID": "E1", "イベント名": "砂丘まつり", "都道府県コード又は市区町村コード": "312011", **tottori}
    records, report = run(deployment, areas, "events", [event])
    assert len(records) == 1 and report.total_rejected == 0
    assert records[0]["area_code"] == "312011" and records[0]["area_name"] is None
    records, report = run(deployment, areas, "toilets", [toilet(**tottori)])
    assert records == [] and report.rejected == {"coordinates outside the area": 1}


# --------------------------------------------------------------------------- area codes


@pytest.mark.parametrize("raw", ["272035", "27203", "２７２０３", "２７２０３５", "27203.0", " 27203 "])
def test_area_code_forms_resolve_to_six_digits(deployment, areas, raw: str) -> None:
    records, report = run(deployment, areas, "toilets", [toilet(全国地方公共団体コード=raw)])
    assert records[0]["area_code"] == TOYONAKA
    assert records[0]["area_name"] == "豊中市"
    assert not report.repaired


def test_ward_code_names_the_ward(deployment, areas) -> None:
    records, _ = run(deployment, areas, "toilets", [toilet(全国地方公共団体コード="27127", 緯度="34.705", 経度="135.50")])
    assert records[0]["area_code"] == "271276" and records[0]["area_name"] == "北区"


def test_area_code_with_dropped_leading_zero(deployment, areas) -> None:
    """A spreadsheet drops the zero of 01100 → 1100: still read as 011002 (not an Osaka area)."""
    records, report = run(deployment, areas, "toilets", [toilet(全国地方公共団体コード="1100")])
    assert records[0]["area_code"] == "011002"
    assert records[0]["area_name"] is None
    assert not report.repaired


def test_older_column_name_is_an_alias(deployment, areas) -> None:
    row = toilet()
    row["都道府県コード又は市区町村コード"] = row.pop("全国地方公共団体コード")
    records, _ = run(deployment, areas, "toilets", [row])
    assert records[0]["area_code"] == TOYONAKA


@pytest.mark.parametrize("raw", ["99999", "272030", "豊中", ""])
def test_unknown_area_code_kept_without_area(deployment, areas, raw: str) -> None:
    records, report = run(deployment, areas, "toilets", [toilet(全国地方公共団体コード=raw)])
    assert len(records) == 1
    assert records[0]["area_code"] is None and "area_name" not in records[0]
    assert report.repaired == {"unknown area code": 1}


# --------------------------------------------------------------------------- ids and names


def test_duplicate_id_keeps_the_first(deployment, areas) -> None:
    rows = [toilet(ID="T1", 名称="最初"), toilet(ID="T2"), toilet(ID="T1", 名称="二番目")]
    records, report = run(deployment, areas, "toilets", rows)
    assert [(r["id"], r["name"]) for r in records] == [("T1", "最初"), ("T2", "テスト公衆トイレ")]
    assert report.rejected == {"duplicate id": 1}
    assert report.examples["duplicate id"] == ["row 4 (id T1)"]


def test_missing_name_rejected(deployment, areas) -> None:
    rows = [toilet(ID="T1", 名称=""), toilet(ID="T2", 名称="   "), toilet(ID="", 名称="")]
    records, report = run(deployment, areas, "toilets", rows)
    assert records == []
    assert report.rejected == {"missing name": 2, "missing id": 1}  # no name, no id to make one from


def test_a_row_without_id_is_kept_with_a_stable_id_of_its_own(deployment, areas) -> None:
    """堺市 and 東大阪市 publish their toilets with the ID column empty: every row is kept,
    each with an id made from what it is and where, the same whatever the row order."""
    rows = [toilet(ID="", 名称="宿院公衆便所", 緯度="34.57511"), toilet(ID="", 名称="堺駅南口公衆便所", 緯度="34.5801"),
            toilet(ID="", 名称="宿院公衆便所", 緯度="34.57511", 設置位置="2階")]
    records, report = run(deployment, areas, "toilets", rows)
    again, _ = run(deployment, areas, "toilets", list(reversed(rows)))
    assert len({r["id"] for r in records}) == 3
    assert {r["id"]: r["name"] for r in records} == {r["id"]: r["name"] for r in again}
    assert report.rejected == {}
    assert report.derived == {"id made from the name and position (the source gives none)": 3}


def test_at_most_five_examples_per_reason(deployment, areas) -> None:
    rows = [toilet(ID=f"T{i}", 名称="") for i in range(8)] + [toilet(ID="good")]
    records, report = run(deployment, areas, "toilets", rows)
    assert [r["id"] for r in records] == ["good"]
    assert report.rejected["missing name"] == 8
    assert report.examples["missing name"] == [f"row {i + 2}" for i in range(5)]
    assert report.as_dict()["rejected"] == {"missing name": 8}


def test_times_and_text_fields(deployment, areas) -> None:
    records, report = run(deployment, areas, "toilets", [toilet(利用開始時間="９：００", 利用終了時間="25:00")])
    record = records[0]
    assert record["open_time"] == "09:00"
    assert record["close_time"] is None and record["as_written"] == {"close_time": "25:00"}
    assert report.kept == {"close_time kept as written": 1} and not report.repaired
    assert record["hours_note"] is None and record["location_detail"] == "公園内"


# --------------------------------------------------------------------------- nursery months


def nursery(month: str, ages: list[str], **columns: str) -> dict[str, str]:
    row = {"ID": "N1", "名称": "さくら保育園", "種別": "認可保育所", "緯度": "34.7813", "経度": "135.4695",
           "全国地方公共団体コード": TOYONAKA, "収容定員": "90", "年月": month}
    row.update({f"{age}歳児": value for age, value in enumerate(ages)})
    row.update(columns)
    return row


def test_nursery_months_merged_per_facility(deployment, areas) -> None:
    rows = [
        nursery("2026-10", ["0", "1", "", "2", "0", "0"]),
        nursery("2026-11", ["３", "0", "", "", "1", "0"]),
        nursery("2026-11", ["1", "1", "1", "1", "1", "1"], ID="N2", 名称="ひまわり保育園"),
    ]
    records, report = run(deployment, areas, "nursery-vacancies", rows)
    assert report.total_rejected == 0
    by_id = {r["id"]: r for r in records}
    assert set(by_id) == {"N1", "N2"}
    assert by_id["N1"]["vacancies"] == {
        "2026-10": [0, 1, None, 2, 0, 0],
        "2026-11": [3, 0, None, None, 1, 0],
    }
    assert by_id["N1"]["capacity"] == 90
    assert by_id["N2"]["vacancies"] == {"2026-11": [1, 1, 1, 1, 1, 1]}


def test_nursery_month_with_day_is_cut_to_the_month(deployment, areas) -> None:
    records, _ = run(deployment, areas, "nursery-vacancies", [nursery("2026-11-01", ["1"] * 6)])
    assert list(records[0]["vacancies"]) == ["2026-11"]


# --------------------------------------------------------------------------- air quality


def station(**columns: str) -> dict[str, str]:
    row = {"局番号": "27203010", "測定局名": "豊中一般局", "測定局種別": "一般局", "緯度": "34.7813",
           "経度": "135.4695", "全国地方公共団体コード": TOYONAKA}
    row.update(columns)
    return row


def reading(when: str, station_id: str = "27203010", **values: str) -> dict[str, str]:
    row = {"局番号": station_id, "日時": when, "PM2.5": "", "NO2": "", "Ox": "", "SPM": "", "SO2": ""}
    row.update({k.replace("_", "."): v for k, v in values.items()})
    return row


NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=JST)


def test_latest_reading_per_pollutant_with_level(deployment, areas) -> None:
    readings = [
        reading("2026-11-25T11:00+09:00", NO2="0.06", PM2_5=""),  # blank PM2.5: keep the earlier value
        reading("2026-11-25T10:00+09:00", PM2_5="20", NO2="0.01", SPM="0.1"),
        reading("2026-11-25T09:00+09:00", PM2_5="5", Ox="0.3"),
        reading("2026-11-25T13:00+09:00", PM2_5="90", NO2="0.2"),  # after `now`: not measured yet
        reading("2026-11-25T11:00+09:00", station_id="other", PM2_5="80"),
    ]
    records, report = run(deployment, areas, "air-quality", [station()], readings=readings, now=NOW)
    got = records[0]["readings"]
    assert set(got) == {"PM2.5", "NO2", "Ox", "SPM"}  # no SO2 value at all
    assert got["PM2.5"] == {"value": 20.0, "time": "2026-11-25T10:00+09:00", "unit": "µg/m³", "level": 2}
    assert got["NO2"]["value"] == 0.06 and got["NO2"]["level"] == 2  # exactly on a threshold
    assert got["SPM"]["level"] == 1
    assert got["Ox"] == {"value": 0.3, "time": "2026-11-25T09:00+09:00", "unit": "ppm", "level": 4}
    assert report.total_rejected == 0


def test_latest_reading_compares_times_not_strings(deployment, areas) -> None:
    """02:30 UTC is 11:30 in Osaka: later than 11:00+09:00 though it sorts earlier as text."""
    readings = [
        reading("2026-11-25T11:00+09:00", PM2_5="10"),
        reading("2026-11-25T02:30:00+00:00", PM2_5="40"),
    ]
    records, _ = run(deployment, areas, "air-quality", [station()], readings=readings, now=NOW)
    assert records[0]["readings"]["PM2.5"]["value"] == 40.0
    assert records[0]["readings"]["PM2.5"]["level"] == 3


def test_unreadable_readings_reported(deployment, areas) -> None:
    readings = [
        reading("2026-11-25T10:00+09:00", PM2_5="欠測"),
        reading("2026-11-25 10:00", PM2_5="30"),  # no time zone: cannot be placed
        reading("yesterday", PM2_5="30"),
    ]
    records, report = run(deployment, areas, "air-quality", [station()], readings=readings, now=NOW)
    assert records[0]["readings"] == {}
    assert report.rejected == {"unreadable reading time": 2}
    assert report.repaired == {"unreadable PM2.5 reading": 1}


def test_station_without_readings_has_none(deployment, areas) -> None:
    records, _ = run(deployment, areas, "air-quality", [station()], readings=[], now=NOW)
    assert records[0]["readings"] == {}


# --------------------------------------------------------------------------- value parsers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("9:00", "09:00"), ("09:00", "09:00"), ("09:00:00", "09:00"), ("０９：３０", "09:30"), ("24:00", "24:00"),
     ("0:00", "00:00"), ("", None), ("  ", None)],
)
def test_to_time(raw: str, expected: str | None) -> None:
    assert to_time(raw) == expected


@pytest.mark.parametrize("raw", ["25:00", "12:60", "noon", "9時60分", "12:5", "-1:00", "24:30", "2500", "午後13時"])
def test_to_time_rejects(raw: str) -> None:
    with pytest.raises(ValueProblem):
        to_time(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2026-11-25", "2026-11-25"), ("2026/1/5", "2026-01-05"), ("２０２６／１２／０１", "2026-12-01"),
     ("2028-02-29", "2028-02-29"), ("", None)],
)
def test_to_date(raw: str, expected: str | None) -> None:
    assert to_date(raw) == expected


@pytest.mark.parametrize("raw", ["2026-02-30", "2026-13-01", "tomorrow", "2026/11"])
def test_to_date_rejects(raw: str) -> None:
    with pytest.raises(ValueProblem):
        to_date(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("月火水木金", [0, 1, 2, 3, 4]), ("毎日", [0, 1, 2, 3, 4, 5, 6]), ("土日祝", [5, 6, 7]),
     ("月・水・金", [0, 2, 4]), ("日月", [0, 6]), ("年中無休", list(range(7))), ("", None),
     ("月～金", [0, 1, 2, 3, 4]), ("月-土", [0, 1, 2, 3, 4, 5]), ("平日", [0, 1, 2, 3, 4]),
     ("月曜～金曜・祝", [0, 1, 2, 3, 4, 7])],
)
def test_to_weekdays(raw: str, expected: list[int] | None) -> None:
    assert to_weekdays(raw) == expected


def test_to_weekdays_rejects_text_without_days() -> None:
    with pytest.raises(ValueProblem):
        to_weekdays("要予約")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1), (15, 1), (15.0001, 2), (35, 2), (35.1, 3), (70, 3), (70.0001, 4), (1000, 4)],
)
def test_level_of_pm25(value: float, expected: int) -> None:
    assert level_of(value, (15.0, 35.0, 70.0)) == expected


def test_level_of_uses_the_configured_thresholds(deployment) -> None:
    pollutants = {p.id: p for p in deployment.layer("air-quality").readings.pollutants}
    assert level_of(0.04, pollutants["NO2"].thresholds) == 1
    assert level_of(0.0401, pollutants["NO2"].thresholds) == 2
    assert level_of(0.24, pollutants["Ox"].thresholds) == 3
    assert level_of(0.2401, pollutants["Ox"].thresholds) == 4


# --------------------------------------------------------------------------- header variants

def _toilet_layer(columns: dict | None = None):
    import dataclasses

    from registry import load_deployment

    layer = load_deployment("config/osaka.toml").layer("toilets")
    return dataclasses.replace(layer, source=dataclasses.replace(layer.source, columns=columns or {}))


def test_english_headers_and_header_spelling_variants_are_read():
    from services.areas import default_table

    rows = [{"ID": "E1", "Name": "Central Park Toilet", "Address": "大阪府豊中市中桜塚3-1-1",
             "Latitude": "34.7817", "Longitude": "135.4697", "City Code": "27203"},
            {"ＩＤ": "E2", "名称 ": "駅前トイレ", "所在地_連結表記": "大阪府豊中市本町1", "緯度": "34.78",
             "経度": "135.47", "全国地方公共団体コード": "272035"}]
    records, report = normalise_rows(rows[:1], _toilet_layer(), default_table(), (135.09, 34.27, 135.75, 35.06))
    assert [(r["id"], r["name"], r["area_code"], r["lat"]) for r in records] == [
        ("E1", "Central Park Toilet", "272035", 34.7817)]
    records, report = normalise_rows(rows[1:], _toilet_layer(), default_table(), (135.09, 34.27, 135.75, 35.06))
    assert [(r["id"], r["name"]) for r in records] == [("E2", "駅前トイレ")]  # full-width ＩＤ, trailing space


def test_a_source_can_name_its_own_column_for_a_field():
    from services.areas import default_table

    rows = [{"ID": "S1", "施設名称": "市民会館トイレ", "名称": "（旧）", "緯度": "34.78", "経度": "135.47",
             "全国地方公共団体コード": "272035"}]
    records, _ = normalise_rows(rows, _toilet_layer({"name": "施設名称"}), default_table(),
                                (135.09, 34.27, 135.75, 35.06))
    assert records[0]["name"] == "市民会館トイレ"


def test_entities_with_different_attributes_are_all_mapped():
    from services.areas import default_table

    rows = [{"id": "urn:1", "名称": "A", "_lat": "34.78", "_lon": "135.47", "全国地方公共団体コード": "272035"},
            {"id": "urn:2", "名称": "B", "_lat": "34.79", "_lon": "135.48", "全国地方公共団体コード": "272035",
             "車椅子使用者用トイレ有無": "有"}]
    records, _ = normalise_rows(rows, _toilet_layer(), default_table(), (135.09, 34.27, 135.75, 35.06))
    assert [r["wheelchair"] for r in records] == [None, True]


# --------------------------------------------------------------------------- area by position


@pytest.fixture(scope="module")
def locator(areas):
    from services.boundaries import bundled_boundaries_path
    from services.locate import AreaLocator

    return AreaLocator.for_prefecture(areas, bundled_boundaries_path("27"))


def test_rows_without_an_area_code_get_it_from_their_position(deployment, areas, locator) -> None:
    """Any source may lack codes: the municipality or ward comes from the coordinates."""
    rows = [toilet(ID="T1", 全国地方公共団体コード="", 緯度="34.6873", 経度="135.5262"),   # 大阪城: 中央区
            toilet(ID="T2", 全国地方公共団体コード="", 緯度="34.7813", 経度="135.4695")]   # 豊中市役所
    records, report = normalise_rows(rows, deployment.layer("toilets"), areas, deployment.bbox, locate=locator)
    assert [(r["id"], r["area_code"]) for r in records] == [("T1", "271284"), ("T2", "272035")]
    assert report.derived["area from the position (the source gives none)"] == 2


def test_a_city_named_without_its_ward_gets_the_ward_of_its_address_or_position(deployment, areas, locator) -> None:
    rows = [toilet(ID="T1", 全国地方公共団体コード="271004", 所在地_連結表記="大阪市住之江区南港北1丁目", 緯度="34.6873", 経度="135.5262"),
            toilet(ID="T2", 全国地方公共団体コード="大阪市", 所在地_連結表記="", 緯度="34.6873", 経度="135.5262"),
            toilet(ID="T3", 全国地方公共団体コード="豊中市", 緯度="34.6873", 経度="135.5262")]
    records, report = normalise_rows(rows, deployment.layer("toilets"), areas, deployment.bbox, locate=locator)
    codes = {r["id"]: r["area_code"] for r in records}
    assert codes == {"T1": "271250", "T2": "271284", "T3": "272035"}  # 住之江区 by address, 中央区 by position, 豊中市 as named
    assert report.repaired["the address names another ward than the position (the address's taken)"] == 1
    assert report.derived["ward from the position (the source names only the city)"] == 1
    assert report.repaired["position lies in another municipality than the one named"] == 1
    assert "大阪市中央区" in report.examples["position lies in another municipality than the one named"][0]


# --------------------------------------------------------------------------- values kept as written (issue 9)
# What a municipality's file really holds in a typed column: what can be read is read (和暦, 月日 with
# the year from the row or the data's date, hhmm, a number with a note, a negated day list); what
# cannot is kept as written in record["as_written"] (the typed field stays None, for filters and
# sorting) and counted in the report's `kept` bucket; a mark for "unknown" is None, never 0 or False.

AS_OF = dt.date(2026, 7, 20)


def event(**columns: str) -> dict[str, str]:
    row = {"ID": "EV1", "イベント名": "天神祭ギャラリー展", "都道府県名": "大阪府", "開始日": "2026-08-05",
           "終了日": "2026-08-16", "開始時間": "10:00", "終了時間": "17:00", "場所名称": "市民ギャラリー",
           "住所": "大阪府豊中市中桜塚3丁目1-1", "緯度": "34.7813", "経度": "135.4695", "全国地方公共団体コード": TOYONAKA}
    row.update(columns)
    return row


def hospital(**columns: str) -> dict[str, str]:
    row = {"ID": "M1", "名称": "とよなか中央病院", "医療機関の種類": "病院", "住所": "大阪府豊中市中桜塚3丁目1-1",
           "緯度": "34.7813", "経度": "135.4695", "全国地方公共団体コード": TOYONAKA, "診療科目": "内科;外科",
           "診療曜日": "月火水木金", "診療開始時間": "9:00", "診療終了時間": "17:00", "病床数": "120"}
    row.update(columns)
    return row


def aed(**columns: str) -> dict[str, str]:
    row = {"ID": "A1", "名称": "豊中市役所", "住所": "大阪府豊中市中桜塚3丁目1-1", "設置位置": "1階ロビー",
           "緯度": "34.7813", "経度": "135.4695", "全国地方公共団体コード": TOYONAKA, "利用可能曜日": "月火水木金",
           "開始時間": "9:00", "終了時間": "17:00", "小児対応設備の有無": "有"}
    row.update(columns)
    return row


def test_a_free_text_event_period_is_read_with_the_year_of_the_data_date(deployment, areas) -> None:
    records, report = run(deployment, areas, "events", [event(開始日="8月5日（水）～8月16日（日）", 終了日="")],
                          as_of=AS_OF)
    (record,) = records
    assert (record["start_date"], record["end_date"]) == ("2026-08-05", "2026-08-16")
    assert report.repaired["start and end date in one field"] == 1
    assert report.derived["year of a date written without one (the nearest year to the data's date)"] == 1
    assert "8月5日（水）～8月16日（日）" in report.examples["start and end date in one field"][0]
    assert report.total_rejected == 0


def test_an_end_date_without_a_year_takes_the_start_dates(deployment, areas) -> None:
    records, report = run(deployment, areas, "events", [event(開始日="令和8年12月28日", 終了日="1月5日")],
                          as_of=AS_OF)
    assert (records[0]["start_date"], records[0]["end_date"]) == ("2026-12-28", "2027-01-05")  # across new year
    assert report.derived["year of a date written without one (from the row's other date)"] == 1


def test_the_weekday_picks_the_year_of_a_date_written_without_one() -> None:
    from data_sources.normalise import resolve_year

    # 2027-01-10 is a Sunday, 2026-01-10 a Saturday: the weekday decides, not the distance alone
    assert resolve_year(1, 10, 6, dt.date(2026, 7, 20)) == 2027
    assert resolve_year(1, 10, 5, dt.date(2026, 7, 20)) == 2026
    assert resolve_year(1, 10, None, dt.date(2026, 11, 25)) == 2027  # the nearest: 46 days ahead, not 319 back
    assert resolve_year(8, 5, None, dt.date(2026, 11, 25)) == 2026
    assert resolve_year(8, 5, 0, dt.date(2026, 11, 25)) is None  # no nearby 5 August is a Monday


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("令和8年8月5日", "2026-08-05"), ("令和元年5月1日", "2019-05-01"), ("平成31年4月30日", "2019-04-30"),
     ("昭和64年1月7日", "1989-01-07"), ("R8.8.5", "2026-08-05"), ("2026年8月5日（水）", "2026-08-05"),
     ("２０２６年８月５日", "2026-08-05"), ("2026.8.5", "2026-08-05"), ("令和８年８月５日(水)", "2026-08-05")],
)
def test_japanese_dates(raw: str, expected: str) -> None:
    assert to_date(raw) == expected


@pytest.mark.parametrize("raw", ["令和8年2月30日", "8月上旬", "随時", "2026年8月", "平成32年1月1日"])
def test_dates_that_are_not_one_day_are_refused(raw: str) -> None:
    with pytest.raises(ValueProblem):
        to_date(raw)


def test_an_unreadable_event_date_is_kept_as_written_and_the_row_kept(deployment, areas) -> None:
    records, report = run(deployment, areas, "events", [event(開始日="8月上旬", 終了日="")], as_of=AS_OF)
    (record,) = records
    assert record["start_date"] is None and record["as_written"] == {"start_date": "8月上旬"}
    assert report.kept == {"start_date kept as written": 1}
    assert "8月上旬" in report.examples["start_date kept as written"][0]


def test_a_date_whose_weekday_disagrees_is_read_and_its_text_kept(deployment, areas) -> None:
    records, report = run(deployment, areas, "events", [event(開始日="2026年8月5日（木）")], as_of=AS_OF)
    assert records[0]["start_date"] == "2026-08-05"  # a Wednesday: the date is taken, the text shown too
    assert records[0]["as_written"] == {"start_date": "2026年8月5日（木）"}
    assert report.kept == {"date and weekday disagree (the date read, the text kept)": 1}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1700", "17:00"), ("0930", "09:30"), ("930", "09:30"), ("9時", "09:00"), ("9時30分", "09:30"),
     ("17時半", "17:30"), ("午後5時", "17:00"), ("午前9時30分", "09:30"), ("１７：００", "17:00"), ("2400", "24:00")],
)
def test_times_in_hhmm_and_japanese(raw: str, expected: str) -> None:
    assert to_time(raw) == expected


def test_hhmm_times_in_a_row(deployment, areas) -> None:
    records, report = run(deployment, areas, "aed", [aed(開始時間="0930", 終了時間="1700")])
    assert (records[0]["open_time"], records[0]["close_time"]) == ("09:30", "17:00")
    assert not report.repaired and not report.kept and "as_written" not in records[0]


def test_a_time_range_in_japanese_is_read(deployment, areas) -> None:
    records, report = run(deployment, areas, "aed", [aed(開始時間="9時～17時30分", 終了時間="")])
    assert (records[0]["open_time"], records[0]["close_time"]) == ("09:00", "17:30")
    assert report.repaired == {"opening and closing time in one field": 1}


def test_a_time_range_that_cannot_be_read_keeps_the_row(deployment, areas) -> None:
    """It used to reject the whole row ("not a time hh:mm: '25:00'")."""
    records, report = run(deployment, areas, "aed", [aed(開始時間="9:00～25:00", 終了時間="")])
    (record,) = records
    assert record["open_time"] is None and record["as_written"] == {"open_time": "9:00～25:00"}
    assert report.total_rejected == 0 and report.kept == {"open_time kept as written": 1}


def test_a_number_with_a_note_is_read_and_the_note_kept(deployment, areas) -> None:
    records, report = run(deployment, areas, "medical", [hospital(病床数="19（休床中）")])
    assert records[0]["beds"] == 19 and records[0]["as_written"] == {"beds": "19（休床中）"}
    assert report.kept == {"a number with a note (the number read, the note kept)": 1}
    records, report = run(deployment, areas, "medical", [hospital(病床数="120床")])
    assert records[0]["beds"] == 120 and "as_written" not in records[0] and not report.kept


def test_a_capacity_by_certificate_is_kept_as_written(deployment, areas) -> None:
    row = nursery("2026-11", ["0"] * 6, 収容定員="1号認定 30、2・3号認定 144")
    records, report = run(deployment, areas, "nursery-vacancies", [row])
    (record,) = records
    assert record["capacity"] is None  # not 1, not 30: the file gives two figures, not one
    assert record["as_written"] == {"capacity": "1号認定 30、2・3号認定 144"}
    assert report.kept == {"capacity kept as written": 1}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("土日祝以外", [0, 1, 2, 3, 4]), ("日曜・祝日を除く", [0, 1, 2, 3, 4, 5]), ("土日祝日を除く毎日", [0, 1, 2, 3, 4]),
     ("月～金（祝日除く）", [0, 1, 2, 3, 4]), ("水曜定休", [0, 1, 3, 4, 5, 6]), ("定休日：日・祝", [0, 1, 2, 3, 4, 5]),
     ("平日以外", [5, 6]), ("土曜のみ", [5]), ("日曜・祝日休み", [0, 1, 2, 3, 4, 5]),
     ("火～日（祝日の翌日を除く）", [1, 2, 3, 4, 5, 6, 7])],  # not Sunday: 翌日's 日 is no day; the note is kept
)
def test_negated_day_lists(raw: str, expected: list[int]) -> None:
    assert to_weekdays(raw) == expected


def test_a_negated_day_list_in_a_row(deployment, areas) -> None:
    records, report = run(deployment, areas, "medical", [hospital(診療曜日="土日祝以外")])
    assert records[0]["days"] == [0, 1, 2, 3, 4] and "as_written" not in records[0]
    records, report = run(deployment, areas, "aed", [aed(利用可能曜日="第2・第4土曜日")])
    assert records[0]["days"] == [5] and records[0]["as_written"] == {"days": "第2・第4土曜日"}  # not every Saturday
    assert report.kept == {"days with a note (the days read, the note kept)": 1}


@pytest.mark.parametrize("mark", ["△", "−", "―", "ー", "-", "－", "不明", "未定"])
def test_a_mark_for_unknown_is_none_never_false_or_zero(deployment, areas, mark: str) -> None:
    records, report = run(deployment, areas, "toilets", [toilet(**{"車椅子使用者用トイレ有無": mark, "男性トイレ総数": mark})])
    (record,) = records
    assert record["wheelchair"] is None and record["male_toilets"] is None
    assert report.repaired == {"placeholder read as blank": 2} and "as_written" not in record
    records, _ = run(deployment, areas, "medical", [hospital(病床数=mark, 診療曜日=mark, 診療開始時間=mark)])
    assert (records[0]["beds"], records[0]["days"], records[0]["open_time"]) == (None, None, None)


def test_a_kept_value_does_not_change_the_sample_records(deployment, areas) -> None:
    """A row whose values all read keeps the record exactly as before: no `as_written` member."""
    records, report = run(deployment, areas, "toilets", [toilet()])
    assert "as_written" not in records[0] and not report.kept


# --------------------------------------------------------------------------- a layer of all Japan (scope "japan")


def _national_evacuation(deployment):
    import dataclasses

    from registry import japan_bbox

    return dataclasses.replace(deployment.layer("evacuation-sites"), scope="japan", bbox=japan_bbox())


def gsi_row(**columns: str) -> dict[str, str]:
    row = {"ID": "E1", "名称": "もみじ台中学校", "種別": "指定緊急避難場所", "住所": "北海道札幌市厚別区もみじ台西1-1-1",
           "都道府県名及び市町村名": "北海道札幌市", "_lat": "43.03806", "_lon": "141.48471"}
    row.update(columns)
    return row


def test_a_layer_of_all_japan_keeps_the_places_of_other_prefectures_in_their_municipality(deployment, areas, locator) -> None:
    rows = [gsi_row(),                                                                  # 札幌市: the ward of its address
            gsi_row(ID="E2", 住所="東京都千代田区永田町1-7-1", 都道府県名及び市町村名="東京都千代田区",
                    _lat="35.6759", _lon="139.7448"),
            gsi_row(ID="E3", 住所="那覇市泉崎1-2-2", 都道府県名及び市町村名="沖縄県那覇市", _lat="26.2124", _lon="127.6809"),
            gsi_row(ID="E4", 住所="大阪府大阪市北区中之島1-3-20", 都道府県名及び市町村名="大阪府大阪市",
                    _lat="34.6937", _lon="135.5019")]                                     # Osaka's own: placed as before
    records, report = normalise_rows(rows, _national_evacuation(deployment), areas, deployment.bbox, locate=locator)
    placed = {r["id"]: (r["area_code"], r["area_name"]) for r in records}
    assert placed == {"E1": ("011088", "北海道札幌市厚別区"), "E2": ("131016", "東京都千代田区"),
                      "E3": ("472018", "沖縄県那覇市"), "E4": ("271276", "北区")}
    assert report.rejected == {} and "unknown area code" not in report.repaired
    assert report.derived["area in another prefecture (a layer of all Japan)"] == 3
    assert "北海道札幌市 → 北海道札幌市厚別区" in report.examples["area in another prefecture (a layer of all Japan)"][0]


def test_a_layer_of_the_prefecture_still_refuses_places_elsewhere(deployment, areas, locator) -> None:
    records, report = normalise_rows([gsi_row()], deployment.layer("evacuation-sites"), areas, deployment.bbox,
                                     locate=locator)
    assert records == [] and report.rejected == {"coordinates outside the area": 1}


def test_a_layer_of_all_japan_leaves_a_name_it_cannot_place_without_area(deployment, areas, locator) -> None:
    row = gsi_row(都道府県名及び市町村名="府中市", 住所="府中市宮西町2-24")  # two 府中市 (東京都, 広島県): not guessed
    records, report = normalise_rows([row], _national_evacuation(deployment), areas, deployment.bbox, locate=locator)
    assert records[0]["area_code"] is None and report.repaired == {"unknown area code": 1}


def test_an_address_gets_its_municipality_only_when_it_names_none(deployment, areas, locator) -> None:
    """堺市's 「堺区宿院町東…」 reads on its own as 「堺市堺区宿院町東…」; an address that already
    begins with the prefecture or a municipality keeps its text, even where the position is in
    another municipality (GSI's sites near a boundary: 「泉大津市大阪府和泉市…」 before)."""
    rows = [toilet(ID="T1", 全国地方公共団体コード="271411", 所在地_連結表記="堺区宿院町東4丁1番", 緯度="34.5733", 経度="135.4829"),
            # 泉大津市役所's position, an address in 和泉市 written with the prefecture
            toilet(ID="T2", 全国地方公共団体コード="272060", 所在地_連結表記="大阪府和泉市府中町2丁目7番5号",
                   緯度="34.5047", 経度="135.4105"),
            toilet(ID="T3", 全国地方公共団体コード="272060", 所在地_連結表記="和泉市府中町2丁目7番5号",
                   緯度="34.5047", 経度="135.4105")]
    records, report = normalise_rows(rows, deployment.layer("toilets"), areas, deployment.bbox, locate=locator)
    addresses = {r["id"]: r["address"] for r in records}
    assert addresses == {"T1": "堺市堺区宿院町東4丁1番", "T2": "大阪府和泉市府中町2丁目7番5号", "T3": "和泉市府中町2丁目7番5号"}
    assert report.derived["municipality added to an address written without it"] == 1
