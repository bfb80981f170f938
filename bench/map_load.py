"""Map benchmark (issue 10): Mieruka's /map against a plain Leaflet + supercluster page on
the same data, in the same run, alternating (plain, app, plain, app …), medians of --runs.

    .venv/bin/python bench/map_load.py [--runs 5] [--only osaka,100k,national] [--timeout 120]

The baseline is ../shared/bench/plain-leaflet.html (copied to a scratch folder, its two npm
packages installed there), fed each layer's GeoJSON exactly as the app's API serves it to the
map (`/api/v1/layers/<id>.geojson?profile=map`), served by nginx with gzip on and
`gzip_static` (a .gz written beside every file, as the app serves its layers pre-gzipped).
The app runs under gunicorn as the Procfile does (2 workers), tiles from a local route.

Scenarios: `osaka` (config/osaka.toml: nine layers, ≈30k points), `100k` (the same plus a
tenth layer of 100k AED-format rows from the sample generator), `national`
(config/national.toml: GSI's evacuation sites and shelters of all Japan, ≈153k places, plus
Osaka's other layers; needs ../shared/real-data).

Measured from the DOM only (so it holds for any map code that draws `.leaflet-marker-icon`
elements), a fresh browser profile each run, headless Chromium:
- first markers: navigation start → the first `.leaflet-marker-icon` in the DOM (a
  MutationObserver installed before any page script, CDP Page.addScriptToEvaluateOnNewDocument);
- all painted: the time of the marker count's last change (a requestAnimationFrame poll), once
  it has not changed for CONFIRM_MS (≥ the 400 ms of the issue);
  both on a desktop (1280×860) and a phone (390×844, mobile emulation, CPU throttled 4×);
- JS heap after load (Performance.getMetrics JSHeapUsedSize after HeapProfiler.collectGarbage),
  bytes transferred (compressed: transferSize of every resource and the navigation) and the
  number of GeoJSON requests, on the desktop;
- on the desktop, after load: a filter click (app: toilets → wheelchair, on and off; the plain
  page has no filters, so its equivalent is what a plain page would do for one: rebuild the
  toilets' supercluster index from the wheelchair-accessible points and redraw that layer), the
  server requests the app's filter made (must be 0), a layer hidden and shown again
  (evacuation sites: the app's switch; the plain page removes and adds its layer group), and a
  zoom step (the zoom control's + button on both): each until the marker pane has not changed
  for SETTLE_MS (a MutationObserver on it), the time of the frame after its last change;
- the renderer's own accounting of the load (Performance.getMetrics: TaskDuration,
  ScriptDuration, LayoutDuration, RecalcStyleDuration, DOM nodes), to show what dominates.
Prints one table per scenario (metric | mieruka | plain | ratio | goal | met?) and exits 0
whether or not the goals are met: it is a measurement.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
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
from tests.nginx_proxy import site_config, temp_paths  # noqa: E402  (deploy/nginx.conf on loopback)

PY = sys.executable
GUNICORN = str(Path(PY).with_name("gunicorn"))
PLAIN_PAGE = ROOT.parent / "shared" / "bench"
SETTLE_MS = 400  # an interaction is over when the marker pane has not changed for this long
CONFIRM_MS = 1500  # the load is over when the marker count has not changed for this long
TILES = "/assets/blank-tile.png?{style}/{z}/{x}/{y}"
DESKTOP = {"name": "desktop", "width": 1280, "height": 860, "mobile": False, "cpu": 1}
PHONE = {"name": "phone", "width": 390, "height": 844, "mobile": True, "cpu": 4}
TOGGLED = "evacuation-sites"  # the layer hidden and shown again (in every scenario; the big one nationally)
BREAKDOWN = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")

# Before any script of the page: a big resource-timing buffer (bytes and request counts), the
# first marker's time (MutationObserver) and the marker count's last change (rAF poll).
AT_DOCUMENT_START = """
(() => {
  performance.setResourceTimingBufferSize(1000000);
  const icons = document.getElementsByClassName('leaflet-marker-icon');
  const bench = window.__bench = {first: null, last: null, count: 0};
  const observer = new MutationObserver(() => {
    if (icons.length) { bench.first = performance.now(); observer.disconnect(); }
  });
  observer.observe(document, {childList: true, subtree: true});
  (function poll() {
    if (icons.length !== bench.count) { bench.count = icons.length; bench.last = performance.now(); }
    requestAnimationFrame(poll);
  })();
})();
"""

STATE_JS = """
const b = window.__bench || {};
const entries = performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'));
return {first: b.first, last: b.last, count: b.count, now: performance.now(),
        bytes: entries.reduce((s, e) => s + (e.transferSize || 0), 0),
        geojson: entries.filter(e => e.name.includes('.geojson')).length};
