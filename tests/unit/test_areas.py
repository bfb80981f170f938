"""Tests for services.areas and data/real/areas/27.csv."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from services.areas import (
    DEFAULT_CSV,
    Area,
    AreaTable,
    check_digit,
    code6_from_code5,
    default_table,
    parse_code,
)

REFERENCE_DIR = (Path(__file__).resolve().parents[2] / ".." / "shared" / "reference").resolve()
N03_GEOJSON = REFERENCE_DIR / "osaka-municipalities-n03-2021.geojson"
HEADER = "code,name_ja,name_kana,name_en,kind,parent_code,lat,lon,area_km2,weight"


@pytest.fixture(scope="module")
def table() -> AreaTable:
    return AreaTable.from_csv(DEFAULT_CSV)


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    ("code5", "code6"),
    [("27100", "271004"), ("27203", "272035"), ("27000", "270008"), ("01100", "011002")],
)
def test_check_digit_documented_examples(code5: str, code6: str) -> None:
    assert check_digit(code5) == int(code6[-1])
    assert code6_from_code5(code5) == code6


@pytest.mark.parametrize("bad", ["2710", "271004", "2710a", "", "２７１００"])
def test_check_digit_rejects_non_5_digit(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digit(bad)


def test_check_digit_of_every_row(table: AreaTable) -> None:
    for area in table:
        assert area.code == code6_from_code5(area.code5), area
        assert area.code5 == area.code[:5]


@pytest.mark.parametrize(
    "raw",
    ["271004", "27100", 271004, 27100, "27100.0", "271004.0", 27100.0, "２７１００４", "２７１００",
     " 27100 ", "\t271004\n", "　27100　"],
)
def test_parse_code_forms_of_osaka_city(raw: object) -> None:
    assert parse_code(raw) == ("271004",)


def test_parse_code_dropped_leading_zero() -> None:
    # 6-digit 011002 with its zero dropped; the 5-digit reading 110027 is also a
    # valid code but its municipal part (002) never occurs, so it comes second.
    assert parse_code("11002") == ("011002", "110027")
    assert parse_code(11002) == ("011002", "110027")
    # 5-digit JIS 01100 with its zero dropped
    assert parse_code("1100") == ("011002",)
    assert parse_code(1100) == ("011002",)
    assert parse_code("011002") == ("011002",)
    assert parse_code("01100") == ("011002",)


@pytest.mark.parametrize(
    "raw",
    [None, "", "   ", "abc", "27100x", "271005", "272030", "271", "12", "2710045", "27-100",
     -27100, 27100.5, float("nan"), True, "000000", "99999", "481000"],
)
def test_parse_code_garbage(raw: object) -> None:
    assert parse_code(raw) == ()


def test_parse_code_only_valid_interpretations() -> None:
    for raw in ("27203", "27141", "13101", "47201", "1100", "11002"):
        for code in parse_code(raw):
            assert len(code) == 6 and code == code6_from_code5(code[:5])


# --------------------------------------------------------------------------- table shape


def test_csv_header_and_encoding() -> None:
    raw = DEFAULT_CSV.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM"
    assert raw.decode("utf-8").splitlines()[0] == HEADER


def test_row_and_kind_counts(table: AreaTable) -> None:
    assert len(table) == 1 + 43 + 31
    kinds = Counter(a.kind for a in table)
    assert kinds == {
        "prefecture": 1,
        "designated_city": 2,
        "city": 31,
        "town": 9,
        "village": 1,
        "ward": 31,
    }
    assert kinds["designated_city"] + kinds["city"] == 33
    assert len(table.municipalities) == 43
    assert [a.code for a in table.municipalities] == sorted(a.code for a in table.municipalities)
    assert len(table.leaves) == 72
    assert all(a.is_ward or a.kind != "designated_city" for a in table.leaves)


def test_prefecture_and_designated_cities(table: AreaTable) -> None:
    assert table.prefecture.code == "270008"
    assert table.prefecture.name_ja == "大阪府"
    assert table.prefecture.parent_code is None
    osaka, sakai = table.get("271004"), table.get("271403")
    assert osaka is not None and osaka.name_ja == "大阪市" and osaka.kind == "designated_city"
    assert sakai is not None and sakai.name_ja == "堺市" and sakai.kind == "designated_city"
    osaka_wards = table.wards("27100")
    sakai_wards = table.wards(271403)
    assert len(osaka_wards) == 24 and len(sakai_wards) == 7
    expected_osaka = [f"271{n:02d}" for n in (2, 3, 4, 6, 7, 8, 9, 11, *range(13, 29))]
    assert [w.code5 for w in osaka_wards] == expected_osaka
    assert [w.code5 for w in sakai_wards] == [f"2714{n}" for n in range(1, 8)]
    assert table.wards("272035") == ()
    assert table.wards("garbage") == ()


def test_parents_and_weights(table: AreaTable) -> None:
    for area in table.municipalities:
        assert area.parent_code == table.prefecture.code
    for area in table:
        if area.is_ward:
            assert table.get(area.parent_code).kind == "designated_city"
        assert area.area_km2 > 0
    for city in table.municipalities:
        if city.kind == "designated_city":
            assert city.weight == sum(w.weight for w in table.wards(city.code))
    assert table.prefecture.weight == sum(m.weight for m in table.municipalities)
    assert 8_000_000 < table.prefecture.weight < 9_500_000


def test_names_and_locations_are_sane(table: AreaTable) -> None:
    names_en = [a.name_en for a in table]
    assert len(set(names_en)) == len(names_en), "English names are unambiguous"
    for area in table:
        assert 34.27 <= area.lat <= 35.06 and 135.09 <= area.lon <= 135.75, area
        assert all("ァ" <= ch <= "ヺ" or ch == "ー" for ch in area.name_kana), area.name_kana
        suffix = {"ward": "区", "designated_city": "市", "city": "市", "town": "町", "village": "村",
                  "prefecture": "府"}[area.kind]
        assert area.name_ja.endswith(suffix), area
    assert table.get("271276").name_en == "Kita Ward (Osaka)"
    assert table.get("271462").name_en == "Kita Ward (Sakai)"
    assert table.get("273015").name_en == "Shimamoto Town"
    assert table.get("273830").name_en == "Chihayaakasaka Village"


# --------------------------------------------------------------------------- API


def test_area_methods(table: AreaTable) -> None:
    kita = table.get("27127")
    assert isinstance(kita, Area)
    assert kita.name("ja") == "北区" and kita.name("en") == "Kita Ward (Osaka)"
    assert kita.is_ward and not kita.is_municipality
    toyonaka = table.get("27203")
    assert toyonaka.is_municipality and not toyonaka.is_ward
    assert table.get("271004").is_municipality
    assert not table.prefecture.is_municipality and not table.prefecture.is_ward
    with pytest.raises(AttributeError):
        kita.name_ja = "x"  # type: ignore[misc]


def test_get_and_normalise(table: AreaTable) -> None:
    for raw in ("272035", "27203", 27203, "27203.0", "２７２０３", " 272035 "):
        assert table.normalise(raw) == "272035"
    assert table.normalise("270008") == "270008"
    assert table.normalise("27000") == "270008"
    assert table.normalise("011002") is None  # valid code, not in the table
    assert table.normalise("272030") is None
    assert table.normalise(None) is None
    assert table.get("") is None
    for area in table:
        assert table.get(area.code) is area
        assert table.get(area.code5) is area
        assert table.get(int(area.code)) is area


def test_municipality_of(table: AreaTable) -> None:
    assert table.municipality_of("27127").code == "271004"
    assert table.municipality_of("271471").code == "271403"
    assert table.municipality_of("27203").code == "272035"
    assert table.municipality_of("271004").code == "271004"
    assert table.municipality_of("270008") is None
    assert table.municipality_of("999999") is None
    for leaf in table.leaves:
        assert table.municipality_of(leaf.code) in table.municipalities


def test_find(table: AreaTable) -> None:
    assert table.find("豊中市").code == "272035"
    assert table.find("トヨナカシ").code == "272035"
    assert table.find("toyonaka city").code == "272035"
    assert table.find("  Toyonaka City ").code == "272035"
    assert table.find("KITA WARD (SAKAI)").code == "271462"
    assert table.find("大阪市北区").code == "271276"
    assert table.find("堺市北区").code == "271462"
    assert table.find("大阪府豊中市").code == "272035"
    assert table.find("大阪府").code == "270008"
    assert table.find("千早赤阪村").code == "273830"
    assert table.find("27100").code == "271004"
    assert table.find("北区") is None  # ambiguous: Osaka and Sakai
    assert table.find("キタク") is None
    assert table.find("都島区").code == "271021"
    assert table.find("Nowhere") is None
    assert table.find("") is None
    assert table.find(None) is None


def test_default_table_is_cached() -> None:
    assert default_table() is default_table()
    assert len(default_table()) == 75


# --------------------------------------------------------------------------- validation


def _write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "areas.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


PREF_ROW = "270008,大阪府,オオサカフ,Osaka Prefecture,prefecture,,34.68639,135.52000,1905.3,1000"
CITY_ROW = "272035,豊中市,トヨナカシ,Toyonaka City,city,270008,34.78,135.47,36.4,1000"


def test_from_csv_minimal(tmp_path: Path) -> None:
    small = AreaTable.from_csv(_write(tmp_path, [PREF_ROW, CITY_ROW]))
    assert len(small) == 2 and small.leaves == small.municipalities


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([PREF_ROW, CITY_ROW.replace("272035", "272030")], "check digit"),
        ([PREF_ROW, CITY_ROW, CITY_ROW], "duplicates"),
        ([PREF_ROW, CITY_ROW.replace(",270008,", ",271004,")], "not in the table"),
        ([PREF_ROW, CITY_ROW.replace(",city,", ",metropolis,")], "unknown kind"),
        ([PREF_ROW, CITY_ROW.replace(",34.78,", ",north,")], "bad number"),
        ([PREF_ROW, CITY_ROW.replace(",270008,", ",,")], "parent_code"),
        ([PREF_ROW, "271276,北区,キタク,Kita Ward,ward,272035,34.7,135.5,10.3,1000", CITY_ROW],
         "expected designated_city"),
        ([CITY_ROW], "not in the table"),
    ],
)
def test_from_csv_rejects(tmp_path: Path, rows: list[str], problem: str) -> None:
    path = _write(tmp_path, rows)
    with pytest.raises(ValueError) as info:
        AreaTable.from_csv(path)
    message = str(info.value)
    assert str(path) in message and problem in message
    assert "row " in message


def test_from_csv_rejects_bad_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("code,name\n270008,大阪府\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 1"):
        AreaTable.from_csv(path)


# --------------------------------------------------------------------------- reference


@pytest.fixture(scope="module")
def n03() -> list[tuple[str, str, object]]:
    """(5-digit code, name, shapely geometry) per feature of the reference N03 file."""
    if not N03_GEOJSON.is_file():
        pytest.skip(f"reference data not available: {N03_GEOJSON}")
    shapely_geometry = pytest.importorskip("shapely.geometry")
    data = json.loads(N03_GEOJSON.read_text(encoding="utf-8"))
    return [
        (f["properties"]["N03_007"], f["properties"]["N03_004"], shapely_geometry.shape(f["geometry"]))
        for f in data["features"]
    ]


def test_reference_codes_are_leaves_with_same_names(table: AreaTable, n03: list) -> None:
    seen = set()
    for code5, name, _geom in n03:
        area = table.get(code5)
        assert area is not None, f"{code5} {name} not in the table"
        assert area in table.leaves, f"{code5} {name} is not a leaf"
        assert area.name_ja == name, f"{code5}: table {area.name_ja} vs reference {name}"
        seen.add(area.code)
    assert seen == {a.code for a in table.leaves}


def test_reference_offices_inside_own_polygon(table: AreaTable, n03: list) -> None:
    from shapely.geometry import Point

    polygons = {table.normalise(code5): geom for code5, _name, geom in n03}
    outside = [
        f"{leaf.code} {leaf.name_ja} ({leaf.lat}, {leaf.lon})"
        for leaf in table.leaves
        if not polygons[leaf.code].contains(Point(leaf.lon, leaf.lat))
    ]
    assert not outside, f"office outside its own polygon: {outside}"
    # Designated-city halls and the prefectural office lie inside their area.
    for area in (*[m for m in table.municipalities if m.kind == "designated_city"], table.prefecture):
        point = Point(area.lon, area.lat)
        inner = table.leaves if area is table.prefecture else table.wards(area.code)
        assert any(polygons[w.code].contains(point) for w in inner), area
