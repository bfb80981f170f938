"""Reading Dash component trees in tests: every node, and the text a person would see."""
from __future__ import annotations

from dash.development.base_component import Component


def walk(node):
    """Every component and string under `node` (a component, a list, a tuple or text)."""
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from walk(child)
        return
    yield node
    if isinstance(node, Component):
        yield from walk(getattr(node, "children", None))


def text_of(node) -> str:
    return "".join(n for n in walk(node) if isinstance(n, str))
