"""Tests for the seeded sample-data generator (sample_data)."""

from __future__ import annotations

import collections
import datetime as dt
import json
from pathlib import Path

import pytest

from sample_data import COLUMNS, DATASETS, generate, generate_all
from sample_data.generator import DEFAULT_SEED
from sample_data.__main__ import main as cli_main
from services.areas import AreaTable, check_digit

ROOT = Path(__file__).resolve().parents[2]
AREAS_CSV = ROOT / "data" / "real" / "areas" / "27.csv"
REFERENCE = ROOT.parent / "shared" / "reference"
AS_OF = dt.date(2026, 11, 25)

TARGETS = {
    "baby-stations": 1200,
    "nursery-vacancies": 1600 * 12,
    "toilets": 2500,
    "aed": 9000,
    "evacuation-sites": 3500,
    "wifi": 2000,
    "medical": 9500,
    "air-quality-stations": 90,
    "air-quality-readings": 90 * 7 * 24,
    "events": 600,
}
OSAKA_BBOX = (34.27, 35.06, 135.09, 135.75)
BBOX = {  # generous prefecture boxes for events
    "大阪府": OSAKA_BBOX,
    "奈良県": (33.85, 34.79, 135.53, 136.24),
    "鳥取県": (35.05, 35.62, 133.13, 134.52),
}
CODE_COLUMNS = ("全国地方公共団体コード", "都道府県コード又は市区町村コード")


@pytest.fixture(scope="module")
def areas() -> AreaTable:
    return AreaTable.from_csv(AREAS_CSV)


@pytest.fixture(scope="module")
def tables(areas: AreaTable) -> dict[str, list[dict[str, str]]]:
    return generate_all(areas, AS_OF)


def _code_column(dataset: str) -> str:
    return next(c for c in CODE_COLUMNS if c in COLUMNS[dataset])


# --------------------------------------------------------------------------- shape


def test_datasets_and_columns() -> None:
    assert set(DATASETS) == set(TARGETS)
    assert set(COLUMNS) == set(DATASETS)
    for name, cols in COLUMNS.items():
        assert len(cols) == len(set(cols)), name
    assert len(COLUMNS["toilets"]) == 39
    current = ("全国地方公共団体コード", "ID", "地方公共団体名")
    older = ("都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名")
    for name in ("baby-stations", "nursery-vacancies", "toilets", "evacuation-sites"):
        assert COLUMNS[name][:3] == current, name
    for name in ("aed", "wifi", "medical", "events"):
        assert COLUMNS[name][:4] == older, name
    location = ("所在地_全国地方公共団体コード", "町字ID", "所在地_連結表記", "所在地_都道府県",
                "所在地_市区町村", "所在地_町字", "所在地_番地以下", "建物名等(方書)")
    for name in ("toilets", "evacuation-sites"):
        i = COLUMNS[name].index(location[0])
        assert COLUMNS[name][i:i + 8] == location
    required = {
        "toilets": ("名称_英語", "設置位置", "男性トイレ数（小便器）", "女性トイレ数（洋式）",
                    "男女共用トイレ数（和式）", "バリアフリートイレ数", "オストメイト設置トイレ有無",
                    "利用開始時間", "利用終了時間", "画像_ライセンス", "備考"),
        "evacuation-sites": ("名称_英字", "標高", "災害種別_崖崩れ、土石流及び地滑り", "災害種別_火山現象",
                             "指定避難所との重複", "想定収容人数", "対象となる町会・自治会"),
        "aed": ("住所", "方書", "設置位置", "利用可能曜日", "開始時間", "終了時間", "小児対応設備の有無"),
        "wifi": ("名称_英語", "設置者", "SSID", "提供エリア"),
        "medical": ("医療機関の種類", "FAX番号", "医療機関コード", "診療曜日", "診療科目", "病床数"),
        "events": ("イベント名", "開始日", "終了日", "料金(基本)", "料金(詳細)", "場所名称",
                   "参加申込終了日", "参加申込方法"),
        "nursery-vacancies": ("種別", "収容定員", "受入年齢", "年月", "0歳児", "5歳児"),
        "baby-stations": ("授乳室", "おむつ替え", "調乳用のお湯", "ベビーベッド"),
    }
    for name, cols in required.items():
        assert set(cols) <= set(COLUMNS[name]), name


