"""Figures of an indicator detail page, built from long-form rows (what the table and the
downloads also hold). Every axis has a title and a unit; dates read the Japanese way.

Figures are plain plotly JSON dicts: building plotly's validated graph objects cost
more than the whole data query (≈60 ms a page), and dcc.Graph takes dicts as they are."""
from __future__ import annotations

import datetime as dt
import math

from collections import defaultdict
from typing import Any

from components.charts import PALETTE, template_json
from i18n import t
from services import indicator_math as im

DATE_FORMATS = {
    "ja": {"monthly": "%Y年%-m月", "yearly": "%Y年", "daily": "%Y年%-m月%-d日"},
    "en": {"monthly": "%b %Y", "yearly": "%Y", "daily": "%-d %b %Y"},
}


def _x(period: str) -> str:
    return f"{period}-01-01" if len(period) == 4 else period


def _figure(data: list[dict], title: str, height: int, y_title: str | None = None, **layout: Any) -> dict:
    """`y_title`: the vertical axis's title (its unit), written level above the axis as Japanese
    charts do: plotly can only turn it on its side, and "人" or "年齢" on its side reads badly."""
    if y_title:
        layout["annotations"] = [*layout.get("annotations", []), {
            "text": y_title, "xref": "paper", "yref": "paper", "x": 0, "y": 1, "xanchor": "left", "yanchor": "bottom",
            "xshift": -6, "yshift": 4, "showarrow": False, "font": {"size": 12, "color": "#4a4a55"}}]
    return {"data": data, "layout": {"template": template_json(), "height": height,
                                     "title": {"text": title, "x": 0, "xanchor": "left"}, **layout}}


def empty_figure(message: str) -> dict:
    return _figure([], "", 320, xaxis={"visible": False}, yaxis={"visible": False}, annotations=[
        {"text": message, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper",
         "font": {"size": 15}}])


# One tick per period when there are few of them: plotly's automatic ticks would fall between
# periods and repeat a label ("2026年9月" four times for two months of data).
_ONE_TICK_PER_PERIOD = {"monthly": (12, "M1"), "yearly": (10, "M12"), "daily": (14, 86_400_000)}


_HALF_PERIOD = {"monthly": dt.timedelta(days=15), "yearly": dt.timedelta(days=182), "daily": dt.timedelta(hours=12)}


def _date_axis(lang: str, frequency: str, periods: set[str]) -> dict:
    axis = {"title": {"text": t("chart.period", lang)}, "type": "date", "tickformat": DATE_FORMATS[lang][frequency]}
    few, dtick = _ONE_TICK_PER_PERIOD[frequency]
    if periods and len(periods) <= few:  # and half a period of room each side, so no end label is clipped
        axis["dtick"] = dtick
        first, last = (dt.date.fromisoformat(_x(p) if len(p) != 7 else f"{p}-01") for p in (min(periods), max(periods)))
        axis["range"] = [(first - _HALF_PERIOD[frequency]).isoformat(), (last + _HALF_PERIOD[frequency]).isoformat()]
    return axis


def series_figure(rows: list[dict[str, Any]], reference: list[dict[str, Any]], reference_name: str,
                  title: str, unit: str, frequency: str, lang: str, decimals: int) -> dict:
    if not rows and not reference:
        return empty_figure(t("chart.no_data", lang))
    by_area: dict[str, list[dict]] = defaultdict(list)
    names: dict[str, str] = {}
    for r in rows:
        by_area[r["area_code"]].append(r)
        names[r["area_code"]] = r["area_name"]
    mode = "lines+markers" if frequency == "yearly" else "lines"
    when = f"%{{x|{DATE_FORMATS[lang][frequency]}}}"
    data = []
    for i, (code, series) in enumerate(by_area.items()):
        data.append({"type": "scatter", "mode": mode, "name": names[code],
                     "x": [_x(r["period"]) for r in series], "y": [r["value"] for r in series],
                     "line": {"color": PALETTE[i % len(PALETTE)], "width": 2},
                     "hovertemplate": f"%{{fullData.name}}<br>{when}: %{{y:,.{decimals}f}} {unit}<extra></extra>"})
    if reference:
        data.append({"type": "scatter", "mode": mode, "name": reference_name,
                     "x": [_x(r["period"]) for r in reference], "y": [r["value"] for r in reference],
                     "line": {"color": "#555555", "width": 2, "dash": "dash"},
                     "hovertemplate": f"{reference_name}<br>{when}: %{{y:,.{decimals}f}} {unit}<extra></extra>"})
    periods = {r["period"] for r in rows} | {r["period"] for r in reference}
    return _figure(data, title, 420, y_title=unit, xaxis=_date_axis(lang, frequency, periods),
                   yaxis={"tickformat": ","})


