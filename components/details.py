"""The detail panel of one map feature: its standard fields in readable form.

Dash escapes every text it renders; links are only made from http(s) URLs and
phone numbers, so a hostile value in the data stays inert text.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from dash import html

from components.dataset_labels import credit_line, sample_badge_if
from components.shell import href, page_href
from i18n import t, text_of
from registry import Deployment, LayerSpec
from services.areas import AreaTable
from services.map_filters import Now, open_now
from services.reports import KINDS, NOTE_MAX

_PHONE = re.compile(r"^[0-9０-９()（）\-‐－ー+＋ ]{6,20}$")
_HHMM = re.compile(r"^([01][0-9]|2[0-4]):[0-5][0-9]$")


def yes_no(value: bool | None, lang: str):
    if value is None:
        return html.Span(t("value.unknown", lang), className="mk-unknown")
    icon, key, cls = ("✓", "value.yes", "mk-yes") if value else ("✕", "value.no", "mk-no")
    return html.Span([html.Span(icon, className="mk-yn-icon", **{"aria-hidden": "true"}), t(key, lang)],
                     className=cls)


def as_written(text: str, lang: str):
    """A value as the source wrote it (the importer could not type it, or it says more than the
    value: "19（休床中）"), marked as such; Dash escapes it like any text."""
    return html.Span(text, className="mk-as-written", title=t("details.as_written", lang))


def _hours_as_written(record: dict[str, Any]) -> dict[str, str] | None:
    """The source's own text of the hours ("9:00～25:00", "日没まで") where it kept one, else None."""
    written = record.get("as_written") or {}
    return written if "open_time" in written or "close_time" in written else None


def _round_the_clock(start: str | None, end: str | None) -> bool:
    return start == "00:00" and end in ("24:00", "23:59")


def hours(record: dict[str, Any], lang: str):
    start, end = record.get("open_time"), record.get("close_time")
    written = _hours_as_written(record)
    if written:  # shown as the source wrote it
        start, end = written.get("open_time") or start, written.get("close_time") or end
        return as_written(t("value.hours", lang, open=start, close=end) if start and end else start or end, lang)
    if not start or not end:
        return None
    if _round_the_clock(start, end):
        return t("value.open_24h", lang)
    return t("value.hours", lang, open=start, close=end)


def open_state(record: dict[str, Any], now: Now | None, lang: str):
    """Whether the place is open at `now` (the deployment's local time) by its hours, as the
    map's open-now filter reads them, and until when, or when it opens next: "利用可能 · 17:30まで",
    "時間外 · 明日 9:00から". None where the hours are unknown, kept as written, or round the clock
    (the hours say so)."""
    start, end = record.get("open_time"), record.get("close_time")
    if now is None or _hours_as_written(record):
        return None
    if not (isinstance(start, str) and _HHMM.match(start) and isinstance(end, str) and _HHMM.match(end)):
        return None
    days = record.get("days")  # none given: every day; given but empty: unknown
    days = range(7) if days is None else [d for d in days if isinstance(d, int) and 0 <= d <= 6]
    if not days or (_round_the_clock(start, end) and len(set(days)) == 7):
        return None
    as_of = html.Span(t("details.as_of", lang, time=f"{now.minutes // 60}:{now.minutes % 60:02d}"), className="mk-as-of")
    if open_now(record, now):
        return html.P([html.Strong(t("details.open_now", lang)), " · ", t("details.closes_at", lang, time=end), " ", as_of],
                      className="mk-open-state mk-is-open")
    opens_today = now.weekday in days and now.minutes < int(start[:2]) * 60 + int(start[3:])
    ahead = 0 if opens_today else next(n for n in range(1, 8) if (now.weekday + n) % 7 in days)
    if ahead == 0:
        when = t("details.opens_at", lang, time=start)
    elif ahead == 1:
        when = t("details.opens_tomorrow", lang, time=start)
    else:
        when = t("details.opens_on", lang, day=t("value.weekdays", lang).split(",")[(now.weekday + ahead) % 7], time=start)
    return html.P([html.Strong(t("details.closed_now", lang)), " · ", when, " ", as_of],
                  className="mk-open-state mk-is-closed")


