"""Tests for services.map_state: the map's URL query → validated view state."""

from __future__ import annotations

import pytest

from services.map_state import LayerFacts, ViewState, parse_view

LAYER_IDS = ["baby-stations", "nursery-vacancies", "toilets", "aed", "evacuation-sites", "wifi", "medical",
             "air-quality", "events"]


@pytest.fixture(scope="module")
def facts(ctx) -> dict[str, LayerFacts]:
    return {s.layer.id: LayerFacts(s.options, s.months) for s in ctx.layers.snapshots()}


@pytest.fixture(scope="module")
def parse(ctx, facts):
    def parse(params: dict) -> tuple[ViewState, list[str]]:
        return parse_view(params, ctx.deployment, ctx.areas, facts)

    return parse


@pytest.fixture(scope="module")
def latest_month(facts) -> str:
    months = facts["nursery-vacancies"].months
    assert months, "the sample nursery data has months"
    return months[-1]


def test_defaults(parse) -> None:
    state, ignored = parse({})
    assert ignored == []
    assert state.layers == LAYER_IDS
    assert state.lang == "ja"
    assert state.filters == {} and state.area is None and state.q == "" and state.sel is None
    assert (state.base, state.view) == ("pale", "map")
    assert (state.lat, state.lon, state.z) == (None, None, None)


def test_valid_values_of_every_filter_kind(parse, facts, latest_month) -> None:
    provider = facts["wifi"].options["provider"][0]
    department = "内科"
    assert department in facts["medical"].options["department"]
    params = {
        "f.toilets.wheelchair": "1",  # flag
        "f.toilets.open_now": "1",  # open_now
        "f.aed.available_24h": "1",  # open_24h
        "f.evacuation-sites.hazard": "tsunami",  # flag with options
        "f.medical.kind": "病院",  # choice from the config's options
        "f.wifi.provider": provider,  # choice from the data
        "f.medical.department": department,  # contains, from the data
        "f.nursery-vacancies.vacancy": f"1@{latest_month}",  # vacancy
        "f.air-quality.level": "PM2.5:2",  # air_level
        "f.events.when": "2026-12-01..2026-12-31",  # date_window range
    }
    state, ignored = parse(params)
    assert ignored == []
    assert state.filters == {
        "toilets": {"wheelchair": "1", "open_now": "1"},
        "aed": {"available_24h": "1"},
        "evacuation-sites": {"hazard": "tsunami"},
        "medical": {"kind": "病院", "department": department},
        "wifi": {"provider": provider},
        "nursery-vacancies": {"vacancy": f"1@{latest_month}"},
        "air-quality": {"level": "PM2.5:2"},
        "events": {"when": "2026-12-01..2026-12-31"},
    }
    assert state.as_store()["filters"] == state.filters


@pytest.mark.parametrize("value", ["today", "week", "2026-12-01..", "..2026-12-31", "2026-12-01..2026-12-01"])
def test_date_window_forms(parse, value: str) -> None:
    state, ignored = parse({"f.events.when": value})
    assert ignored == [] and state.filters == {"events": {"when": value}}


