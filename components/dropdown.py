"""The one way pages make a dcc.Dropdown: its built-in texts (search box, select all,
"n selected", no match) in the page's language rather than Dash's English defaults."""
from __future__ import annotations

from dash import dcc

from i18n import t

LABELS = ("select_all", "deselect_all", "selected_count", "search", "clear_search", "clear_selection",
          "no_options_found")


def dropdown(lang: str, **props) -> dcc.Dropdown:
    return dcc.Dropdown(labels={key: t(f"dropdown.{key}", lang) for key in LABELS}, **props)
