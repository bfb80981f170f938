"""/about — sources, licences, credits and the sample-data notice."""
from __future__ import annotations

import dash
from dash import html

from components.dataset_labels import credit_line, source_kind, titled
from components.downloads import download_links
from components.embed_code import embed_code
from components.shell import href, sample_of, shell
from i18n import lang_or_default, t, text_of
from services.context import context

dash.register_page(__name__, path="/about", title="このサイトについて — 見える化", name="about")


def which_are_sample(snapshots, lang: str) -> list:
    """What is sample data on this deployment, in words: all of it, none, or which (and which
    are real)."""
    def names(sample: bool) -> str:
        return t("list.sep", lang).join(text_of(_spec(s).title, lang) for s in snapshots if s.sample is sample)

    if all(s.sample for s in snapshots):
        return [html.P(t("about.sample_all", lang), id="sample-status")]
    if not any(s.sample for s in snapshots):
        return [html.P(t("about.sample_none", lang), id="sample-status")]
    return [html.Ul(id="sample-status", children=[
        html.Li(t("about.sample_list", lang, items=names(True))),
        html.Li(t("about.real_list", lang, items=names(False))),
    ])]


def _spec(snap):
    """The layer or indicator of a snapshot."""
    return getattr(snap, "layer", None) or snap.indicator


def layout(**params):
    ctx = context()
    lang = lang_or_default(params.get("lang"))
    layers, indicators = ctx.layers.snapshots(), ctx.indicators.snapshots()
    snapshots = layers + indicators
    headers = [t(k, lang) for k in ("about.layer", "about.source", "about.licence", "about.rows", "about.rejected",
                                    "about.api")]

    def cell(column: int, children, **props):  # on a phone each row stacks, its cells labelled
        return html.Td(children, **{"data-label": headers[column]}, **props)

    rows = []
    for spec, snap, kind in ([(s.layer, s, "layers") for s in layers]
                             + [(s.indicator, s, "indicators") for s in indicators]):
        source = [] if snap.sample else [f"{source_kind(spec.source, lang)}: {spec.source.name}", html.Br()]
        rows.append(html.Tr([
            html.Th(titled(text_of(spec.title, lang), snap.sample, lang), scope="row"),
            cell(1, [*source, credit_line(spec, snap.data_date, lang, licence=False, labelled=False)]),
            cell(2, html.A(spec.licence["name"], href=spec.licence["url"], rel="license noopener", target="_blank")),
            cell(3, f"{snap.count:,}", className="mk-num"),
            cell(4, f"{snap.report.total_rejected:,}", className="mk-num"),
            cell(5, download_links(kind, spec.id)),
        ]))
    table = html.Table(className="mk-table mk-stack", children=[
        html.Thead(html.Tr([html.Th(h, scope="col") for h in headers])),
        html.Tbody(rows),
    ])
    content = html.Article(className="mk-prose", children=[
        html.H1(t("about.title", lang)),
        html.P(t("about.lead", lang)),
        html.H2(t("about.sample_title", lang), id="sample"),
        html.P(t("about.sample_body", lang)),
        *which_are_sample(snapshots, lang),
        html.H2(t("about.sources", lang)),
        html.Div(table, className="mk-table-wrap"),
        html.H2(t("about.api", lang)),
        html.P([t("about.api_body", lang), " ", html.A("/api/v1/layers", href="/api/v1/layers"), " · ",
                html.A("/api/v1/indicators", href="/api/v1/indicators")]),
        html.H2(t("about.embed", lang), id="embed"),
        html.P(t("about.embed_body", lang)),
        embed_code(lang, t("about.embed_title", lang), path=href("/map", lang, layers="aed"),
                   summary=t("about.embed_example", lang), hint=t("about.embed_sites", lang), open_=True),
        html.H2(t("about.privacy", lang)),
        html.P(t("about.privacy_body", lang)),
        html.H2(t("about.credits", lang)),
        html.Ul([html.Li(t("about.credit_tiles", lang)), html.Li(t("about.credit_software", lang))]),
    ])
    return shell(lang, "about", content, title=t("about.title", lang), path="/about", params=params, sample=sample_of(s.sample for s in snapshots))