def test_rows_are_string_dicts_with_exact_columns(tables) -> None:
    for name, rows in tables.items():
        assert rows, name
        for row in rows:
            assert tuple(row) == COLUMNS[name], name
            assert all(isinstance(v, str) for v in row.values()), name


def test_volumes(tables) -> None:
    for name, target in TARGETS.items():
        assert 0.9 * target <= len(tables[name]) <= 1.1 * target, (name, len(tables[name]))


def test_ids_unique(tables) -> None:
    for name, rows in tables.items():
        if name in ("nursery-vacancies", "air-quality-readings"):
            continue
        col = "ID" if "ID" in COLUMNS[name] else "NO" if "NO" in COLUMNS[name] else "局番号"
        ids = [r[col] for r in rows]
        assert len(ids) == len(set(ids)), name
    per_month = collections.Counter((r["ID"], r["年月"]) for r in tables["nursery-vacancies"])
    assert max(per_month.values()) == 1
    stamps = collections.Counter((r["日時"], r["局番号"]) for r in tables["air-quality-readings"])
    assert max(stamps.values()) == 1


# --------------------------------------------------------------------------- determinism


def test_deterministic(areas, tables) -> None:
    for name in ("toilets", "events", "air-quality-readings", "nursery-vacancies"):
        again = generate(name, areas, AS_OF)  # also: generate() agrees with generate_all()
        assert again == tables[name], name
        assert again != generate(name, areas, AS_OF, seed=1), name


def test_unknown_dataset(areas) -> None:
    with pytest.raises(ValueError):
        generate("no-such-dataset", areas, AS_OF)



# --------------------------------------------------------------------------- content


def test_coordinates_within_bbox(tables) -> None:
    for name, rows in tables.items():
        if "緯度" not in COLUMNS[name]:
            continue
        for row in rows:
            lat, lon = float(row["緯度"]), float(row["経度"])
            assert len(row["緯度"].split(".")[1]) == 6
            pref = row.get("都道府県名", "大阪府") if name == "events" else "大阪府"
            s, n, w, e = BBOX[pref]
            assert s <= lat <= n and w <= lon <= e, (name, row)


def test_area_codes_valid(areas, tables) -> None:
    leaf_codes = {a.code for a in areas.leaves}
    for name, rows in tables.items():
        if name == "air-quality-readings":
            continue
        col = _code_column(name)
        codes = {r[col] for r in rows}
        for code in codes:
            assert len(code) == 6 and code.isdigit(), (name, code)
            assert int(check_digit(code[:5])) == int(code[5]), (name, code)
        osaka = {c for c in codes if c.startswith("27")}
        assert osaka <= leaf_codes, name
        if name != "events":
            assert codes == osaka
    # every leaf gets facilities in the big datasets
    assert {r["都道府県コード又は市区町村コード"] for r in tables["medical"]} == leaf_codes
    names = {r["地方公共団体名"] for r in tables["toilets"]}
    assert "大阪市北区" in names and "堺市北区" in names and "豊中市" in names


