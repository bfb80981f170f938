"""The dashboards in headless Chromium: KPI cards, choosing areas, per capita, the time
window, and that a download holds exactly the rows of the table on screen."""
from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

pytestmark = pytest.mark.browser


def open_page(dash_duo, dash_app, path):
    dash_duo.driver.set_window_size(1280, 1000)
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}{path}")


def table_rows(dash_duo):
    return dash_duo.driver.execute_script("""
        return Array.from(document.querySelectorAll('#ind-table tbody tr'))
            .map(tr => Array.from(tr.children).map(td => td.textContent.trim()));""")


def series_traces(dash_duo):
    return dash_duo.driver.execute_script("""
        var g = document.querySelector('#ind-series .js-plotly-plot');
        return g && g.data ? g.data.map(t => t.name) : null;""")


def wait_until(condition, timeout=20, message="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


def test_dashboard_shows_nine_cards_with_values_and_links(dash_duo, dash_app, client):
    open_page(dash_duo, dash_app, "/dashboard")
    dash_duo.wait_for_element(".mk-kpi")
    cards = dash_duo.driver.find_elements(By.CSS_SELECTOR, ".mk-kpi")
    assert len(cards) == 9
    ids = [i["id"] for i in client.get("/api/v1/indicators").json["indicators"]]
    links = [c.find_element(By.CSS_SELECTOR, "h2 a").get_attribute("href") for c in cards]
    assert [urllib.parse.urlparse(h).path for h in links] == [f"/dashboard/{i}" for i in ids]
    for card in cards:
        assert any(ch.isdigit() for ch in card.find_element(By.CSS_SELECTOR, ".mk-kpi-number").text)
        assert "サンプルデータ" in card.text
    # the population card's value is the prefecture's latest total
    rows = client.get("/api/v1/indicators/population.json?area=270008&measure=total&breakdown=").json["records"]
    latest = [r for r in rows if r["value"] is not None][-1]
    assert cards[0].find_element(By.CSS_SELECTOR, ".mk-kpi-number").text == f"{int(latest['value']):,}"
    assert dash_duo.get_logs() == []


def test_choosing_a_municipality_updates_chart_table_and_url(dash_duo, dash_app):
    open_page(dash_duo, dash_app, "/dashboard/crime")
    dash_duo.wait_for_element("#ind-table tbody tr")
    before = len(table_rows(dash_duo))
    traces = wait_until(lambda: series_traces(dash_duo), message="the series chart")
    dash_duo.find_element("#ind-areas").click()
    # the popover opens and moves focus to its search box; typing before then is lost
    search = wait_until(lambda: dash_duo.driver.execute_script(
        "var e = document.activeElement; return e && e.matches('#ind-areas .dash-dropdown-search, "
        ".dash-dropdown-content .dash-dropdown-search') ? e : null;"), message="the area search box")
    # its own texts are in the page's language, not Dash's English defaults
    assert search.get_attribute("placeholder") == "絞り込み"
    assert dash_duo.find_element(".dash-dropdown-content .dash-dropdown-action-button").text == "すべて選択"
    search.send_keys("豊中")
    wait_until(lambda: dash_duo.driver.execute_script(
        "var o = document.querySelectorAll('.dash-dropdown-content [role=option]');"
        "return o.length === 1 && o[0].textContent.trim() === '豊中市';"), message="only 豊中市 offered")
    search.send_keys(Keys.ENTER)
    search.send_keys(Keys.ESCAPE)
    wait_until(lambda: len(table_rows(dash_duo)) > before, message="more table rows")
    assert any(r[0] == "豊中市" for r in table_rows(dash_duo))
    wait_until(lambda: "豊中市" in (series_traces(dash_duo) or []), message="a 豊中市 line")
    assert len(series_traces(dash_duo)) == len(traces) + 1
    assert "272035" in urllib.parse.unquote(dash_duo.driver.current_url)
    assert dash_duo.get_logs() == []


def test_per_capita_switch_divides_by_population(dash_duo, dash_app, client):
    open_page(dash_duo, dash_app, "/dashboard/traffic?area=272035&from=2026-01&to=2026-03")
    dash_duo.wait_for_element("#ind-table tbody tr")
    counts = {r[1]: r[2] for r in table_rows(dash_duo)}
    assert len(counts) == 3
    dash_duo.find_element("#ind-pc input").click()
    wait_until(lambda: "10万人" in " ".join(r[3] for r in table_rows(dash_duo)), message="per-capita unit")
    shown = {r[1]: float(r[2].replace(",", "")) for r in table_rows(dash_duo)}
    population = {r["period"]: r["value"] for r in client.get(
        "/api/v1/indicators/population.json?area=272035&measure=total&breakdown=&from=2026-01&to=2026-03").json["records"]}
    for period_label, count in counts.items():
        period = next(p for p in population if f"{p[:4]}年{int(p[5:])}月" == period_label)
        expected = float(count.replace(",", "")) / population[period] * 100_000
        assert shown[period_label] == pytest.approx(expected, abs=0.06)
    assert "pc=1" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_time_window_narrows_the_series(dash_duo, dash_app):
    open_page(dash_duo, dash_app, "/dashboard/health?area=272035")
    dash_duo.wait_for_element("#ind-table tbody tr")
    wait_until(lambda: len(table_rows(dash_duo)) == 10, message="ten years")
    dash_duo.find_element("#ind-preset input[value='5']").click()
    wait_until(lambda: len(table_rows(dash_duo)) == 5, message="five years")
    periods = sorted(r[1] for r in table_rows(dash_duo))
    xs = dash_duo.driver.execute_script("return document.querySelector('#ind-series .js-plotly-plot').data[0].x;")
    assert len(xs) == 5
    assert periods[0].startswith(xs[0][:4])
    assert dash_duo.get_logs() == []


def test_download_holds_exactly_the_rows_of_the_table(dash_duo, dash_app):
    open_page(dash_duo, dash_app, "/dashboard/crime?area=271004,272035&from=2026-04&to=2026-09&pc=1")
    dash_duo.wait_for_element("#ind-table tbody tr")
    shown = table_rows(dash_duo)
    href = dash_duo.find_element("#ind-csv").get_attribute("href")
    with urllib.request.urlopen(href) as response:
        body = response.read().decode("utf-8-sig")
    downloaded = list(csv.DictReader(io.StringIO(body)))
    assert len(downloaded) == len(shown) == 12
    on_screen = {(r[0], r[1], r[2]) for r in shown}
    from services import indicator_math as im

    from_file = {(r["area_name"], im.format_period(r["period"], "ja"),
                  im.format_number(float(r["value"]), "ja", 1) if r["value"] else "—") for r in downloaded}
    assert on_screen == from_file
    with urllib.request.urlopen(dash_duo.find_element("#ind-json").get_attribute("href")) as response:
        assert json.load(response)["count"] == len(shown)
    assert dash_duo.get_logs() == []


def test_choosing_an_area_shows_its_cards_and_keeps_it_in_the_address(dash_duo, dash_app, ctx):
    open_page(dash_duo, dash_app, "/dashboard")
    dash_duo.wait_for_element(".mk-kpi")
    dash_duo.find_element("#kpi-area").click()
    # with a value chosen, the popover focuses that option; its search box is one click away
    search = dash_duo.wait_for_element(".dash-dropdown-content .dash-dropdown-search")
    search.click()
    search.send_keys("豊中")
    wait_until(lambda: dash_duo.driver.execute_script(
        "var o = document.querySelectorAll('.dash-dropdown-content [role=option]');"
        "return o.length === 1 && o[0].textContent.trim() === '豊中市';"), message="only 豊中市 offered")
    search.send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#kpi-lead", "豊中市の最新値", timeout=20)
    crime = ctx.indicators.kpi("crime", "272035")
    card = dash_duo.find_element(".mk-kpi:has(a[href='/dashboard/crime?area=272035'])").text
    assert f"{int(crime.value):,}" in card and f"府内{crime.rank.of}市町村中{crime.rank.place}位" in card
    assert "area=272035" in dash_duo.driver.current_url
    assert "area=272035" in dash_duo.find_element("#lang-link").get_attribute("href")
    # the cards on screen are what the download holds
    with urllib.request.urlopen(dash_duo.find_element("#kpi-json").get_attribute("href")) as response:
        downloaded = {r["indicator"]: r for r in json.load(response)["records"]}
    assert downloaded["crime"]["value"] == crime.value and downloaded["crime"]["rank"] == crime.rank.place
    assert dash_duo.find_element("#kpi-csv").get_attribute("href").endswith("/api/v1/areas/272035.csv")
    assert dash_duo.get_logs() == []


def test_the_home_page_leads_to_a_municipalitys_dashboard(dash_duo, dash_app):
    from selenium.webdriver.support.ui import Select

    open_page(dash_duo, dash_app, "/?lang=en")
    Select(dash_duo.wait_for_element("#home-area")).select_by_value("272035")
    dash_duo.find_element(".mk-area-form button").click()
    dash_duo.wait_for_contains_text("#kpi-lead", "Toyonaka City", timeout=20)
    query = urllib.parse.parse_qs(urllib.parse.urlparse(dash_duo.driver.current_url).query)
    assert query == {"area": ["272035"], "lang": ["en"]}
    assert dash_duo.get_logs() == []