"""

# Run `action` (JS statements), then wait until the marker pane has not changed for `settle` ms;
# the result is the time from before the action to the frame after the pane's last change.
INTERACTION_JS = """
const done = arguments[arguments.length - 1], settle = arguments[0], cap = arguments[1];
const pane = document.querySelector('.leaflet-marker-pane') || document.body;
const requests = () => performance.getEntriesByType('resource').length;
let changed = null, painted = null;
const observer = new MutationObserver(() => {
  changed = performance.now();
  requestAnimationFrame(() => { painted = performance.now(); });
});
observer.observe(pane, {childList: true, subtree: true, attributes: true});
const before = requests(), t0 = performance.now();
%s
(function wait() {
  const now = performance.now();
  if ((changed !== null && painted !== null && painted >= changed && now - changed >= settle) || now - t0 > cap) {
    observer.disconnect();
    done({ms: changed === null || now - t0 > cap ? null : painted - t0, requests: requests() - before,
          markers: document.getElementsByClassName('leaflet-marker-icon').length});
  } else { setTimeout(wait, 20); }
})();
"""

# What each interaction is on each page: (app JS, plain page JS).
INTERACTIONS = {
    "filter on": (
        "document.querySelector('#filters-toilets').open = true;"
        "document.querySelector(\"#filters-toilets input[value='wheelchair']\").click();",
        "window.__toilets = window.__toilets || layers.toilets.index.points;"
        "layers.toilets.index = new Supercluster({radius: 60, maxZoom: 16})"
        ".load(window.__toilets.filter(f => f.properties.wheelchair === true)); draw('toilets');"),
    "filter off": (
        "document.querySelector(\"#filters-toilets input[value='wheelchair']\").click();",
        "layers.toilets.index = new Supercluster({radius: 60, maxZoom: 16}).load(window.__toilets); draw('toilets');"),
    "layer hide": (
        f"document.querySelector(\"#layer-toggle input[value='{TOGGLED}']\").click();",
        f"map.removeLayer(layers['{TOGGLED}'].group);"),
    "layer show": (
        f"document.querySelector(\"#layer-toggle input[value='{TOGGLED}']\").click();",
        f"layers['{TOGGLED}'].group.addTo(map);"),
    "zoom step": (
        "document.querySelector('.leaflet-control-zoom-in').click();",
        "document.querySelector('.leaflet-control-zoom-in').click();"),
}


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


def browser(profile: dict = DESKTOP) -> webdriver.Chrome:
    """A headless Chromium with a fresh profile (nothing in its HTTP cache), as `profile` says:
    window or emulated phone, CPU throttling, and the page probes installed at document start."""
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                f"--window-size={profile['width']},{profile['height']}"):
        options.add_argument(arg)
    if profile["mobile"]:
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": profile["width"], "height": profile["height"], "pixelRatio": 3.0, "touch": True}})
    driver = webdriver.Chrome(options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": AT_DOCUMENT_START})
    driver.execute_cdp_cmd("Performance.enable", {})
    if profile["cpu"] > 1:
        driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": profile["cpu"]})
    return driver


def metrics(driver) -> dict[str, float]:
    return {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}


def load(driver, url: str, timeout: float) -> dict:
    """Open `url` and wait until the markers are all painted (or `timeout` s)."""
    driver.set_page_load_timeout(timeout)
    started = time.time()
    try:
        driver.get(url)
    except Exception:  # the load event never came: still read what the page drew
        pass
    state = {}
    while time.time() - started < timeout:
        state = driver.execute_script(STATE_JS)
        if state["count"] and state["last"] is not None and state["now"] - state["last"] >= CONFIRM_MS:
            break
        time.sleep(0.1)
    else:
        state["timeout"] = True
    state["metrics"] = metrics(driver)
    return state


def heap_mb(driver) -> float:
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    return metrics(driver)["JSHeapUsedSize"] / 2**20


def interact(driver, action: str, cap_s: float) -> dict:
    driver.set_script_timeout(cap_s + 10)
    return driver.execute_async_script(INTERACTION_JS % action, SETTLE_MS, cap_s * 1000)


def run_once(url: str, profile: dict, timeout: float, page: str) -> dict:
    """One fresh-profile load of a page (and, on the desktop, its interactions)."""
    driver = browser(profile)
    try:
        state = load(driver, url, timeout)
        result = {"first": state.get("first"), "painted": None if state.get("timeout") else state.get("last"),
                  "markers": state.get("count", 0), "kb": state.get("bytes", 0) / 1024,
                  "geojson": state.get("geojson", 0), "metrics": state["metrics"]}
        if profile is DESKTOP and result["painted"] is not None:
            result["heap"] = heap_mb(driver)
            for name, (app_js, plain_js) in INTERACTIONS.items():
                try:
                    result[name] = interact(driver, app_js if page == "app" else plain_js, min(timeout, 30))
                except Exception as exc:  # a control the page does not have: no figure
                    result[name] = {"ms": None, "requests": 0, "error": str(exc).splitlines()[0][:120]}
                time.sleep(0.3)
        return result
    finally:
        driver.quit()


# --------------------------------------------------------------------------- servers and data


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


def start_app(work: Path, name: str, config: Path, timeout: float) -> tuple[subprocess.Popen, int]:
    """gunicorn as the Procfile runs it, on its own empty cache; returns once every layer's
    map GeoJSON is served (each worker asked a few times, so neither builds it while timed)."""
    port = free_port()
    cache = work / f"cache-{name}"
    env = dict(os.environ, MIERUKA_TILE_URL=TILES, MIERUKA_CONFIG=str(config), MIERUKA_CACHE_DIR=str(cache),
               WEB_CONCURRENCY="2")
    proc = start([GUNICORN, "app:server", "--workers", "2", "--threads", "4", "--timeout", "300",
                  "--bind", f"127.0.0.1:{port}"], env)
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/healthz", timeout=timeout)
    deadline = time.time() + max(timeout, 300)
    while True:
        with urllib.request.urlopen(f"{base}/api/v1/layers", timeout=60) as r:
            listing = json.load(r)
        if not listing.get("unavailable"):
            break
        if time.time() > deadline:
            raise RuntimeError(f"{name}: layers still unavailable: {listing['unavailable']}")
        time.sleep(2)
    for _ in range(4):
        for layer in listing["layers"]:
            urllib.request.urlopen(f"{base}/api/v1/layers/{layer['id']}.geojson?profile=map", timeout=300).read()
        urllib.request.urlopen(f"{base}/map", timeout=60).read()
    return proc, port


def plain_scratch(work: Path, page: Path) -> Path:
    """The plain page copied to a scratch folder with its npm packages installed there."""
    folder = work / "plain"
    shutil.copytree(page, folder)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=folder, check=True,
                   stdout=subprocess.DEVNULL)
    for path in [*folder.glob("node_modules/leaflet/dist/*.css"), *folder.glob("node_modules/leaflet/dist/*.js"),
                 *folder.glob("node_modules/supercluster/dist/*.js"), folder / "plain-leaflet.html"]:
        gzip_beside(path)
    return folder


def gzip_beside(path: Path) -> None:
    """`path`.gz for nginx's gzip_static (level 6, as the app's own pre-gzipped layers)."""
    path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))


def plain_layers(plain: Path, name: str, app_port: int) -> tuple[str, list[str], float]:
    """The scenario's folder for the plain page: the page and each layer's map GeoJSON as the
    app's API serves it (saved at layers/<id>.geojson, .gz beside). Returns its path, the
    layer ids and the layers' total points."""
    folder = plain / name
    (folder / "layers").mkdir(parents=True)
    shutil.copy(plain / "plain-leaflet.html", folder)
    shutil.copy(plain / "plain-leaflet.html.gz", folder)
    (folder / "node_modules").symlink_to(plain / "node_modules")
    base = f"http://127.0.0.1:{app_port}"
    with urllib.request.urlopen(f"{base}/api/v1/layers") as r:
        listing = json.load(r)["layers"]
    for layer in listing:
        with urllib.request.urlopen(f"{base}/api/v1/layers/{layer['id']}.geojson?profile=map", timeout=300) as r:
            path = folder / "layers" / f"{layer['id']}.geojson"
            path.write_bytes(r.read())
        gzip_beside(path)
    return name, [layer["id"] for layer in listing], sum(layer["count"] for layer in listing)


