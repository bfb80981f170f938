"""Load benchmark: wrk against gunicorn (the Procfile's settings) on every kind of route, with
the file store and with Redis, and once with Redis stopped and restarted in the middle of the
run; the figure that must hold is 0 non-2xx answers and 0 socket errors, the p50/p99
latencies and requests per second are printed beside a static file of the app served in the
same run (the cheapest answer it can give: the baseline).

Then the static-file limit (issue 10): nginx, in the same run, serves the very bytes the app
answers (fetched from it, raw, gzip and brotli, written to disk) with `gzip_static` and, when
Debian's libnginx-mod-http-brotli-static is installed, `brotli_static`; and the same nginx runs
deploy/nginx.conf, as shipped, in front of the app (its cache). wrk asks the app, the app
behind that proxy and nginx's files with a browser's Accept-Encoding, for a layer's GeoJSON
(map profile), /api/v1/layers and crime.json, and each one's ratio to nginx's requests per
second is printed with p50 and p99.

    .venv/bin/python bench/load.py [--duration 60] [--connections 64] [--only NAME] [--nginx-only]

Needs wrk, nginx and redis-server (`make bench` installs them). Loopback only; the app runs on
its embedded default data (config/osaka.toml) in a fresh cache folder.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
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

from tests.nginx_proxy import site_config, temp_paths  # noqa: E402  (deploy/nginx.conf on loopback)
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


def wrk(base: str, target: str, duration: int, connections: int, work: Path, body: bytes | None,
        headers: dict[str, str] | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
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


# ---------------------------------------------------------------- the static-file limit: nginx

#: label → (the app's URL, the file nginx serves it from)
NGINX_ROUTES = {
    "layer GeoJSON (toilets, map profile)": ("/api/v1/layers/toilets.geojson?profile=map", "toilets-map.geojson"),
    "/api/v1/layers": ("/api/v1/layers", "layers.json"),
    "indicator JSON (crime)": ("/api/v1/indicators/crime.json", "crime.json"),
}
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
NGINX_CONF = """
%(load)s
worker_processes 2;
daemon off;
pid %(root)s/nginx.pid;
error_log %(root)s/nginx-error.log warn;
events { worker_connections 1024; }
http {
    types { application/json json geojson; }
    default_type application/octet-stream;
    access_log %(root)s/nginx-access.log;
    %(temp)s
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:%(port)d;
        root %(root)s/www;
        gzip_static on;
        %(brotli)s
        etag on;
        location / { add_header Cache-Control "public, max-age=300"; add_header Vary Accept-Encoding; }
    }
    # deploy/nginx.conf in front of the app
    %(proxy)s
}
"""


def fetch_encoded(url: str, encoding: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding})
    with urllib.request.urlopen(request, timeout=120) as response:
        got = response.headers.get("Content-Encoding") or "identity"
        assert got == encoding, f"{url}: asked for {encoding}, got {got}"
        return response.read()


def start_nginx(base: str, work: Path, brotli: bool) -> tuple[subprocess.Popen, str, str]:
    """nginx serving, from disk, the bytes the app at `base` answers for NGINX_ROUTES (raw, .gz,
    .br), and, on a second port, deploy/nginx.conf as shipped in front of the app: their base URLs."""
    www = work / "www"
    www.mkdir(parents=True)
    for target, name in NGINX_ROUTES.values():
        (www / name).write_bytes(fetch_encoded(base + target, "identity"))
        (www / f"{name}.gz").write_bytes(fetch_encoded(base + target, "gzip"))
        if brotli:
            (www / f"{name}.br").write_bytes(fetch_encoded(base + target, "br"))
    for folder in [work, *work.rglob("*")]:  # nginx's workers run as another user
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    port, proxy_port = free_port(), free_port()
    conf = work / "nginx.conf"
    (work / "cache").mkdir(mode=0o777)
    (work / "cache").chmod(0o777)
    conf.write_text(NGINX_CONF % {
        "root": work, "port": port, "temp": temp_paths(work),
        "load": f"load_module {BROTLI_MODULE};" if brotli else "",
        "brotli": "brotli_static on;" if brotli else "",
        "proxy": site_config(proxy_port, int(base.rsplit(":", 1)[1]), work / "cache")})
    nginx = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(conf), "-p", str(work)],
                             stdout=subprocess.DEVNULL, stderr=open(work / "nginx-start.log", "wb"))
    nginx_base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            get(nginx_base + "/layers.json")
            return nginx, nginx_base, f"http://127.0.0.1:{proxy_port}"
        except OSError:
            if nginx.poll() is not None or time.monotonic() > deadline:
                logs = [work / "nginx-start.log", work / "nginx-error.log"]
                raise RuntimeError("nginx did not start: " + " ".join(p.read_text()[-2000:] for p in logs if p.exists()))
            time.sleep(0.1)


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_static_limit(args) -> list[tuple]:
    """The app, the app behind deploy/nginx.conf's cache, and nginx serving the same bytes from
    disk, one after the other per route; their ratios of requests per second to nginx's."""
    brotli = BROTLI_MODULE.exists()
    accept = "gzip, deflate, br" if brotli else "gzip"
    print(f"\nthe static-file limit: wrk with Accept-Encoding: {accept!r} against the app and against nginx "
          f"(gzip_static{' + brotli_static' if brotli else '; brotli_static module not installed: gzip only'}) "
          "serving the same bytes from disk")
    rows = []
    with tempfile.TemporaryDirectory(prefix="mieruka-static-") as folder:
        work = Path(folder)
        work.chmod(0o755)  # nginx's workers (another user) read the files below
        (work / "app").mkdir()
        app, base, _log = start_app(work / "app", None)
        try:
            nginx, nginx_base, proxy_base = start_nginx(base, work / "nginx", brotli)
            try:
                for label, (target, name) in NGINX_ROUTES.items():
                    if args.only and args.only not in label:
                        continue
                    headers = {"Accept-Encoding": accept}
                    ours = wrk(base, target, args.duration, args.connections, work, None, headers)
                    proxied = wrk(proxy_base, target, args.duration, args.connections, work, None, headers)
                    theirs = wrk(nginx_base, "/" + name, args.duration, args.connections, work, None, headers)
                    rows.append(("static-file limit", label, ours))
                    rows.append(("static-file limit, behind deploy/nginx.conf", label, proxied))
                    for who, result in (("app", ours), ("app behind deploy/nginx.conf", proxied)):
                        ratio = result["rps"] / theirs["rps"] if theirs["rps"] else float("nan")
                        print(f"  {label:<40} {who:<29} {result['rps']:>8.0f}/s p50 {result['p50']:>8} "
                              f"p99 {result['p99']:>8} | nginx {theirs['rps']:>8.0f}/s p50 {theirs['p50']:>8} "
                              f"p99 {theirs['p99']:>8} | {ratio:.2f}× nginx's (p99 "
                              f"{_ms(result['p99']) / _ms(theirs['p99']):.1f}× nginx's)", flush=True)
            finally:
                nginx.send_signal(signal.SIGQUIT)
                nginx.wait(30)
        finally:
            stop_app(app)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=60, help="seconds per route")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--only", help="routes whose label contains this")
    parser.add_argument("--nginx-only", action="store_true", help="only the comparison with nginx")
    args = parser.parse_args()
    if args.nginx_only:
        rows = run_static_limit(args)
        return 0 if all(r["requests"] and not r["non2xx"] and not r["errors"] for *_, r in rows) else 1
    print(f"wrk {args.duration} s × {args.connections} connections per route, gunicorn as in the Procfile "
          f"(2 workers × 4 threads), default data")
    rows = run_scenario("file store", None, args)
    with RedisServer() as redis:
        rows += run_scenario("Redis", redis, args)
        if not args.only:
            rows += run_scenario("Redis stopped and restarted", redis, args, restart_redis=True)
    rows += run_static_limit(args)
    bad = [(n, label, r) for n, label, r in rows if r["non2xx"] or r["errors"] or not r["requests"]]
    print(f"\n{sum(r['requests'] for *_, r in rows):,} requests; non-2xx: {sum(r['non2xx'] for *_, r in rows)}, "
          f"socket errors: {sum(r['errors'] for *_, r in rows)}")
    for name, label, r in bad:
        print(f"  FAILED {name} / {label}: non-2xx {r['non2xx']}, errors {r['errors']}, answered {r['requests']}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
