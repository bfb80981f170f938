"""Pages in an iframe on another site (embed=1): a slim bar instead of the site's header,
a way out to the full page, the sample-data notice kept."""
from __future__ import annotations

import importlib
import urllib.parse

import pytest

from tests.component_text import text_of, walk


def layout(dash_app, module: str, path: str, **params):
    page = importlib.import_module(module)
    with dash_app.server.test_request_context(path):
        return page.layout(**params)


def nodes(page, class_name: str):
    return [n for n in walk(page) if class_name in (getattr(n, "className", None) or "").split()]


@pytest.mark.parametrize(("module", "path", "params"), [
    ("pages.map", "/map", {"layers": "aed"}),
    ("pages.indicator", "/dashboard/crime", {"indicator_id": "crime"}),
    ("pages.dashboard", "/dashboard", {}),
])
def test_an_embedded_page_has_a_slim_bar_and_a_way_to_the_full_page(dash_app, module, path, params):
    page = layout(dash_app, module, path, **params, embed="1")
    assert nodes(page, "mk-embed") and not nodes(page, "mk-header") and not nodes(page, "mk-nav")
    assert not [n for n in walk(page) if type(n).__name__ == "Footer"]
    (open_full,) = nodes(page, "mk-embed-open")
    assert open_full.target == "_blank"
    assert "見える化で開く" in text_of(open_full) and "新しいタブ" in text_of(open_full)
    full = urllib.parse.urlparse(open_full.href)
    query = {k: v for k, v in params.items() if k != "indicator_id"}
    assert full.path == path and urllib.parse.parse_qs(full.query) == {k: [v] for k, v in query.items()}
    # the notice that the data are invented is not something an embedding site can hide
    assert "サンプル" in text_of(nodes(page, "mk-sample"))  # the sample notice stays in the frame
    # the language switch stays inside the frame and keeps it embedded
    (lang,) = [n for n in walk(page) if getattr(n, "id", None) == "lang-link"]
    assert lang.target == "_self"
    assert urllib.parse.parse_qs(urllib.parse.urlparse(lang.href).query)["embed"] == ["1"]


def test_a_page_outside_a_frame_keeps_its_header_and_footer(dash_app):
    page = layout(dash_app, "pages.map", "/map", layers="aed")
    assert nodes(page, "mk-header") and not nodes(page, "mk-embed-bar")
    assert [n for n in walk(page) if type(n).__name__ == "Footer"]


def test_pages_offer_their_embed_code_unless_already_embedded(dash_app):
    for module, path, params in [("pages.map", "/map", {}), ("pages.indicator", "/dashboard/crime", {"indicator_id": "crime"})]:
        assert nodes(layout(dash_app, module, path, **params), "mk-embed-code"), module
        assert not nodes(layout(dash_app, module, path, **params, embed="1"), "mk-embed-code"), module
    (box,) = nodes(layout(dash_app, "pages.indicator", "/dashboard/crime", indicator_id="crime"), "mk-embed-code")
    assert getattr(box, "data-title") == "街頭犯罪（見える化）"
    (example,) = nodes(layout(dash_app, "pages.about", "/about"), "mk-embed-code")
    assert getattr(example, "data-path") == "/map?layers=aed" and example.open is True
