"""Every page works under the app's strict Content-Security-Policy: nothing is blocked, the
pages draw (Dash's renderer, the map, plotly charts), and the browser reports no violation."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = [
    ("/", ".mk-home, main"),
    ("/map", "#map .mk-cluster-toilets, #map .mk-marker-toilets"),
    ("/dashboard", ".mk-kpi-number"),
    ("/dashboard/crime", "#ind-series .main-svg"),
    ("/data", "#dataset-toilets"),
    ("/about", ".mk-table tbody tr"),
]


def csp_violations(dash_duo) -> list[str]:
    return [entry["message"] for entry in dash_duo.driver.get_log("browser")
            if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]]


def test_every_page_draws_under_the_content_security_policy(dash_duo, dash_app, client):
    policy = client.get("/map").headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'self'" in policy
    dash_duo.start_server(dash_app)
    dash_duo.driver.get_log("browser")  # start from a clean log
    for path, drawn in PAGES:
        dash_duo.driver.get(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_element(drawn, timeout=20)
        assert csp_violations(dash_duo) == [], path
