"""Tests for registry.load_deployment: the real config loads, and a broken one stops the
app with one line naming the file, the key and the problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry import ConfigError, load_deployment

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "osaka.toml"
TEMPLATE = ROOT / "config" / "japan.toml"
AREAS = ROOT / "data" / "real" / "areas" / "27.csv"
LAYER_IDS = ("baby-stations", "nursery-vacancies", "toilets", "aed", "evacuation-sites", "wifi", "medical",
             "air-quality", "events")


def _config_text() -> str:
    """One whole config in one file, to break in one place: the template (japan.toml) with
    Osaka's [deployment] (as osaka.toml gives it), the area table as an absolute path."""
    text = TEMPLATE.read_text(encoding="utf-8")
    template_deployment = '[deployment]\ntimezone = "Asia/Tokyo"\n'
    assert text.count(template_deployment) == 1
    osaka = CONFIG.read_text(encoding="utf-8")
    deployment = osaka[osaka.index("[deployment]"):osaka.index("\n\n", osaka.index("[deployment]"))]
    relative = 'area_table = "../data/real/areas/27.csv"'
    assert deployment.count(relative) == 1
    deployment = deployment.replace(relative, f'area_table = "{AREAS.as_posix()}"')
    return text.replace(template_deployment, deployment + '\ntimezone = "Asia/Tokyo"\n')


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _edit(tmp_path: Path, old: str, new: str) -> Path:
    text = _config_text()
    assert text.count(old) == 1, f"the edit must hit exactly one place: {old!r}"
    return _write(tmp_path, text.replace(old, new))


def _error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_deployment(path)
    message = str(info.value)
    assert "\n" not in message, "one line for the operator"
    assert str(path) in message, "names the file"
    return message


# --------------------------------------------------------------------------- the real config


def test_real_config_loads_nine_layers() -> None:
    deployment = load_deployment(CONFIG)
    assert deployment.layer_ids == LAYER_IDS
    assert deployment.id == "osaka"
    assert deployment.area_table == AREAS.resolve()
    west, south, east, north = deployment.bbox
    view = deployment.default_view
    assert south <= view.lat <= north and west <= view.lon <= east
    for layer in deployment.layers:
        assert layer.title["ja"] and layer.title["en"]
        names = {f.name for f in layer.fields}
        assert {"id", "name", "lat", "lon", "area_code"} <= names, layer.id
    assert deployment.layer("nope") is None
    assert deployment.layer("events").bbox == (133.10, 33.80, 136.25, 35.65)
    air = deployment.layer("air-quality")
    assert air.readings is not None
    assert [p.id for p in air.readings.pollutants] == ["PM2.5", "NO2", "Ox", "SPM", "SO2"]
    assert len(air.readings.levels) == 4


def test_copy_with_absolute_area_table_loads(tmp_path: Path) -> None:
    """The helper below must start from a config that loads, or every failure case is moot."""
    deployment = load_deployment(_write(tmp_path, _config_text()))
    assert deployment.layer_ids == LAYER_IDS
    assert deployment.area_table == AREAS.resolve()


# --------------------------------------------------------------------------- broken copies


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    message = _error_of(path)
    assert "file not found" in message and "MIERUKA_CONFIG" in message


def test_invalid_toml(tmp_path: Path) -> None:
    path = _write(tmp_path, _config_text().replace('id = "osaka"', 'id = "osaka', 1))
    message = _error_of(path)
    assert "not valid TOML" in message
    assert re.search(r"line \d+", message), message


def test_missing_deployment_bbox(tmp_path: Path) -> None:
    text = _config_text()
    without = re.sub(r"(?m)^bbox = \[135\.09.*\n", "", text)
    assert without != text
    message = _error_of(_write(tmp_path, without))
    assert "deployment.bbox: is missing" in message


