"""Dashboard benchmark: server time of the detail page's callbacks with a warm cache on
the full sample (p50/p95 over varied requests), against a trivial callback of the same
app as the baseline (the framework's own cost), and the bytes each dashboard page
transfers (compressed) in headless Chromium.

    .venv/bin/python bench/dashboard.py [--requests 40]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


OUTPUTS: dict[str, list[tuple[str, str]]] = {}  # a callback's first output → all its outputs, from the app


def outputs_of(app, first: str) -> list[tuple[str, str]]:
    """The outputs of the app's callback whose first output is `first` ("id.property"), as the
    app declares them (so that the bench follows the page when a callback gains an output)."""
    key = next(k for k in app.callback_map if k.startswith(f"..{first}..."))
    return [tuple(part.rsplit(".", 1)) for part in key.strip(".").split("...")]


def callback_payload(view_args: dict) -> dict:
    outputs = OUTPUTS["ind-series.figure"]
    return {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [
            {"id": "ind-areas", "property": "value", "value": view_args["areas"]},
            {"id": "ind-from", "property": "value", "value": view_args["start"]},
            {"id": "ind-to", "property": "value", "value": view_args["end"]},
            {"id": "ind-pc", "property": "value", "value": ["1"] if view_args["pc"] else []},
            {"id": "ind-sort", "property": "data", "value": view_args.get("sort")},
        ],
        "state": [
            {"id": "ind-measure", "property": "value", "value": view_args["measure"]},
            {"id": "ind-meta", "property": "data", "value": {"id": view_args["id"], "lang": view_args["lang"]}},
        ],
        "changedPropIds": ["ind-areas.value"],
    }


def area_payload(area: str, lang: str) -> dict:
    """/dashboard: another area chosen (nine cards with per-capita values and places)."""
    outputs = OUTPUTS["kpi-cards.children"]
    return {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": "kpi-area", "property": "value", "value": area}],
        "state": [{"id": "kpi-view", "property": "data", "value": {"query": "", "lang": lang}}],
        "changedPropIds": ["kpi-area.value"],
    }


def baseline_payload() -> dict:
    return {
        "output": "..ind-from.value...ind-to.value..",
        "outputs": [{"id": "ind-from", "property": "value"}, {"id": "ind-to", "property": "value"}],
        "inputs": [{"id": "ind-preset", "property": "value", "value": None}],
        "state": [{"id": "ind-from", "property": "options", "value": []}],
        "changedPropIds": ["ind-preset.value"],
    }


def timed(client, payload) -> float:
    start = time.perf_counter()
    response = client.post("/_dash-update-component", json=payload)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code not in (200, 204):
        raise RuntimeError(f"callback failed: {response.status_code} {response.data[:300]!r}")
    return elapsed


def p95(values):
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    from app import create_app
    from services.indicator_view import choices
    from settings import Settings

    app = create_app(Settings(tile_url="/assets/blank-tile.png"))
    client = app.server.test_client()
    client.get("/dashboard")  # builds every indicator's data: the cache is warm from here on
    for first in ("ind-series.figure", "kpi-cards.children"):  # Dash registers callbacks at the first request
        OUTPUTS[first] = outputs_of(app, first)
    ctx = app.server.extensions["mieruka"]
    rng = random.Random(7)

    print(f"Callback server time, warm cache, {args.requests} varied requests each (in-process, ms)")
    base = [timed(client, baseline_payload()) for _ in range(args.requests)]
    print(f"{'callback':34} {'p50':>7} {'p95':>7} {'max':>7}")
    print(f"{'baseline: trivial preset callback':34} {statistics.median(base):7.1f} {p95(base):7.1f} {max(base):7.1f}")
    worst = 0.0
    for spec in ctx.deployment.indicators:
        snap = ctx.indicators.snapshot(spec.id)
        with app.server.test_request_context():
            measures = [m for m in spec.measures if snap.areas(m.id)]
            times = []
            for _ in range(args.requests):
                m = rng.choice(measures)
                opts = choices(spec, snap, m.id, ctx.areas, ctx.deployment.prefecture["code"])
                areas = rng.sample(list(opts.areas), k=min(len(opts.areas), rng.randint(1, 6)))
                i, j = sorted(rng.sample(range(len(opts.periods)), 2)) if len(opts.periods) > 1 else (0, 0)
                view = {"id": spec.id, "lang": rng.choice(["ja", "en"]), "measure": m.id, "areas": areas,
                        "start": opts.periods[i], "end": opts.periods[j], "pc": m.per_capita and rng.random() < 0.5,
                        "sort": rng.choice([None, {"key": "value", "dir": "desc"}])}
                times.append(timed(client, callback_payload(view)))
        worst = max(worst, p95(times))
        print(f"{'view_changed: ' + spec.id:34} {statistics.median(times):7.1f} {p95(times):7.1f} {max(times):7.1f}")
    areas = [a.code for a in ctx.areas.municipalities] + [w.code for w in ctx.areas.wards("271004")]
    times = [timed(client, area_payload(rng.choice(areas), rng.choice(["ja", "en"]))) for _ in range(args.requests)]
    worst = max(worst, p95(times))
    print(f"{'area_changed: /dashboard':34} {statistics.median(times):7.1f} {p95(times):7.1f} {max(times):7.1f}")
    print(f"target: p95 < 50 ms for every callback — worst p95 {worst:.1f} ms "
          f"({worst / max(p95(base), 0.001):.1f}× the baseline's p95)")

    if os.environ.get("BENCH_SKIP_BROWSER"):
        return
    from map_load import browser, free_port, start, stop, wait_ready

    port = free_port()
    env = dict(os.environ, MIERUKA_TILE_URL="/assets/blank-tile.png?{z}/{x}/{y}")
    proc = start([str(Path(sys.executable).with_name("gunicorn")), "app:server", "--workers", "2",
                  "--bind", f"127.0.0.1:{port}"], env)
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz")
        print("\nBytes transferred per page (compressed), fresh browser profile, headless Chromium")
        pages = ["/", "/map", "/dashboard"] + [f"/dashboard/{i.id}" for i in ctx.deployment.indicators]
        for page in pages:
            driver = browser()
            try:
                driver.get(f"http://127.0.0.1:{port}{page}")
                time.sleep(2.5)
                kb, plotly = driver.execute_script("""
                    const entries = performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'));
                    return [entries.reduce((s, e) => s + (e.transferSize || 0), 0) / 1024,
                            entries.some(e => e.name.includes('plotly'))];""")
            finally:
                driver.quit()
            print(f"{page:28} {kb:8.0f} KB   plotly.js loaded: {'yes' if plotly else 'no'}")
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