@pytest.mark.parametrize("value", ["any", "0", "5", "any@{latest}"])
def test_vacancy_forms(parse, latest_month, value: str) -> None:
    value = value.format(latest=latest_month)
    state, ignored = parse({"f.nursery-vacancies.vacancy": value})
    assert ignored == [] and state.filters == {"nursery-vacancies": {"vacancy": value}}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("f.nope.wheelchair", "1"),  # unknown layer
        ("f.toilets.nope", "1"),  # unknown filter
        ("f.toilets.wheelchair", "maybe"),
        ("f.toilets.open_now", "yes"),
        ("f.evacuation-sites.hazard", "shelter_overlap"),  # declared field, but not an option of the filter
        ("f.medical.kind", "薬局"),
        ("f.wifi.provider", "Nobody's Wi-Fi"),
        ("f.medical.department", "魔法科"),
        ("f.nursery-vacancies.vacancy", "1@1999-01"),  # month not in the data
        ("f.nursery-vacancies.vacancy", "6"),
        ("f.air-quality.level", "PM2.5:9"),
        ("f.air-quality.level", "PM2.5:0"),
        ("f.air-quality.level", "CO2:2"),
        ("f.air-quality.level", "PM2.5:²"),  # a digit to str.isdigit, not to int()
        ("f.air-quality.level", "PM2.5:２"),  # full-width: the browser's parseInt cannot read it
        ("f.events.when", "2026-12-31..2026-12-01"),  # reversed
        ("f.events.when", ".."),
        ("f.events.when", "2026-02-30.."),
        ("f.events.when", "tomorrow"),
    ],
)
def test_invalid_filter_values_ignored_and_listed(parse, key: str, value: str) -> None:
    state, ignored = parse({key: value, "f.toilets.ostomate": "1"})
    assert state.filters == {"toilets": {"ostomate": "1"}}, "the valid filter still applies"
    assert ignored == [f"{key}={value}"]


@pytest.mark.parametrize(
    ("params", "item"),
    [
        ({"layers": "toilets,nope"}, "layers=nope"),
        ({"area": "99999"}, "area=99999"),
        ({"area": "270008"}, "area=270008"),  # the whole prefecture is not a choice
        ({"base": "sat"}, "base=sat"),
        ({"view": "table"}, "view=table"),
        ({"sel": "nope:1"}, "sel=nope:1"),
        ({"sel": "toilets:"}, "sel=toilets:"),
        ({"lang": "fr"}, "lang=fr"),
        ({"lat": "10", "lon": "135.5", "z": "12"}, "lat/lon/z=10,135.5,12"),
        ({"lat": "34.7", "lon": "150", "z": "12"}, "lat/lon/z=34.7,150,12"),
        ({"lat": "34.7", "lon": "135.5", "z": "99"}, "lat/lon/z=34.7,135.5,99"),
        ({"lat": "nan", "lon": "135.5", "z": "12"}, "lat/lon/z=nan,135.5,12"),
        ({"lat": "34.7", "lon": "135.5"}, "lat/lon/z=34.7,135.5,None"),
    ],
)
def test_invalid_view_values_ignored_and_listed(parse, params: dict, item: str) -> None:
    state, ignored = parse(params)
    assert ignored == [item]
    default, _ = parse({})
    if "layers" in params:
        assert state.layers == ["toilets"]
        state.layers = default.layers
    assert state == default, "nothing else changed"


def test_valid_view_values(parse) -> None:
    state, ignored = parse({"lang": "en", "layers": "aed,toilets", "base": "photo", "view": "list",
                            "sel": "toilets:TL-000001", "lat": "34.70001234", "lon": "135.5", "z": "15"})
    assert ignored == []
    assert state.lang == "en"
    assert state.layers == ["toilets", "aed"], "in the config's order"
    assert (state.base, state.view, state.sel) == ("photo", "list", "toilets:TL-000001")
    assert (state.lat, state.lon, state.z) == (34.70001, 135.5, 15)


def test_no_layers(parse) -> None:
    state, ignored = parse({"layers": ""})
    assert state.layers == [] and ignored == []


@pytest.mark.parametrize("raw", ["27203", "272035", "２７２０３"])
def test_area_normalised_to_six_digits(parse, raw: str) -> None:
    state, ignored = parse({"area": raw})
    assert ignored == [] and state.area == "272035"


def test_query_truncated_to_100_characters(parse) -> None:
    state, ignored = parse({"q": "あ" * 150})
    assert ignored == [] and state.q == "あ" * 100


def test_long_ignored_values_are_cut(parse) -> None:
    _, ignored = parse({"base": "x" * 300})
    assert ignored == ["base=" + "x" * 40]
