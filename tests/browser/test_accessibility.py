"""What a screen reader gets: every control on every page has a name (Chrome's own
accessibility tree, as assistive technology reads it), and each page has one main heading."""
from __future__ import annotations

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