def place_actions(record: dict[str, Any], permalink: str, lang: str):
    """Directions to the place (the web's maps, and a `geo:` link that a phone's maps app opens)
    and a share button (the Web Share API where there is one, else the link copied or shown:
    assets/mieruka-map-view.js share). None for a record without a position."""
    lat, lon = record.get("lat"), record.get("lon")
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        return None
    at, name = f"{lat:.6f},{lon:.6f}", str(record.get("name") or "")
    return html.Div(className="mk-actions", children=[
        html.A(t("details.directions", lang), href=f"https://www.google.com/maps/dir/?api=1&destination={at}",
               target="_blank", rel="noopener noreferrer", className="mk-button mk-action"),
        html.A(t("details.open_in_maps", lang), href=f"geo:{at}?q={at}({quote(name)})",
               className="mk-button mk-action mk-geo"),
        html.Button(t("details.share", lang), type="button", className="mk-button mk-action",
                    **{"data-mk-share": permalink, "data-mk-title": name, "data-mk-copied": t("details.link_copied", lang)}),
        html.Span(className="mk-share-note", role="status"),
    ])


def report_form(layer_id: str, record: dict[str, Any], lang: str, reported: bool = False):
    """"この情報の誤りを報告": an optional note, then one button per thing that can be wrong
    (services/reports.KINDS: one tap sends), posted to /api/v1/reports?layer=&id= — by the
    page's script (assets/mieruka-map-view.js: thanks shown in place) or, without it, as a
    plain form that comes back here with `reported`. It asks for nothing about the sender."""
    thanks = t("report.thanks", lang)
    return html.Details(className="mk-report", open=reported, children=[
        html.Summary(t("report.title", lang)),
        html.P(thanks, className="mk-report-status", role="status") if reported else html.Form(
            action=page_href("/api/v1/reports", {}, layer=layer_id, id=str(record.get("id")),
                             lang="en" if lang == "en" else None),
            method="post", className="mk-report-form",
            **{"data-mk-thanks": thanks, "data-mk-failed": t("report.failed", lang),
               "data-mk-too-many": t("report.too_many", lang)},
            children=[
                html.Label(t("report.note", lang, max=NOTE_MAX), htmlFor="report-note", className="mk-label"),
                html.Textarea(id="report-note", name="note", maxLength=NOTE_MAX, rows=2, className="mk-input"),
                html.P(t("report.privacy", lang), className="mk-hint"),
                html.Fieldset(className="mk-fieldset mk-report-kinds", children=[
                    html.Legend(t("report.what", lang)),
                    *[html.Button(t(f"report.kind.{kind}", lang), type="submit", name="kind", value=kind,
                                  className="mk-button mk-action") for kind in KINDS]]),
                html.P(className="mk-report-status", role="status"),
            ]),
    ])


def weekdays(days: list[int] | None, lang: str) -> str | None:
    if not days:
        return None
    names = t("value.weekdays", lang).split(",")
    return ("・" if lang == "ja" else ", ").join(names[d] for d in days if 0 <= d < len(names))


def phone_link(value: str | None):
    if not value or not _PHONE.match(value):
        return value
    digits = re.sub(r"[^0-9+]", "", value.translate(str.maketrans("０１２３４５６７８９＋", "0123456789+")))
    return html.A(value, href=f"tel:{digits}")


def url_link(value: str | None, lang: str):
    if not value:
        return None
    if not re.match(r"^https?://", value, re.I):
        return value  # shown as text, never as a javascript:/data: link
    return html.A(value, href=value, target="_blank", rel="noopener noreferrer", className="mk-url")


def _month(month: str, lang: str) -> str:
    """'2026-11' → '2026年11月' (ja) / 'Nov 2026' (en), for "as of the 1st" labels."""
    year, _, number = month.partition("-")
    if not (year.isdigit() and number.isdigit() and 1 <= int(number) <= 12):
        return month
    return f"{year}年{int(number)}月" if lang == "ja" else f"{calendar.month_abbr[int(number)]} {year}"


def vacancies_table(series: dict[str, list[int | None]], lang: str, months: int = 3):
    """Free places by age (a row each: a parent reads their child's) over the latest `months`
    (a column each, newest first), narrow enough for a phone."""
    if not series:
        return None
    recent = sorted(series)[-months:][::-1]
    head = html.Tr([html.Th(t("map.age", lang), scope="col")] +
                   [html.Th(_month(m, lang), scope="col") for m in recent])

    def cell(v):
        if v is None:
            return html.Td(t("value.vacancy_no_class", lang), className="mk-novac")
        if v == 0:
            return html.Td(t("value.vacancy_none", lang), className="mk-full")
        return html.Td(str(v), className="mk-free")

    def age_of(values: list, age: int):
        return values[age] if age < len(values) else None

    rows = [html.Tr([html.Th(f"{age}歳" if lang == "ja" else f"Age {age}", scope="row")] +
                    [cell(age_of(series[m], age)) for m in recent])
            for age in range(6)]
    return html.Table([html.Caption(t("value.vacancy_as_of", lang)), html.Thead(head), html.Tbody(rows)],
                      className="mk-mini-table mk-vacancies")


