"""Tests for services/indicator_view.py: the state of an indicator page read from its URL,
what is offered, the measure switch and the URL written back."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

import pytest

from services.indicator_view import IndicatorView, parse_view, preset_window, with_measure

PREF = "270008"
OSAKA_CITY, SAKAI, HIGASHIOSAKA, TOYONAKA = "271004", "271403", "272272", "272035"
LARGEST_THREE = (OSAKA_CITY, SAKAI, HIGASHIOSAKA)  # 大阪市, 堺市, 東大阪市 by population


@pytest.fixture(scope="module")
def view_of(ctx):
    """parse_view for an indicator id and a dict of query parameters."""

    def parse(indicator_id: str, params: dict | None = None, lang: str = "ja"):
        spec = ctx.deployment.indicator(indicator_id)
        snap = ctx.indicators.snapshot(indicator_id)
        return parse_view(params or {}, spec, snap, ctx.areas, PREF, lang)

    return parse


def periods(client, indicator_id: str, measure: str, area: str) -> list[str]:
    """The periods the API has for one area and measure."""
    response = client.get(f"/api/v1/indicators/{indicator_id}.json?measure={measure}&area={area}&breakdown=")
    assert response.status_code == 200
    return sorted(r["period"] for r in response.get_json()["records"])


# --------------------------------------------------------------------------- defaults


@pytest.mark.parametrize("indicator_id, measure", [
    ("population", "total"), ("crime", "street_crimes"), ("childcare", "waiting_children"),
    ("traffic", "accidents"), ("emergency", "dispatches"),
])
def test_counts_default_to_the_three_largest_municipalities(client, view_of, indicator_id, measure) -> None:
    view, options, ignored = view_of(indicator_id)
    assert ignored == []
    assert view.measure == measure
    assert view.areas == LARGEST_THREE
    assert view.per_capita is False and view.lang == "ja"
    every = periods(client, indicator_id, measure, OSAKA_CITY)
    assert (view.start, view.end) == (every[0], every[-1])
    assert options.periods == tuple(every)


@pytest.mark.parametrize("indicator_id, measure", [("health", "checkup_rate"), ("air", "standard_met_share")])
def test_rates_default_to_the_prefecture_and_the_three_largest(client, view_of, indicator_id, measure) -> None:
    view, _options, ignored = view_of(indicator_id)
    assert ignored == []
    assert view.measure == measure
    assert view.areas == (PREF,) + LARGEST_THREE
    every = periods(client, indicator_id, measure, PREF)
    assert (view.start, view.end) == (every[0], every[-1])
    assert len(view.start) == 4  # yearly


@pytest.mark.parametrize("indicator_id, measure", [("economy", "jobs_ratio"), ("tourism", "guest_nights_total")])
def test_prefecture_only_indicators_show_the_prefecture(view_of, indicator_id, measure) -> None:
    view, options, _ignored = view_of(indicator_id)
    assert view.measure == measure and view.areas == (PREF,) and options.areas == (PREF,)


def test_daily_measures_default_to_the_last_90_days(client, view_of) -> None:
    view, options, ignored = view_of("air", {"measure": "pm25_daily_mean"})
    assert ignored == [] and view.measure == "pm25_daily_mean"
    station = view.areas[0]
    days = periods(client, "air", "pm25_daily_mean", station)
    assert len(days) > 90
    assert view.end == days[-1]
    assert dt.date.fromisoformat(view.end) - dt.date.fromisoformat(view.start) == dt.timedelta(days=89)
    assert [d for d in options.periods if view.start <= d <= view.end] == days[-90:]
    # stations, not municipalities: three of them, none of them the prefecture
    assert len(view.areas) == 3 and PREF not in view.areas
    assert set(view.areas) <= set(options.areas)


def test_population_offers_only_measures_with_a_series(view_of) -> None:
    _view, options, _ignored = view_of("population")
    assert [m.id for m in options.measures] == ["total", "households"]  # men and women exist only by age
    assert options.areas[0] == PREF and OSAKA_CITY in options.areas


# --------------------------------------------------------------------------- valid parameters


def test_valid_parameters_are_kept(client, view_of) -> None:
    every = periods(client, "traffic", "injuries", OSAKA_CITY)
    params = {"measure": "injuries", "area": f"27100,{TOYONAKA}", "from": every[2], "to": every[-5], "pc": "1"}
    view, _options, ignored = view_of("traffic", params, lang="en")
    assert ignored == []
    assert view == IndicatorView("injuries", (OSAKA_CITY, TOYONAKA), every[2], every[-5], True, "en")


def test_pc_0_is_simply_off(view_of) -> None:
    view, _options, ignored = view_of("crime", {"pc": "0"})
    assert ignored == [] and view.per_capita is False


def test_at_most_eight_areas(view_of) -> None:
    _view, options, _ignored = view_of("crime")
    nine = [c for c in options.areas if c != PREF][:9]
    view, _options, ignored = view_of("crime", {"area": ",".join(nine)})
    assert view.areas == tuple(nine[:8])
    assert ignored == [f"area={nine[8]}"]


# --------------------------------------------------------------------------- invalid parameters


def test_unknown_measure_is_ignored_and_listed(view_of) -> None:
    default, _, _ = view_of("traffic")
    view, _options, ignored = view_of("traffic", {"measure": "nope"})
    assert view == default
    assert ignored == ["measure=nope"]


def test_unknown_area_is_ignored_and_listed(view_of) -> None:
    view, _options, ignored = view_of("crime", {"area": "99999,27100"})
    assert view.areas == (OSAKA_CITY,)
    assert ignored == ["area=99999"]


def test_only_unknown_areas_fall_back_to_the_defaults(view_of) -> None:
    view, _options, ignored = view_of("crime", {"area": "99999"})
    assert view.areas == LARGEST_THREE
    assert ignored == ["area=99999"]


def test_area_without_data_for_the_measure_is_ignored(view_of) -> None:
    # a ward of Osaka City: population has it, crime (municipalities only) does not
    ward = "271021"
    assert ward in view_of("population", {"area": ward})[0].areas
    view, _options, ignored = view_of("crime", {"area": f"{ward},{SAKAI}"})
    assert view.areas == (SAKAI,) and ignored == [f"area={ward}"]


def test_periods_outside_the_data_are_ignored_and_listed(client, view_of) -> None:
    every = periods(client, "crime", "street_crimes", OSAKA_CITY)
    view, _options, ignored = view_of("crime", {"from": "1999-01", "to": "2026-13"})
    assert (view.start, view.end) == (every[0], every[-1])
    assert ignored == ["from=1999-01", "to=2026-13"]


def test_from_after_to_resets_from(client, view_of) -> None:
    every = periods(client, "crime", "street_crimes", OSAKA_CITY)
    view, _options, ignored = view_of("crime", {"from": every[10], "to": every[2]})
    assert (view.start, view.end) == (every[0], every[2])
    assert ignored == [f"from={every[10]}"]


def test_per_capita_of_a_rate_is_ignored_and_listed(view_of) -> None:
    view, _options, ignored = view_of("health", {"pc": "1"})
    assert view.per_capita is False
    assert ignored == ["pc=1"]


def test_unreadable_per_capita_is_ignored_and_listed(view_of) -> None:
    view, _options, ignored = view_of("crime", {"pc": "x"})
    assert view.per_capita is False
    assert ignored == ["pc=x"]


def test_long_junk_is_shortened_in_the_list(view_of) -> None:
    _view, _options, ignored = view_of("crime", {"measure": "m" * 100})
    assert ignored == ["measure=" + "m" * 40]


# --------------------------------------------------------------------------- measure switch


def test_with_measure_keeps_the_areas_the_new_measure_has(ctx, client, view_of) -> None:
    spec, snap = ctx.deployment.indicator("traffic"), ctx.indicators.snapshot("traffic")
    every = periods(client, "traffic", "deaths", OSAKA_CITY)
    view, _o, ignored = view_of("traffic", {"area": f"{TOYONAKA},{SAKAI}", "pc": "1", "from": every[5],
                                            "to": every[10]})
    assert ignored == [] and (view.start, view.end) == (every[5], every[10])
    after, options = with_measure(view, spec, snap, ctx.areas, PREF, "deaths")
    assert after.measure == "deaths"
    assert after.areas == (TOYONAKA, SAKAI)
    assert after.per_capita is True
    assert (after.start, after.end) == (every[0], every[-1])
    assert options.periods == tuple(every)


def test_with_measure_drops_areas_the_new_measure_lacks(ctx, view_of) -> None:
    spec, snap = ctx.deployment.indicator("air"), ctx.indicators.snapshot("air")
    view, _o, _i = view_of("air")  # prefecture and municipalities
    after, options = with_measure(view, spec, snap, ctx.areas, PREF, "pm25_daily_mean")  # stations
    assert after.areas == options.defaults
    assert not set(after.areas) & set(view.areas)
    station_view = after
    annual, annual_options = with_measure(station_view, spec, snap, ctx.areas, PREF, "pm25_annual_mean")
    assert annual.areas == station_view.areas  # the same stations have annual means
    assert len(annual.start) == 4 and (annual.start, annual.end) == (annual_options.periods[0],
                                                                    annual_options.periods[-1])


def test_with_measure_turns_per_capita_off_for_a_rate(ctx, view_of) -> None:
    spec, snap = ctx.deployment.indicator("childcare"), ctx.indicators.snapshot("childcare")
    view, _o, _i = view_of("childcare", {"pc": "1"})
    assert view.per_capita is True
    after, _options = with_measure(view, spec, snap, ctx.areas, PREF, "capacity_use")
    assert after.per_capita is False and after.areas == view.areas


# --------------------------------------------------------------------------- URL round trip


@pytest.mark.parametrize("indicator_id, params, lang", [
    ("crime", {}, "ja"),
    ("crime", {"area": "27100,272035", "pc": "1", "from": -12, "to": -1}, "en"),
    ("health", {"area": "270008"}, "ja"),
    ("air", {"measure": "no2_daily_mean"}, "en"),
    ("population", {"measure": "households", "from": -30}, "ja"),
])
def test_query_round_trips_through_parse_view(view_of, indicator_id, params, lang) -> None:
    """(from/to given as an index into the periods on offer, which follow today's date)"""
    offered = view_of(indicator_id, {k: v for k, v in params.items() if k not in ("from", "to")})[1].periods
    params = {k: offered[v] if isinstance(v, int) else v for k, v in params.items()}
    view, _options, ignored = view_of(indicator_id, params, lang)
    assert ignored == []
    query = dict(parse_qsl(view.query(), keep_blank_values=True))
    assert query.get("lang", "ja") == lang
    again, _options, ignored = view_of(indicator_id, query, query.get("lang", "ja"))
    assert ignored == []
    assert again == view


def test_query_for_downloads_names_per_capita_as_the_api_does() -> None:
    view = IndicatorView("street_crimes", (OSAKA_CITY,), "2025-01", "2025-12", True, "ja")
    assert dict(parse_qsl(view.query())) == {"measure": "street_crimes", "area": OSAKA_CITY, "from": "2025-01",
                                             "to": "2025-12", "pc": "1"}
    download = dict(parse_qsl(view.query(extra={"breakdown": ""}), keep_blank_values=True))
    assert download["per_capita"] == "1" and "pc" not in download and download["breakdown"] == ""


# --------------------------------------------------------------------------- presets


def test_preset_window() -> None:
    months = tuple(f"2025-{m:02d}" for m in range(1, 13))
    assert preset_window("monthly", months, 3) == ("2025-10", "2025-12")
    assert preset_window("monthly", months, 12) == ("2025-01", "2025-12")
    assert preset_window("monthly", months, 36) == ("2025-01", "2025-12")
    assert preset_window("monthly", months, None) == ("2025-01", "2025-12")
    assert preset_window("monthly", (), 3) == (None, None)
