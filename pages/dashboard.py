"""/dashboard — nine KPI cards: each indicator's latest value for the prefecture, or for the
municipality or ward chosen (`?area=`), with its value per capita and its place among its
peers there."""
from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html

from components.dropdown import dropdown
from components.kpi_card import kpi_card, kpi_unavailable
from components.map_controls import area_options
from components.notices import dataset_notice
from components.shell import href, sample_of, shell
from data_sources import SourceError, SourceLoading
from i18n import lang_or_default, t, text_of
from request_guard import checked
from services.context import context

dash.register_page(__name__, path="/dashboard", title="指標ダッシュボード — 見える化", name="dashboard")


class ids:
    AREA = "kpi-area"
    LEAD = "kpi-lead"
    CARDS = "kpi-cards"
    VIEW = "kpi-view"
    CSV = "kpi-csv"
    JSON = "kpi-json"


def profile_href(area, fmt: str, lang: str) -> str:
    """The cards' data for download (api.py: /api/v1/areas/<code>)."""
    code = area.code if area is not None else context().areas.prefecture.code
    return href(f"/api/v1/areas/{code}.{fmt}", lang)


def chosen_area(raw: object):
    """The municipality or ward asked for, or None for the whole prefecture (also for
    anything that is not one: the page never fails on its address)."""
    area = context().areas.get(raw) if raw else None
    return area if area is not None and area.kind != "prefecture" else None


def cards(area_code: str | None, lang: str) -> tuple[list, list[bool]]:
    ctx = context()
    out, samples = [], []
    for spec in ctx.deployment.indicators:
        title = text_of(spec.title, lang)
        try:
            snap = ctx.indicators.snapshot(spec.id)
        except SourceError as exc:
            out.append(kpi_unavailable(spec, lang, dataset_notice(spec.id, title, None, ctx.deployment.timezone, lang,
                                                                  loading=isinstance(exc, SourceLoading))))
            samples.append(False)
            continue
        samples.append(snap.sample)
        out.append(kpi_card(ctx.indicators.kpi(spec.id, area_code), lang, snap.sample,
                            dataset_notice(spec.id, title, snap, ctx.deployment.timezone, lang),
                            local=area_code is not None))
    return out, samples


def lead(area, lang: str) -> str:
    if area is None:
        return t("kpi.lead", lang)
    return t("kpi.lead_area", lang, area=context().areas.full_name(area, lang))


def view_store(area, lang: str) -> dict:
    return {"query": href("", lang, area=area.code if area is not None else None).lstrip("?"), "lang": lang}


def layout(**params):
    ctx = context()
    lang = lang_or_default(params.get("lang"))
    area = chosen_area(params.get("area"))
    shown, samples = cards(area.code if area else None, lang)
    prefecture = ctx.areas.prefecture
    content = html.Div(className="mk-dashboard", children=[
        html.H1(t("kpi.title", lang)),
        html.Div(className="mk-kpi-area", children=[
            html.Label(t("kpi.area", lang), htmlFor=ids.AREA, className="mk-label"),
            dropdown(lang, id=ids.AREA, value=area.code if area else prefecture.code, clearable=False,
                     options=[{"label": prefecture.name(lang), "value": prefecture.code},
                              *area_options(ctx.areas, lang)]),
        ]),
        html.P(lead(area, lang), id=ids.LEAD, className="mk-lead", **{"aria-live": "polite"}),
        html.Ul(shown, id=ids.CARDS, className="mk-kpis"),
        html.Div(className="mk-downloads", children=[
            html.Span(t("kpi.download", lang)),
            html.A("CSV", id=ids.CSV, href=profile_href(area, "csv", lang), className="mk-button", download=""),
            html.A("JSON", id=ids.JSON, href=profile_href(area, "json", lang), className="mk-button"),
        ]),
        dcc.Store(id=ids.VIEW, data=view_store(area, lang)),
    ])
    return shell(lang, "dashboard", content, title=t("kpi.title", lang), path="/dashboard", params=params,
                 sample=sample_of(samples))


@callback(Output(ids.CARDS, "children"), Output(ids.LEAD, "children"), Output(ids.VIEW, "data"),
          Output(ids.CSV, "href"), Output(ids.JSON, "href"),
          Input(ids.AREA, "value"), State(ids.VIEW, "data"), prevent_initial_call=True)
@checked((str, None), {"lang": str})
def area_changed(code: str | None, view: dict):
    lang = lang_or_default(view["lang"])
    area = chosen_area(code)
    return (cards(area.code if area else None, lang)[0], lead(area, lang), view_store(area, lang),
            profile_href(area, "csv", lang), profile_href(area, "json", lang))


clientside_callback(
    ClientsideFunction("mieruka", "pageUrl"),
    Output("lang-link", "href", allow_duplicate=True),
    Input(ids.VIEW, "data"),
    prevent_initial_call=True,
)
