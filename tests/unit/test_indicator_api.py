"""Tests for the indicator routes of api.py: the list, the long-form JSON and CSV, their
query parameters and their errors."""

from __future__ import annotations

import csv
import io

import pytest

INDICATOR_IDS = ["population", "health", "crime", "economy", "childcare", "tourism", "traffic", "air",
                 "emergency"]
COLUMNS = ["area_code", "area_name", "period", "measure", "breakdown", "value", "unit"]
CRIME_METHODS = {"ひったくり", "車上ねらい", "部品ねらい", "自動販売機ねらい", "自動車盗", "オートバイ盗", "自転車盗"}
OSAKA_CITY = "271004"
SAKAI = "271403"
PREF = "270008"


def records(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    assert response.is_json
    body = response.get_json()
    assert body["count"] == len(body["records"])
    return body["records"]


def error(client, url: str, status: int = 400) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    assert response.is_json, url
    body = response.get_json()["error"]
    assert body["status"] == status
    return body["message"]


def population(client, area: str) -> dict[str, float]:
    """Total population by month of one area, as the API gives it."""
    rows = records(client, f"/api/v1/indicators/population.json?measure=total&area={area}&breakdown=")
    return {r["period"]: r["value"] for r in rows}


@pytest.fixture(scope="module")
def listing(client) -> list[dict]:
    response = client.get("/api/v1/indicators")
    assert response.status_code == 200 and response.is_json
    return response.get_json()["indicators"]


# --------------------------------------------------------------------------- the list


def test_list_has_the_nine_indicators_with_metadata(listing) -> None:
    assert [i["id"] for i in listing] == INDICATOR_IDS
    for item in listing:
        assert item["title"]["ja"].strip() and item["title"]["en"].strip(), item["id"]
        assert item["definition"]["ja"].strip() and item["definition"]["en"].strip(), item["id"]
        assert item["licence"]["name"] and item["licence"]["url"].startswith("https://"), item["id"]
        assert item["sample"] is True
        assert item["measures"], item["id"]
        for m in item["measures"]:
            assert set(m) >= {"id", "unit", "frequency", "higher_is", "per_capita"}, (item["id"], m)
            assert set(m["unit"]) == {"ja", "en"}
            assert m["frequency"] in ("monthly", "yearly", "daily")
            assert m["higher_is"] in ("better", "worse", "neutral")
            assert isinstance(m["per_capita"], bool)
        assert item["links"]["json"] == f"/api/v1/indicators/{item['id']}.json"
        assert item["links"]["csv"] == f"/api/v1/indicators/{item['id']}.csv"


def test_list_measures_as_configured(listing) -> None:
    by_id = {i["id"]: i for i in listing}
    crime = by_id["crime"]["measures"]
    assert [m["id"] for m in crime] == ["street_crimes"]
    assert {k: v for k, v in crime[0].items() if k != "title"} == {
        "id": "street_crimes", "unit": {"ja": "件", "en": "crimes"}, "frequency": "monthly", "higher_is": "worse",
        "per_capita": True}
    health = by_id["health"]["measures"][0]
    assert (health["unit"]["ja"], health["frequency"], health["higher_is"], health["per_capita"]) == \
        ("%", "yearly", "better", False)
    assert [m["frequency"] for m in by_id["air"]["measures"]][:3] == ["daily", "daily", "yearly"]
    assert all(not m["per_capita"] for m in by_id["economy"]["measures"])


# --------------------------------------------------------------------------- long form


@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_every_record_has_the_long_form_keys(client, indicator_id: str) -> None:
    rows = records(client, f"/api/v1/indicators/{indicator_id}.json")
    assert rows
    for r in rows:
        assert set(r) == set(COLUMNS), r
        assert r["value"] is None or isinstance(r["value"], (int, float))
        assert isinstance(r["breakdown"], str) and r["area_name"] and r["period"]


def test_five_digit_area_code_names_the_city(client) -> None:
    rows = records(client, "/api/v1/indicators/crime.json?area=27100")
    assert rows
    assert {r["area_code"] for r in rows} == {OSAKA_CITY}
    assert {r["area_name"] for r in rows} == {"大阪市"}
    assert {r["unit"] for r in rows} == {"件"}
    english = records(client, "/api/v1/indicators/crime.json?area=27100&lang=en")
    assert {r["area_name"] for r in english} == {"Osaka City"}
    assert {r["unit"] for r in english} == {"crimes"}
    assert [r["value"] for r in english] == [r["value"] for r in rows]


def test_several_areas(client) -> None:
    rows = records(client, f"/api/v1/indicators/crime.json?area={OSAKA_CITY},{SAKAI}&breakdown=")
    assert {r["area_code"] for r in rows} == {OSAKA_CITY, SAKAI}
    assert {r["area_name"] for r in rows} == {"大阪市", "堺市"}


def test_from_and_to_are_inclusive(client) -> None:
    base = f"/api/v1/indicators/crime.json?area={OSAKA_CITY}&breakdown="
    everything = records(client, base)
    periods = sorted({r["period"] for r in everything})
    start, end = periods[3], periods[8]
    rows = records(client, f"{base}&from={start}&to={end}")
    assert sorted(r["period"] for r in rows) == periods[3:9]
    assert [r["value"] for r in rows] == [r["value"] for r in everything if start <= r["period"] <= end]
    only = records(client, f"{base}&from={start}&to={start}")
    assert [r["period"] for r in only] == [start]


def test_a_year_bounds_monthly_data(client) -> None:
    base = f"/api/v1/indicators/crime.json?area={OSAKA_CITY}&breakdown="
    periods = sorted({r["period"] for r in records(client, base)})
    year = periods[-1][:4]
    rows = records(client, f"{base}&from={year}")
    assert sorted(r["period"] for r in rows) == [p for p in periods if p.startswith(year)]
    assert rows and all(len(r["period"]) == 7 for r in rows)
    last_year = str(int(year) - 1)
    rows = records(client, f"{base}&from={last_year}&to={last_year}")
    assert sorted(r["period"] for r in rows) == [p for p in periods if p.startswith(last_year)]


def test_measure_selects(client) -> None:
    both = records(client, f"/api/v1/indicators/traffic.json?area={OSAKA_CITY}")
    assert {r["measure"] for r in both} == {"accidents", "injuries", "deaths"}
    deaths = records(client, f"/api/v1/indicators/traffic.json?area={OSAKA_CITY}&measure=deaths")
    assert {r["measure"] for r in deaths} == {"deaths"}
    assert deaths == [r for r in both if r["measure"] == "deaths"]


def test_empty_breakdown_gives_totals_and_omitting_it_gives_the_methods_too(client) -> None:
    totals = records(client, f"/api/v1/indicators/crime.json?area={OSAKA_CITY}&breakdown=")
    assert totals and {r["breakdown"] for r in totals} == {""}
    everything = records(client, f"/api/v1/indicators/crime.json?area={OSAKA_CITY}")
    assert {r["breakdown"] for r in everything} == {""} | CRIME_METHODS
    assert [r for r in everything if r["breakdown"] == ""] == totals
    assert len(everything) == 8 * len(totals)
    bikes = records(client, f"/api/v1/indicators/crime.json?area={OSAKA_CITY}&breakdown=自転車盗")
    assert {r["breakdown"] for r in bikes} == {"自転車盗"} and len(bikes) == len(totals)


def test_a_breakdown_only_some_measures_have(client) -> None:
    """Age bins exist for men and women, not for the total: asking for one bin across all
    measures returns the measures that have it."""
    rows = records(client, f"/api/v1/indicators/population.json?area={OSAKA_CITY}&breakdown=0-4")
    assert rows
    assert {r["measure"] for r in rows} == {"male", "female"}
    assert {r["breakdown"] for r in rows} == {"0-4"}


# --------------------------------------------------------------------------- per capita


def test_per_capita_crime_is_divided_by_that_months_population(client) -> None:
    rows = records(client, f"/api/v1/indicators/crime.json?area={SAKAI}&breakdown=")
    rates = records(client, f"/api/v1/indicators/crime.json?area={SAKAI}&breakdown=&per_capita=1")
    pop = population(client, SAKAI)
    assert [r["period"] for r in rates] == [r["period"] for r in rows]
    assert {r["unit"] for r in rates} == {"件（人口10万人あたり）"}
    for count, rate in zip(rows, rates):
        if count["value"] is None:  # a month the sample leaves unpublished has no rate either
            assert rate["value"] is None, count["period"]
            continue
        assert rate["value"] == pytest.approx(count["value"] / pop[count["period"]] * 100_000), count["period"]
    # one month by hand
    i = max(i for i, r in enumerate(rows) if r["value"] is not None)
    last = rows[i]
    assert rates[i]["value"] == pytest.approx(last["value"] * 100_000 / pop[last["period"]])
    english = records(client, f"/api/v1/indicators/crime.json?area={SAKAI}&breakdown=&per_capita=1&lang=en")
    assert {r["unit"] for r in english} == {"crimes per 100,000 residents"}
    assert records(client, f"/api/v1/indicators/crime.json?area={SAKAI}&breakdown=&per_capita=true") == rates


def test_per_capita_yearly_uses_the_october_population(client) -> None:
    pop = population(client, OSAKA_CITY)
    counts = {r["period"]: r["value"] for r in records(
        client, f"/api/v1/indicators/emergency.json?area={OSAKA_CITY}&measure=dispatches")}
    rates = {r["period"]: r["value"] for r in records(
        client, f"/api/v1/indicators/emergency.json?area={OSAKA_CITY}&measure=dispatches&per_capita=1")}
    assert rates.keys() == counts.keys()
    years_with_october = [y for y in counts if f"{y}-10" in pop]
    assert len(years_with_october) >= 2
    for year in years_with_october:
        assert rates[year] == pytest.approx(counts[year] / pop[f"{year}-10"] * 100_000), year
    # a year whose October is not in the data but some later months are: the latest of them
    first_month = min(pop)
    year = first_month[:4]
    if f"{year}-10" not in pop and year in counts:
        latest = max(p for p in pop if p.startswith(year))
        assert rates[year] == pytest.approx(counts[year] / pop[latest] * 100_000)
    # years before the population series: no rate rather than a made-up one
    earlier = [y for y in counts if y < year]
    assert earlier and all(rates[y] is None for y in earlier)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("query, words", [
    ("from=2026-13", ["from", "2026-13"]),
    ("from=2026-05&to=2026-02", ["2026-05", "2026-02"]),
    ("measure=nope", ["measure", "nope", "street_crimes"]),
    ("area=99999", ["area", "99999"]),
    ("breakdown=nope", ["breakdown", "nope", "自転車盗"]),
    ("per_capita=maybe", ["per_capita", "maybe"]),
])
def test_bad_parameters_are_400_with_a_message(client, query: str, words: list[str]) -> None:
    message = error(client, f"/api/v1/indicators/crime.json?{query}")
    for word in words:
        assert word in message, (query, message)
    assert error(client, f"/api/v1/indicators/crime.csv?{query}") == message


def test_per_capita_of_economy_is_400(client) -> None:
    message = error(client, "/api/v1/indicators/economy.json?per_capita=1")
    assert "per_capita" in message and "economy" in message
    message = error(client, "/api/v1/indicators/health.json?per_capita=1&measure=checkup_rate")
    assert "checkup_rate" in message


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_unknown_indicator_is_404_json(client, suffix: str) -> None:
    message = error(client, f"/api/v1/indicators/nope.{suffix}", 404)
    assert "nope" in message
    assert "crime" in client.get(f"/api/v1/indicators/nope.{suffix}").get_json()["error"]["known_indicators"]


# --------------------------------------------------------------------------- CSV


def parse_csv(client, url: str) -> tuple[list[str], list[dict]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    header, *body = list(reader)
    return header, [dict(zip(header, row)) for row in body]


def normalised(row: dict) -> tuple:
    value = row["value"]
    value = None if value in ("", None) else float(value)
    return tuple(str(row[c]) for c in COLUMNS if c != "value") + (value,)


@pytest.mark.parametrize("query", [
    "area=27100&from={year}",
    "area=27100&per_capita=1&breakdown=",
    "",
])
def test_csv_has_the_same_rows_as_json(client, query: str) -> None:
    periods = sorted(r["period"] for r in records(client, f"/api/v1/indicators/crime.json?area={PREF}&breakdown="))
    query = query.format(year=periods[-1][:4])
    header, rows = parse_csv(client, f"/api/v1/indicators/crime.csv?{query}")
    assert header == COLUMNS
    expected = records(client, f"/api/v1/indicators/crime.json?{query}")
    assert [normalised(r) for r in rows] == [normalised(r) for r in expected]


def test_csv_blanks_are_missing_values(client) -> None:
    query = f"area={OSAKA_CITY}&measure=dispatches&per_capita=1"
    header, rows = parse_csv(client, f"/api/v1/indicators/emergency.csv?{query}")
    expected = records(client, f"/api/v1/indicators/emergency.json?{query}")
    assert any(r["value"] is None for r in expected)
    assert [normalised(r) for r in rows] == [normalised(r) for r in expected]
