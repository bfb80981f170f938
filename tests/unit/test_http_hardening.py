"""Issue 9, "never stuck, never silently wrong": what a caller notices when a request asks too
much, is malformed, or probes the server — bounded lists, a body limit, 400s instead of 500s,
nothing about the server in what it answers, real 404s, caching of the API."""
from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
from pathlib import Path

import dash
import plotly
import pytest

import request_limits as limits
from registry import ConfigError, load_deployment
from settings import Settings
from tests import callbacks as cbs

ROOT = Path(__file__).resolve().parents[2]
VIEW = ("..ind-series.figure...ind-ranking.figure...ind-breakdown.figure...ind-map.figure...ind-table-wrap.children"
        "...ind-csv.href...ind-json.href...ind-view.data...ind-limit.children..")


@pytest.fixture(scope="module")
def population(dash_app, client):
    """The values of /dashboard/population's real layout, "id.property" → value."""
    return cbs.component_values(cbs.page_layout(dash_app, client, "/dashboard/population"))


def _view(dash_app, client, population, **changes):
    values = {**population, **changes}
    response = cbs.post(client, cbs.body(dash_app, VIEW, values, ["ind-areas.value"]))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["response"]


def _areas_of(href: str) -> list[str]:
    match = re.search(r"area=([^&]*)", href)
    return match.group(1).replace("%2C", ",").split(",") if match else []


# ---------------------------------------------------------------- 1. bounded lists

def test_one_area_repeated_5000_times_in_the_indicator_callback_is_one_area(dash_app, client, population) -> None:
    out = _view(dash_app, client, population, **{"ind-areas.value": ["271004"] * 5000})
    assert _areas_of(out["ind-json"]["href"]) == ["271004"]
    assert out["ind-view"]["data"]["areas"] == ["271004"]
    assert out["ind-limit"]["children"] is None


def test_more_areas_than_the_page_compares_are_cut_with_a_notice(dash_app, client, ctx, population) -> None:
    codes = [a.code for a in ctx.areas if a.is_municipality][:limits.PAGE_AREAS + 4]
    out = _view(dash_app, client, population, **{"ind-areas.value": codes})
    assert _areas_of(out["ind-json"]["href"]) == codes[:limits.PAGE_AREAS]
    lines = [t for t in out["ind-series"]["figure"]["data"] if t.get("name")]
    assert len(lines) <= limits.PAGE_AREAS + 1  # the areas and the reference
    notice = out["ind-limit"]["children"]["props"]["children"]
    assert f"{limits.PAGE_AREAS}地域まで" in notice


def test_a_measure_change_keeps_at_most_the_page_bound_of_areas(dash_app, client, ctx, population) -> None:
    codes = [a.code for a in ctx.areas if a.is_municipality][:limits.PAGE_AREAS + 4]
    view = {**population["ind-view.data"], "areas": codes * 100}
    response = cbs.post(client, cbs.body(dash_app, cbs.output_for(dash_app, "ind-measure.value"), {**population, "ind-view.data": view,
                                                             "ind-measure.value": "households"}))
    assert response.status_code == 200
    assert response.get_json()["response"]["ind-areas"]["value"] == codes[:limits.PAGE_AREAS]


def test_the_api_collapses_repeated_areas(client) -> None:
    once = client.get("/api/v1/indicators/population.json?area=271004&measure=total").get_json()
    repeated = client.get("/api/v1/indicators/population.json?measure=total&area=" + ",".join(["271004"] * 560))
    assert repeated.status_code == 200
    assert repeated.get_json()["count"] == once["count"] > 0


def test_the_api_refuses_more_areas_than_its_bound_naming_the_parameter_and_limit(client) -> None:
    codes = ",".join(f"{27000 + i:05d}" for i in range(limits.API_AREAS + 1))
    for suffix in ("json", "csv"):
        response = client.get(f"/api/v1/indicators/population.{suffix}?area={codes}")
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["parameter"] == "area" and error["limit"] == limits.API_AREAS
        assert "area" in error["message"] and f"{limits.API_AREAS}" in error["message"]


# ---------------------------------------------------------------- 2. the body limit

