"""A KPI card: the latest value of an indicator's headline measure for an area (the
prefecture, or a municipality or ward chosen on /dashboard), its change against the
previous period and a year earlier, a sparkline and its date; for a municipality or ward
also its value per capita and its place among its peers."""
from __future__ import annotations

from dash import html

from components.charts import sparkline_src
from components.dataset_labels import credit_line, titled
from components.shell import href
from i18n import t, text_of
from services import indicator_math as im
from services.indicators import Kpi, spec_unit

ARROWS = {"up": "▲", "down": "▼", "flat": "→"}


def change_badge(change: im.Change, higher_is: str, label: str, lang: str, decimals: int):
    """'▲ +1.2% 前年同月比' coloured good / bad / neutral, with the words for screen readers."""
    if change.direction is None:
        return html.Span([label, " ", t("kpi.no_comparison", lang)], className="mk-change mk-change-unknown")
    verdict = im.assess(change.direction, higher_is)
    if change.relative is not None:
        percent = change.relative * 100
        amount = f"{percent:+.2f}%" if abs(percent) < 1 else f"{percent:+.1f}%"  # never a bare "-0.0%"
    else:
        amount = f"{'+' if change.absolute >= 0 else ''}{im.format_number(change.absolute, lang, decimals)}"
    words = t(f"kpi.verdict.{verdict}", lang)
    return html.Span(className=f"mk-change mk-change-{verdict}", children=[
        html.Span(ARROWS.get(change.direction, ""), **{"aria-hidden": "true"}), " ",
        html.Strong(amount), " ", html.Span(label), html.Span(f"（{words}）" if lang == "ja" else f" ({words})",
                                                               className="mk-visually-hidden"),
    ])


def comparison_labels(frequency: str, lang: str) -> tuple[str, str | None]:
    """Labels of (vs previous period, vs a year earlier); yearly data has only one."""
    if frequency == "yearly":
        return t("kpi.vs_prev_year", lang), None
    if frequency == "daily":
        return t("kpi.vs_prev_day", lang), t("kpi.vs_year_ago_day", lang)
    return t("kpi.vs_prev_month", lang), t("kpi.vs_year_ago_month", lang)


def _href(spec, lang: str, area_code: str | None = None) -> str:
    return href(f"/dashboard/{spec.id}", lang, area=area_code)


def kpi_unavailable(spec, lang: str, notice):
    """The card of an indicator that has no data (a live source that never answered)."""
    return html.Li(className="mk-kpi mk-kpi-unavailable", style={"--mk-colour": spec.colour}, children=[
        html.H2(html.A(text_of(spec.title, lang), href=_href(spec, lang))), notice])


def _rank_text(kpi: Kpi, lang: str) -> str:
    rank = kpi.rank
    basis = t("kpi.basis_per_capita" if kpi.per_capita is not None else "kpi.basis_value", lang)
    tie = t("kpi.tied", lang, tied=rank.tied) if rank.tied > 1 else ""
    return t(f"kpi.rank_{rank.peers}", lang, place=rank.place, count=rank.of, basis=basis, tie=tie)


def kpi_card(kpi: Kpi, lang: str, sample: bool, notice=None, *, local: bool = False):
    """`sample`: the indicator's data is sample data (its badge by the title).
    `notice`: shown on the card when its data could not be updated (components/notices.py).
    `local`: the card is of a municipality or ward, not the prefecture."""
    spec, measure = kpi.indicator, kpi.measure
    href = _href(spec, lang, kpi.area_code if local else None)
    unit = text_of(measure.unit, lang)
    prev_label, year_label = comparison_labels(measure.frequency, lang)
    spark = sparkline_src([v for _, v in kpi.spark], spec.colour if spec.colour != "#F0E442" else "#8a7a00")
    changes = [change_badge(kpi.vs_previous, measure.higher_is, prev_label, lang, measure.decimals)]
    if year_label:
        changes.append(change_badge(kpi.vs_last_year, measure.higher_is, year_label, lang, measure.decimals))
    value = im.format_number(kpi.value, lang, measure.decimals)
    return html.Li(className="mk-kpi", style={"--mk-colour": spec.colour}, children=[
        html.H2(titled(html.A(text_of(spec.title, lang), href=href), sample, lang)),
        html.P(text_of(measure.title, lang), className="mk-kpi-measure"),
        html.P(className="mk-kpi-value", children=[
            html.Span(value, className="mk-kpi-number"), " ", html.Span(unit, className="mk-kpi-unit"),
        ]),
        html.P(im.format_period(kpi.period, lang) if kpi.period else t("kpi.no_area_data" if local else "kpi.no_data", lang),
               className="mk-kpi-period"),
        html.P([im.format_number(kpi.per_capita, lang, 1), " ", spec_unit(measure, lang, True)],
               className="mk-kpi-per-capita") if kpi.per_capita is not None else None,
        html.P(_rank_text(kpi, lang), className="mk-kpi-rank") if kpi.rank else None,
        html.Div(changes, className="mk-kpi-changes") if kpi.period else None,
        html.Img(src=spark, alt=t("kpi.spark_alt", lang, count=len(kpi.spark)), className="mk-spark",
                 width=160, height=40) if spark else None,
        html.P(credit_line(spec, kpi.as_of.isoformat(), lang, licence=False, className="mk-kpi-source"),
               className="mk-kpi-meta"),
        notice,
    ])
