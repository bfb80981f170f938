"""What a screen reader gets: every control on every page has a name (Chrome's own
accessibility tree, as assistive technology reads it); each page has one main heading and a
title in its own language."""
from __future__ import annotations

import time

import pytest

from tests.browser.test_security import PAGES

pytestmark = pytest.mark.browser

CONTROLS = {"button", "link", "textbox", "searchbox", "combobox", "checkbox", "radio", "listbox", "option",
            "slider", "spinbutton", "tab", "switch", "menuitem"}


def unnamed_controls(driver) -> list[str]:
    nodes = driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
    found = []
    for node in nodes:
        role = (node.get("role") or {}).get("value")
        name = ((node.get("name") or {}).get("value") or "").strip()
        if not node.get("ignored") and role in CONTROLS and not name:
            described = driver.execute_cdp_cmd("DOM.describeNode", {"backendNodeId": node["backendDOMNodeId"]})["node"]
            attributes = dict(zip(described.get("attributes", [])[::2], described.get("attributes", [])[1::2]))
            found.append(f"{role} <{described['localName']} id={attributes.get('id')} class={attributes.get('class')}>")
    return found


def test_every_control_has_a_name_and_every_page_one_heading(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    for path, drawn in [*PAGES, ("/map?view=list&layers=aed", "#list-table tbody tr")]:
        dash_duo.driver.get(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_element(drawn, timeout=20)
        assert unnamed_controls(dash_duo.driver) == [], path
        assert len(dash_duo.driver.find_elements("css selector", "h1")) == 1, path


def test_each_page_is_titled_in_its_own_language(dash_duo, dash_app, ctx):
    dash_duo.start_server(dash_app)
    crime = ctx.deployment.indicator("crime").title
    for path, drawn, title in [
        ("/dashboard/crime", "#ind-series .main-svg", f"{crime['ja']} — 見える化 大阪"),
        ("/dashboard/crime?lang=en", "#ind-series .main-svg", f"{crime['en']} — Mieruka Osaka"),
        ("/map?lang=en", "#map .leaflet-container", "Map — Mieruka Osaka"),
        ("/data", "#dataset-toilets", "データ一覧 — 見える化 大阪"),
    ]:
        dash_duo.driver.get(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_element(drawn, timeout=20)
        deadline = time.time() + 10
        while dash_duo.driver.title != title and time.time() < deadline:
            time.sleep(0.1)
        assert dash_duo.driver.title == title, path