NGINX_CONF = """
user root;
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 512; }}
http {{
  include /etc/nginx/mime.types;
  types {{ application/geo+json geojson; }}
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  gzip on;
  gzip_static on;
  gzip_vary on;
  gzip_types application/geo+json application/json application/javascript text/css;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
  fastcgi_temp_path {work}/nginx-fastcgi;
  uwsgi_temp_path {work}/nginx-uwsgi;
  scgi_temp_path {work}/nginx-scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
  }}
}}
"""


def start_nginx(work: Path, root: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(work=work, port=port, root=root), encoding="utf-8")
    proc = start(["nginx", "-p", str(work), "-c", str(conf)], dict(os.environ))
    wait_ready(f"http://127.0.0.1:{port}/plain-leaflet.html", timeout=20)
    return proc, port


PROXY_CONF = """
worker_processes 2;
daemon off;
pid {work}/proxy.pid;
error_log {work}/proxy-error.log warn;
events {{ worker_connections 1024; }}
http {{
  types {{ text/html html; application/javascript js; text/css css; image/png png; }}
  default_type application/octet-stream;
  access_log off;
  {temp}
  {site}
}}
"""


def start_proxy(work: Path, name: str, app_port: int) -> tuple[subprocess.Popen, int]:
    """deploy/nginx.conf as shipped, in front of the app (as the README's deployment has it):
    it keeps what the app marks cacheable (assets, layer data) and passes pages and callbacks."""
    folder = work / f"proxy-{name}"
    (folder / "cache").mkdir(parents=True)
    for path in [work, folder, *folder.rglob("*")]:
        path.chmod(0o777 if path != work else 0o755)  # nginx's workers run as another user
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(PROXY_CONF.format(work=folder, temp=temp_paths(folder),
                                      site=site_config(port, app_port, folder / "cache")), encoding="utf-8")
    proc = start(["nginx", "-p", str(folder), "-c", str(conf)], dict(os.environ))
    wait_ready(f"http://127.0.0.1:{port}/healthz", timeout=20)
    return proc, port


