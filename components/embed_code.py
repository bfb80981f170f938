""""Embed this page": the <iframe> code for the view on screen, for the staff of a site that
shows Mieruka's maps and dashboards (the prefecture's). The code itself is written in the
browser (mieruka.embedCode in assets/mieruka-pages.js), from the address, which holds the
whole view, when the box opens and again on copy; or from `path` for a fixed example."""
from __future__ import annotations

from dash import html

from i18n import t


def embed_code(lang: str, title: str, *, path: str | None = None, summary: str | None = None,
               hint: str | None = None, open_: bool = False):
    """`title`: the iframe's title (what a screen reader announces on the other site)."""
    return html.Details(
        className="mk-embed-code", open=open_,
        **{"data-title": title, "data-copied": t("embed.copied", lang), **({"data-path": path} if path else {})},
        children=[
            html.Summary(summary or t("embed.code", lang)),
            html.P(hint or t("embed.code_hint", lang), className="mk-hint"),
            html.Textarea(readOnly=True, rows=3, className="mk-code", spellCheck="false",
                          **{"aria-label": t("embed.code", lang)}),
            html.Button(t("embed.copy", lang), type="button", className="mk-button mk-embed-copy"),
            html.Span(className="mk-embed-copied", role="status"),
        ])
