"""Cold start benchmark: from starting the app on an empty cache to the first map response,
for the real-first Osaka deployment, Hokkaido (179 municipalities, the most) and the national
deployment (GSI's 152,702 sites and shelters of all Japan; skipped without ../shared/real-data),
against the all-sample Osaka deployment measured in the same run (alternating runs, medians);
the memory each worker holds once it has served every layer; and the size the bundled real
snapshots add to the repository.

    .venv/bin/python bench/cold_start.py [--runs 5]

"First map response": the app started as the Procfile starts it (gunicorn, 2 workers × 4
threads) with a fresh MIERUKA_CACHE_DIR, until `/map` has answered and the evacuation layer's
first data has been served in full — its columns (a small layer), or its summary of the first
view (a big one); the cold work is reading the bundled snapshots, placing every site in its
ward, building the bodies and indexes. "RSS per worker": each gunicorn worker's resident
memory (VmRSS) after /map and what it loads of every layer have been asked for until both
workers have answered them (the GeoJSON downloads, made when first asked for, are not).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {
    "baseline: all-sample Osaka (osaka-sample.toml)": {"MIERUKA_CONFIG": str(ROOT / "config" / "osaka-sample.toml")},
    "Osaka, real-first (osaka.toml)": {"MIERUKA_CONFIG": str(ROOT / "config" / "osaka.toml")},
    "Hokkaido (MIERUKA_PREFECTURE=01)": {"MIERUKA_PREFECTURE": "01"},
    "national (national.toml: 152,702 GSI places, a big layer)": {"MIERUKA_CONFIG": str(ROOT / "config" / "national.toml")},
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 120) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def map_data_urls(page: str) -> dict[str, str]:
    """Layer id → what the map asks first of it: its preloaded columns, or for a big layer the
    summary of the first view (a desktop's tiles, one more on each side)."""
    boot = re.search(r'<script type="application/json" id="mk-boot-data">(.*?)</script>', page, re.S)
    meta = json.loads(boot.group(1))["meta"]
    (lat, lon), z = meta["view"]["center"], meta["view"]["zoom"]
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return {layer["id"]: layer["url"] or f"{layer['tiles']['summary']}&z={z}&bbox={x - 4},{y - 3},{x + 4},{y + 3}"
            for layer in meta["layers"]}


def worker_rss_mb(master: int) -> list[float]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return sorted(sizes)


def cold_start(variables: dict[str, str]) -> tuple[float, list[float]]:
    """(seconds to the first map response, each worker's RSS in MB once warm)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k not in ("MIERUKA_CONFIG", "MIERUKA_PREFECTURE", "MIERUKA_REDIS_URL")}
        env.update(variables, MIERUKA_CACHE_DIR=cache, PORT=str(port))
        started = time.perf_counter()
        app = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "app:server", "--bind", f"127.0.0.1:{port}",
                                "--workers", "2", "--threads", "4", "--timeout", "300"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    page = get(f"{base}/map").decode("utf-8")
                    break
                except OSError:
                    if app.poll() is not None or time.perf_counter() - started > 300:
                        raise RuntimeError(f"the app did not start: {variables}") from None
                    time.sleep(0.05)
            urls = map_data_urls(page)
            body = json.loads(get(base + urls["evacuation-sites"]))
            assert body.get("n") or body.get("count"), "the evacuation layer is empty"
            first = time.perf_counter() - started
            for _ in range(16):  # enough that both workers have answered every layer (4 threads each)
                get(f"{base}/map")
                for url in urls.values():
                    get(base + url)
            return first, worker_rss_mb(app.pid)
        finally:
            app.terminate()
            app.wait(20)


def tracked_bytes(folder: str) -> int:
    files = subprocess.run(["git", "ls-files", "-z", folder], cwd=ROOT, capture_output=True, check=True).stdout
    return sum((ROOT / name).stat().st_size for name in files.decode().split("\0") if name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    scenarios = dict(SCENARIOS)
    if not (ROOT.parent / "shared" / "real-data" / "gsi-hinanbasho").is_dir():
        print("national: skipped (GSI's nationwide files are read from ../shared/real-data/, not found)")
        scenarios = {k: v for k, v in scenarios.items() if not k.startswith("national")}
    times: dict[str, list[float]] = {name: [] for name in scenarios}
    memory: dict[str, list[float]] = {name: [] for name in scenarios}
    for _ in range(args.runs):  # alternate the scenarios, run after run
        for name, variables in scenarios.items():
            seconds, rss = cold_start(variables)
            times[name].append(seconds)
            memory[name] += rss
    base = statistics.median(times[next(iter(scenarios))])
    print(f"cold start to the first map response (gunicorn, 2 workers × 4 threads), {args.runs} runs each, alternating")
    print(f"{'scenario':<58} {'median':>8} {'max':>8} {'vs baseline':>12} {'RSS per worker':>15}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<58} {median:>7.2f}s {max(values):>7.2f}s {median / base:>11.2f}× "
              f"{statistics.median(memory[name]):>11.0f} MB")
    print("\nbundled real snapshots in the repository (data/real/, as committed)")
    for folder in sorted(p.name for p in (ROOT / "data" / "real").iterdir() if p.is_dir()):
        print(f"  {folder:<18} {tracked_bytes(f'data/real/{folder}') / 1024:>9,.0f} KB")
    print(f"  {'total':<18} {tracked_bytes('data/real') / 1024:>9,.0f} KB")


if __name__ == "__main__":
    main()