# --------------------------------------------------------------------------- figures


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value: float | None, unit: str, timeouts: int = 0) -> str:
    if value is None:
        return "timeout" if timeouts else "—"
    text = {"s": f"{value / 1000:.2f} s", "ms": f"{value:.0f} ms", "MB": f"{value:.1f} MB",
            "KB": f"{value:,.0f} KB", "": f"{value:,.0f}"}[unit]
    return text + (f" ({timeouts} timed out)" if timeouts else "")


def row(metric: str, app, plain, unit: str, goal: str = "—", met: bool | None = None, app_timeouts: int = 0,
        plain_timeouts: int = 0) -> list[str]:
    ratio = f"{app / plain:.2f}×" if app is not None and plain else "—"
    return [metric, fmt(app, unit, app_timeouts), fmt(plain, unit, plain_timeouts), ratio, goal,
            "—" if met is None else "yes" if met else "NO"]


def within(app, plain, factor: float) -> bool | None:
    return None if app is None or not plain else app <= factor * plain


def table(rows: list[list[str]]) -> str:
    header = ["metric", "mieruka", "plain", "ratio", "goal", "met?"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def scenario_rows(name: str, results: dict, osaka_phone_first: float | None) -> list[list[str]]:
    """The table of one scenario: results[page][profile] is a list of run results."""
    def values(page, profile, key):
        return [r.get(key) for r in results[page][profile]]

    def timeouts(page, profile, key):
        return sum(1 for v in values(page, profile, key) if v is None)

    def timing(page, profile, key):
        return median(values(page, profile, key))

    def action(page, key, field="ms"):
        return median([(r.get(key) or {}).get(field) for r in results[page]["desktop"]])

    goals = {"osaka": 1.3, "100k": None, "national": 1.0}
    factor = goals[name]
    rows = []
    for profile, label in (("desktop", "desktop 1280×860"), ("phone", "phone 390×844, CPU 4×")):
        for key, what in (("first", "first markers"), ("painted", "all painted")):
            app, plain = timing("app", profile, key), timing("plain", profile, key)
            goal = f"≤ {factor}×" if factor else "—"
            rows.append(row(f"{what}, {label}", app, plain, "s", goal, within(app, plain, factor) if factor else None,
                            timeouts("app", profile, key), timeouts("plain", profile, key)))
    if name == "national" and osaka_phone_first is not None:
        app = timing("app", "phone", "first")
        rows.append(row("first markers, phone: national vs Osaka's 30k (mieruka)", app, osaka_phone_first, "s",
                        "≤ 1.5×", within(app, osaka_phone_first, 1.5)))
    app, plain = timing("app", "desktop", "heap"), timing("plain", "desktop", "heap")
    rows.append(row("JS heap after load (after GC)", app, plain, "MB", "≤ 1.3×" if name == "osaka" else "—",
                    within(app, plain, 1.3) if name == "osaka" else None))
    app, plain = timing("app", "desktop", "kb"), timing("plain", "desktop", "kb")
    limit = {"osaka": 1024, "national": 1536}.get(name)
    rows.append(row("transferred (compressed)", app, plain, "KB", f"≤ {limit // 1024 if limit == 1024 else 1.5} MB"
                    if limit else "—", None if limit is None or app is None else app <= limit))
    app, plain = timing("app", "desktop", "geojson"), timing("plain", "desktop", "geojson")
    rows.append(row("GeoJSON requests", app, plain, ""))
    app, plain = timing("app", "desktop", "markers"), timing("plain", "desktop", "markers")
    rows.append(row("markers and clusters drawn", app, plain, ""))
    for key, goal, factor in (("filter on", "≤ 2× and < 100 ms", 2), ("filter off", "≤ 2× and < 100 ms", 2),
                              ("layer hide", "≤ 1.5×", 1.5), ("layer show", "≤ 1.5×", 1.5),
                              ("zoom step", "≤ 1.5×", 1.5)):
        app, plain = action("app", key), action("plain", key)
        met = within(app, plain, factor)
        if met is not None and key.startswith("filter"):
            met = met and app < 100
        label = {"filter on": "filter click (toilets: wheelchair on)", "filter off": "filter click (off again)",
                 "layer hide": f"layer hidden ({TOGGLED})", "layer show": f"layer shown again ({TOGGLED})",
                 "zoom step": "zoom step (+ button)"}[key]
        rows.append(row(label, app, plain, "ms", goal, met))
    requests = [(r.get("filter on") or {}).get("requests", 0) + (r.get("filter off") or {}).get("requests", 0)
                for r in results["app"]["desktop"] if r.get("filter on")]
    total = sum(requests) if requests else None
    rows.append(["server requests made by the filter clicks (all runs)", fmt(total, ""), "—", "—", "0",
                 "—" if total is None else "yes" if total == 0 else "NO"])
    return rows


def breakdown(results: dict) -> str:
    """Median seconds the renderer spent per kind of work during the load (Performance.getMetrics)."""
    lines = [f"{'':22} " + " ".join(f"{k.replace('Duration', ''):>11}" for k in BREAKDOWN) + f" {'DOM nodes':>10}"]
    for page in ("app", "plain"):
        for profile in ("desktop", "phone"):
            runs = results[page][profile]
            cells = [median([r["metrics"].get(k) for r in runs]) for k in BREAKDOWN]
            nodes = median([r["metrics"].get("Nodes") for r in runs])
            lines.append(f"{('mieruka' if page == 'app' else 'plain') + ' ' + profile:22} "
                         + " ".join(f"{c:10.2f}s" if c is not None else f"{'—':>11}" for c in cells)
                         + (f" {nodes:10,.0f}" if nodes is not None else ""))
    return "\n".join(lines)


def errors(results: dict) -> list[str]:
    seen = []
    for page in ("app", "plain"):
        for r in results[page]["desktop"]:
            for key in INTERACTIONS:
                error = (r.get(key) or {}).get("error")
                if error and f"{page} {key}: {error}" not in seen:
                    seen.append(f"{page} {key}: {error}")
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per page and profile (median of these)")
    parser.add_argument("--only", default="osaka,100k,national", help="scenarios, comma-separated: osaka,100k,national")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a page load may take before it counts as a timeout")
    parser.add_argument("--plain-page", type=Path, default=PLAIN_PAGE, help="folder of plain-leaflet.html and its package.json")
    parser.add_argument("--behind-proxy", action="store_true",
                        help="the app behind deploy/nginx.conf as shipped (the deployment), not gunicorn alone")
    args = parser.parse_args()
    scenarios = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(scenarios) - {"osaka", "100k", "national"}
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    national = ROOT / "config" / "national.toml"
    if "national" in scenarios and not (ROOT.parent / "shared" / "real-data" / "gsi-hinanbasho").is_dir():
        print("national: skipped (GSI's nationwide files are read from ../shared/real-data/, not found)")
        scenarios.remove("national")
    work = Path(tempfile.mkdtemp(prefix="mieruka-bench-"))
    procs: list[subprocess.Popen] = []
    osaka_phone_first = None
    try:
        plain = plain_scratch(work, args.plain_page)
        nginx, nginx_port = start_nginx(work, plain)
        procs.append(nginx)
        for name in scenarios:
            if name == "osaka":
                config = ROOT / "config" / "osaka.toml"
            elif name == "100k":
                print("writing the 100k-point layer …", flush=True)
                config = extra_config(work, write_extra_layer(work))
            else:
                config = national
            print(f"\n== {name}: starting the app ({config.name}) …", flush=True)
            app, app_port = start_app(work, name, config, timeout=300)
            procs.append(app)
            try:
                folder, ids, points = plain_layers(plain, name, app_port)
                if args.behind_proxy:
                    proxy, proxy_port = start_proxy(work, name, app_port)
                    procs.append(proxy)
                app_url = f"http://127.0.0.1:{proxy_port if args.behind_proxy else app_port}/map"
                plain_url = f"http://127.0.0.1:{nginx_port}/{folder}/plain-leaflet.html?layers={','.join(ids)}"
                run_once(app_url, DESKTOP, args.timeout, "app")  # warm-up, untimed
                results = {page: {"desktop": [], "phone": []} for page in ("app", "plain")}
                for i in range(args.runs):
                    for profile in (DESKTOP, PHONE):
                        for page, url in (("plain", plain_url), ("app", app_url)):  # alternating
                            print(f"   run {i + 1}/{args.runs} {profile['name']:7} {page:5}", end="", flush=True)
                            t = time.time()
                            results[page][profile["name"]].append(run_once(url, profile, args.timeout, page))
                            print(f"  ({time.time() - t:.0f} s)", flush=True)
            finally:
                stop(app)
                procs.remove(app)
            if name == "osaka":
                osaka_phone_first = median(r.get("first") for r in results["app"]["phone"])
            print(f"\n{name}: {len(ids)} layers, {points:,.0f} points; headless Chromium, fresh profile per run, "
                  f"median of {args.runs} alternating runs; load timeout {args.timeout:.0f} s")
            print(table(scenario_rows(name, results, osaka_phone_first)))
            print("plain page: no filters — its 'filter click' rebuilds the toilets' supercluster index from the "
                  "wheelchair-accessible points and redraws that layer; its layer toggle removes/adds the layer group")
            print("\nwhere the load's time goes (renderer, Performance.getMetrics, medians):")
            print(breakdown(results))
            for error in errors(results):
                print(f"  no figure for {error}")
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
