"""The frame around every page: skip link, header with navigation and language switch,
the sample-data notice, and the footer with credits.

With `embed=1` in the query (a page in an iframe on another site, such as the
prefecture's) the header gives way to a slim bar: a link that opens the same view in
Mieruka in a new tab, and the language switch. The sample-data notice stays."""
from __future__ import annotations

from urllib.parse import urlencode

from dash import html

from components.dataset_labels import sample_badge
from i18n import t


class ids:
    LANG_LINK = "lang-link"
    MAIN = "main"


def page_href(path: str, params: dict, **changes: str | None) -> str:
    """`path` with the query `params` after `changes` (a None value drops its key)."""
    query = {k: v for k, v in params.items() if k not in changes}
    query.update({k: v for k, v in changes.items() if v is not None})
    return f"{path}?{urlencode(query)}" if query else path


def href(path: str, lang: str, **query: str | None) -> str:
    """A link to `path` in `lang` (lang=en for English; Japanese is the default) with `query`
    (None values left out)."""
    return page_href(path, {}, lang="en" if lang == "en" else None, **query)


def lang_href(path: str, params: dict, lang: str) -> str:
    """The same page and query in the other language."""
    return page_href(path, params, lang="en" if lang == "ja" else None)


def is_embedded(params: dict) -> bool:
    return params.get("embed") == "1"


def sample_of(flags) -> str | None:
    """What a page shows of sample data: "all", "some" (mixed with live data) or None.

    The page's notice follows: "all" says the page shows sample data; "some" says only that
    what is marked with the badge (components/dataset_labels.py) is sample, since each entry
    says so on its own; None (all real) shows no notice."""
    flags = list(flags)
    return ("all" if all(flags) else "some") if any(flags) else None


def shell(lang: str, active: str, content, *, title: str | None, path: str, params: dict,
          sample: str | bool | None, wide: bool = False):
    """The page frame. `title`: the page's own name (None on the home page), which with the
    site's name becomes the document's title in the page's language (Dash Pages keeps one
    Japanese title per page; assets/mieruka-base.js puts this one back over it).
    `sample`: see sample_of (True means "all")."""
    document_title = f"{title} — {t('app.name', lang)}" if title else f"{t('app.name', lang)} — {t('app.tagline', lang)}"

    def nav_link(key: str, path: str):
        current = key == active
        return html.Li(html.A(t(f"nav.{key}", lang), href=href(path, lang), className="mk-nav-link",
                              **({"aria-current": "page"} if current else {})))

    lang_link = html.A(t("lang.switch", lang), id=ids.LANG_LINK, href=lang_href(path, params, lang),
                       className="mk-lang", lang="en" if lang == "ja" else "ja", target="_self",
                       title=t("lang.switch_label", lang), **{"aria-label": t("lang.switch_label", lang)})
    notice = html.P([sample_badge(lang), " ", t("sample.notice_some" if sample == "some" else "sample.notice", lang),
                     " ", html.A(t("sample.about", lang), href=href("/about", lang) + "#sample")],
                    className="mk-sample", role="note") if sample else None
    # shown only when the page is a copy kept for offline use (offline/sw.js marks its <html>)
    offline_notice = html.P([t("offline.notice", lang), html.Span(className="mk-offline-time")],
                            className="mk-offline", role="status")
    if is_embedded(params):
        bar = html.Header(className="mk-embed-bar", children=[
            html.A(href=page_href(path, params, embed=None), target="_blank", rel="noopener",
                   className="mk-embed-open", children=[
                       t("embed.open", lang),
                       html.Span(" ↗", **{"aria-hidden": "true"}),
                       html.Span(t("embed.new_tab", lang), className="mk-visually-hidden"),
                   ]),
            lang_link,
        ])
        return html.Div(className="mk-app mk-embed" + (" mk-wide" if wide else ""), lang=lang,
                        **{"data-title": document_title}, children=[
            bar, offline_notice, notice, html.Main(content, id=ids.MAIN, tabIndex="-1"),
        ])

    header = html.Header(className="mk-header", children=[
        html.A(t("nav.skip", lang), href=f"#{ids.MAIN}", className="mk-skip"),
        html.A(href=href("/", lang), className="mk-brand", children=[
            html.Span("見える化", className="mk-brand-ja", lang="ja"),
            html.Span(" Mieruka", className="mk-brand-en", lang="en"),
            html.Span(t("brand.place", lang), className="mk-brand-place"),  # which of the 47 this is
        ]),
        html.Nav(html.Ul([nav_link("home", "/"), nav_link("map", "/map"), nav_link("dashboard", "/dashboard"),
                          nav_link("data", "/data"), nav_link("about", "/about")]),
                 className="mk-nav", **{"aria-label": t("nav.label", lang)}),
        lang_link,
    ])
    footer = html.Footer(className="mk-footer", children=[
        html.Span(t("footer.credit", lang)), " · ",
        html.A(t("nav.about", lang), href=href("/about", lang)),
    ])
    return html.Div(className="mk-app" + (" mk-wide" if wide else ""), lang=lang, **{"data-title": document_title},
                    children=[
        header, offline_notice, notice, html.Main(content, id=ids.MAIN, tabIndex="-1"), footer,
    ])
