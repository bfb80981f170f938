"""A big layer's summary (issue 10: "filters over a national layer may ask the server, but then
in one request per view change, answered from the index in < 50 ms at p95").

The app in this process (Flask's test client: server time only, no network) on the national
deployment (config/national.toml: GSI's 152,702 evacuation sites and shelters; without
../shared/real-data, Osaka's with every layer big, MIERUKA_MAP_TILED_OVER=0). Views as a
visitor makes them — a zoom of 7–11 somewhere in the deployment's box, the tiles of a phone
or desktop screen plus one on each side, no filter or one hazard, type, search or area —
alternating with the baseline: the same layer's chunk, its bytes prepared beforehand, through
the same routing and send_body. Prints p50/p95/max of each, and the first-time cost of each filter
value (its mask over every place is made once per snapshot, then kept).

    .venv/bin/python bench/map_summary.py [--requests 400]
"""
from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LAYER = "evacuation-sites"
WORDS = ("小学校", "公園", "中学校", "公民館", "センター", "こうえん")


def tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    national = (ROOT.parent / "shared" / "real-data" / "gsi-hinanbasho").is_dir()
    os.environ["MIERUKA_CACHE_DIR"] = os.environ.get("MIERUKA_CACHE_DIR") or tempfile.mkdtemp(prefix="mieruka-bench-")
    if national:
        os.environ["MIERUKA_CONFIG"] = str(ROOT / "config" / "national.toml")
    else:
        os.environ["MIERUKA_MAP_TILED_OVER"] = "0"
    from app import create_app
    from settings import Settings

    started = time.perf_counter()
    app = create_app(Settings.from_env())
    client = app.server.test_client()
    ctx = app.server.extensions["mieruka"]
    snap = ctx.layers.snapshot(LAYER)
    print(f"{'national' if national else 'Osaka, every layer big'}: {LAYER} {snap.count:,} places, "
          f"app and index ready in {time.perf_counter() - started:.1f} s", flush=True)
    base = f"/api/v1/layers/{LAYER}"
    version = snap.version
    chunks = snap.tiles.chunk_keys()
    hazards = [o.value for o in snap.layer.filter("hazard").options]
    kinds = [o.value for o in snap.layer.filter("kind").options]
    areas = [a.code for a in ctx.areas.municipalities]
    west, south, east, north = (123.0, 24.0, 146.0, 45.5) if national else ctx.deployment.bbox
    rng = random.Random(20261207)

    def view_url() -> str:
        z = rng.randint(7, 11)
        x, y = tile(rng.uniform(west, east), rng.uniform(south, north), z)
        wide, high = rng.choice([(2, 4), (5, 4)])  # phone, desktop: tiles of the screen
        box = [max(0, x - wide // 2 - 1), max(0, y - high // 2 - 1), x + wide // 2 + 1, y + high // 2 + 1]
        query = rng.choice(["", f"f.hazard={rng.choice(hazards)}", f"f.kind={rng.choice(kinds)}",
                            f"q={rng.choice(WORDS)}", f"area={rng.choice(areas)}"])
        return f"{base}/summary.json?v={version}&z={z}&bbox={','.join(map(str, box))}" + (f"&{query}" if query else "")

    def timed(url: str) -> float:
        start = time.perf_counter()
        response = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.get_data()[:200]!r}")
        return elapsed

    first = {}
    for label, query in ([("no filter", "")] + [(f"hazard {h}", f"f.hazard={h}") for h in hazards[:3]]
                         + [(f"kind {k}", f"f.kind={k}") for k in kinds] + [("search 小学校", "q=小学校")]):
        x, y = tile(135.5, 34.69, 9)
        first[label] = timed(f"{base}/summary.json?v={version}&z=9&bbox={x - 2},{y - 2},{x + 2},{y + 2}&{query}")

    for cx, cy, _ in chunks:  # the baseline warm: every chunk's bytes prepared before
        snap.tiles.chunk_body(cx, cy)
    summary, baseline = [], []
    for _ in range(args.requests):  # alternating: the summary, then the baseline
        summary.append(timed(view_url()))
        cx, cy, _ = rng.choice(chunks)
        baseline.append(timed(f"{base}/chunks/10/{cx}/{cy}.json?v={version}"))

    print("\nfirst request of a filter value (its mask over every place made, then kept):")
    for label, ms in first.items():
        print(f"  {label:<28} {ms:8.1f} ms")
    print(f"\n{args.requests} views each, server time in ms (Flask test client):")
    print("| answer | p50 | p95 | max | goal |")
    print("|---|---|---|---|---|")
    for label, values, goal in (("summary of a view", summary, "p95 < 50 ms"),
                                ("baseline: a prepared chunk", baseline, "—")):
        print(f"| {label} | {statistics.median(values):.2f} | {percentile(values, 95):.2f} | {max(values):.2f} | {goal} |")
    p95 = percentile(summary, 95)
    print(f"\nsummary p95 {p95:.1f} ms: {'met' if p95 < 50 else 'NOT met'} (goal < 50 ms); "
          f"{p95 / percentile(baseline, 95):.1f}× the prepared chunk's p95")


if __name__ == "__main__":
    main()
