"""An accessible sortable table: real <table>, <caption>, scoped headers, and a button in
each header (keyboard-operable) that sorts by that column; aria-sort says the order.

Cells are built as plain component dicts ({type, namespace, props}), which Dash renders
like components: a table of a few hundred rows is built in ~3 ms instead of ~70 ms."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from i18n import t


def el(tag: str, children: Any = None, **props: Any) -> dict:
    """A dash_html_components element as the renderer receives it."""
    if children is not None:
        props["children"] = children
    return {"type": tag, "namespace": "dash_html_components", "props": props}


def sort_id(table: str, key: str) -> dict:
    return {"type": "table-sort", "table": table, "key": key}


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Sorted by `key`; missing values always last, whatever the direction."""
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    present.sort(key=lambda r: r[key], reverse=descending)
    return present + missing


def sortable_table(table_id: str, columns: Sequence[tuple[str, str]], rows: list[dict[str, Any]],
                   sort: dict | None, lang: str, caption: str,
                   render: dict[str, Callable[[Any], Any]] | None = None, numeric: Sequence[str] = ()) -> dict:
    render = render or {}
    sort = sort or {}
    key, descending = sort.get("key"), sort.get("dir") == "desc"
    if key:
        rows = sort_rows(rows, key, descending)
    head = []
    for col, label in columns:
        state = ("descending" if descending else "ascending") if col == key else "none"
        arrow = (" ▼" if descending else " ▲") if col == key else " ↕"
        button = el("Button", [label, el("Span", arrow, **{"aria-hidden": "true"})], id=sort_id(table_id, col),
                    n_clicks=0, className="mk-sort", title=t("map.sort_by", lang, column=label))
        head.append(el("Th", button, scope="col", className="mk-num" if col in numeric else None,
                       **{"aria-sort": state}))
    body = []
    for row in rows:
        cells = []
        for i, (col, _label) in enumerate(columns):
            value = row.get(col)
            shown = render[col](value) if col in render else ("—" if value is None else value)
            cls = "mk-num" if col in numeric else None
            cells.append(el("Th", shown, scope="row", className=cls) if i == 0 else el("Td", shown, className=cls))
        body.append(el("Tr", cells))
    table = el("Table", [el("Caption", caption), el("Thead", el("Tr", head)), el("Tbody", body)],
               id=table_id, className="mk-table")
    return el("Div", table, className="mk-table-wrap")


def next_sort(current: dict | None, key: str) -> dict:
    """Clicking the sorted column reverses it; another column starts ascending."""
    if current and current.get("key") == key and current.get("dir") == "asc":
        return {"key": key, "dir": "desc"}
    return {"key": key, "dir": "asc"}