def ranking_figure(values: dict[str, float | None], names: dict[str, str], reference: float | None,
                   reference_name: str, title: str, unit: str, lang: str, decimals: int,
                   descending: bool = True) -> dict:
    present = {k: v for k, v in values.items() if v is not None}
    if not present:
        return empty_figure(t("chart.no_data", lang))
    order = sorted(present, key=lambda k: present[k], reverse=descending)[::-1]  # largest on top
    ranks = im.rank(values, descending=descending)
    data = [{"type": "bar", "orientation": "h", "x": [present[k] for k in order],
             "y": [names.get(k, k) for k in order], "marker": {"color": PALETTE[0]},
             "customdata": [ranks[k] for k in order], "showlegend": False,
             "hovertemplate": f"%{{y}}: %{{x:,.{decimals}f}} {unit}<br>{t('chart.rank', lang)} %{{customdata}}<extra></extra>"}]
    shapes, annotations = [], []
    if reference is not None:
        shapes.append({"type": "line", "x0": reference, "x1": reference, "y0": 0, "y1": 1, "yref": "paper",
                       "line": {"color": "#D55E00", "dash": "dash", "width": 2}})
        annotations.append({"text": f"{reference_name} {im.format_number(reference, lang, decimals)}",
                            "x": reference, "y": 1, "yref": "paper", "yanchor": "bottom", "showarrow": False,
                            "font": {"color": "#b34700"}})
    missing = [names.get(k, k) for k, v in values.items() if v is None]
    if missing:
        annotations.append({"text": t("chart.missing", lang, names=("、" if lang == "ja" else ", ").join(missing)),
                            "showarrow": False, "x": 0, "y": 0, "xref": "paper", "yref": "paper",
                            "xanchor": "left", "yanchor": "top", "yshift": -52, "font": {"size": 12, "color": "#5a5a66"}})
    return _figure(data, title, max(340, 20 * len(order) + 140), shapes=shapes, annotations=annotations,
                   xaxis={"title": {"text": unit}, "tickformat": ","},
                   yaxis={"automargin": True, "dtick": 1})  # its labels are the areas' names


