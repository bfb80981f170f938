"""Pages embedded in an iframe on another site, as the prefecture's web site does: shown
to the origins in MIERUKA_FRAME_ANCESTORS and refused to any other; inside the frame the
map works, keeps `embed=1` as its view changes, and sends links out to a new tab."""
from __future__ import annotations

import time

import pytest

from tests.conftest import LOCAL_TILES, ROOT
from tests.fakes.servers import FileServer
from tests.live_config import running_app

pytestmark = pytest.mark.browser


def host_page(server: FileServer, src: str) -> str:
    """The prefecture's page, with the iframe as the app's own embed code writes it."""
    page = (f'<!doctype html><html lang="ja"><meta charset="utf-8"><title>大阪府</title>'
            f'<link rel="icon" href="data:,"><h1>府のページ</h1><iframe id="mieruka" src="{src}" title="AEDの地図" '
            f'width="720" height="540" allow="geolocation"></iframe>')
    return server.add_file("/aed.html", page.encode(), "text/html; charset=utf-8")


def in_frame(dash_duo, script: str):
    driver = dash_duo.driver
    driver.switch_to.frame(driver.find_element("id", "mieruka"))
    try:
        return driver.execute_script(script)
    finally:
        driver.switch_to.default_content()


def wait_in_frame(dash_duo, script: str, message: str, timeout: float = 20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = in_frame(dash_duo, script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {message} in the frame")


def test_an_allowed_site_shows_the_embedded_map_and_any_other_is_refused(dash_duo, tmp_path):
    with FileServer() as prefecture, FileServer() as stranger:
        with running_app(ROOT / "config" / "osaka.toml", tmp_path / "cache", MIERUKA_TILE_URL=LOCAL_TILES,
                         MIERUKA_FRAME_ANCESTORS=f"'self' {prefecture.url}") as base:
            dash_duo.driver.get(host_page(prefecture, f"{base}/map?layers=aed&embed=1"))
            wait_in_frame(dash_duo, "return document.querySelector('#map .mk-marker-aed, #map .mk-cluster-aed');",
                          "the AED markers on Dash's page")
            shown = in_frame(dash_duo, """return {
                nav: !!document.querySelector('.mk-nav'),
                open: document.querySelector('.mk-embed-open').href,
                sample: document.querySelector('.mk-sample').innerText,
                base: (document.querySelector('base') || {}).target};""")
            assert shown["nav"] is False
            assert shown["open"] == f"{base}/map?layers=aed"
            assert "サンプルデータ" in shown["sample"]
            assert shown["base"] == "_blank"  # links leave the frame for a new tab
            # changing the view rewrites the frame's address; it stays embedded
            in_frame(dash_duo, "document.querySelector('#map-view input[value=\"list\"]').click();")
            search = wait_in_frame(dash_duo, "var s = window.location.search; return s.indexOf('view=list') >= 0 && s;",
                                   "the list view in the address")
            assert "embed=1" in search and "layers=aed" in search
            # "near me" works in the frame: the site hands the position on (allow="geolocation")
            driver = dash_duo.driver
            driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"]})
            driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                                   {"latitude": 34.6937, "longitude": 135.5022, "accuracy": 10})
            in_frame(dash_duo, "document.querySelector('#map-view input[value=\"map\"]').click();"
                               "document.getElementById('near-me').click();")
            assert wait_in_frame(dash_duo, "return document.querySelectorAll('#near-list ol li').length;",
                                 "the places near the position") == 10

            dash_duo.driver.get(host_page(stranger, f"{base}/map?layers=aed&embed=1"))
            time.sleep(2)  # long enough for the map to draw, were it allowed to
            assert in_frame(dash_duo, "return document.querySelector('.mk-app');") is None
    logs = [e["message"] for e in dash_duo.get_logs()]
    assert [m for m in logs if "frame-ancestors" not in m] == []
    assert any("frame-ancestors" in m for m in logs)  # the refusal was the policy's


def test_a_dashboard_gives_the_code_that_embeds_the_view_on_screen(dash_duo, dash_app):
    import html
    import re

    dash_duo.driver.set_window_size(1280, 1000)
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/dashboard/crime?area=272035&pc=1")
    dash_duo.wait_for_element("#ind-table tbody tr")
    box = dash_duo.find_element(".mk-embed-code")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView();", box)
    box.find_element("css selector", "summary").click()
    code = box.find_element("css selector", "textarea").get_attribute("value")
    assert code.startswith("<iframe ") and 'title="街頭犯罪（見える化）"' in code and 'loading="lazy"' in code
    assert 'allow="geolocation"' in code  # so that "near me" works in the frame
    src = html.unescape(re.search(r'src="([^"]+)"', code).group(1))
    assert src.startswith(f"{dash_duo.server_url}/dashboard/crime?") and "area=272035" in src and "pc=1" in src
    assert src.endswith("embed=1")
    box.find_element("css selector", ".mk-embed-copy").click()
    dash_duo.wait_for_text_to_equal(".mk-embed-copied", "コピーしました")
    # the code shows that view, embedded
    dash_duo.driver.get(src)
    dash_duo.wait_for_element(".mk-embed-bar")
    dash_duo.wait_for_element("#ind-table tbody tr")
    rows = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#ind-table tbody tr > :first-child')).map(td => td.textContent);")
    assert "豊中市" in rows
    assert "10万人" in dash_duo.find_element("#ind-table").text  # still per capita
    assert dash_duo.get_logs() == []
