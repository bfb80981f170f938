"""The /map page's static copy (components/static_html.py, app.py boot_shell): the layout as
HTML the browser paints before Dash starts, with the view state the map is drawn from."""
from __future__ import annotations

import html as stdlib_html
import json
import re
import urllib.parse
from html.parser import HTMLParser

from dash import dcc, html

from components.static_html import BOOT_MAP, json_script, stores, to_html

HOSTILE = '"><script>alert(1)</script>&'


def boot_data(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="mk-boot-data">(.*?)</script>', page, re.S)
    assert match, "no boot data in the page"
    return json.loads(match.group(1))


def shell_of(page: str) -> str:
    start = page.index('<div class="mk-boot"')
    return page[start:page.index('<script type="application/json" id="mk-boot-data">')]


def parsed(markup: str) -> list:
    """Markup as (start tag, attributes in any order) / text / end tag events."""
    events: list = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            events.append((tag, frozenset(attrs)))

        def handle_endtag(self, tag):
            events.append("/" + tag)

        def handle_data(self, data):
            events.append(data)

    Parser().feed(markup)
    return events


def checked_boxes(markup: str, kind: str) -> list[bool]:
    return [" checked" in tag for tag in re.findall(rf'<input type="{kind}"[^>]*>', markup)]


def test_html_components_become_their_tags_with_attributes_and_no_ids():
    tree = html.Div(id="page", className="a b", style={"marginTop": "2px", "--mk-colour": "#fff"}, lang="ja",
                    children=[html.Details(open=True, children=[html.Summary("開く")]),
                              html.Label("名", htmlFor="page"), html.Br(), 3, None,
                              html.Span(**{"aria-hidden": "true", "data-x": "1"})])
    assert parsed(to_html(tree)) == parsed(
        '<div class="a b" lang="ja" style="margin-top:2px;--mk-colour:#fff">'
        '<details open><summary>開く</summary></details><label>名</label><br>3'
        '<span aria-hidden="true" data-x="1"></span></div>')


def test_the_map_box_alone_keeps_an_id_renamed_for_the_copy():
    assert to_html(html.Div(html.Div(id="map", className="mk-leaflet"), id="x")) == \
        f'<div><div class="mk-leaflet" id="{BOOT_MAP}"></div></div>'


def test_hostile_text_and_attributes_are_escaped():
    out = to_html(html.A(HOSTILE, href=HOSTILE, title=HOSTILE))
    assert "<script>" not in out
    assert out.count("&lt;script&gt;") == 3
    assert stdlib_html.unescape(re.search(r'href="([^"]*)"', out).group(1)) == HOSTILE


def test_choices_are_drawn_as_dash_draws_them_with_the_chosen_ones_checked():
    radios = to_html(dcc.RadioItems(id="v", value="list", className="mk-tabs", inputClassName="i",
                                    labelClassName="t", options=[{"label": "地図", "value": "map"},
                                                                 {"label": "一覧", "value": "list"}]))
    assert radios.startswith('<div class="dash-options-list dash-radioitems mk-tabs" role="listbox">')
    labels = re.findall(r'<label class="([^"]*)".*?</label>', radios)
    assert labels == ["dash-options-list-option", "dash-options-list-option selected"]
    assert checked_boxes(radios, "radio") == [False, True]
    assert '<span class="dash-options-list-option-text t"><span>一覧</span></span>' in radios

    checks = to_html(dcc.Checklist(value=["a", "c"], options=[{"label": html.B("A"), "value": "a"}, "b", "c"]))
    assert checked_boxes(checks, "checkbox") == [True, False, True]
    assert "<b>A</b>" in checks and "<span>b</span>" in checks


def test_inputs_dropdowns_and_stores():
    assert 'value="本町"' in to_html(dcc.Input(value="本町", type="search", placeholder="例", className="mk-input"))
    chosen = to_html(dcc.Dropdown(options=[{"label": "堺市", "value": "27140"}], value="27140", placeholder="すべて"))
    assert ">堺市<" in chosen and "placeholder" not in chosen
    assert "すべて" in to_html(dcc.Dropdown(options=[], value=None, placeholder="すべて"))
    tree = html.Div([dcc.Store(id="s", data={"a": [1]}), html.Div(dcc.Store(id="t", data="x"))])
    assert to_html(tree) == "<div><div></div></div>"
    assert stores(tree) == {"s": {"a": [1]}, "t": "x"}


def test_json_in_a_script_element_cannot_close_it():
    out = json_script("d", {"q": "</script><script>alert(1)</script>"})
    assert out.count("</script>") == 1 and "<script>alert" not in out
    assert boot_data(out.replace('id="d"', 'id="mk-boot-data"')) == {"q": "</script><script>alert(1)</script>"}


def test_the_map_page_arrives_with_its_view_drawn_in_html_and_its_state(client):
    query = urllib.parse.urlencode({"layers": "toilets", "lang": "en", "q": HOSTILE})
    page = client.get(f"/map?{query}").get_data(as_text=True)
    shell = shell_of(page)
    assert "<script" not in shell
    assert f'id="{BOOT_MAP}"' in shell and 'id="map"' not in shell
    assert ">Map<" in shell and "Public toilets" in shell  # the English page, as Dash will draw it
    layers = re.search(r'<div class="[^"]*mk-layers".*?</fieldset>', shell, re.S).group(0)
    assert checked_boxes(layers, "checkbox").count(True) == 1  # only toilets on
    state = boot_data(page)["state"]
    assert state["layers"] == ["toilets"] and state["q"] == HOSTILE and state["lang"] == "en"
    assert [layer["id"] for layer in boot_data(page)["meta"]["layers"]][:1] == ["baby-stations"]


def test_other_pages_start_without_a_copy(client):
    for path in ("/", "/dashboard/crime", "/data"):
        assert "mk-boot" not in client.get(path).get_data(as_text=True)


def test_dash_scripts_wait_on_the_map_page(client):
    """On /map React, Dash's renderer and the components are of a type that neither runs nor is
    fetched (assets/mieruka-base.js fetches them once the map's data is in and runs them after
    its first draw), in their order; other pages run them as usual."""
    page = client.get("/map").get_data(as_text=True)
    held = re.findall(r'<script type="text/x-mieruka-later" src="([^"]+)"></script>', page)
    assert [src for src in held if "react@" in src or "dash_renderer" in src or "dash_html_components" in src]
    assert [src.split("/")[-2] for src in held][:2] == ["deps", "deps"]  # React before the renderer, as Dash orders
    assert held.index(next(s for s in held if "dash_renderer" in s)) < held.index(next(s for s in held if "/dcc/" in s))
    assert not re.findall(r'<link rel="preload" as="script"', page)  # the map's data has the connections first
    # …after the stylesheets, which the first paint (and the map's scripts) wait for
    stylesheets = [m.start() for m in re.finditer(r'<link rel="stylesheet"', page)]
    data = [m.start() for m in re.finditer(r'<link rel="preload" as="fetch"[^>]*\.points\.json', page)]
    assert stylesheets and data and max(stylesheets) < min(data)
    assert not re.findall(r'<script src="[^"]*_dash-component-suites', page)  # none runs by itself
    # the start-up line mieruka-base.js stands in for, as text; a renderer given hooks would need them there too
    assert '<script id="_dash-renderer" type="text/plain">var renderer = new DashRenderer();</script>' in page
    assert page.index("/assets/vendor/leaflet.js") < page.index("/assets/mieruka-map.js")

    other = client.get("/data").get_data(as_text=True)
    assert "text/x-mieruka-later" not in other and re.findall(r'<script src="[^"]*dash_renderer', other)
    assert '<script id="_dash-renderer" type="application/javascript">' in other
