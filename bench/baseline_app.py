"""Baseline for bench/map_load.py: a bare dash-leaflet page loading the same nine layer
files with default markers and clustering, none of Mieruka's icons, filters or controls.

    python bench/baseline_app.py DIR PORT     (DIR holds <layer>.geojson files)
"""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

import dash_leaflet as dl
from dash import Dash
from flask import Response, request

folder, port = Path(sys.argv[1]), int(sys.argv[2])
bodies = {p.stem: p.read_bytes() for p in sorted(folder.glob("*.geojson"))}
zipped = {k: gzip.compress(v, 6) for k, v in bodies.items()}

app = Dash(__name__, compress=True, assets_folder=str(Path(__file__).parent / "_no_assets"))
app.layout = dl.Map(center=[34.66, 135.5], zoom=10, style={"height": "100vh"}, children=[
    dl.TileLayer(url="/tile.png?{z}/{x}/{y}"),
    *[dl.GeoJSON(url=f"/layer/{name}.geojson", cluster=True, superClusterOptions={"radius": 90})
      for name in bodies],
])
TILE = (Path(__file__).resolve().parents[1] / "assets" / "blank-tile.png").read_bytes()


@app.server.get("/layer/<name>.geojson")
def layer(name):
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        return Response(zipped[name], mimetype="application/json", headers={"Content-Encoding": "gzip"})
    return Response(bodies[name], mimetype="application/json")


@app.server.get("/tile.png")
def tile():
    return Response(TILE, mimetype="image/png")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=port)
