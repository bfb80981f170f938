"""/ — a card per map layer, with its count and the data's freshness."""
from __future__ import annotations

import dash
from dash import html

from components.dataset_labels import credit_line, sample_badge_if
from components.map_controls import area_options, marker_badge
from components.shell import href, sample_of, shell
from i18n import lang_or_default, t, text_of
from services.context import context

dash.register_page(__name__, path="/", title=t("home.title", "ja"), name="home")


def area_form(areas, lang: str):
    """"Your municipality's indicators": a plain GET form to /dashboard?area=, which works
    before any script has run and changes page only when asked (the button)."""
    return html.Form(action="/dashboard", method="get", className="mk-area-form", children=[
        html.Label(t("home.area_label", lang), htmlFor="home-area", className="mk-label"),
        html.Div(className="mk-area-form-row", children=[
            html.Select(id="home-area", name="area", className="mk-select", children=[
                html.Option(o["label"], value=o["value"]) for o in area_options(areas, lang)]),
            # the language travels as the button's own name and value
            html.Button(t("home.area_show", lang), type="submit", className="mk-button",
                        **({"name": "lang", "value": "en"} if lang == "en" else {})),
        ]),
    ])


def layout(**params):
    ctx = context()
    lang = lang_or_default(params.get("lang"))
    snapshots = ctx.layers.snapshots()
    cards = []
    for snap in snapshots:
        layer = snap.layer
        cards.append(html.Li(className="mk-card", children=[
            html.H3([html.A([marker_badge(layer), " ", text_of(layer.title, lang)],
                            href=href("/map", lang, layers=layer.id)), sample_badge_if(snap.sample, lang)]),
            html.P(text_of(layer.description, lang)),
            html.P(html.Strong(t("home.count", lang, count=f"{snap.count:,}")), className="mk-card-meta"),
            html.P(credit_line(layer, snap.data_date, lang, licence=False), className="mk-card-meta"),
        ]))
    content = [
        html.Section(className="mk-hero", children=[
            html.H1(t("home.title", lang)),
            html.P(t("home.lead", lang)),
            html.A(t("home.all_layers", lang), href=href("/map", lang),
                   className="mk-button mk-button-primary"),
        ]),
        html.H2(t("home.maps", lang)),
        html.Ul(cards, className="mk-cards"),
        html.H2(t("kpi.title", lang)),
        html.P([t("home.dashboards", lang), " ",
                html.A(t("home.open_dashboards", lang), href=href("/dashboard", lang),
                       className="mk-button")], className="mk-home-dash"),
        area_form(ctx.areas, lang),
    ]
    return shell(lang, "home", content, title=None, path="/", params=params, sample=sample_of(s.sample for s in snapshots))