def test_nursery_months_and_classes(tables) -> None:
    rows = tables["nursery-vacancies"]
    months = sorted({r["年月"] for r in rows})
    assert len(months) == 12 and months[-1] == "2026-11" and months[0] == "2025-12"
    by_id: dict[str, set[tuple[str, ...]]] = collections.defaultdict(set)
    for r in rows:
        by_id[r["ID"]].add((r["緯度"], r["経度"], r["名称"],
                            *("" if r[f"{a}歳児"] == "" else "x" for a in range(6))))
        if r["種別"] == "小規模保育事業":
            assert r["3歳児"] == r["4歳児"] == r["5歳児"] == ""
        for a in range(6):
            v = r[f"{a}歳児"]
            assert v == "" or (v.isdigit() and int(v) < 20)
    assert all(len(v) == 1 for v in by_id.values())

    def mean_open(month: str) -> float:
        vals = [int(r[f"{a}歳児"]) for r in rows if r["年月"] == month for a in range(6) if r[f"{a}歳児"]]
        return sum(vals) / len(vals)

    assert mean_open("2026-04") > mean_open("2026-11") > mean_open("2026-03")


def test_readings_cover_seven_days(tables) -> None:
    rows = tables["air-quality-readings"]
    stamps = sorted({r["日時"] for r in rows})
    assert len(stamps) == 7 * 24
    assert stamps[0] == "2026-11-19T00:00+09:00" and stamps[-1] == "2026-11-25T23:00+09:00"
    stations = {r["局番号"]: set(r["測定項目"].split(";")) for r in tables["air-quality-stations"]}
    assert {r["局番号"] for r in rows} == set(stations)
    blanks = total = 0
    for r in rows:
        for item in ("PM2.5", "NO2", "Ox", "SPM", "SO2"):
            if item not in stations[r["局番号"]]:
                assert r[item] == ""
            else:
                total += 1
                blanks += r[item] == ""
    assert 0.002 < blanks / total < 0.03
    ox = collections.defaultdict(list)
    for r in rows:
        if r["Ox"]:
            ox[int(r["日時"][11:13])].append(float(r["Ox"]))
    assert sum(ox[14]) / len(ox[14]) > 2 * sum(ox[3]) / len(ox[3])


def test_events_window(tables) -> None:
    rows = tables["events"]
    end_window = dt.date(2027, 2, 25)
    for r in rows:
        start, end = dt.date.fromisoformat(r["開始日"]), dt.date.fromisoformat(r["終了日"])
        assert AS_OF <= start < end_window
        assert start <= end <= start + dt.timedelta(days=14)
    starts = {r["開始日"] for r in rows if r["都道府県名"] == "大阪府"}
    for k in range(3):
        assert (AS_OF + dt.timedelta(days=k)).isoformat() in starts
    prefs = collections.Counter(r["都道府県名"] for r in rows)
    assert 0.6 < prefs["大阪府"] / len(rows) < 0.8
    assert prefs["奈良県"] > 0 and prefs["鳥取県"] > 0


def test_distributions(tables) -> None:
    def share(name: str, col: str, value: str) -> float:
        rows = tables[name]
        return sum(r[col] == value for r in rows) / len(rows)

    assert share("baby-stations", "おむつ替え", "○") > 0.85
    assert 0.5 < share("baby-stations", "授乳室", "○") < 0.7
    assert 0.35 < share("baby-stations", "調乳用のお湯", "○") < 0.55
    assert 0.2 < share("toilets", "利用終了時間", "24:00") < 0.4
    assert 0.15 < share("aed", "終了時間", "24:00") < 0.35
    assert 0.6 < share("aed", "小児対応設備の有無", "有") < 0.8
    assert 0.03 < share("medical", "医療機関の種類", "病院") < 0.07
    assert share("evacuation-sites", "災害種別_火山現象", "1") == 0
    assert share("evacuation-sites", "災害種別_地震", "1") > 0.8
    for r in tables["medical"]:
        beds = r["病床数"]
        if r["医療機関の種類"] == "病院":
            assert 20 <= int(beds) <= 800
        elif r["医療機関の種類"] == "有床診療所":
            assert 1 <= int(beds) <= 19
        else:
            assert beds == ""
    assert any(r["診療科目"].startswith("歯科") for r in tables["medical"])
    for r in tables["toilets"]:
        assert int(r["男性トイレ総数"]) == sum(int(r[c]) for c in
                                         ("男性トイレ数（小便器）", "男性トイレ数（和式）", "男性トイレ数（洋式）"))