def plain(text: str) -> str:
    """Text from a data source as plotly shows it: plotly reads <b>, <a href> … in labels,
    so a source's "<a href=…>" must arrive as the characters, not as markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def breakdown_figure(rows: list[dict[str, Any]], title: str, unit: str, frequency: str, lang: str,
                     breakdown_name: str) -> dict:
    """Stacked bars over time, one colour per breakdown value (e.g. crime by method)."""
    if not rows:
        return empty_figure(t("chart.no_data", lang))
    by_value: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_value[r["breakdown"]].append(r)
    data = [{"type": "bar", "name": plain(value), "x": [_x(r["period"]) for r in series],
             "y": [r["value"] for r in series], "marker": {"color": PALETTE[i % len(PALETTE)]},
             "hovertemplate": f"%{{fullData.name}}: %{{y:,}} {unit}<extra></extra>"}
            for i, (value, series) in enumerate(by_value.items())]
    return _figure(data, title, 420, y_title=unit, barmode="stack", legend={"title": {"text": breakdown_name}},
                   xaxis=_date_axis(lang, frequency, {r["period"] for r in rows}), yaxis={"tickformat": ","})


def _round_step(rough: float) -> float:
    """A tick step of 1, 2 or 5 times a power of ten, at most `rough` (50,000 rather than 54,313)."""
    power = 10 ** math.floor(math.log10(rough)) if rough > 0 else 1
    return max(m * power for m in (1, 2, 5) if m * power <= rough) if rough >= 1 else 1


def pyramid_figure(male: dict[str, float | None], female: dict[str, float | None], bins: list[str], title: str,
                   lang: str) -> dict:
    """Population pyramid: men to the left, women to the right, youngest at the bottom."""
    if not bins:
        return empty_figure(t("chart.no_data", lang))
    men = [-(male.get(b) or 0) for b in bins]
    women = [female.get(b) or 0 for b in bins]
    peak = max([abs(v) for v in men + women] or [1])
    step = _round_step(peak / 2)
    ticks = [step * i for i in range(-int(peak // step), int(peak // step) + 1)]
    data = [
        {"type": "bar", "orientation": "h", "y": bins, "x": men, "name": t("chart.men", lang),
         "marker": {"color": PALETTE[0]}, "customdata": [-v for v in men],
         "hovertemplate": "%{y}: %{customdata:,}<extra></extra>"},
        {"type": "bar", "orientation": "h", "y": bins, "x": women, "name": t("chart.women", lang),
         "marker": {"color": PALETTE[1]}, "hovertemplate": "%{y}: %{x:,}<extra></extra>"},
    ]
    return _figure(data, title, 480, barmode="overlay", bargap=0.05,
                   xaxis={"title": {"text": t("chart.people", lang)}, "tickvals": ticks,
                          "ticktext": [im.format_number(abs(v), lang, 0) for v in ticks]},
                   y_title=t("chart.age", lang), yaxis={})


SEQUENTIAL = [[0, "#f1f5fb"], [0.5, "#6a9bd1"], [1, "#0b3d79"]]  # light → dark blue: readable in every colour vision


def _colour_axis(unit: str) -> dict:
    return {"colorscale": SEQUENTIAL,
            "colorbar": {"title": {"text": unit}, "thickness": 12, "tickformat": ","}}


def tile_grid_figure(values: dict[str, float | None], names: dict[str, str], short: dict[str, str],
                     positions: dict[str, tuple[int, int]], title: str, unit: str, lang: str, decimals: int) -> dict:
    """One square per municipality near its place on the map, shaded by value; grey without data."""
    codes = [c for c in positions if c in values]
    if not codes:
        return empty_figure(t("chart.no_data", lang))
    present = [c for c in codes if values[c] is not None]
    missing = [c for c in codes if values[c] is None]
    data = []
    if present:
        low, high = min(values[c] for c in present), max(values[c] for c in present)
        dark = [(values[c] - low) / ((high - low) or 1) > 0.55 for c in present]
        data.append({"type": "scatter", "mode": "markers+text", "showlegend": False,
                     "x": [positions[c][0] for c in present], "y": [-positions[c][1] for c in present],
                     "text": [short[c] for c in present],
                     "textfont": {"size": 11, "color": ["#ffffff" if d else "#1b1b1f" for d in dark]},
                     "customdata": [[names[c], im.format_number(values[c], lang, decimals)] for c in present],
                     "hovertemplate": f"%{{customdata[0]}}: %{{customdata[1]}} {unit}<extra></extra>",
                     "marker": {"symbol": "square", "size": 38, "color": [values[c] for c in present],
                                "line": {"color": "#ffffff", "width": 1}, **_colour_axis(unit)}})
    if missing:
        data.append({"type": "scatter", "mode": "markers+text", "showlegend": False,
                     "x": [positions[c][0] for c in missing], "y": [-positions[c][1] for c in missing],
                     "text": [short[c] for c in missing], "textfont": {"size": 11},
                     "customdata": [names[c] for c in missing],
                     "hovertemplate": f"%{{customdata}}: {t('chart.no_value', lang)}<extra></extra>",
                     "marker": {"symbol": "square-open", "size": 36, "color": "#8a8a96"}})
    hidden = {"visible": False, "fixedrange": True}
    columns = max(p[0] for p in positions.values()) + 1
    rows = max(p[1] for p in positions.values()) + 1
    return _figure(data, title, 44 * rows + 110, xaxis={**hidden, "range": [-0.6, columns - 0.4]},
                   yaxis={**hidden, "range": [-rows + 0.4, 0.6], "scaleanchor": "x"},
                   margin={"l": 10, "r": 10, "t": 56, "b": 10})


def choropleth_figure(values: dict[str, float | None], names: dict[str, str], geojson: dict, title: str,
                      unit: str, lang: str, decimals: int, credit: str | None = None) -> dict:
    """Municipalities on their real boundaries (no tiles: d3-geo draws the shapes offline).
    `credit`: the boundaries' credit line, written under the map (their licence asks for it)."""
    codes = [f["properties"]["code"] for f in geojson["features"] if f["properties"]["code"] in values]
    if not codes:
        return empty_figure(t("chart.no_data", lang))
    present = [c for c in codes if values[c] is not None]
    missing = [c for c in codes if values[c] is None]
    data = [{"type": "choropleth", "geojson": geojson, "featureidkey": "properties.code", "locations": present,
             "z": [values[c] for c in present], "customdata": [names[c] for c in present],
             "hovertemplate": f"%{{customdata}}: %{{z:,.{decimals}f}} {unit}<extra></extra>",
             "marker": {"line": {"color": "#ffffff", "width": 0.6}}, **_colour_axis(unit)}]
    if missing:
        data.append({"type": "choropleth", "geojson": geojson, "featureidkey": "properties.code",
                     "locations": missing, "z": [0] * len(missing), "showscale": False,
                     "colorscale": [[0, "#d4d4dc"], [1, "#d4d4dc"]], "customdata": [names[c] for c in missing],
                     "hovertemplate": f"%{{customdata}}: {t('chart.no_value', lang)}<extra></extra>"})
    notes = [{"text": credit, "xref": "paper", "yref": "paper", "x": 0, "y": 0, "xanchor": "left", "yanchor": "top",
              "yshift": -4, "showarrow": False, "font": {"size": 11, "color": "#4a4a55"}}] if credit else []
    return _figure(data, title, 520, geo={"fitbounds": "locations", "visible": False, "projection": {"type": "mercator"}},
                   margin={"l": 0, "r": 0, "t": 56, "b": 28 if credit else 0}, annotations=notes)
