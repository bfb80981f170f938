"""Load benchmark: wrk against gunicorn (the Procfile's settings) on every kind of route, with
the file store and with Redis, and once with Redis stopped and restarted in the middle of the
run; the figure that must hold is 0 non-2xx answers and 0 socket errors, the p50/p99
latencies and requests per second are printed beside a static file of the app served in the
same run (the cheapest answer it can give: the baseline).

    .venv/bin/python bench/load.py [--duration 60] [--connections 64] [--only NAME]

Needs wrk and redis-server (`make bench` installs them). Loopback only; the app runs on its
embedded default data (config/osaka.toml) in a fresh cache folder.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.redis_server import RedisServer, free_port  # noqa: E402  (a private throw-away redis-server)

ROUTES = {
    "baseline: /assets/mieruka.css": "/assets/mieruka.css",
    "/": "/",
    "/map": "/map",
    "/dashboard": "/dashboard",
    "/dashboard/crime": "/dashboard/crime",
    "callback: page router for /dashboard/crime": "POST /_dash-update-component",
    "layer GeoJSON (toilets, map profile)": "/api/v1/layers/toilets.geojson?profile=map",
    "layer CSV (aed)": "/api/v1/layers/aed.csv",
    "indicator JSON (crime)": "/api/v1/indicators/crime.json",
    "indicator CSV (population)": "/api/v1/indicators/population.csv",
    "/healthz": "/healthz",
}


def gunicorn_command(port: int, access_log: Path) -> list[str]:
    """The Procfile's web line, on loopback, its access log to a file."""
    line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("web:"))
    line = line.removeprefix("web:").strip().replace("${PORT:-8050}", str(port)).replace("${WEB_CONCURRENCY:-2}", "2")
    words = shlex.split(line.replace("0.0.0.0:", "127.0.0.1:"))
    words[words.index("--access-logfile") + 1] = str(access_log)
    return [str(Path(sys.executable).parent / words[0]), *words[1:]]


def get(url: str, data: bytes | None = None, timeout: float = 120) -> bytes:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def router_body(base: str, path: str) -> bytes:
    """The first callback a browser posts on a visit to `path`: Dash Pages' router, built from
    the app's own /_dash-dependencies as the renderer builds it."""
    deps = json.loads(get(f"{base}/_dash-dependencies"))
    router = next(d for d in deps if d["inputs"][0] == {"id": "_pages_location", "property": "pathname"})
    values = {"_pages_location.pathname": path, "_pages_location.search": ""}

    def items(declared):
        return [{**d, **({"value": values[f'{d["id"]}.{d["property"]}']}
                         if f'{d["id"]}.{d["property"]}' in values else {})} for d in declared]

    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in router["output"].strip(".").split("...")]
    body = {"output": router["output"], "outputs": outputs, "inputs": items(router["inputs"]),
            "state": items(router.get("state", [])), "changedPropIds": ["_pages_location.pathname"]}
    answer = json.loads(get(f"{base}/_dash-update-component", json.dumps(body).encode()))
    assert "_pages_content" in answer["response"], "the replayed callback renders the page"
    return json.dumps(body).encode()


def start_app(cache: Path, redis_url: str | None) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIERUKA_")}
    env.update(MIERUKA_CACHE_DIR=str(cache), **({"MIERUKA_REDIS_URL": redis_url} if redis_url else {}))
    access_log = cache / "access.log"
    app = subprocess.Popen(gunicorn_command(port, access_log), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=open(cache / "app.log", "wb"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            health = json.loads(get(f"{base}/healthz"))
            if all(d["status"] != "loading" for d in health["datasets"].values()):
                for path in ("/map", "/dashboard/crime"):  # each worker builds its views on first use
                    for _ in range(4):
                        get(base + path)
                return app, base, access_log
        except OSError:
            pass
        if app.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not start: " + (cache / "app.log").read_text()[-2000:])
        time.sleep(0.2)


def stop_app(app: subprocess.Popen) -> None:
    app.send_signal(signal.SIGTERM)
    try:
        app.wait(30)
    except subprocess.TimeoutExpired:
        app.kill()


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("%s", "rb"):read()
"""


def wrk(base: str, target: str, duration: int, connections: int, work: Path, body: bytes | None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s"]
    if target.startswith("POST "):
        (work / "body.json").write_bytes(body or b"")
        (work / "post.lua").write_text(WRK_SCRIPT % (work / "body.json"))
        command += ["-s", str(work / "post.lua")]
        target = target.removeprefix("POST ")
    out = subprocess.run(command + [base + target], capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1),
        "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": sum(int(n) for n in errors.groups()) if errors else 0,
    }


def statuses(access_log: Path) -> dict[str, int]:
    """Status codes in gunicorn's access log (what the server itself answered)."""
    counts: dict[str, int] = {}
    for line in access_log.read_text(errors="replace").splitlines():
        match = re.search(r'" (\d{3}) ', line)
        if match:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return counts


def run_scenario(name: str, redis: RedisServer | None, args, restart_redis: bool = False) -> list[tuple]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="mieruka-load-") as folder:
        work = Path(folder)
        app, base, access_log = start_app(work, redis.url if redis else None)
        try:
            body = router_body(base, "/dashboard/crime")
            routes = {k: v for k, v in ROUTES.items() if not args.only or args.only in k}
            if restart_redis:
                routes = {"layer GeoJSON (toilets, map profile)": ROUTES["layer GeoJSON (toilets, map profile)"],
                          "/map": ROUTES["/map"]}
            for label, target in routes.items():
                bounce = None
                if restart_redis:  # stop Redis a third of the way in, start it again at two thirds
                    def bounce_redis():
                        time.sleep(args.duration / 3)
                        redis.stop()
                        time.sleep(args.duration / 3)
                        redis.start()
                    bounce = threading.Thread(target=bounce_redis)
                    bounce.start()
                result = wrk(base, target, args.duration, args.connections, work, body)
                if bounce:
                    bounce.join()
                get(f"{base}/healthz")  # the requests wrk left in flight are answered before the next route
                rows.append((name, label, result))
                print(f"  {name:<28} {label:<44} {result['rps']:>8.0f}/s  p50 {result['p50']:>8}  "
                      f"p99 {result['p99']:>8}  non-2xx {result['non2xx']}  errors {result['errors']}", flush=True)
        finally:
            stop_app(app)
        served = statuses(access_log)
        print(f"  {name:<28} access log: {', '.join(f'{k}: {v:,}' for k, v in sorted(served.items()))}", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=60, help="seconds per route")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--only", help="routes whose label contains this")
    args = parser.parse_args()
    print(f"wrk {args.duration} s × {args.connections} connections per route, gunicorn as in the Procfile "
          f"(2 workers × 4 threads), default data")
    rows = run_scenario("file store", None, args)
    with RedisServer() as redis:
        rows += run_scenario("Redis", redis, args)
        if not args.only:
            rows += run_scenario("Redis stopped and restarted", redis, args, restart_redis=True)
    bad = [(n, label, r) for n, label, r in rows if r["non2xx"] or r["errors"] or not r["requests"]]
    print(f"\n{sum(r['requests'] for *_, r in rows):,} requests; non-2xx: {sum(r['non2xx'] for *_, r in rows)}, "
          f"socket errors: {sum(r['errors'] for *_, r in rows)}")
    for name, label, r in bad:
        print(f"  FAILED {name} / {label}: non-2xx {r['non2xx']}, errors {r['errors']}, answered {r['requests']}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