def reading_time(stamp: str, timezone: str) -> str:
    """'MM-DD hh:mm' of a reading in the deployment's time zone (brokers stamp in UTC)."""
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(timezone))
    return moment.strftime("%m-%d %H:%M")


def readings_table(readings: dict[str, dict], layer: LayerSpec, lang: str, timezone: str):
    if not readings or layer.readings is None:
        return None
    rows = []
    for p in layer.readings.pollutants:
        r = readings.get(p.id)
        if not r:
            continue
        level = text_of(layer.readings.levels[r["level"] - 1], lang)
        when = reading_time(r["time"], timezone)
        rows.append(html.Tr([
            html.Th(p.id, scope="row"),
            html.Td(f"{r['value']:g} {p.unit}"),
            html.Td(html.Span(level, className=f"mk-level mk-level-{r['level']}")),
            html.Td(t("value.reading_at", lang, time=when)),
        ]))
    return html.Table(html.Tbody(rows), className="mk-mini-table")


def hazards(record: dict[str, Any], layer: LayerSpec, lang: str):
    spec = next((f for f in layer.filters if f.kind == "flag" and f.options), None)
    if spec is None:
        return None
    names = [text_of(o.label, lang) for o in spec.options if record.get(o.value)]
    return "、".join(names) if lang == "ja" else ", ".join(names) or None


def field_value(name: str, record: dict[str, Any], layer: LayerSpec, lang: str, areas: AreaTable,
                timezone: str):
    spec = layer.field(name)
    if name == "hours":
        return hours(record, lang)
    if name == "hazards":
        return hazards(record, layer, lang)
    if name == "area_name":
        area = areas.get(record.get("area_code"))
        if area is None or area.kind == "prefecture":
            return record.get("area_name")
        named = areas.full_name(area, lang)
        return [named, " ", html.A(t("details.area_indicators", lang), href=href("/dashboard", lang, area=area.code),
                                   className="mk-area-link")]
    if name == "readings":
        return readings_table(record.get("readings") or {}, layer, lang, timezone)
    value = record.get(name)
    written = (record.get("as_written") or {}).get(name)
    if written:  # what the source wrote, where the typed value is missing or says less
        return as_written(written, lang)
    if spec is not None:
        if spec.type == "bool":
            return yes_no(value, lang)
        if spec.type == "weekdays":
            return weekdays(value, lang)
        if spec.type == "list":
            return ("、" if lang == "ja" else ", ").join(value) if value else None
        if spec.type == "monthly":
            return vacancies_table(value or {}, lang)
        if spec.type == "int" and value is not None:
            return f"{value:,}"
    if name == "phone":
        return phone_link(value)
    if name == "url":
        return url_link(value, lang)
    return value


def feature_details(layer: LayerSpec, record: dict[str, Any], deployment: Deployment, areas: AreaTable,
                    lang: str, close_id: dict, *, sample: bool, data_date: str, now: Now | None = None,
                    permalink: str | None = None, reported: bool = False):
    """A labelled definition list of the layer's popup fields (empty values are left out),
    under the layer's name with its "サンプル" badge when `sample`, whether it is open at `now`
    and what to do (directions, share `permalink`), and over its credit, licence and `data_date`;
    on the map (with `permalink`), a form to report a mistake (`reported`: thanked for one)."""
    items = []
    for name in layer.popup:
        value = field_value(name, record, layer, lang, areas, deployment.timezone)
        if value in (None, "", []):
            continue
        label = text_of(deployment.field_labels.get(name, {"ja": name, "en": name}), lang)
        items += [html.Dt(label), html.Dd(value)]
    return html.Section(className="mk-details", **{"aria-labelledby": "details-title"}, children=[
        html.Div(className="mk-details-head", children=[
            html.Span(text_of(layer.title, lang), className="mk-details-layer",
                      style={"borderColor": layer.colour}),
            sample_badge_if(sample, lang),
            html.Button("✕", id=close_id, className="mk-close", n_clicks=0,
                        title=t("map.close", lang), **{"aria-label": t("map.close", lang)}),
        ]),
        html.H2(record.get("name"), id="details-title", tabIndex="-1"),
        html.P(record.get("name_kana"), className="mk-kana") if record.get("name_kana") else None,
        open_state(record, now, lang),
        place_actions(record, permalink, lang) if permalink else None,
        html.Dl(items),
        html.P(credit_line(layer, data_date, lang), className="mk-details-source"),
        report_form(layer.id, record, lang, reported) if permalink else None,
    ])
