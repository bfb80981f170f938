"""Tests for the KPI cards: IndicatorService.kpi recomputed from the API's own numbers, and
what components/kpi_card.py shows for it."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from dash import html
from dash.development.base_component import Component

from components.kpi_card import kpi_card
from services import indicator_math as im

INDICATOR_IDS = ["population", "health", "crime", "economy", "childcare", "tourism", "traffic", "air",
                 "emergency"]
PREF = "270008"
ARROWS = {"up": "▲", "down": "▼", "flat": "→"}


from tests.component_text import text_of as text, walk  # noqa: E402


def by_class(node, cls: str) -> list[Component]:
    return [n for n in walk(node) if isinstance(n, Component) and cls in (getattr(n, "className", "") or "").split()]


def back(period: str, months: int) -> str:
    """`period` moved back by `months` (yearly periods by months // 12 years)."""
    if len(period) == 4:
        return str(int(period) - months // 12)
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def relative(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / abs(previous)


def label(period: str, lang: str) -> str:
    """A period as the card should write it, by hand: 2026年10月 / Oct 2026, 2025年 / 2025."""
    if len(period) == 4:
        return f"{period}年" if lang == "ja" else period
    year, month = int(period[:4]), int(period[5:7])
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    return f"{year}年{month}月" if lang == "ja" else f"{months[month - 1]} {year}"


@pytest.fixture(scope="module")
def listing(client) -> dict[str, dict]:
    return {i["id"]: i for i in client.get("/api/v1/indicators").get_json()["indicators"]}


def headline_series(client, listing, indicator_id: str) -> list[tuple[str, float | None]]:
    """The prefecture's headline series as the API gives it, sorted by period."""
    measure = listing[indicator_id]["headline"]
    response = client.get(f"/api/v1/indicators/{indicator_id}.json?area={PREF}&measure={measure}&breakdown=")
    assert response.status_code == 200
    rows = response.get_json()["records"]
    assert rows and {r["area_code"] for r in rows} == {PREF}
    return sorted((r["period"], r["value"]) for r in rows)


# --------------------------------------------------------------------------- the numbers


@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_kpi_is_the_latest_prefecture_value_and_its_changes(ctx, client, listing, indicator_id) -> None:
    series = headline_series(client, listing, indicator_id)
    values = dict(series)
    latest, value = [(p, v) for p, v in series if v is not None][-1]
    kpi = ctx.indicators.kpi(indicator_id)
    assert kpi.measure.id == listing[indicator_id]["headline"]
    assert kpi.area_code == PREF
    assert (kpi.period, kpi.value) == (latest, value)

    step = 12 if len(latest) == 4 else 1
    previous, year_ago = back(latest, step), back(latest, 12)
    assert (kpi.previous_period, kpi.last_year_period) == (previous, year_ago)
    for change, before in ((kpi.vs_previous, values.get(previous)), (kpi.vs_last_year, values.get(year_ago))):
        if before is None:
            assert change.direction is None and change.relative is None
            continue
        assert change.absolute == pytest.approx(value - before)
        assert change.relative == pytest.approx(relative(value, before), abs=1e-12)
        assert change.direction == ("up" if value > before else "down" if value < before else "flat")

    assert len(kpi.spark) <= 24
    assert kpi.spark == series[-24:]


def test_kpi_is_the_same_each_time(ctx) -> None:
    assert ctx.indicators.kpi("crime") == ctx.indicators.kpi("crime")


# --------------------------------------------------------------------------- the card


def expected_verdict(direction: str | None, higher_is: str) -> str:
    if direction is None:
        return "unknown"
    if direction == "flat" or higher_is == "neutral":
        return "neutral"
    return {("up", "better"): "good", ("down", "worse"): "good",
            ("up", "worse"): "bad", ("down", "better"): "bad"}[(direction, higher_is)]


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_card_shows_the_number_unit_period_and_changes(ctx, listing, indicator_id, lang) -> None:
    kpi = ctx.indicators.kpi(indicator_id)
    card = kpi_card(kpi, lang, True)
    measure = kpi.measure
    number = text(by_class(card, "mk-kpi-number"))
    assert number == f"{kpi.value:,.{measure.decimals}f}"
    if abs(kpi.value) >= 1000:
        assert "," in number
    assert text(by_class(card, "mk-kpi-unit")) == measure.unit[lang]
    assert text(by_class(card, "mk-kpi-period")) == label(kpi.period, lang)
    assert text(card.children[0].children[0]) == listing[indicator_id]["title"][lang]

    badges = by_class(card, "mk-change")
    yearly = measure.frequency == "yearly"
    assert len(badges) == (1 if yearly else 2)
    for badge, change in zip(badges, (kpi.vs_previous, kpi.vs_last_year)):
        verdict = expected_verdict(change.direction, measure.higher_is)
        assert f"mk-change-{verdict}" in badge.className.split()
        shown = text(badge)
        if change.direction is not None:
            assert shown.startswith(ARROWS[change.direction])
        if change.relative is not None:
            percent = change.relative * 100  # two decimals under 1 %, so a small fall never reads "-0.0%"
            assert (f"{percent:+.2f}%" if abs(percent) < 1 else f"{percent:+.1f}%") in shown
            assert "-0.0%" not in shown
    first = text(badges[0])
    if lang == "ja":
        assert ("前年比" if yearly else "前月比") in first
    else:
        assert ("vs previous year" if yearly else "vs previous month") in first


def test_card_links_to_the_detail_page(ctx) -> None:
    kpi = ctx.indicators.kpi("crime")
    assert kpi_card(kpi, "ja", True).children[0].children[0].href == "/dashboard/crime"
    assert kpi_card(kpi, "en", True).children[0].children[0].href == "/dashboard/crime?lang=en"


def test_card_shows_the_sample_badge_only_for_sample_data(ctx) -> None:
    kpi = ctx.indicators.kpi("crime")
    [badge] = by_class(kpi_card(kpi, "ja", True), "mk-sample-badge")
    assert text(badge) == "サンプルデータ（架空）"  # "サンプル" on screen, the rest for screen readers
    assert not by_class(kpi_card(kpi, "ja", False), "mk-sample-badge")
    # the credit and the data date, on sample and real data alike
    meta = text(by_class(kpi_card(kpi, "en", False), "mk-kpi-meta"))
    assert f"Source: {kpi.indicator.credit['en']}" in meta and f"Data as of {kpi.as_of.isoformat()}" in meta


def with_changes(kpi, previous: im.Change, last_year: im.Change | None = None):
    return replace(kpi, vs_previous=previous, vs_last_year=last_year or previous)


@pytest.mark.parametrize("indicator_id, direction, verdict", [
    ("crime", "up", "bad"),        # more crime is worse
    ("crime", "down", "good"),
    ("health", "up", "good"),      # more check-ups is better
    ("health", "down", "bad"),
])
def test_change_colour_follows_higher_is(ctx, indicator_id, direction, verdict) -> None:
    kpi = ctx.indicators.kpi(indicator_id)
    sign = 1 if direction == "up" else -1
    change = im.Change(sign * 12.0, sign * 0.05, direction)
    card = kpi_card(with_changes(kpi, change), "ja", True)
    badge = by_class(card, "mk-change")[0]
    assert f"mk-change-{verdict}" in badge.className.split()
    shown = text(badge)
    assert shown.startswith("▲" if direction == "up" else "▼")
    assert ("+5.0%" if direction == "up" else "-5.0%") in shown
    assert ("改善" if verdict == "good" else "悪化") in shown  # said in words too, not by colour alone


def test_flat_and_unknown_changes(ctx) -> None:
    kpi = ctx.indicators.kpi("crime")
    flat = by_class(kpi_card(with_changes(kpi, im.Change(0.0, 0.0, "flat")), "ja", True), "mk-change")[0]
    assert "mk-change-neutral" in flat.className.split()
    assert text(flat).startswith("→") and "+0.00%" in text(flat)
    unknown = by_class(kpi_card(with_changes(kpi, im.Change(None, None, None)), "ja", True), "mk-change")[0]
    assert "mk-change-unknown" in unknown.className.split()
    assert "比較できるデータがありません" in text(unknown)


def test_change_from_zero_shows_the_absolute_amount(ctx) -> None:
    kpi = ctx.indicators.kpi("crime")
    card = kpi_card(with_changes(kpi, im.Change(1234.0, None, "up")), "ja", True)
    badge = by_class(card, "mk-change")[0]
    assert "+1,234" in text(badge) and "mk-change-bad" in badge.className.split()


def test_card_without_data(ctx) -> None:
    kpi = replace(ctx.indicators.kpi("health"), period=None, value=None, spark=[],
                  vs_previous=im.Change(None, None, None), vs_last_year=im.Change(None, None, None))
    card = kpi_card(kpi, "ja", True)
    assert text(by_class(card, "mk-kpi-number")) == "—"
    assert text(by_class(card, "mk-kpi-period")) == "データがありません"
    assert not [n for n in walk(card) if isinstance(n, html.Img)]


def test_card_says_when_and_describes_the_sparkline(ctx) -> None:
    kpi = ctx.indicators.kpi("crime")
    assert isinstance(kpi.as_of, dt.date)
    card = kpi_card(kpi, "ja", True)
    assert kpi.as_of.isoformat() in text(by_class(card, "mk-kpi-meta"))
    images = [n for n in walk(card) if isinstance(n, html.Img)]
    assert len(images) == 1 and images[0].src.startswith("data:image/svg+xml")
    assert images[0].alt == f"直近{len(kpi.spark)}期間の推移（折れ線）"


# --------------------------------------------------------------------------- a municipality's cards

TOYONAKA, KITA_KU = "272035", "271276"


def api_latest(client, indicator_id: str, measure: str, area: str, per_capita: bool) -> list[dict]:
    """Every area's value in `area`'s latest period, as the API gives it."""
    own = client.get(f"/api/v1/indicators/{indicator_id}.json?area={area}&measure={measure}&breakdown=").get_json()
    period = [r for r in own["records"] if r["value"] is not None][-1]["period"]
    query = f"measure={measure}&breakdown=&from={period}&to={period}" + ("&per_capita=1" if per_capita else "")
    return client.get(f"/api/v1/indicators/{indicator_id}.json?{query}").get_json()["records"]


@pytest.mark.parametrize("indicator_id", ["crime", "health", "population"])
def test_a_municipalitys_card_gives_its_value_per_capita_and_place_among_municipalities(
        client, ctx, listing, indicator_id):
    measure = ctx.deployment.indicator(indicator_id).measure(listing[indicator_id]["headline"])
    kpi = ctx.indicators.kpi(indicator_id, TOYONAKA)
    rows = api_latest(client, indicator_id, measure.id, TOYONAKA, measure.per_capita)
    values = {r["area_code"]: r["value"] for r in rows}
    if measure.per_capita:
        assert kpi.per_capita == pytest.approx(values[TOYONAKA])
    else:
        assert kpi.per_capita is None
    peers = {a.code for a in ctx.areas.municipalities}
    compared = [v for code, v in values.items() if code in peers and v is not None]
    place = 1 + sum(1 for v in compared if v > values[TOYONAKA])
    tied = sum(1 for v in compared if v == values[TOYONAKA])
    assert kpi.rank == (place, len(compared), "municipalities", tied)
    card = text(kpi_card(kpi, "ja", True, local=True))
    assert f"府内{len(compared)}市町村中{place}位" in card
    (link,) = [n.href for n in walk(kpi_card(kpi, "ja", True, local=True)) if getattr(n, "href", None)]
    assert link == f"/dashboard/{indicator_id}?area={TOYONAKA}"


def test_a_ward_is_placed_among_the_wards_of_its_city(ctx):
    kpi = ctx.indicators.kpi("population", KITA_KU)
    assert kpi.rank is not None and (kpi.rank.of, kpi.rank.peers) == (len(ctx.areas.wards("271004")), "wards")
    assert "市内24区中" in text(kpi_card(kpi, "ja", True, local=True))


def test_a_prefecture_wide_indicator_says_an_area_has_no_data_of_its_own(ctx):
    kpi = ctx.indicators.kpi("economy", TOYONAKA)
    assert kpi.value is None and kpi.rank is None
    assert "この地域のデータはありません" in text(kpi_card(kpi, "ja", True, local=True))


def test_the_dashboard_shows_the_area_asked_for_and_ignores_what_is_not_one(dash_app):
    import importlib

    page = importlib.import_module("pages.dashboard")
    with dash_app.server.test_request_context("/dashboard"):
        toyonaka = page.layout(area="27203")  # the 5-digit form
        nowhere = page.layout(area="<script>")
    assert "豊中市の最新値" in text(toyonaka)
    hrefs = [n.href for n in walk(toyonaka) if getattr(n, "href", None)]
    assert f"/dashboard/crime?area={TOYONAKA}" in hrefs
    assert "大阪府全体の最新値" in text(nowhere)
    assert "/dashboard/crime" in [n.href for n in walk(nowhere) if getattr(n, "href", None)]


def test_an_indicator_page_of_one_area_leads_back_to_that_areas_dashboard(dash_app):
    import importlib

    page = importlib.import_module("pages.indicator")
    with dash_app.server.test_request_context("/dashboard/crime"):
        one = page.layout("crime", area=TOYONAKA)
        several = page.layout("crime")

    def back(layout):
        return next(n.href for n in walk(layout) if getattr(n, "href", None) and str(n.children).startswith("‹"))

    assert back(one) == f"/dashboard?area={TOYONAKA}"
    assert back(several) == "/dashboard"


def test_an_areas_cards_can_be_downloaded_as_json_and_csv(client, ctx):
    import csv
    import io

    body = client.get("/api/v1/areas/27203.json").get_json()  # 5-digit form
    assert body["area"]["code"] == TOYONAKA and body["area"]["name"]["ja"] == "豊中市"
    records = {r["indicator"]: r for r in body["records"]}
    assert list(records) == [i.id for i in ctx.deployment.indicators] and body["unavailable"] == []
    crime = ctx.indicators.kpi("crime", TOYONAKA)
    assert (records["crime"]["value"], records["crime"]["period"]) == (crime.value, crime.period)
    assert records["crime"]["per_capita"] == pytest.approx(crime.per_capita)
    assert (records["crime"]["rank"], records["crime"]["of"], records["crime"]["peers"]) == crime.rank[:3]
    assert records["crime"]["change_vs_previous"] == pytest.approx(crime.vs_previous.relative)
    assert records["economy"]["value"] is None  # prefecture-wide only
    response = client.get("/api/v1/areas/272035.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [r["indicator"] for r in rows] == list(records)
    assert float(rows[2]["value"]) == crime.value and rows[2]["rank"] == str(crime.rank.place)
    whole = client.get("/api/v1/areas/270008.json").get_json()["records"]
    assert all(r["rank"] is None for r in whole)
    missing = client.get("/api/v1/areas/99999.json")
    assert missing.status_code == 404 and "unknown area" in missing.get_json()["error"]["message"]


def test_a_wards_dashboard_names_it_with_its_city(dash_app):
    import importlib

    page = importlib.import_module("pages.dashboard")
    with dash_app.server.test_request_context("/dashboard"):
        assert "大阪市北区の最新値" in text(page.layout(area=KITA_KU))
        assert "Kita Ward (Osaka)" in text(page.layout(area=KITA_KU, lang="en"))


def test_a_place_shared_with_others_says_so(ctx):
    kpi = ctx.indicators.kpi("air", TOYONAKA)  # the sample's stations all meet the standard
    assert kpi.rank.tied > 1
    assert f"府内{kpi.rank.of}市町村中{kpi.rank.place}位（{kpi.rank.tied}か所が同率・値の大きい順）" in text(
        kpi_card(kpi, "ja", True, local=True))
