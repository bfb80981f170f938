"""Where a bundled real snapshot comes from, for /data: its publisher's dataset, when it was
retrieved, the files the build step read with their sha256, and — for a layer gathered from
several publishers (the municipalities' toilet files) — each one's credit, licence and page.
So that staff can check a figure against the publisher's own file."""
from __future__ import annotations

from dash import html

from i18n import t, text_of


def _link(text: str, url: str | None):
    return html.A(text, href=url, rel="noopener", target="_blank") if url and url.startswith(("http://", "https://")) else text


def snapshot_provenance(provenance: dict, lang: str):
    """A folded list: title and publisher, retrieval date, inputs (sha256), parts."""
    items = [
        html.Li([t("prov.dataset", lang), " ", _link(text_of(provenance["title"], lang), provenance.get("source_url")),
                 f"（{text_of(provenance['publisher'], lang)}）" if lang == "ja" else f" ({text_of(provenance['publisher'], lang)})"]),
        html.Li(t("prov.retrieved", lang, date=provenance.get("retrieved") or "—")),
        html.Li([t("prov.inputs", lang), html.Ul([
            html.Li([html.Code(entry["file"]), " sha256 ", html.Code(entry["sha256"][:16] + "…", title=entry["sha256"])])
            for entry in provenance.get("inputs", [])])]),
    ]
    parts = provenance.get("parts") or []
    if parts:
        items.append(html.Li([t("prov.parts", lang, n=len(parts)), html.Ul([
            html.Li([_link(part["credit"], part.get("source_url")), " (",
                     _link(part["licence"]["name"], part["licence"].get("url")), ")",
                     f" · {t('prov.rows', lang, n=part['rows'])}",
                     *([f" · {t('prov.modified', lang, date=part['modified'])}"] if part.get("modified") else [])])
            for part in parts])]))
    missing = provenance.get("not_included") or []
    if missing:
        items.append(html.Li(t("prov.not_included", lang, n=len(missing), names=t("list.sep", lang).join(
            m["name"] for m in missing))))
    return html.Details(className="mk-provenance", children=[
        html.Summary(t("prov.summary", lang)), html.Ul(items)])
