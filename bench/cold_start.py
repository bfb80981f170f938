"""Cold start benchmark: from starting the app on an empty cache to the first map response,
for the real-first Osaka deployment and for Hokkaido (179 municipalities, the most), against
the all-sample Osaka deployment measured in the same run (alternating runs, medians); and
the size the bundled real snapshots add to the repository.

    .venv/bin/python bench/cold_start.py [--runs 5]

"First map response": `python app.py` started with a fresh MIERUKA_CACHE_DIR until `/map`
has answered and the evacuation layer's map GeoJSON (what the map fetches first) has been
served in full; the cold work is reading the bundled snapshots, placing every site in its
ward, building the GeoJSON bodies.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {
    "baseline: all-sample Osaka (osaka-sample.toml)": {"MIERUKA_CONFIG": str(ROOT / "config" / "osaka-sample.toml")},
    "Osaka, real-first (osaka.toml)": {"MIERUKA_CONFIG": str(ROOT / "config" / "osaka.toml")},
    "Hokkaido (MIERUKA_PREFECTURE=01)": {"MIERUKA_PREFECTURE": "01"},
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 120) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def cold_start(variables: dict[str, str]) -> float:
    port = free_port()
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k not in ("MIERUKA_CONFIG", "MIERUKA_PREFECTURE", "MIERUKA_REDIS_URL")}
        env.update(variables, MIERUKA_CACHE_DIR=cache, PORT=str(port))
        started = time.perf_counter()
        app = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
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
            url = next(u for u in re.findall(r'href="(/api/v1/layers/[^"]+)"', page) if "evacuation-sites" in u)
            body = json.loads(get(base + url.replace("&amp;", "&")))
            assert body["features"], "the evacuation layer is empty"
            return time.perf_counter() - started
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
    times: dict[str, list[float]] = {name: [] for name in SCENARIOS}
    for _ in range(args.runs):  # alternate the scenarios, run after run
        for name, variables in SCENARIOS.items():
            times[name].append(cold_start(variables))
    base = statistics.median(times[next(iter(SCENARIOS))])
    print(f"cold start to the first map response, {args.runs} runs each, alternating")
    print(f"{'scenario':<50} {'median':>8} {'max':>8} {'vs baseline':>12}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<50} {median:>7.2f}s {max(values):>7.2f}s {median / base:>11.2f}×")
    print("\nbundled real snapshots in the repository (data/real/, as committed)")
    for folder in sorted(p.name for p in (ROOT / "data" / "real").iterdir() if p.is_dir()):
        print(f"  {folder:<18} {tracked_bytes(f'data/real/{folder}') / 1024:>9,.0f} KB")
    print(f"  {'total':<18} {tracked_bytes('data/real') / 1024:>9,.0f} KB")


if __name__ == "__main__":
    main()
