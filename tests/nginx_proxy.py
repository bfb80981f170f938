"""deploy/nginx.conf made runnable on loopback, for its test and bench/load.py: the shipped file
with only the three values it marks as replaced (its port, the upstream, the cache folder)."""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def site_config(port: int, upstream: int, cache: Path) -> str:
    """deploy/nginx.conf listening on 127.0.0.1:`port`, in front of the app on `upstream`,
    caching under `cache`; AssertionError when the file no longer has a value to replace."""
    text = CONF.read_text()
    for old, new in (("listen 80;", f"listen 127.0.0.1:{port};"),
                     ("server 127.0.0.1:8050;", f"server 127.0.0.1:{upstream};"),
                     ("/var/cache/nginx/mieruka", str(cache))):
        assert text.count(old) == 1, f"deploy/nginx.conf no longer has {old!r} once"
        text = text.replace(old, new)
    return text


def temp_paths(work: Path) -> str:
    """nginx's temporary folders inside `work` (its defaults are system folders)."""
    return " ".join(f"{kind}_temp_path {work}/tmp-{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
