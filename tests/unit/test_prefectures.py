"""Any of the 47 prefectures from its code or name (registry.prefecture_deployment), and the
`extends` rules a hand-written deployment uses to change the template."""
from __future__ import annotations

from pathlib import Path

import pytest

from registry import ConfigError, load_deployment, prefecture_code, prefecture_deployment, prefecture_words
from services.areas import AreaTable

ROOT = Path(__file__).resolve().parents[2]
CODES = [f"{n:02d}" for n in range(1, 48)]


def texts_of(deployment) -> list[str]:
    """Every text of the deployment's layers and indicators, in both languages."""
    found = [deployment.title["ja"], deployment.title["en"]]
    for entry in (*deployment.layers, *deployment.indicators):
        for value in vars(entry).values():
            if isinstance(value, dict) and set(value) >= {"ja", "en"}:
                found += [value["ja"], value["en"]]
        for spec in getattr(entry, "filters", ()):
            found += [spec.label["ja"], spec.label["en"]] + [o.label["en"] for o in spec.options]
    return found


@pytest.mark.parametrize("key, code", [("29", "29"), (29, "29"), ("290009", "29"), ("２９", "29"), ("奈良県", "29"),
                                       ("奈良", "29"), ("nara", "29"), ("Nara Prefecture", "29"), ("1", "01"),
                                       ("北海道", "01"), ("hokkaido", "01"), ("東京都", "13"), ("tokyo", "13"),
                                       ("大阪府", "27"), ("京都府", "26"), ("Kyoto", "26")])
def test_a_prefecture_is_found_by_its_code_or_name(key, code) -> None:
    assert prefecture_code(key) == code


@pytest.mark.parametrize("key", ["48", "00", "Atlantis", "", "大阪市"])
def test_an_unknown_prefecture_is_refused_saying_what_is_understood(key) -> None:
    with pytest.raises(ConfigError, match=r"MIERUKA_PREFECTURE: .* is not a prefecture \(give its code, 01–47"):
        prefecture_code(key)


@pytest.mark.parametrize("code", CODES)
def test_every_prefecture_gets_a_deployment_of_its_own(code) -> None:
    deployment = prefecture_deployment(code)
    areas = AreaTable.from_csv(deployment.area_table)
    assert deployment.prefecture["code"] == areas.prefecture.code and areas.prefecture.code[:2] == code
    assert len(deployment.layers) == 9 and len(deployment.indicators) == 9
    west, south, east, north = deployment.bbox
    view = deployment.default_view
    assert south <= view.lat <= north and west <= view.lon <= east and 7 <= view.zoom <= 12
    inside = [a for a in areas.municipalities if south <= a.lat <= north and west <= a.lon <= east]
    assert len(inside) == len(areas.municipalities)  # every town hall is in the box
    assert deployment.layer("evacuation-sites").source.kind == "snapshot"  # GSI's real sites, everywhere
    if code != "27":
        fu = deployment.prefecture["ja"].endswith("府")  # Kyoto is a 府 too
        words = [t for t in texts_of(deployment) if "大阪" in t or "Osaka" in t or (not fu and ("府内" in t or "府全体" in t))]
        if code in ("29", "31"):  # Osaka, Nara and Tottori share their events
            words = [w for w in words if w not in texts_of(prefecture_deployment("27"))]
        assert words == []
        assert deployment.layer("toilets").source.kind == "bundled"


def test_osaka_by_its_code_is_the_hand_written_deployment() -> None:
    osaka = prefecture_deployment("27")
    assert osaka.id == "osaka" and osaka.path == ROOT / "config" / "osaka.toml"
    assert osaka.layer("toilets").source.kind == "snapshot"


def test_tokyo_opens_on_the_city_yet_keeps_its_islands() -> None:
    tokyo = prefecture_deployment("13")
    assert 35.5 < tokyo.default_view.lat < 35.9 and 139.3 < tokyo.default_view.lon < 139.9
    assert tokyo.bbox[1] < 27.0  # Ogasawara, 1,000 km south: GSI lists sites there
    assert tokyo.title == {"ja": "見える化 東京", "en": "Mieruka Tokyo"}


def test_okinawa_opens_on_its_main_island() -> None:
    okinawa = prefecture_deployment("47")
    assert 26.0 < okinawa.default_view.lat < 26.9 and 127.5 < okinawa.default_view.lon < 128.3
    assert okinawa.bbox[0] < 123.1  # Yonaguni


@pytest.mark.parametrize("code, title", [("29", "イベント（大阪・奈良・鳥取）"), ("31", "イベント（大阪・奈良・鳥取）"),
                                         ("01", "イベント"), ("47", "イベント")])
