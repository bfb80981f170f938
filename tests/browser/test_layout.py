"""Every page fits the width of the screen it is on: nothing makes a phone's page scroll
sideways (a wobble that makes reading and tapping hard)."""
from __future__ import annotations

import pytest

from tests.browser.test_security import PAGES

pytestmark = pytest.mark.browser

OVERFLOW = """
var width = document.documentElement.clientWidth, wide = [];
document.querySelectorAll('body *').forEach(function (e) {
  var r = e.getBoundingClientRect();
  if (r.width > 0 && r.right > width + 1 && !e.closest('.leaflet-container, .mk-code, .mk-table-wrap, .js-plotly-plot'))
    wide.push(e.tagName.toLowerCase() + '.' + String(e.className).split(' ')[0] + ' → ' + Math.round(r.right) + 'px');
});
return {scroll: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 5)};"""


@pytest.mark.parametrize("width", [390, 1024])
def test_no_page_is_wider_than_the_screen(dash_duo, dash_app, width):
    dash_duo.driver.set_window_size(width, 900)
    dash_duo.start_server(dash_app)
    english = [(path + ("&" if "?" in path else "?") + "lang=en", drawn) for path, drawn in PAGES]
    for path, drawn in [*PAGES, *english, ("/dashboard/crime?embed=1", "#ind-series .main-svg")]:
        dash_duo.driver.get(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_element(drawn, timeout=20)
        found = dash_duo.driver.execute_script(OVERFLOW)
        assert found["scroll"] <= found["width"] and found["wide"] == [], (path, found)


def test_a_printed_dashboard_keeps_charts_table_and_sample_notice_not_the_controls(dash_duo, dash_app):
    dash_duo.driver.set_window_size(1024, 900)
    dash_duo.start_server(dash_app)
    dash_duo.driver.get(f"{dash_duo.server_url}/dashboard/crime")
    dash_duo.wait_for_element("#ind-series .main-svg", timeout=20)
    dash_duo.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    shown = dash_duo.driver.execute_script("""
        var seen = s => Array.from(document.querySelectorAll(s)).some(e => e.getClientRects().length > 0);
        return {nav: seen('.mk-nav'), controls: seen('.mk-controls'), modebar: seen('.modebar-container'),
                sample: seen('.mk-sample'), chart: seen('#ind-series .main-svg'), table: seen('#ind-table tbody tr'),
                provenance: seen('.mk-provenance, dl')};""")
    assert shown == {"nav": False, "controls": False, "modebar": False,
                     "sample": True, "chart": True, "table": True, "provenance": True}
