"""/data — every dataset the app shows: where it comes from, under which licence, when it
was fetched, how many rows it has, which rows were rejected or repaired and why."""
from __future__ import annotations

import dash
from dash import html

from components.shell import shell
from i18n import lang_or_default, t, text_of
from services.context import context

dash.register_page(__name__, path="/data", title="データ一覧 — 見える化", name="data")


def _reasons(counts: dict[str, int], examples: dict[str, list[str]], kind: str, lang: str):
    if not counts:
        return None
    return html.Details(className="mk-rejects", children=[
        html.Summary(t(f"data.{kind}", lang, count=f"{sum(counts.values()):,}")),
        html.Ul([html.Li([html.Strong(reason), f" — {count:,}",
                          html.Ul([html.Li(html.Code(e)) for e in examples.get(reason, [])])])
                 for reason, count in sorted(counts.items(), key=lambda kv: -kv[1])]),
    ])


def layout(**params):
    c = context()
    lang = lang_or_default(params.get("lang"))
    sections = []
    for snap in c.layers.snapshots():
        layer, report = snap.layer, snap.report
        source = t("sample.badge", lang) if snap.sample else [
            f"{layer.source.kind}: ",
            html.A(snap.source_url, href=snap.source_url, rel="noopener", target="_blank")
            if snap.source_url and snap.source_url.startswith(("http://", "https://")) else layer.source.name]
        if snap.health.get("status") != "ok":
            source = [source, html.Br(), html.Strong(t(f"data.health.{snap.health['status']}", lang)),
                      f" {snap.health.get('reason') or ''}"]
        rows = [
            (t("data.source", lang), [source, html.Br(), html.Small(text_of(layer.credit, lang))]),
            (t("data.licence", lang), html.A(layer.licence["name"], href=layer.licence["url"], rel="license noopener",
                                             target="_blank")),
            (t("data.fetched", lang), snap.fetched_at.strftime("%Y-%m-%d %H:%M UTC")),
            (t("data.modified", lang), snap.data_date),
            (t("data.rows", lang), f"{snap.count:,}"),
            (t("data.rejected_label", lang),
             _reasons(dict(report.rejected), report.examples, "rejected", lang) or t("data.none", lang)),
            (t("data.repaired_label", lang),
             _reasons(dict(report.repaired), report.examples, "repaired", lang) or t("data.none", lang)),
            (t("data.download", lang), [html.A("GeoJSON", href=f"/api/v1/layers/{layer.id}.geojson"), " · ",
                                        html.A("CSV", href=f"/api/v1/layers/{layer.id}.csv")]),
        ]
        items = []
        for label, value in rows:
            items += [html.Dt(label), html.Dd(value)]
        sections.append(html.Section(className="mk-dataset", id=f"dataset-{layer.id}", children=[
            html.H2(text_of(layer.title, lang)), html.Dl(items)]))
    for snap in c.indicators.snapshots():
        spec = snap.indicator
        items = [html.Dt(t("data.source", lang)), html.Dd(t("sample.badge", lang) if snap.sample else spec.source.name),
                 html.Dt(t("data.licence", lang)), html.Dd(html.A(spec.licence["name"], href=spec.licence["url"])),
                 html.Dt(t("data.fetched", lang)), html.Dd(snap.fetched_at.strftime("%Y-%m-%d %H:%M UTC")),
                 html.Dt(t("data.rows", lang)), html.Dd(f"{len(snap.records):,}"),
                 html.Dt(t("data.download", lang)), html.Dd([
                     html.A("JSON", href=f"/api/v1/indicators/{spec.id}.json"), " · ",
                     html.A("CSV", href=f"/api/v1/indicators/{spec.id}.csv")])]
        sections.append(html.Section(className="mk-dataset", id=f"dataset-{spec.id}", children=[
            html.H2([text_of(spec.title, lang), html.Small(f" — {t('data.indicator', lang)}")]), html.Dl(items)]))
    content = html.Article(className="mk-prose", children=[
        html.H1(t("data.title", lang)), html.P(t("data.lead", lang)), *sections])
    return shell(lang, "data", content, path="/data", params=params, sample=True)
