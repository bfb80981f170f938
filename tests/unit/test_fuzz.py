"""Fuzzing what a caller controls (issue 9): every query parameter of every API and page route,
and the bodies of /_dash-update-component, mutated from real ones. Whatever arrives, the
answer is never ≥ 500 and the log holds no ERROR and no traceback. Example counts are
bounded (settings below); no wall-clock deadline."""
from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests import callbacks as cbs

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

API_ROUTES = {
    "/api/v1/layers": [],
    "/api/v1/layers/aed.geojson": ["profile"],
    "/api/v1/layers/toilets.csv": [],
    "/api/v1/indicators": [],
    "/api/v1/indicators/population.json": ["area", "from", "to", "per_capita", "measure", "breakdown", "lang"],
    "/api/v1/indicators/crime.csv": ["area", "from", "to", "per_capita", "measure", "breakdown", "lang"],
    "/api/v1/areas/271004.json": ["lang"],
    "/api/v1/areas/27100.csv": ["lang"],
    "/healthz": [],
}
PAGE_ROUTES = {
    "/": ["lang", "embed"],
    "/map": ["lang", "layers", "f.toilets.wheelchair", "f.events.when", "f.air-quality.level", "area", "q", "base",
             "view", "sel", "lat", "lon", "z", "embed"],
    "/dashboard": ["lang", "area", "embed"],
    "/dashboard/population": ["lang", "measure", "area", "from", "to", "pc", "embed"],
    "/dashboard/air": ["lang", "measure", "area", "from", "to", "pc"],
    "/data": ["lang"], "/about": ["lang"], "/nope": ["lang"],
}

values = st.one_of(
    st.sampled_from(["", "1", "0", "en", "ja", "271004", "27100", "270008", "2025", "2025-10", "2026-11-01",
                     "total", "map", "full", "aed,toilets", "toilets:x", "..", "-1", "1e309", "nan", "%00", "\x00"]),
    st.text(max_size=40),
    st.lists(st.sampled_from(["271004", "27100", "x", ""]), max_size=600).map(",".join),
)


def _query(keys):
    return st.lists(st.tuples(st.sampled_from(keys or ["x"]), values), max_size=6).map(urlencode)


def _no_errors(caplog, what) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, (what, [r.getMessage()[:200] for r in bad])


@pytest.fixture(scope="module")
def layouts(dash_app, client):
    """Real layouts' values for the pages with server callbacks, "id.property" → value."""
    return {path: cbs.component_values(cbs.page_layout(dash_app, client, path))
            for path in ("/dashboard/population", "/dashboard/air", "/dashboard", "/map")}


@pytest.mark.parametrize("route", sorted(API_ROUTES))
def test_api_query_parameters(client, caplog, route) -> None:
    @FUZZ
    @given(query=_query(API_ROUTES[route] + ["zz"]))
    def run(query):
        caplog.clear()
        response = client.get(f"{route}?{query}")
        assert response.status_code < 500, (route, query, response.get_data(as_text=True)[:200])
        if response.status_code >= 400:
            assert response.get_json()["error"]["status"] == response.status_code
        _no_errors(caplog, query)
    run()


@pytest.mark.parametrize("route", sorted(PAGE_ROUTES))
def test_page_query_parameters(dash_app, client, caplog, route) -> None:
    @FUZZ
    @given(query=_query(PAGE_ROUTES[route]))
    def run(query):
        caplog.clear()
        shell = client.get(f"{route}?{query}")
        assert shell.status_code in (200, 404, 414), (route, query)
        layout = cbs.post(client, cbs.body(dash_app, cbs.ROUTER, {"_pages_location.pathname": route,
                                                                  "_pages_location.search": f"?{query}"},
                                           ["_pages_location.pathname"]))
        assert layout.status_code == 200, (route, query, layout.get_data(as_text=True)[:200])
        _no_errors(caplog, query)
    run()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20),
              st.sampled_from(["271004", "total", "population", "ja", "en", "2025-10", "aed:1", "toilets"])),
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(st.text(max_size=8), children, max_size=5)),
    max_leaves=20)


def _server_callbacks(dash_app) -> list[str]:
    return sorted(k for k, cb in dash_app.callback_map.items() if "callback" in cb)


@st.composite
def mutated_bodies(draw, dash_app, layouts):
    output = draw(st.sampled_from(_server_callbacks(dash_app)))
    page = draw(st.sampled_from(sorted(layouts)))
    body = cbs.body(dash_app, output, layouts[page])
    kind = draw(st.sampled_from(["value", "value", "drop", "null", "nest", "huge", "key"]))
    items = [i for i in body["inputs"] + body["state"] if isinstance(i, dict)]
    if kind == "value" and items:
        draw(st.sampled_from(items))["value"] = draw(json_values)
    elif kind == "drop":
        del body[draw(st.sampled_from(sorted(body)))]
    elif kind == "null":
        body[draw(st.sampled_from(sorted(body)))] = None
    elif kind == "nest" and items:
        depth = draw(st.integers(1, 3000))
        draw(st.sampled_from(items))["value"] = json.loads("[" * depth + "]" * depth) if depth < 900 else None
        if depth >= 900:
            return json.dumps(body)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    elif kind == "huge" and items:
        draw(st.sampled_from(items))["value"] = [draw(json_values)] * draw(st.integers(0, 20_000))
    elif kind == "key":
        body[draw(st.sampled_from(["output", "inputs", "state", "changedPropIds"]))] = draw(json_values)
    return body


def test_callback_bodies(dash_app, client, layouts, caplog) -> None:
    @settings(FUZZ, max_examples=150)
    @given(body=mutated_bodies(dash_app, layouts))
    def run(body):
        caplog.clear()
        response = cbs.post(client, body)
        assert response.status_code < 500, (str(body)[:300], response.get_data(as_text=True)[:300])
        _no_errors(caplog, str(body)[:200])
    run()
