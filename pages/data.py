"""/data — every dataset the app shows: where it comes from, under which licence, when it
was fetched, how many rows it has, which rows were rejected or repaired and why, which values
were computed and which were kept as the source wrote them."""
from __future__ import annotations

import dash
from dash import html

from components.provenance import snapshot_provenance
from components.dataset_labels import credit_line, sample_badge, source_kind
from components.downloads import download_links
from components.notices import local_time
from components.shell import sample_of, shell
from data_sources import SchemaDrift, SourceError, SourceLoading
from i18n import lang_or_default, reason_text, t, text_of
from services.context import context

dash.register_page(__name__, path="/data", title="データ一覧 — 見える化", name="data")


def _reasons(counts: dict[str, int], examples: dict[str, list[str]], kind: str, lang: str):
    if not counts:
        return None
    return html.Details(className="mk-rejects", children=[
        html.Summary(t(f"data.{kind}", lang, count=f"{sum(counts.values()):,}")),
        html.Ul([html.Li([html.Strong(reason_text(reason, lang), title=reason), f" — {count:,}",
                          html.Ul([html.Li(html.Code(e)) for e in examples.get(reason, [])])])
                 for reason, count in sorted(counts.items(), key=lambda kv: -kv[1])]),
    ])


def why(status: dict, lang: str) -> str:
    """Why a dataset is not up to date, in words (status: refresh.health)."""
    code = status.get("code")
    if code == "expired":
        return t("data.why.expired", lang, age=elapsed(status.get("age_s") or 0, lang))
    if code == "refresh_failed":
        failed = t("data.why.refresh_failed", lang, failures=status.get("failures") or 1)
        if str(status.get("detail") or "").startswith(f"{SchemaDrift.__name__}:"):  # refresh.py names the error
            return f"{failed} {t('data.why.schema_drift', lang)}"
        return failed
    return t(f"data.why.{code}", lang) if code in ("no_data", "age_unknown", "loading") else status.get("reason") or ""


def elapsed(seconds: float, lang: str) -> str:
    minutes = int(seconds // 60)
    if minutes < 120:
        return t("time.minutes", lang, n=max(minutes, 1))
    if minutes < 48 * 60:
        return t("time.hours", lang, n=minutes // 60)
    return t("time.days", lang, n=minutes // (24 * 60))


def _section(spec, snap, error: SourceError | None, kind: str, lang: str, timezone: str):
    """One dataset (`kind`: "layers" or "indicators"); `snap` is None when it has no data
    (`error` says why: still loading, or failed)."""
    source = spec.source
    sample = snap is not None and snap.sample
    if sample:
        where = None  # the badge is on the heading; the credit below says where the data comes from
    else:
        url = snap.source_url if snap is not None else None
        where = html.Span([f"{source_kind(source, lang)}: ", html.A(url, href=url, rel="noopener", target="_blank")
                           if url and url.startswith(("http://", "https://")) else source.name])
    if snap is not None:
        status = snap.health
    elif isinstance(error, SourceLoading):
        status = {"status": "loading", "code": "loading", "detail": None}
    else:
        status = {"status": "failing", "code": "no_data", "detail": str(error)}
    problem = None
    if status.get("status") != "ok":
        detail = status.get("detail")
        problem = html.Span([html.Br(), html.Strong(t(f"data.health.{status['status']}", lang)), " ",
                             why(status, lang), *([" ", html.Code(detail)] if detail else [])],
                            className="mk-data-problem")
    rows = [
        (t("data.source", lang), [where, problem, html.Br() if where is not None or problem else None,
                                  credit_line(spec, None, lang, licence=False, labelled=False),  # its date: data.modified
                                  snapshot_provenance(source.provenance, lang) if source.provenance else None]),
        (t("data.licence", lang), html.A(spec.licence["name"], href=spec.licence["url"], rel="license noopener",
                                         target="_blank")),
    ]
    if snap is not None:
        report = snap.report
        rows += [
            (t("data.fetched", lang), local_time(snap.fetched_at, timezone)),
            (t("data.modified", lang), snap.data_date),
            (t("data.rows", lang), f"{snap.count:,}"),
            (t("data.rejected_label", lang),
             _reasons(dict(report.rejected), report.examples, "rejected", lang) or t("data.none", lang)),
            (t("data.repaired_label", lang),
             _reasons(dict(report.repaired), report.examples, "repaired", lang) or t("data.none", lang)),
            *([(t("data.derived_label", lang), _reasons(dict(report.derived), report.examples, "derived", lang))]
              if report.derived else []),
            *([(t("data.kept_label", lang), _reasons(dict(report.kept), report.examples, "kept", lang))]
              if report.kept else []),
            (t("data.download", lang), download_links(kind, spec.id)),
        ]
    items = []
    for label, value in rows:
        items += [html.Dt(label), html.Dd(value)]
    title = [text_of(spec.title, lang)]
    if kind == "indicators":
        title.append(html.Small(f" — {t('data.indicator', lang)}"))
    if sample:
        title += [" ", sample_badge(lang)]
    return html.Section(className="mk-dataset", id=f"dataset-{spec.id}", children=[html.H2(title), html.Dl(items)])


def _snapshot(service, dataset_id: str):
    try:
        return service.snapshot(dataset_id), None
    except SourceError as exc:
        return None, exc


def layout(**params):
    c = context()
    lang = lang_or_default(params.get("lang"))
    sections, samples = [], []
    for layer in c.deployment.layers:
        snap, error = _snapshot(c.layers, layer.id)
        samples.append(snap is not None and snap.sample)
        sections.append(_section(layer, snap, error, "layers", lang, c.deployment.timezone))
    for spec in c.deployment.indicators:
        snap, error = _snapshot(c.indicators, spec.id)
        samples.append(snap is not None and snap.sample)
        sections.append(_section(spec, snap, error, "indicators", lang, c.deployment.timezone))
    content = html.Article(className="mk-prose", children=[
        html.H1(t("data.title", lang)), html.P(t("data.lead", lang)), *sections])
    return shell(lang, "data", content, title=t("data.title", lang), path="/data", params=params, sample=sample_of(samples))