def test_no_real_contact_data(tables) -> None:
    for name, rows in tables.items():
        for col in ("電話番号", "FAX番号", "連絡先電話番号", "URL"):
            if col not in COLUMNS[name]:
                continue
            for r in rows:
                v = r[col]
                if not v:
                    continue
                if col == "URL":
                    assert v.startswith(f"https://example.org/mieruka-sample/{name}/"), v
                else:
                    area, local, _ = v.split("-")
                    assert local.strip("0") == "", v  # exchange part all zeros: unassignable


def test_kana_columns_are_katakana(tables) -> None:
    for name in ("baby-stations", "toilets", "aed", "medical", "wifi", "evacuation-sites"):
        for r in tables[name][:300]:
            kana = r["名称_カナ"]
            assert kana and all("ァ" <= c <= "ヶ" or c == "ー" for c in kana), (name, kana)


def test_cli_writes_bom_csvs(tmp_path, capsys) -> None:
    import csv

    assert cli_main(["--out", str(tmp_path), "--as-of", "2026-11-25", "--areas", str(AREAS_CSV)]) == 0
    out = capsys.readouterr().out
    for name in DATASETS:
        path = tmp_path / f"{name}.csv"
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        assert name in out
    with (tmp_path / "toilets.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0] == generate("toilets", AreaTable.from_csv(AREAS_CSV), AS_OF)[0]


# --------------------------------------------------------------------------- reference


def test_points_inside_own_area_polygon(tables) -> None:
    """≥ 85 % of Osaka points fall inside the N03 polygon of their own area code."""
    path = REFERENCE / "osaka-municipalities-n03-2021.geojson"
    if not path.exists():
        pytest.skip(f"reference file not available: {path}")
    shapely = pytest.importorskip("shapely")
    from shapely.geometry import shape
    from shapely.ops import unary_union

    parts: dict[str, list] = collections.defaultdict(list)
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        code5 = feature["properties"].get("N03_007")
        if code5:
            parts[code5].append(shape(feature["geometry"]))
    polygons = {code: unary_union(geoms) for code, geoms in parts.items()}

    inside = total = 0
    for name, rows in tables.items():
        if "緯度" not in COLUMNS[name]:
            continue
        col = _code_column(name)
        if name == "nursery-vacancies":
            rows = [r for r in rows if r["年月"] == "2026-11"]
        ds_in = ds_total = 0
        for r in rows:
            code = r[col]
            if not code.startswith("27"):
                continue
            ds_total += 1
            polygon = polygons.get(code[:5])
            if polygon is not None and shapely.contains_xy(polygon, float(r["経度"]), float(r["緯度"])):
                ds_in += 1
        assert ds_total == 0 or ds_in / ds_total >= 0.8, (name, ds_in / ds_total)
        inside += ds_in
        total += ds_total
    assert total > 25000
    assert inside / total >= 0.85, inside / total


def test_sample_defects_are_rejected_or_repaired_back_to_the_generated_records(areas) -> None:
    from data_sources.normalise import normalise_rows
    from registry import load_deployment
    from sample_data.defects import with_defects

    deployment = load_deployment(Path(__file__).resolve().parents[2] / "config" / "osaka.toml")
    layer = deployment.layer("aed")
    clean = generate("aed", areas, AS_OF)
    defective = with_defects("aed", clean, DEFAULT_SEED)
    assert len(defective) == len(clean) + 3 and defective == with_defects("aed", clean, DEFAULT_SEED)
    assert sum(a != b for a, b in zip(clean, defective)) == 3  # two swapped, one in full width
    good, report = normalise_rows(clean, layer, areas, deployment.bbox)
    fixed, report = normalise_rows(defective, layer, areas, deployment.bbox)
    assert fixed == good
    assert dict(report.rejected) == {"duplicate id": 1, "missing coordinates": 1, "zero coordinates": 1}
