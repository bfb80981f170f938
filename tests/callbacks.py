"""Dash callback requests as a browser sends them, built from the app's own callback map
and the values of a page's real layout (rendered by the page router, as on a visit)."""
from __future__ import annotations

import json
from typing import Any

ROUTER = ".._pages_content.children..._pages_store.data.."


def _items(declared: list[dict], values: dict[str, Any]) -> list:
    items = []
    for d in declared:
        if d["id"].startswith("{"):  # a pattern (ALL): the matching components, none by default
            items.append(values.get(f'{d["id"]}.{d["property"]}', []))
        else:
            key = f'{d["id"]}.{d["property"]}'
            item = {"id": d["id"], "property": d["property"]}
            if key in values:
                item["value"] = values[key]
            items.append(item)
    return items


def output_for(app, input_key: str) -> str:
    """The output key of the server callback whose first input is "id.property"."""
    return next(key for key, cb in app.callback_map.items()
                if "callback" in cb and f'{cb["inputs"][0]["id"]}.{cb["inputs"][0]["property"]}' == input_key)


def outputs_of(app, output: str) -> list[dict] | dict:
    outs = app.callback_map[output]["output"]
    if not isinstance(outs, list):
        return {"id": outs.component_id_str(), "property": outs.component_property}
    return [{"id": o.component_id_str(), "property": o.component_property.split("@")[0]} for o in outs]


def body(app, output: str, values: dict[str, Any], changed: list[str] | None = None) -> dict:
    """The body of a POST /_dash-update-component for the callback of `output`, its inputs and
    states taken from `values` ("id.property" → value)."""
    cb = app.callback_map[output]
    inputs = _items(cb["inputs"], values)
    return {"output": output, "outputs": outputs_of(app, output), "inputs": inputs,
            "state": _items(cb.get("state", []), values),
            "changedPropIds": changed if changed is not None else [f'{cb["inputs"][0]["id"]}.{cb["inputs"][0]["property"]}']}


def post(client, payload) -> Any:
    data = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return client.post("/_dash-update-component", data=data, content_type="application/json")


def page_layout(app, client, path: str, search: str = "") -> Any:
    """The layout the page router returns for a visit to path?search (what the browser renders)."""
    client.get("/")  # Dash Pages registers its router on the first request
    response = post(client, body(app, ROUTER, {"_pages_location.pathname": path, "_pages_location.search": search},
                                 ["_pages_location.pathname"]))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["response"]["_pages_content"]["children"]


def component_values(tree: Any) -> dict[str, Any]:
    """"id.property" → value of every component with an id in a rendered layout."""
    found: dict[str, Any] = {}

    def walk(node):
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and "type" in node:
                cid = props.get("id")
                if cid is not None:
                    key = cid if isinstance(cid, str) else json.dumps(cid, sort_keys=True, separators=(",", ":"))
                    for prop, value in props.items():
                        found[f"{key}.{prop}"] = value
                for value in props.values():
                    walk(value)
    walk(tree)
    return found
