"""Figures of an indicator detail page, built from long-form rows (what the table and the
downloads also hold). Every axis has a title and a unit; dates read the Japanese way.

Figures are plain plotly JSON dicts: building plotly's validated graph objects cost
more than the whole data query (≈60 ms a page), and dcc.Graph takes dicts as they are."""
from __future__ import annotations

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


def _figure(data: list[dict], title: str, height: int, **layout: Any) -> dict:
    return {"data": data, "layout": {"template": template_json(), "height": height,
                                     "title": {"text": title, "x": 0, "xanchor": "left"}, **layout}}


def empty_figure(message: str) -> dict:
    return _figure([], "", 320, xaxis={"visible": False}, yaxis={"visible": False}, annotations=[
        {"text": message, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper",
         "font": {"size": 15}}])


def _date_axis(lang: str, frequency: str) -> dict:
    return {"title": {"text": t("chart.period", lang)}, "type": "date", "tickformat": DATE_FORMATS[lang][frequency]}


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
    return _figure(data, title, 420, xaxis=_date_axis(lang, frequency),
                   yaxis={"title": {"text": unit}, "tickformat": ","})


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
                   yaxis={"title": {"text": t("chart.area", lang)}, "automargin": True, "dtick": 1})


def breakdown_figure(rows: list[dict[str, Any]], title: str, unit: str, frequency: str, lang: str,
                     breakdown_name: str) -> dict:
    """Stacked bars over time, one colour per breakdown value (e.g. crime by method)."""
    if not rows:
        return empty_figure(t("chart.no_data", lang))
    by_value: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_value[r["breakdown"]].append(r)
    data = [{"type": "bar", "name": value, "x": [_x(r["period"]) for r in series], "y": [r["value"] for r in series],
             "marker": {"color": PALETTE[i % len(PALETTE)]},
             "hovertemplate": f"{value}: %{{y:,}} {unit}<extra></extra>"}
            for i, (value, series) in enumerate(by_value.items())]
    return _figure(data, title, 420, barmode="stack", legend={"title": {"text": breakdown_name}},
                   xaxis=_date_axis(lang, frequency), yaxis={"title": {"text": unit}, "tickformat": ","})


def pyramid_figure(male: dict[str, float | None], female: dict[str, float | None], bins: list[str], title: str,
                   lang: str) -> dict:
    """Population pyramid: men to the left, women to the right, youngest at the bottom."""
    if not bins:
        return empty_figure(t("chart.no_data", lang))
    men = [-(male.get(b) or 0) for b in bins]
    women = [female.get(b) or 0 for b in bins]
    peak = max([abs(v) for v in men + women] or [1])
    ticks = [-peak, -peak / 2, 0, peak / 2, peak]
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
                   yaxis={"title": {"text": t("chart.age", lang)}})
