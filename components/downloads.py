"""Links to a dataset's downloads (the API's machine-readable twins), shared by /data and /about."""
from __future__ import annotations

from dash import html

FORMATS = {"layers": (("GeoJSON", "geojson"), ("CSV", "csv")), "indicators": (("JSON", "json"), ("CSV", "csv"))}


def download_links(kind: str, dataset_id: str) -> list:
    """'GeoJSON · CSV': links to /api/v1/<kind>/<id>.<ext>; kind is "layers" or "indicators"."""
    links: list = []
    for i, (label, ext) in enumerate(FORMATS[kind]):
        links += ([" · "] if i else []) + [html.A(label, href=f"/api/v1/{kind}/{dataset_id}.{ext}")]
    return links
