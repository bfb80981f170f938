"""What every dataset says about itself wherever its data is shown: the "サンプル" badge of
sample data (a layer or indicator whose source is `bundled`), and its credit with the date
the data is as of. One factory each, used by the legend, the details panel, the cards on
/ and /dashboard, the indicator page, /about and /data."""
from __future__ import annotations

from dash import html

from i18n import t, text_of


def sample_badge(lang: str):
    """A small badge: "サンプル" on screen, "サンプルデータ（架空）" to a screen reader (the
    rest of the name is visually hidden, so copied text reads as one phrase too). Text, not
    colour alone."""
    return html.Span(className="mk-sample-badge", children=[
        t("sample.badge", lang), html.Span(t("sample.badge_rest", lang), className="mk-visually-hidden")])


def sample_badge_if(sample: bool, lang: str):
    """The badge when `sample`, else None (Dash leaves None out)."""
    return sample_badge(lang) if sample else None


def titled(title, sample: bool, lang: str) -> list:
    """A heading's children: `title`, followed by the badge when `sample`."""
    return [title, " ", sample_badge(lang)] if sample else [title]


def as_of(data_date: str, lang: str) -> str:
    """'データ時点: 2025-10-27' / 'Data as of 2025-10-27'."""
    return t("dataset.as_of", lang, date=data_date)


def credit_line(spec, data_date: str | None, lang: str, *, licence: bool = True, labelled: bool = True,
                className: str = "mk-credit"):
    """'出典: 大阪府 (CC BY 4.0) · データ時点: 2025-10-27' for a layer or indicator `spec`
    (its config's credit and licence); the licence links to its terms. `labelled=False`
    leaves out '出典: ' (under a heading that already says "source")."""
    credit = text_of(spec.credit, lang)
    says_source = credit.startswith(("出典", "Source"))  # a required credit line may say it itself (GSI's)
    parts: list = [t("dataset.credit", lang, credit=credit) if labelled and not says_source else credit]
    if licence and spec.licence.get("name"):
        parts += [" (", html.A(spec.licence["name"], href=spec.licence["url"], rel="license noopener",
                               target="_blank"), ")"]
    if data_date:
        parts += [" · ", html.Span(as_of(data_date, lang), className="mk-as-of")]
    return html.Span(parts, className=className)


def source_kind(source, lang: str) -> str:
    """How a source's kind is named in public: "同梱の実データ" for a bundled real snapshot,
    else the kind as the config says it (file, url, ckan, ngsi-ld …)."""
    return t("data.kind.snapshot", lang) if source.kind == "snapshot" else source.kind