def test_the_three_prefectures_that_share_events_show_them_all(code, title) -> None:
    events = prefecture_deployment(code).layer("events")
    assert events.title["ja"] == title
    assert (events.bbox is not None) == (title != "イベント")


@pytest.mark.parametrize("name, inside", [("大阪府", "府内"), ("北海道", "道内"), ("東京都", "都内"), ("奈良県", "県内")])
def test_texts_say_the_prefectures_own_kind(name, inside) -> None:
    from i18n import set_place, t

    words = prefecture_words({"ja": name, "en": "X"})
    assert words["ja"]["prefecture_in"] == inside
    try:
        set_place(words)
        assert t("kpi.rank_municipalities", "ja", count=179, place=3, tie="", basis="人口") .startswith(f"{inside}179市町村中3位")
        assert t("ind.municipal_mean", "ja") == f"{inside}市町村の平均"
    finally:
        from app import place_words

        set_place(place_words(load_deployment(ROOT / "config" / "osaka.toml")))


def test_prefecture_and_config_together_are_refused() -> None:
    from settings import Settings

    with pytest.raises(ConfigError, match="MIERUKA_PREFECTURE and MIERUKA_CONFIG"):
        Settings.from_env({"MIERUKA_PREFECTURE": "29", "MIERUKA_CONFIG": "config/osaka.toml"})
    assert Settings.from_env({"MIERUKA_PREFECTURE": "nara"}).deployment().id == "prefecture-29"


# --------------------------------------------------------------------------- extends


def extension(tmp_path: Path, body: str, name: str = "mine.toml") -> Path:
    """A deployment in another folder that extends config/osaka.toml."""
    folder = tmp_path / "elsewhere"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f'extends = "{(ROOT / "config" / "osaka.toml").as_posix()}"\n{body}', encoding="utf-8")
    return path


def test_an_extension_retitles_removes_and_adds_entries(tmp_path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "benches.csv").write_text("ID,名称,緯度,経度\nB1,ベンチ,34.7,135.5\n", encoding="utf-8")
    path = extension(tmp_path, '''remove = ["wifi", "crime"]
[layers.aed]
title = { ja = "AED（24時間）", en = "AEDs (24 h)" }
[layers.benches]
title = { ja = "ベンチ", en = "Benches" }
description = { ja = "座れる場所", en = "Places to sit" }
icon = "B"
colour = "#123456"
licence = { name = "CC BY 4.0", url = "https://creativecommons.org/licenses/by/4.0/" }
credit = { ja = "見える化", en = "Mieruka" }
source = { kind = "file", path = "benches.csv" }
fields = { id = "ID", name = "名称", lat = { from = ["緯度"], type = "float" }, lon = { from = ["経度"], type = "float" }, area_code = { from = ["code"], type = "area_code" } }
''')
    deployment = load_deployment(path)
    assert "wifi" not in deployment.layer_ids and deployment.indicator("crime") is None
    assert deployment.layer("aed").title["ja"] == "AED（24時間）"
    assert deployment.layer("aed").fields == load_deployment(ROOT / "config" / "osaka.toml").layer("aed").fields
    assert deployment.layer_ids[-1] == "benches"
    assert deployment.layer("benches").source.path == tmp_path / "elsewhere" / "benches.csv"  # against its own file
    assert deployment.area_table == ROOT / "data" / "real" / "areas" / "27.csv"  # against osaka.toml


@pytest.mark.parametrize("body, problem", [
    ('[map]\nzoom = 3\n', r"map: is not something an extending config can set"),
    ('[[layers]]\nid = "x"\n', r"layers: must be dict"),
    ('remove = ["unicorns"]\n', r"remove: no layer or indicator 'unicorns' to remove"),
    ('remove = ["aed"]\n[sources.aed]\nkind = "bundled"\ndataset = "aed"\n', r"sources\.aed: no layer or indicator 'aed'"),
    ('[layers.aed]\ncolour = "red"\n', r"layers\.aed\.colour: 'red' must be a #RRGGBB colour"),
])
def test_an_extension_that_cannot_be_merged_is_refused_with_the_reason(tmp_path, body, problem) -> None:
    path = extension(tmp_path, body)
    with pytest.raises(ConfigError, match=problem) as info:
        load_deployment(path)
    assert str(path) in str(info.value)


def test_configs_extending_each_other_in_a_circle_are_refused(tmp_path) -> None:
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="extend each other in a circle: a.toml → b.toml → a.toml"):
        load_deployment(tmp_path / "a.toml")
