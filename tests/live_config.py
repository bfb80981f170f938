"""Deployments whose entries come from live sources, for tests against the local fake
upstreams (tests/fakes/servers.py), and the app running on one in its own process."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
def inline_toml(value: Any) -> str:
    """A TOML inline value (a source must fit on its line in osaka.toml)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {inline_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(inline_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def live_config(tmp_path: Path, sources: dict[str, dict[str, Any]]) -> Path:
    """A deployment that `extends` osaka.toml (copied next to it) with `sources` (entry id →
    source table, which may carry the entry's credit and licence) in place of the sample
    ones, as config/osaka-live.toml does."""
    base = (ROOT / "config" / "osaka.toml").read_text(encoding="utf-8")
    base = base.replace('area_table = "../data/real/areas/27.csv"', f'area_table = "{ROOT / "data/real/areas/27.csv"}"')
    (tmp_path / "osaka.toml").write_text(base, encoding="utf-8")
    lines = ['extends = "osaka.toml"', "", "[sources]"]
    lines += [f"{json.dumps(entry)} = {inline_toml(source)}" for entry, source in sources.items()]
    path = tmp_path / "live.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def get_json(url: str) -> dict:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


@contextlib.contextmanager
def running_app(config: Path, cache_dir: Path, **variables: str):
    """The app (`python app.py`) in its own process on `config` with the environment
    `variables`; yields its base URL once /healthz answers. One app per process is a Dash
    Pages rule, hence the subprocess."""
    from tests.redis_server import free_port

    port = free_port()
    env = dict(os.environ, MIERUKA_CONFIG=str(config), MIERUKA_CACHE_DIR=str(cache_dir), PORT=str(port), **variables)
    env.pop("MIERUKA_REDIS_URL", None)
    app = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                get_json(f"{base}/healthz")
                break
            except OSError:
                if time.time() > deadline or app.poll() is not None:
                    raise RuntimeError(f"the app on {config} did not start") from None
                time.sleep(0.3)
        yield base
    finally:
        app.terminate()
        app.wait(10)
