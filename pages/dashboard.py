"""/dashboard — nine KPI cards: each indicator's latest value for the prefecture."""
from __future__ import annotations

import dash
from dash import html

from components.kpi_card import kpi_card
from components.shell import shell
from i18n import lang_or_default, t
from services.context import context

dash.register_page(__name__, path="/dashboard", title="指標ダッシュボード — 見える化", name="dashboard")


def layout(**params):
    ctx = context()
    lang = lang_or_default(params.get("lang"))
    snapshots = ctx.indicators.snapshots()
    cards = [kpi_card(ctx.indicators.kpi(s.indicator.id), lang, s.sample) for s in snapshots]
    content = html.Div(className="mk-dashboard", children=[
        html.H1(t("kpi.title", lang)),
        html.P(t("kpi.lead", lang), className="mk-lead"),
        html.Ul(cards, className="mk-kpis"),
    ])
    return shell(lang, "dashboard", content, path="/dashboard", params=params,
                 sample=any(s.sample for s in snapshots))
