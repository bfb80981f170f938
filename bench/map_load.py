"""Map load benchmark: time until markers are painted in headless Chromium, with all
nine layers on, against a bare dash-leaflet baseline measured in the same run.

    .venv/bin/python bench/map_load.py [--runs 5]

Scenarios (each served by gunicorn, 2 workers, tiles from a local route):
  baseline      bare dash-leaflet page, the same nine layer files, default markers
  mieruka       /map, all nine layers on (the full sample, ≈30k points)
  mieruka+100k  /map with a tenth layer of 100k points read from a CSV file
For each: median and max of "markers painted" (navigation start → the number of marker
and cluster elements has stopped changing for 400 ms), and the bytes transferred
(compressed). Then a filter click on the nine-layer map: time to repaint and the number
of server requests it made (must be 0).
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402

PY = sys.executable
GUNICORN = str(Path(PY).with_name("gunicorn"))
SETTLE_MS = 400

PAINTED_JS = """
const done = arguments[arguments.length - 1];
const settle = arguments[0], minimum = arguments[1], t0 = performance.timeOrigin;
let last = -1, since = performance.now();
(function poll() {
  const n = document.querySelectorAll('.leaflet-marker-icon').length;
  const now = performance.now();
  if (n !== last) { last = n; since = now; }
  if (n >= minimum && now - since >= settle) {
    const bytes = performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))
      .reduce((s, e) => s + (e.transferSize || 0), 0);
    done({painted: since, markers: n, bytes: bytes});
  } else if (now > 30000) { done({painted: null, markers: n, bytes: 0}); }
  else { requestAnimationFrame(poll); }
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def start(cmd: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


def browser() -> webdriver.Chrome:
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,860"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options)


def measure(url: str, runs: int, minimum: int) -> list[dict]:
    results = []
    for _ in range(runs):
        driver = browser()  # a fresh profile each run: nothing from the HTTP cache
        try:
            driver.set_script_timeout(40)
            driver.get(url)
            results.append(driver.execute_async_script(PAINTED_JS, SETTLE_MS, minimum))
        finally:
            driver.quit()
    return results


def filter_repaint(url: str, runs: int) -> list[tuple[float, int]]:
    out = []
    driver = browser()
    try:
        driver.set_script_timeout(40)
        driver.get(url)
        driver.execute_async_script(PAINTED_JS, SETTLE_MS, 50)
        for i in range(runs):
            result = driver.execute_async_script("""
                const done = arguments[arguments.length - 1];
                const requests = () => performance.getEntriesByType('resource')
                    .filter(e => e.name.includes('_dash-update-component')).length;
                document.querySelector('#filters-toilets').open = true;
                const before = requests(), summary = document.querySelector('#count-summary');
                const text = summary.textContent, t0 = performance.now();
                document.querySelector("#filters-toilets input[value='wheelchair']").click();
                (function poll() {
                  if (summary.textContent !== text) {
                    requestAnimationFrame(() => done([performance.now() - t0, requests() - before]));
                  } else if (performance.now() - t0 > 10000) { done([null, requests() - before]); }
                  else { requestAnimationFrame(poll); }
                })();
            """)
            out.append(tuple(result))
            time.sleep(0.3)
    finally:
        driver.quit()
    return out


def write_extra_layer(folder: Path, count: int = 100_000) -> Path:
    """A tenth layer of `count` AED-format rows from the generator, several seeds, renumbered."""
    import datetime as dt

    from sample_data import COLUMNS, generate
    from services.areas import default_table

    areas, rows, seed = default_table(), [], 1
    while len(rows) < count:
        for row in generate("aed", areas, dt.date(2026, 11, 25), seed=seed):
            row = dict(row, NO=f"X{len(rows):06d}")
            rows.append(row)
            if len(rows) == count:
                break
        seed += 1
    path = folder / "extra-100k.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS["aed"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def extra_config(folder: Path, csv_path: Path) -> Path:
    """The default deployment plus a tenth layer: the AED layer's definition on `csv_path`."""
    import json
    import tomllib

    from tests.live_config import inline_toml

    template = tomllib.loads((ROOT / "config" / "japan.toml").read_text(encoding="utf-8"))
    aed = next(dict(layer) for layer in template["layers"] if layer["id"] == "aed")
    aed.pop("id")
    aed.update(title={"ja": "負荷試験用", "en": "Benchmark extra"}, colour="#444444",
               source={"kind": "file", "path": str(csv_path)})
    lines = [f"extends = {json.dumps(str(ROOT / 'config' / 'osaka.toml'))}", "", "[layers.bench-extra]"]
    lines += [f"{json.dumps(key, ensure_ascii=False)} = {inline_toml(value)}" for key, value in aed.items()]
    path = folder / "bench.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def summarise(name: str, results: list[dict]) -> dict:
    painted = [r["painted"] / 1000 for r in results if r["painted"] is not None]
    return {"name": name, "median": statistics.median(painted) if painted else float("nan"),
            "max": max(painted) if painted else float("nan"), "markers": results[-1]["markers"],
            "kb": results[-1]["bytes"] / 1024, "failed": len(results) - len(painted)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mieruka-bench-"))
    procs = []
    try:
        env = dict(os.environ, MIERUKA_TILE_URL="/assets/blank-tile.png?{z}/{x}/{y}", WEB_CONCURRENCY="2")
        port_a, port_b, port_base = free_port(), free_port(), free_port()
        gunicorn = [GUNICORN, "app:server", "--workers", "2", "--threads", "4", "--timeout", "120"]
        procs.append(start(gunicorn + ["--bind", f"127.0.0.1:{port_a}"], env))
        print("writing the 100k-point layer …", flush=True)
        extra = extra_config(work, write_extra_layer(work))
        procs.append(start(gunicorn + ["--bind", f"127.0.0.1:{port_b}"], dict(env, MIERUKA_CONFIG=str(extra))))
        wait_ready(f"http://127.0.0.1:{port_a}/healthz")
        wait_ready(f"http://127.0.0.1:{port_b}/healthz", timeout=180)
        layers_dir = work / "layers"
        layers_dir.mkdir()
        import json

        with urllib.request.urlopen(f"http://127.0.0.1:{port_a}/api/v1/layers") as r:
            ids = [layer["id"] for layer in json.load(r)["layers"]]
        for lid in ids:
            with urllib.request.urlopen(f"http://127.0.0.1:{port_a}/api/v1/layers/{lid}.geojson") as r:
                (layers_dir / f"{lid}.geojson").write_bytes(r.read())
        procs.append(start([PY, "bench/baseline_app.py", str(layers_dir), str(port_base)], env))
        wait_ready(f"http://127.0.0.1:{port_base}/")
        # warm every layer once so that no scenario pays for building the data
        for port in (port_a, port_b):
            measure(f"http://127.0.0.1:{port}/map", 1, 50)
        measure(f"http://127.0.0.1:{port_base}/", 1, 50)

        print(f"\nMap load, headless Chromium, {args.runs} runs each (localhost, gunicorn 2 workers)")
        rows = [
            summarise("baseline (bare dash-leaflet, 9 layers)", measure(f"http://127.0.0.1:{port_base}/", args.runs, 50)),
            summarise("mieruka /map, 9 layers (≈30k points)", measure(f"http://127.0.0.1:{port_a}/map", args.runs, 50)),
            summarise("mieruka /map, 9 layers + 100k", measure(f"http://127.0.0.1:{port_b}/map", args.runs, 50)),
        ]
        base = rows[0]["median"]
        print(f"{'scenario':44} {'median s':>9} {'max s':>7} {'vs base':>8} {'markers':>8} {'KB sent':>8}")
        for row in rows:
            print(f"{row['name']:44} {row['median']:9.2f} {row['max']:7.2f} {row['median'] / base:7.2f}x "
                  f"{row['markers']:8d} {row['kb']:8.0f}" + (f"  ({row['failed']} runs timed out)" if row["failed"] else ""))
        print("targets: 9 layers < 1.5 s median, 9 layers + 100k < 3 s median")

        repaint = filter_repaint(f"http://127.0.0.1:{port_a}/map", args.runs)
        times = [r[0] for r in repaint if r[0] is not None]
        print(f"\nFilter click (toilets: wheelchair) on the 9-layer map: median repaint "
              f"{statistics.median(times):.0f} ms, server requests made: {sum(r[1] for r in repaint)}")
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
