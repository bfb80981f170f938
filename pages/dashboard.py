"""/dashboard — nine KPI cards: each indicator's latest value for the prefecture."""
from __future__ import annotations

import dash
from dash import html

from components.kpi_card import kpi_card, kpi_unavailable
from components.notices import dataset_notice
from components.shell import sample_of, shell
from data_sources import SourceError
from i18n import lang_or_default, t, text_of
from services.context import context

dash.register_page(__name__, path="/dashboard", title="指標ダッシュボード — 見える化", name="dashboard")


def layout(**params):
    ctx = context()
    lang = lang_or_default(params.get("lang"))
    cards, samples = [], []
    for spec in ctx.deployment.indicators:
        title = text_of(spec.title, lang)
        try:
            snap = ctx.indicators.snapshot(spec.id)
        except SourceError:
            cards.append(kpi_unavailable(spec, lang, dataset_notice(spec.id, title, None, ctx.deployment.timezone, lang)))
            samples.append(False)
            continue
        samples.append(snap.sample)
        cards.append(kpi_card(ctx.indicators.kpi(spec.id), lang, snap.sample,
                              dataset_notice(spec.id, title, snap, ctx.deployment.timezone, lang)))
    content = html.Div(className="mk-dashboard", children=[
        html.H1(t("kpi.title", lang)),
        html.P(t("kpi.lead", lang), className="mk-lead"),
        html.Ul(cards, className="mk-kpis"),
    ])
    return shell(lang, "dashboard", content, title=t("kpi.title", lang), path="/dashboard", params=params,
                 sample=sample_of(samples))
