"""Mieruka — the public map and dashboard app for a prefecture's open data.

    python app.py                 serve on $PORT (default 8050)
    gunicorn app:server           production (see Procfile)

`create_app(settings)` builds an independent app; the module attribute `server` is made
on first access (for gunicorn), so importing this module has no side effects.
"""
from __future__ import annotations

import logging
import sys
import threading

import html

import dash
from flask import Flask, current_app, request

import api
import i18n
import security
from registry import ConfigError
from services.context import build_context
from services.layers import map_data_url
from settings import ROOT, Settings

INDEX = """<!DOCTYPE html>
<html lang="ja">
<head>
{%metas%}
<title>{%title%}</title>
{%favicon%}
{%css%}
</head>
<body>
{%app_entry%}
<footer>{%config%}{%scripts%}{%renderer%}</footer>
</body>
</html>"""

COMPRESS_MIMETYPES = [
    "text/html", "text/css", "text/csv", "text/javascript", "application/javascript",
    "application/json", "image/svg+xml",
]


_built = False


class MierukaDash(dash.Dash):
    """Dash whose /map page asks the browser to start downloading the shown layers'
    data at once, in parallel with the scripts, instead of after the first render."""

    def interpolate_index(self, **kwargs):
        if request.path.rstrip("/") == "/map":
            kwargs["metas"] += "".join(
                f'<link rel="preload" as="fetch" crossorigin="anonymous" href="{html.escape(url)}">'
                for url in map_preload_urls(request.args))
        return super().interpolate_index(**kwargs)


def map_preload_urls(args) -> list[str]:
    ctx = current_app.extensions["mieruka"]
    wanted = args.get("layers")
    return [map_data_url(snap) for snap in ctx.layers.snapshots()
            if wanted is None or snap.layer.id in wanted.split(",")]


def place_words(deployment) -> dict[str, dict[str, str]]:
    """What the messages say of the deployment: its prefecture, how many indicators it has
    and which (i18n.set_place)."""
    from registry import prefecture_words

    words = prefecture_words(deployment.prefecture)
    separators = {"ja": "・", "en": ", "}
    for lang, sep in separators.items():
        titles = [i.title[lang] for i in deployment.indicators]
        words[lang] |= {"indicators_n": len(titles), "deployment_title": deployment.title[lang],
                        "indicator_list": sep.join(titles if lang == "ja" else [t.lower() for t in titles])}
    return words


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the app; raises ConfigError for a deployment config it cannot use.

    One app per process: Dash Pages registers pages and their callbacks globally, and
    the first app takes them all. Tests therefore share one app (tests/conftest.py).
    """
    global _built
    if _built:
        raise RuntimeError("create_app() builds one app per process (Dash Pages registers callbacks globally)")
    settings = settings or Settings.from_env()
    ctx = build_context(settings)
    deployment = ctx.deployment
    i18n.set_place(place_words(deployment))
    server = Flask(__name__)
    server.config.update(COMPRESS_MIMETYPES=COMPRESS_MIMETYPES, COMPRESS_MIN_SIZE=500)
    server.extensions["mieruka"] = ctx
    # Build the local datasets now and start fetching the live ones, in the background, so
    # that the first visitor does not wait.
    threading.Thread(target=lambda: (ctx.layers.snapshots(), ctx.indicators.snapshots()), name="warm-datasets",
                     daemon=True).start()
    api.register(server)
    app = MierukaDash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"),
        compress=True,
        serve_locally=True,
        title=deployment.title["ja"],
        update_title=None,
        suppress_callback_exceptions=True,
        description=i18n.t("app.description", "ja"),  # each page's <meta name="description"> (Dash Pages)
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    _built = True
    security.register(server, settings)  # after Dash's compression hook, so it reads the page uncompressed
    app.index_string = INDEX
    app.layout = dash.html.Div(dash.page_container)
    return app


def _create_or_exit() -> dash.Dash:
    try:
        return create_app()
    except ConfigError as exc:
        print(f"mieruka: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def __getattr__(name: str):
    if name in ("app", "server"):
        app = _create_or_exit()
        globals()["app"], globals()["server"] = app, app.server
        return globals()[name]
    raise AttributeError(name)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    application = _create_or_exit()
    settings = application.server.extensions["mieruka"].settings
    application.run(host=settings.host, port=settings.port, debug=settings.debug)
