"""Mieruka — the public map and dashboard app for a prefecture's open data.

    python app.py                 serve on $PORT (default 8050)
    gunicorn app:server           production (see Procfile)

`create_app(settings)` builds an independent app; the module attribute `server` is made
on first access (for gunicorn), so importing this module has no side effects.
"""
from __future__ import annotations

import functools
import logging
import re
import sys
import threading

import html

import dash
from dash._pages import _page_meta_tags, _parse_query_string, _path_to_page
from dash._utils import format_tag
from flask import Flask, current_app, request
from werkzeug.serving import WSGIRequestHandler

import admin
import api
import offline
import i18n
import request_guard
import security
import static_cache
from components import static_html
from components.map_controls import ids as MAP_IDS
from registry import ConfigError
from services.context import build_context
from services.layers import map_data_url
from settings import ROOT, Settings
from static_cache import asset_url, content_hash

INDEX = """<!DOCTYPE html>
<html lang="ja">
<head>
{%metas%}
<title>{%title%}</title>
{%favicon%}
<link rel="manifest" href="/manifest.webmanifest">
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


_FINGERPRINT = re.compile(r"^(.*/_dash-component-suites/)([^/]+)/(.+)$")
_VERSIONS = ("dash_version", "python_version", "plotly_version", "ddk_version", "dash_version_url")


def _hashed(url: str) -> str:
    """A script's or stylesheet's URL named by the file's content (static_cache.py): a component
    suite's file name carries its hash, an asset's `?v=` (instead of Dash's `?m=<mtime>`)."""
    match = _FINGERPRINT.match(url)
    if match:
        return f"{match[1]}{match[2]}/{content_hash(match[2], match[3])}"
    return asset_url(url, str(ROOT / "assets"))


def _libraries_first(srcs: list, url_attr: str) -> list:
    """The app's assets with the vendored libraries (assets/vendor/: Leaflet, supercluster)
    before its own files, which Dash would load in name order: the map's script draws the
    map as soon as it runs, before Dash's renderer (assets/mieruka-map.js), and needs them."""
    def url(s):
        return s[url_attr] if isinstance(s, dict) else s
    places = [i for i, s in enumerate(srcs) if "/assets/" in url(s)]
    ordered = sorted((srcs[i] for i in places), key=lambda s: "/assets/vendor/" not in url(s))
    out = list(srcs)
    for i, s in zip(places, ordered):
        out[i] = s
    return out


_DASH_SCRIPT = re.compile(r'<script src="([^"]*/_dash-component-suites/[^"]*)"></script>\n?')
LATER = "text/x-mieruka-later"  # a type no browser runs or fetches (assets/mieruka-base.js)


def _dash_scripts_later(scripts: str) -> str:
    """The page's scripts with Dash's own (React, the renderer, the component suites) in their
    place but of a type that neither runs nor is fetched: assets/mieruka-base.js fetches them
    once the map's data is in and runs them, in this order, once the map is drawn."""
    return _DASH_SCRIPT.sub(f'<script type="{LATER}" src="\\1"></script>\n', scripts)


def first_values(layout):
    """A page's layout given one value per query key: the first of a repeated key (as the API's
    request.args.get) — `?measure=a&measure=b` is measure=a, never a list the page cannot read."""
    @functools.wraps(layout)
    def wrapper(**params):
        return layout(**{k: v[0] if isinstance(v, list) and v else v for k, v in params.items()})
    return wrapper


def public_request():
    """What Dash Pages' meta tags may say of the request: its path, never its Host header
    (twitter:url is MIERUKA_PUBLIC_URL + the path, or the path alone)."""
    from types import SimpleNamespace

    base = current_app.extensions["mieruka"].settings.public_url or ""
    path = request.full_path.rstrip("?")
    return SimpleNamespace(path=request.path, root=(base or "") + "/", url=base + path)


class MierukaDash(dash.Dash):
    """Dash whose /map page asks the browser to start downloading the shown layers'
    data at once, in parallel with the scripts, instead of after the first render; whose
    pages say nothing of the software serving them (script URLs carry the file's hash, not
    Dash's version and its mtime; no versions in the page's config); whose meta tags never
    echo the request's Host; and whose unknown paths are 404 (the app's 404 page, or JSON
    under /api/)."""

    def _collect_and_register_resources(self, resources, include_async=True, url_attr="src"):
        srcs = super()._collect_and_register_resources(resources, include_async, url_attr)
        return _libraries_first([{**s, url_attr: _hashed(s[url_attr])} if isinstance(s, dict) else _hashed(s)
                                 for s in srcs], url_attr)

    def _config(self):
        config = super()._config()
        if not self.server.extensions["mieruka"].settings.debug:
            for key in _VERSIONS:
                config.pop(key, None)
        return config

    def index(self, *args, **kwargs):
        if request.path.startswith("/api/"):
            return request_guard.refused(404, f"no such API route: {request.path[:200]}")
        page = self.page_of(request.path)
        index = super().index(*args, **kwargs)
        return index if page else (index, 404)  # the browser renders the app's 404 page

    def page_of(self, path: str) -> dict | None:
        """The registered page a path shows, or None (the 404 page; a page's own `exists`
        check, e.g. an unknown indicator id, counts too)."""
        page, variables = _path_to_page(self.strip_relative_path(path).strip("/"))
        if not page or page["module"].split(".")[-1] == "not_found_404":
            return None
        exists = page.get("exists")
        return page if exists is None or exists(**(variables or {})) else None

    def interpolate_index(self, **kwargs):
        metas = "\n      ".join(format_tag("meta", m, opened=True, sanitize=True)
                                for m in _page_meta_tags(self, public_request()))
        kwargs["metas"] = metas + "\n      " + kwargs["metas"]
        # Dash's icon, named by its content instead of Dash's version (static_cache.py)
        kwargs["favicon"] = re.sub(r'href="[^"]*_favicon\.ico\?v=[^"]*"', f'href="{static_cache.favicon_url()}"',
                                   kwargs["favicon"])
        if request.path.rstrip("/") == "/map":
            # after the stylesheets: the page is drawn once they are in, and over HTTP/1.1 the
            # first six requests hold the connections
            kwargs["css"] += "".join(
                f'<link rel="preload" as="fetch" crossorigin="anonymous" href="{html.escape(url)}">'
                for url in map_preload_urls(request.args))
            shell = self.boot_shell()
            if shell:
                # the map first: Dash's scripts are fetched once the layers' data is in (the
                # network is the map's until then) and run once the map is drawn
                kwargs["scripts"] = _dash_scripts_later(kwargs["scripts"])
                kwargs["app_entry"] = shell + kwargs["app_entry"]
                # its start-up line stays, as text (Dash checks the page has it): mieruka-base.js
                # starts the renderer after the scripts above
                kwargs["renderer"] = kwargs["renderer"].replace('type="application/javascript"', 'type="text/plain"')
        return super().interpolate_index(**kwargs)

    def boot_shell(self) -> str:
        """The /map page as static HTML, with the map's view state, painted and drawn before Dash
        has started (components/static_html.py; assets/mieruka-map.js adopts it). Empty where
        the layout cannot be built here: the page then starts as any other."""
        page = self.page_of(request.path)
        try:
            tree = page["layout"](**_parse_query_string("?" + request.query_string.decode("utf-8", "replace")))
            data = static_html.stores(tree)
            if MAP_IDS.STATE not in data or MAP_IDS.META not in data:
                return ""
            return (f'<div class="mk-boot" aria-hidden="true">{static_html.to_html(tree)}</div>'
                    + static_html.json_script("mk-boot-data", {"state": data[MAP_IDS.STATE], "meta": data[MAP_IDS.META]}))
        except Exception:  # the real page reports its own trouble; the shell is only a head start
            logging.getLogger(__name__).exception("no static shell for %s", request.path)
            return ""


def map_preload_urls(args) -> list[str]:
    ctx = current_app.extensions["mieruka"]
    wanted = args.get("layers")
    return [url for snap in ctx.layers.snapshots()
            if (wanted is None or snap.layer.id in wanted.split(",")) and (url := map_data_url(snap))]


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
    admin.register(server)
    offline.register(server)
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
        include_pages_meta=False,  # MierukaDash.interpolate_index writes them, without the request's Host
        description=i18n.t("app.description", "ja"),  # each page's <meta name="description"> (Dash Pages)
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"},
                   {"name": "theme-color", "content": offline.THEME}],
    )
    _built = True
    for page in dash.page_registry.values():
        if callable(page.get("layout")):
            page["layout"] = first_values(page["layout"])
    request_guard.register(app, settings)
    security.register(server, settings)  # after Dash's compression hook, so it reads the page uncompressed
    static_cache.register(server, str(ROOT / "assets"))
    api.skip_prepared(server)  # the API's prepared bodies are compressed already
    app.index_string = INDEX
    app.layout = dash.html.Div(dash.page_container)
    return app


class QuietHandler(WSGIRequestHandler):
    """`python app.py`'s server says it is Mieruka, not which Werkzeug and Python run it."""

    def version_string(self) -> str:
        return "mieruka"


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
    application.run(host=settings.host, port=settings.port, debug=settings.debug, request_handler=QuietHandler)
