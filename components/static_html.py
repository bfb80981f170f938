"""A page's Dash layout written as plain HTML, for the browser to paint before Dash starts.

The /map page's HTML carries its own layout as static markup (app.py, `boot_shell`), so that
the header, the controls and the map's box are on the screen, and the map is drawn from the
preloaded layer data (assets/mieruka-map.js), while the browser is still running Dash's
scripts. When Dash's page mounts, the map moves into it and the static copy is removed
(assets/mieruka-map-view.js) — so the copy must put the map where the real page will.

html.* components become their tags; of dcc's, the ones the map page uses are drawn with
the markup Dash 4 gives them (so the app's CSS sizes them alike), stores are left out and
anything else becomes an empty box with its class. No id is written (the real page has
them), except the map's box, renamed `BOOT_MAP`. Every text and attribute is escaped.
"""
from __future__ import annotations

import json
from html import escape
from typing import Any

BOOT_MAP = "mk-boot-map"
MAP_ID = "map"

# HTML elements without an end tag
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Dash props that are not HTML attributes
_NOT_ATTRIBUTES = {"children", "id", "n_clicks", "n_clicks_timestamp", "disable_n_clicks", "key", "loading_state",
                   "setProps", "n_submit", "n_blur", "debounce"}
_RENAMED = {"className": "class", "htmlFor": None, "tabIndex": "tabindex", "colSpan": "colspan",
            "rowSpan": "rowspan", "autoComplete": "autocomplete", "maxLength": "maxlength", "inputMode": "inputmode"}


def to_html(node: Any) -> str:
    """The markup of a layout (a component, a string or number, a list of them, or None)."""
    out: list[str] = []
    _write(node, out)
    return "".join(out)


def stores(node: Any) -> dict[str, Any]:
    """The data of every dcc.Store in a layout, by id (what the page's scripts read first)."""
    found: dict[str, Any] = {}

    def walk(n: Any) -> None:
        if isinstance(n, (list, tuple)):
            for child in n:
                walk(child)
            return
        if not hasattr(n, "to_plotly_json"):
            return
        if getattr(n, "_type", "") == "Store" and isinstance(getattr(n, "id", None), str):
            found[n.id] = getattr(n, "data", None)
        walk(getattr(n, "children", None))

    walk(node)
    return found


def json_script(element_id: str, data: Any) -> str:
    """`data` as a <script type=application/json> (data, not code: a strict CSP allows it);
    <, > and & are escaped so that no string in it can close the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{escape(element_id)}">{text}</script>'


def _write(node: Any, out: list[str]) -> None:
    if node is None or isinstance(node, bool):
        return
    if isinstance(node, (list, tuple)):
        for child in node:
            _write(child, out)
        return
    if isinstance(node, (str, int, float)):
        out.append(escape(str(node), quote=False))
        return
    namespace, kind = getattr(node, "_namespace", ""), getattr(node, "_type", "")
    if namespace == "dash_html_components":
        _element(kind.lower(), _props(node), getattr(node, "children", None), out)
    elif namespace == "dash_core_components":
        _core(kind, node, out)


def _props(node: Any) -> dict[str, Any]:
    props = {k: v for k, v in node.to_plotly_json()["props"].items() if k not in _NOT_ATTRIBUTES}
    if getattr(node, "id", None) == MAP_ID:
        props["id"] = BOOT_MAP
    return props


def _element(tag: str, props: dict[str, Any], children: Any, out: list[str]) -> None:
    out.append(f"<{tag}{_attributes(props)}>")
    if tag in _VOID:
        return
    _write(children, out)
    out.append(f"</{tag}>")


def _attributes(props: dict[str, Any]) -> str:
    parts = []
    for key, value in props.items():
        name = _RENAMED.get(key, key)
        if name is None or value is None or value is False or callable(value):
            continue
        if key == "style" and isinstance(value, dict):
            value = ";".join(f"{_css_name(k)}:{v}" for k, v in value.items())
        if value is True:
            parts.append(f" {escape(name)}")
        elif isinstance(value, (str, int, float)):
            parts.append(f' {escape(name)}="{escape(str(value))}"')
    return "".join(parts)


def _css_name(key: str) -> str:
    if key.startswith("--"):
        return key
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in key)


def _core(kind: str, node: Any, out: list[str]) -> None:
    if kind == "Store":
        return
    if kind in ("RadioItems", "Checklist"):
        _options(kind, node, out)
    elif kind == "Input":
        out.append(f'<div class="dash-input-container dash-input {escape(getattr(node, "className", None) or "")}">')
        _element("input", {"class": "dash-input-element", "type": getattr(node, "type", None) or "text",
                           "placeholder": getattr(node, "placeholder", None),
                           "value": getattr(node, "value", None)}, None, out)
        out.append("</div>")
    elif kind == "Dropdown":
        chosen = [o for o in _normalised(getattr(node, "options", None) or []) if o["value"] == getattr(node, "value", None)]
        out.append('<div class="dash-dropdown-wrapper"><button type="button" tabindex="-1" class="dash-dropdown">'
                   '<span class="dash-dropdown-grid-container dash-dropdown-trigger">'
                   '<span class="dash-dropdown-value' + ("" if chosen else " dash-dropdown-placeholder") + '">')
        _write(chosen[0]["label"] if chosen else getattr(node, "placeholder", None), out)
        out.append("</span></span></button></div>")
    else:
        _element("div", {"class": getattr(node, "className", None)}, None, out)


def _options(kind: str, node: Any, out: list[str]) -> None:
    """Dash 4's RadioItems and Checklist: a role=listbox of labels, each an input and its text."""
    value = getattr(node, "value", None)
    chosen = set(value or []) if kind == "Checklist" else {value}
    box = "radio" if kind == "RadioItems" else "checkbox"
    css = f"dash-options-list dash-{kind.lower()} {getattr(node, 'className', None) or ''}".strip()
    out.append(f'<div class="{escape(css)}" role="listbox">')
    for option in _normalised(getattr(node, "options", None) or []):
        on = option["value"] in chosen
        out.append(f'<label class="dash-options-list-option{" selected" if on else ""}" role="option">'
                   '<span class="dash-options-list-option-wrapper">')
        _element("input", {"type": box, "class": f"dash-options-list-option-checkbox {getattr(node, 'inputClassName', None) or ''}".strip(),
                           "checked": on, "tabindex": "-1"}, None, out)
        out.append(f'</span><span class="dash-options-list-option-text {escape(getattr(node, "labelClassName", None) or "")}">')
        label = option["label"]
        if isinstance(label, (str, int, float)):
            out.append("<span>")
            _write(label, out)
            out.append("</span>")
        else:
            _write(label, out)
        out.append("</span></label>")
    out.append("</div>")


def _normalised(options: Any) -> list[dict[str, Any]]:
    if isinstance(options, dict):
        return [{"label": label, "value": value} for value, label in options.items()]
    return [o if isinstance(o, dict) else {"label": o, "value": o} for o in options]