def test_a_body_over_the_limit_is_413_json(client, settings) -> None:
    big = b"[" + b"0," * (settings.max_body_kb * 1024 // 2) + b"0]"
    response = client.post("/_dash-update-component", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["status"] == 413
    assert f"{settings.max_body_kb:,} KB" in response.get_json()["error"]["message"]


def test_the_body_limit_is_an_environment_variable() -> None:
    assert Settings.from_env({}).max_body_kb == limits.BODY_KB
    assert Settings.from_env({"MIERUKA_MAX_BODY_KB": "64"}).max_body_kb == 64
    with pytest.raises(ConfigError, match="MIERUKA_MAX_BODY_KB"):
        Settings.from_env({"MIERUKA_MAX_BODY_KB": "0"})


# ---------------------------------------------------------------- 3. malformed input: 400, one log line

def test_a_repeated_query_key_first_wins_in_the_api(client) -> None:
    first = client.get("/api/v1/indicators/population.json?measure=total").get_json()
    both = client.get("/api/v1/indicators/population.json?measure=total&measure=households")
    assert both.status_code == 200 and both.get_json()["records"] == first["records"]


def test_a_repeated_query_key_first_wins_on_a_page(dash_app, client) -> None:
    values = cbs.component_values(cbs.page_layout(dash_app, client, "/dashboard/population",
                                                  "?measure=households&measure=total&area=271004&area=271403"))
    assert values["ind-measure.value"] == "households"
    assert values["ind-areas.value"] == ["271004"]


def _malformed(dash_app, population):
    good = cbs.body(dash_app, VIEW, population, ["ind-areas.value"])
    wrong_meta = json.loads(json.dumps(good))
    wrong_meta["state"][1]["value"] = "population"
    unknown_indicator = json.loads(json.dumps(good))
    unknown_indicator["state"][1]["value"] = {"id": "nope", "lang": "ja"}
    wrong_areas = json.loads(json.dumps(good))
    wrong_areas["inputs"][0]["value"] = {"a": 1}
    unknown_id = json.loads(json.dumps(good))
    unknown_id["inputs"][0]["id"] = "nope"
    return {
        "null": "null", "a list": "[]", "not JSON": "{", "an empty object": {}, "no output": {"inputs": []},
        "unknown output": {"output": "x.y", "inputs": [], "state": []},
        "clientside output": {**good, "output": "map-panel.open"},
        "inputs not a list": {**good, "inputs": {"a": 1}},
        "input not an object": {**good, "inputs": [1, 2, 3, 4, 5]},
        "missing inputs": {**good, "inputs": good["inputs"][:2]},
        "unknown input id": unknown_id,
        "changedPropIds not a list": {**good, "changedPropIds": 5},
        "meta a string": wrong_meta, "unknown indicator": unknown_indicator, "areas an object": wrong_areas,
        "deep nesting": '{"output": ' + "[" * 100_000 + "]" * 100_000 + "}",
    }


def test_malformed_callback_bodies_are_400_with_one_log_line(dash_app, client, population, caplog) -> None:
    for name, payload in _malformed(dash_app, population).items():
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = cbs.post(client, payload)
        assert response.status_code == 400, (name, response.status_code, response.get_data(as_text=True)[:300])
        assert response.get_json()["error"]["status"] == 400, name
        records = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(records) == 1, (name, [r.getMessage() for r in records])
        assert records[0].levelno == logging.WARNING and records[0].exc_info is None, name
        assert "\n" not in records[0].getMessage(), name


def test_an_unknown_component_suite_path_is_404(client, caplog) -> None:
    for path in ("/_dash-component-suites/nope/x.js", "/_dash-component-suites/dash/nope.js",
                 "/_dash-component-suites/dash/../../settings.py"):
        with caplog.at_level(logging.WARNING):
            response = client.get(path)
        assert response.status_code == 404, path
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ---------------------------------------------------------------- 4. hardening

def test_a_failing_source_is_named_not_its_path(client, ctx, monkeypatch, tmp_path) -> None:
    from data_sources import SourceUnavailable, files
    from services.stored import health_report

    with pytest.raises(SourceUnavailable) as info:
        files.fetch(tmp_path / "secret" / "aed.csv")
    assert str(tmp_path) not in str(info.value) and "aed.csv" in str(info.value)

    def failing(_id):
        raise SourceUnavailable(f"{tmp_path}/secret/aed.csv: No such file or directory")
    report = health_report(failing, ["aed"])["aed"]
    assert str(tmp_path) not in json.dumps(report) and "aed.csv" in report["reason"]
    monkeypatch.setattr(ctx.layers, "snapshot", failing)
    response = client.get("/api/v1/layers/aed.geojson")
    assert response.status_code == 503
    assert str(tmp_path) not in response.get_data(as_text=True) and "aed.csv" in response.get_json()["error"]["message"]
    monkeypatch.undo()
    health = client.get("/healthz").get_data(as_text=True)
    assert str(ctx.settings.cache_dir) not in health and "directory" not in health


def test_pages_do_not_say_which_versions_run(client) -> None:
    page = client.get("/map").get_data(as_text=True)
    for version in (dash.__version__, plotly.__version__, sys.version.split()[0]):
        assert version not in page and version.replace(".", "_") not in page, version
    assert "python_version" not in page
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts
    for src in [s for s in scripts if s.startswith("/_dash-component-suites/")]:
        response = client.get(src)
        assert response.status_code == 200, src
        assert "max-age=31536000" in response.headers.get("Cache-Control", ""), src
    assert "Werkzeug" not in client.get("/").headers.get("Server", "")


def test_the_reload_hash_is_404_in_production(client) -> None:
    assert client.get("/_reload-hash").status_code == 404


@pytest.mark.parametrize("path", ["/.env", "/.git/config", "/wp-login.php", "/dashboard/nope", "/404"])
def test_an_unknown_path_is_404_with_the_apps_page(client, path) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html" and 'id="_dash-config"' in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/foo", "/api/v1/nope", "/api/v2/layers", "/api/v1/layers/nope.geojson"])
def test_an_unknown_api_path_is_404_json(client, path) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


