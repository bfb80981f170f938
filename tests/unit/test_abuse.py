"""Requests an attacker or a broken client sends (issue 9): oversized query strings and
headers, path traversal on every file route, methods the routes do not take, bodies over the
limit. None is ever ≥ 500 or leaves a traceback; each refusal is JSON naming what was wrong."""
from __future__ import annotations

import logging

import pytest

PAGES = ["/", "/map", "/dashboard", "/dashboard/population", "/about", "/data"]
API = ["/api/v1/layers", "/api/v1/layers/aed.geojson", "/api/v1/layers/aed.csv", "/api/v1/indicators",
       "/api/v1/indicators/population.json", "/api/v1/indicators/population.csv", "/api/v1/areas/271004.json",
       "/api/v1/areas/271004.csv", "/healthz"]
TRAVERSALS = ["../settings.py", "..%2fsettings.py", "%2e%2e/%2e%2e/settings.py", "....//settings.py",
              "..\\settings.py", "/etc/passwd", "%2fetc%2fpasswd", "..%00/settings.py", "../../../../etc/passwd"]
FILE_ROUTES = ["/assets/", "/_dash-component-suites/dash/", "/_dash-component-suites/plotly/",
               "/api/v1/layers/", "/api/v1/indicators/", "/api/v1/areas/", "/static/"]


@pytest.fixture(autouse=True)
def no_tracebacks(caplog):
    with caplog.at_level(logging.INFO):
        yield
    bad = [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad


def test_an_oversized_query_string_is_414_json(client) -> None:
    for path in ["/map", "/api/v1/indicators/population.json", "/healthz"]:
        response = client.get(f"{path}?q=" + "x" * 20_000)
        assert response.status_code == 414, path
        assert "8,192 bytes" in response.get_json()["error"]["message"]


def test_a_long_query_under_the_limit_is_answered(client) -> None:
    assert client.get("/api/v1/indicators/population.json?area=" + ",".join(["271004"] * 1000)).status_code == 200


def test_oversized_headers_do_not_break_anything(client) -> None:
    headers = {"X-Filler": "y" * 60_000, "Accept-Encoding": "gzip, " * 2_000, "If-None-Match": '"x", ' * 5_000,
               "Cookie": "a=" + "b" * 30_000, "Accept-Language": "ja;q=0.5," * 2_000}
    for path in ["/", "/api/v1/layers/aed.geojson", "/api/v1/indicators/population.json"]:
        assert client.get(path, headers=headers).status_code == 200, path


@pytest.mark.parametrize("route", FILE_ROUTES)
@pytest.mark.parametrize("traversal", TRAVERSALS)
def test_path_traversal_on_file_routes_finds_nothing(client, route, traversal) -> None:
    response = client.get(route + traversal)
    assert response.status_code in (400, 404), (route + traversal, response.status_code)
    body = response.get_data(as_text=True)
    assert "MIERUKA_" not in body and "root:" not in body and "import" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", PAGES + API)
def test_methods_other_than_get_are_405_json(client, method, path) -> None:
    response = client.open(path, method=method, data=b"{}", content_type="application/json")
    assert response.status_code == 405, (method, path)
    assert response.get_json()["error"]["status"] == 405
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("path", ["/map", "/api/v1/indicators/population.json", "/healthz"])
def test_head_is_answered_like_get_without_a_body(client, path) -> None:
    response = client.head(path)
    assert response.status_code == 200 and response.get_data() == b""


def test_a_body_over_the_limit_is_413_on_any_route(client, settings) -> None:
    big = b"x" * (settings.max_body_kb * 1024 + 1)
    for path in ["/_dash-update-component", "/api/v1/layers", "/map"]:
        response = client.post(path, data=big, content_type="application/json")
        assert response.status_code in (405, 413), path
        assert response.get_json()["error"]["status"] == response.status_code
    response = client.post("/_dash-update-component", data=big, content_type="application/json")
    assert response.status_code == 413