CASES = [
    pytest.param('colour = "#0072B2"', 'colour = "blue"', "layers.toilets.colour", "#RRGGBB", id="bad-colour"),
    pytest.param('source = { kind = "bundled", dataset = "toilets" }', 'source = { kind = "ftp", dataset = "toilets" }',
                 "layers.toilets.source.kind", "unknown kind 'ftp'", id="unknown-source-kind"),
    pytest.param('wheelchair = { from = ["車椅子使用者用トイレ有無"], type = "bool" }',
                 'wheelchair = { from = ["車椅子使用者用トイレ有無"], type = "boolean" }',
                 "layers.toilets.fields.wheelchair.type", "unknown type 'boolean'", id="unknown-field-type"),
    pytest.param('id = "wheelchair"\nkind = "flag"', 'id = "wheelchair"\nkind = "switch"',
                 "layers.toilets.filters[0].kind", "unknown filter kind 'switch'", id="unknown-filter-kind"),
    pytest.param('fields = ["wheelchair"]', 'fields = ["wheelchairs"]', "layers.toilets.filters[0].fields",
                 "'wheelchairs' is not declared", id="filter-field-not-declared"),
    pytest.param('id = "aed"', 'id = "toilets"', "layers[3].id", "duplicate layer id 'toilets'",
                 id="duplicate-layer-id"),
    pytest.param('popup = ["location_detail", "address", "area_name", "wheelchair",',
                 'popup = ["location_detail", "parking", "address", "area_name", "wheelchair",',
                 "layers.toilets.popup", "'parking' is not declared", id="popup-field-not-declared"),
    pytest.param('title = { ja = "公衆トイレ", en = "Public toilets" }', 'title = { ja = "公衆トイレ" }',
                 "layers.toilets.title.en", "missing or empty", id="title-without-en"),
    pytest.param('title = { ja = "公衆トイレ", en = "Public toilets" }', 'title = "公衆トイレ"',
                 "layers.toilets.title", "per language", id="title-as-plain-string"),
    pytest.param("default_view = { lat = 34.66, lon = 135.50, zoom = 10 }",
                 "default_view = { lat = 35.66, lon = 139.70, zoom = 10 }",
                 "deployment.default_view", "outside deployment.bbox", id="default-view-outside-bbox"),
    pytest.param("thresholds = [15, 35, 70]", "thresholds = [35, 15, 70]",
                 "layers.air-quality.readings.pollutants[0].thresholds", "increasing", id="decreasing-thresholds"),
    pytest.param("thresholds = [15, 35, 70]", "thresholds = [15, 15, 70]",
                 "layers.air-quality.readings.pollutants[0].thresholds", "increasing", id="repeated-threshold"),
    pytest.param('id = "available_24h"\nkind = "open_24h"', 'id = "available_24h"\nkind = 24',
                 "layers.aed.filters[0].kind", "must be str", id="filter-kind-not-a-string"),
]


@pytest.mark.parametrize(("old", "new", "key", "problem"), CASES)
def test_broken_config_names_key_and_problem(tmp_path: Path, old: str, new: str, key: str, problem: str) -> None:
    message = _error_of(_edit(tmp_path, old, new))
    assert f": {key}: " in message, message
    assert problem in message, message


