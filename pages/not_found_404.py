"""Any unknown path: a calm page in the site's frame, never an error trace."""
from __future__ import annotations

import dash
from dash import html

from components.shell import href, shell
from i18n import lang_or_default, t

dash.register_page(__name__, path="/404", title="ページが見つかりません — 見える化")


def layout(**params):
    lang = lang_or_default(params.get("lang"))
    content = html.Article(className="mk-prose", children=[
        html.H1(t("error.title", lang)),
        html.P(html.A(t("error.back", lang), href=href("/", lang))),
    ])
    return shell(lang, "", content, title=t("error.title", lang), path="/", params=params, sample=False)
