"""/ — "what are you looking for?": near me first, then one large choice per map layer
(the map opens with that layer alone); below, a card per layer with its description, credit
and the data's freshness."""
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


def choices(snapshots, lang: str):
    """The start: near me (the map asks for the position as it opens: map.py `near`), then a
    large link per layer to the map showing that layer alone, then all layers at once."""
    return html.Section(className="mk-start", **{"aria-labelledby": "home-start"}, children=[
        html.H2(t("home.looking_for", lang), id="home-start"),
        html.A(t("map.near_me", lang), href=href("/map", lang, near="1"), id="home-near",
               className="mk-button mk-button-primary mk-near-start"),
        html.P(t("map.near_me_note", lang), className="mk-hint"),
        html.Ul(className="mk-choices", children=[
            html.Li(html.A(href=href("/map", lang, layers=snap.layer.id), className="mk-choice", children=[
                marker_badge(snap.layer),
                html.Span(text_of(snap.layer.title, lang), className="mk-choice-title"),
                html.Span([t("home.count", lang, count=f"{snap.count:,}"), " ", sample_badge_if(snap.sample, lang)],
                          className="mk-choice-count"),
            ])) for snap in snapshots]),
        html.A(t("home.all_layers", lang), href=href("/map", lang), className="mk-button"),
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
        ]),
        choices(snapshots, lang),
        html.H2(t("home.maps", lang)),
        html.Ul(cards, className="mk-cards"),
        html.H2(t("kpi.title", lang)),
        html.P([t("home.dashboards", lang), " ",
                html.A(t("home.open_dashboards", lang), href=href("/dashboard", lang),
                       className="mk-button")], className="mk-home-dash"),
        area_form(ctx.areas, lang),
    ]
    return shell(lang, "home", content, title=None, path="/", params=params, sample=sample_of(s.sample for s in snapshots))
