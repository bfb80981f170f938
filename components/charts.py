"""The app's chart conventions: one plotly template (colour-blind-safe Okabe–Ito colours,
Japanese-capable fonts, titles and units on every axis) and a tiny SVG sparkline for
cards, which needs no plotly at all."""
from __future__ import annotations

import base64
from functools import lru_cache
from typing import Sequence

import plotly.graph_objects as go
import plotly.io as pio

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442", "#7F7F7F"]
FONT = '"Noto Sans JP", "Hiragino Sans", "Yu Gothic UI", Meiryo, system-ui, sans-serif'

pio.templates["mieruka"] = go.layout.Template(layout=go.Layout(
    colorway=PALETTE,
    font={"family": FONT, "size": 13, "color": "#1b1b1f"},
    paper_bgcolor="#ffffff",
    plot_bgcolor="#ffffff",
    margin={"l": 60, "r": 16, "t": 56, "b": 40},
    hoverlabel={"font": {"family": FONT}},
    legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
    xaxis={"showgrid": False, "linecolor": "#8a8a96", "ticks": "outside", "automargin": True},
    yaxis={"gridcolor": "#e4e4ea", "zerolinecolor": "#8a8a96", "separatethousands": True, "automargin": True},
    separators=".,",
))
TEMPLATE = "mieruka"


@lru_cache(maxsize=1)
def template_json() -> dict:
    """The template as plotly.js takes it inside a figure dict (names exist only in Python)."""
    return pio.templates[TEMPLATE].to_plotly_json()


def sparkline_src(values: Sequence[float | None], colour: str, width: int = 160, height: int = 40) -> str | None:
    """An SVG polyline of `values` (gaps where None) as a data: URI, or None without data."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return None
    low, high = min(v for _, v in points), max(v for _, v in points)
    span = (high - low) or 1.0
    step = (width - 4) / max(len(values) - 1, 1)

    def xy(i, v):
        return f"{2 + i * step:.1f},{height - 3 - (v - low) / span * (height - 6):.1f}"

    segments, current = [], []
    for i, v in enumerate(values):
        if v is None:
            if len(current) > 1:
                segments.append(current)
            current = []
        else:
            current.append(xy(i, v))
    if len(current) > 1:
        segments.append(current)
    last_x, last_y = xy(*points[-1]).split(",")
    lines = "".join(f'<polyline points="{" ".join(s)}" fill="none" stroke="{colour}" stroke-width="2" '
                    f'stroke-linejoin="round" stroke-linecap="round"/>' for s in segments)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
           f'{lines}<circle cx="{last_x}" cy="{last_y}" r="3" fill="{colour}"/></svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