def test_missing_area_table(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-areas.csv"
    path = _edit(tmp_path, f'area_table = "{AREAS.as_posix()}"', f'area_table = "{missing.as_posix()}"')
    message = _error_of(path)
    assert "deployment.area_table" in message
    assert "file not found" in message and str(missing) in message


def test_filter_entry_that_is_not_a_table(tmp_path: Path) -> None:
    """A list of strings where tables belong is a config error, not a Python traceback."""
    text = _config_text()
    old = '[[layers.filters]]\nid = "provider"\nkind = "choice"\nfields = ["provider"]\nlabel = { ja = "設置者", en = "Provider" }\n'
    assert text.count(old) == 1
    source = 'source = { kind = "bundled", dataset = "wifi" }\n'
    assert text.count(source) == 1
    text = text.replace(old, "").replace(source, source + 'filters = ["provider"]\n')
    path = _write(tmp_path, text)
    message = _error_of(path)
    assert "layers.wifi.filters[0]" in message


# --------------------------------------------------------------------------- live source kinds

TOILETS_SOURCE = 'source = { kind = "bundled", dataset = "toilets" }'


@pytest.mark.parametrize(
    ("source", "key", "problem"),
    [
        ('{ kind = "ckan", url = "https://data.example.jp" }', "layers.toilets.source",
         "needs a dataset id or a search query"),
        ('{ kind = "ckan", url = "ftp://data.example.jp", dataset = "x" }', "layers.toilets.source.url",
         "must be an http(s) URL"),
        ('{ kind = "ngsi-ld", url = "https://broker.example.jp" }', "layers.toilets.source.entity_type", "is missing"),
        ('{ kind = "ngsi-v2", url = "https://b.example.jp", entity_type = "Toilet", page_size = 5000 }',
         "layers.toilets.source.page_size", "must be 1 to 1000"),
        ('{ kind = "url", url = "https://x.example.jp/a.csv", tenant = "t" }', "layers.toilets.source.tenant",
         "is not a setting of kind 'url'"),
        ('{ kind = "file", path = "a.pdf", format = "pdf" }', "layers.toilets.source.format", "is not one of"),
    ],
)
def test_live_source_settings_are_checked(tmp_path: Path, source: str, key: str, problem: str) -> None:
    message = _error_of(_edit(tmp_path, TOILETS_SOURCE, f"source = {source}"))
    assert f": {key}: " in message and problem in message


def test_live_sources_load_with_their_settings(tmp_path: Path) -> None:
    source = ('source = { kind = "ngsi-ld", url = "https://broker.example.jp", entity_type = "公衆トイレ一覧", '
              'tenant = "osaka", page_size = 500, ttl = 600 }')
    spec = load_deployment(_edit(tmp_path, TOILETS_SOURCE, source)).layer("toilets").source
    assert (spec.kind, spec.url, spec.entity_type, spec.tenant, spec.page_size, spec.ttl) == (
        "ngsi-ld", "https://broker.example.jp", "公衆トイレ一覧", "osaka", 500, 600)
    assert spec.name == "https://broker.example.jp 公衆トイレ一覧"


def test_a_config_can_extend_another_and_replace_sources(tmp_path: Path) -> None:
    base = _write(tmp_path, _config_text())
    live = tmp_path / "live.toml"
    live.write_text(f'extends = "{base.name}"\n[deployment]\nid = "live"\n'
                    '[sources.aed]\nkind = "ckan"\nurl = "https://data.example.jp"\ndataset = "aed"\n',
                    encoding="utf-8")
    deployment = load_deployment(live)
    assert deployment.id == "live" and deployment.layer_ids == LAYER_IDS
    assert deployment.layer("aed").source.kind == "ckan"
    assert deployment.layer("aed").fields == load_deployment(base).layer("aed").fields
    # no credit given: never the sample generator's beside data that is not sample
    assert "Sample" not in deployment.layer("aed").credit["en"]
    assert deployment.layer("aed").credit == {"ja": "https://data.example.jp（出典の表記は設定されていません）",
                                              "en": "https://data.example.jp (no credit line configured)"}
    live.write_text(f'extends = "{base.name}"\n[sources.aed]\nkind = "ckan"\nurl = "https://data.example.jp"\n'
                    'dataset = "aed"\ncredit = { ja = "豊中市", en = "Toyonaka City" }\n'
                    'licence = { name = "CC BY 2.1 JP", url = "https://creativecommons.org/licenses/by/2.1/jp/" }\n',
                    encoding="utf-8")
    aed = load_deployment(live).layer("aed")
    assert aed.credit == {"ja": "豊中市", "en": "Toyonaka City"} and aed.licence["name"] == "CC BY 2.1 JP"
    assert aed.source.kind == "ckan"
    live.write_text(f'extends = "{base.name}"\n[sources.unicorns]\nkind = "bundled"\ndataset = "x"\n',
                    encoding="utf-8")
    assert "sources.unicorns: no layer or indicator 'unicorns'" in _error_of(live)


def test_a_layer_may_cover_all_japan(tmp_path: Path) -> None:
    """scope = "japan": Japan's box (every prefecture's), unless the layer gives its own; any
    other scope is refused with the choices."""
    from registry import japan_bbox

    west, south, east, north = japan_bbox()
    assert west < 123.0 and south < 24.1 and east > 146.0 and north > 45.5  # Yonaguni, Hateruma, Hokkaido
    base = _write(tmp_path, _config_text())
    wide = tmp_path / "wide.toml"
    wide.write_text(f'extends = "{base.name}"\n[layers.aed]\nscope = "japan"\n', encoding="utf-8")
    aed = load_deployment(wide).layer("aed")
    assert aed.scope == "japan" and aed.bbox == japan_bbox()
    assert load_deployment(base).layer("aed").scope == "prefecture"
    wide.write_text(f'extends = "{base.name}"\n[layers.aed]\nscope = "world"\n', encoding="utf-8")
    assert "layers.aed.scope" in _error_of(wide) and "japan" in _error_of(wide)


def test_the_national_config_loads_and_leaves_osaka_the_prefecture_27_deployment() -> None:
    from registry import prefecture_deployment

    deployment = load_deployment(ROOT / "config" / "national.toml")
    evacuation = deployment.layer("evacuation-sites")
    assert deployment.layer_ids == LAYER_IDS and deployment.id != load_deployment(CONFIG).id
    assert evacuation.scope == "japan" and evacuation.source.kind == "file" and evacuation.source.format == "gsi"
    assert [p.name for p in evacuation.source.paths] == ["japan-emergency.geojson.gz", "japan-evacuation.geojson.gz"]
    assert evacuation.source.paths[0].parent == (ROOT.parent / "shared" / "real-data" / "gsi-hinanbasho").resolve()
    assert "国土地理院" in evacuation.credit["ja"]
    assert prefecture_deployment("27").path == CONFIG


def test_the_documented_live_config_loads() -> None:
    deployment = load_deployment(ROOT / "config" / "osaka-live.toml")
    assert deployment.layer("aed").source.kind == "ckan"
    assert deployment.layer("air-quality").source.kind == "ngsi-ld"
    assert deployment.indicator("population").source.kind == "ckan"
    for entry in (deployment.layer("aed"), deployment.layer("air-quality"), deployment.indicator("population")):
        assert "サンプル" not in entry.credit["ja"], entry.id  # a live source credits its publisher


# --------------------------------------------------------------------------- live indicators

POPULATION_SOURCE = 'source = { kind = "bundled", dataset = "population" }'
CKAN = 'kind = "ckan", url = "https://catalog.example.jp", dataset = "population"'


@pytest.mark.parametrize("source, problem", [
    (f"{{ {CKAN} }}", r"indicators\.population\.source\.table: is missing"),
    (f'{{ {CKAN}, table = {{ period = "調査年月日", values = {{ people = "総人口" }} }} }}',
     r"table\.values\.people: 'people' is not one of the measures \(total, households, male, female\)"),
    (f'{{ {CKAN}, table = {{ period = "調査年月日" }} }}', r"table: needs values"),
    (f'{{ {CKAN}, table = {{ period = "調査年月日", count = "male" }} }}', r"table\.count: measure 'male' is not a count"),
    (f'{{ {CKAN}, table = {{ period = "調査年月日", values = {{ total = "総人口" }}, sheet = 2 }} }}',
     r"table\.sheet: is not a table setting"),
    (f'{{ {CKAN}, table = {{ period = 2026, values = {{ total = "総人口" }} }} }}', r"table\.period: must be str or list"),
    (f'{{ {CKAN}, table = {{ period = "調査年月日", values = {{ total = "総人口" }}, subarea = "地域名" }} }}',
     r"table\.subarea: needs sum = true"),
    ('{ kind = "bundled", dataset = "population", table = { period = "x", values = { total = "y" } } }',
     r"source\.table: is not a setting of kind 'bundled'"),
])
def test_a_live_indicator_needs_a_valid_table(tmp_path, source, problem) -> None:
    message = _error_of(_edit(tmp_path, POPULATION_SOURCE, f"source = {source}"))
    assert re.search(problem, message), message


def test_a_live_indicator_with_its_table_loads(tmp_path) -> None:
    source = f'source = {{ {CKAN}, ttl = 3600, table = {{ period = "調査年月日", sum = true, values = {{ total = "総人口" }} }} }}'
    spec = load_deployment(_edit(tmp_path, POPULATION_SOURCE, source)).indicator("population")
    assert spec.source.kind == "ckan" and spec.source.ttl == 3600
    assert spec.source.table.values == {"total": "総人口"} and spec.source.table.sum
    assert "全国地方公共団体コード" in spec.source.table.area  # the standard's code columns by default


def test_a_station_level_indicator_stays_sample_only(tmp_path) -> None:
    message = _error_of(_edit(tmp_path, 'source = { kind = "bundled", dataset = "air" }',
                              f'source = {{ {CKAN}, table = {{ period = "日時", values = {{ pm25_daily_mean = "PM2.5" }} }} }}'))
    assert "station-level indicator takes kind 'bundled'" in message


def test_indicator_and_layer_ids_do_not_collide(tmp_path) -> None:
    message = _error_of(_edit(tmp_path, 'id = "population"', 'id = "aed"'))
    assert "'aed' is already a layer id" in message