@pytest.mark.parametrize("path", ["/", "/map", "/dashboard", "/dashboard/population", "/about", "/data"])
def test_known_pages_are_200(client, path) -> None:
    assert client.get(path).status_code == 200


def _twitter_url(response) -> str:
    return re.search(r'property="twitter:url" content="([^"]*)"', response.get_data(as_text=True)).group(1)


def _with_settings(dash_app, ctx, monkeypatch, **changes) -> None:
    """The shared app, for this test, as if started with these settings."""
    monkeypatch.setitem(dash_app.server.extensions, "mieruka",
                        dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, **changes)))


def test_the_host_header_is_never_echoed(dash_app, client, ctx, monkeypatch) -> None:
    response = client.get("/map?layers=aed", headers={"Host": "evil.example"})
    assert "evil.example" not in response.get_data(as_text=True)
    assert _twitter_url(response) == "/map?layers=aed"
    _with_settings(dash_app, ctx, monkeypatch, public_url="https://mieruka.example.jp")
    response = client.get("/map?layers=aed", headers={"Host": "evil.example"})
    assert _twitter_url(response) == "https://mieruka.example.jp/map?layers=aed"


def test_public_url_and_hsts_are_environment_variables() -> None:
    assert Settings.from_env({}).public_url is None and Settings.from_env({}).hsts_max_age == 0
    assert Settings.from_env({"MIERUKA_PUBLIC_URL": "https://m.example.jp/"}).public_url == "https://m.example.jp"
    with pytest.raises(ConfigError, match="MIERUKA_PUBLIC_URL"):
        Settings.from_env({"MIERUKA_PUBLIC_URL": "javascript:alert(1)"})
    assert Settings.from_env({"MIERUKA_HSTS": "on"}).hsts_max_age == 31536000
    assert Settings.from_env({"MIERUKA_HSTS": "600"}).hsts_max_age == 600
    with pytest.raises(ConfigError, match="MIERUKA_HSTS"):
        Settings.from_env({"MIERUKA_HSTS": "sometimes"})


def test_hsts_is_off_by_default_and_sent_when_set(dash_app, client, ctx, monkeypatch) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers
    _with_settings(dash_app, ctx, monkeypatch, hsts_max_age=31536000)
    for path in ("/", "/api/v1/layers"):
        assert client.get(path).headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_gunicorn_writes_an_access_log() -> None:
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    assert "--access-logfile -" in web


@pytest.mark.parametrize("path", ["/api/v1/indicators/population.json?area=271004", "/api/v1/indicators/crime.csv",
                                  "/api/v1/areas/271004.json", "/api/v1/areas/271004.csv", "/api/v1/indicators"])
def test_indicator_and_area_answers_are_cacheable_and_revalidate(client, path) -> None:
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=300"
    etag = first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""


def test_a_licence_url_must_be_http(tmp_path) -> None:
    config = tmp_path / "x.toml"
    config.write_text(f'extends = "{(ROOT / "config" / "osaka.toml").as_posix()}"\n'
                      '[layers.aed]\nlicence = { name = "x", url = "javascript:alert(1)" }\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_deployment(config)
    message = str(info.value)
    assert "\n" not in message and str(config) in message
    assert "layers.aed.licence.url" in message and "http" in message
