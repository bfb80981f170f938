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


def live_config(tmp_path: Path, sources: dict[str, dict[str, Any]], base: str = "osaka.toml") -> Path:
    """A deployment that `extends` config/<base> (osaka.toml; osaka-sample.toml for one whose
    every other entry is sample) with `sources` (entry id → source table, which may carry the
    entry's credit and licence) in place of its own, as config/osaka-live.toml does."""
    lines = [f"extends = {json.dumps(str(ROOT / 'config' / base))}", "", "[sources]"]
    lines += [f"{json.dumps(entry)} = {inline_toml(source)}" for entry, source in sources.items()]
    path = tmp_path / "live.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def get_json(url: str) -> dict:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


@contextlib.contextmanager
def running_app(config: Path | None, cache_dir: Path, *, settled: bool = True, **variables: str):
    """The app (`python app.py`) in its own process on `config` (None: as `variables` say, e.g.
    MIERUKA_PREFECTURE) with the environment `variables`; yields its base URL once /healthz
    answers and (`settled`) no dataset is still loading (each live one fetched or failed).
    One app per process is a Dash Pages rule, hence the subprocess."""
    from tests.redis_server import free_port

    port = free_port()
    env = dict(os.environ, MIERUKA_CACHE_DIR=str(cache_dir), PORT=str(port), **variables)
    for name in ("MIERUKA_REDIS_URL", "MIERUKA_CONFIG", "MIERUKA_PREFECTURE"):
        if name not in variables:
            env.pop(name, None)
    if config is not None:
        env["MIERUKA_CONFIG"] = str(config)
    cache_dir.mkdir(parents=True, exist_ok=True)
    log = (cache_dir / "app.log").open("wb")
    app = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                health = get_json(f"{base}/healthz")
                if not settled or all(d["status"] != "loading" for d in health["datasets"].values()):
                    break
            except OSError:
                pass
            if time.time() > deadline or app.poll() is not None:
                tail = (cache_dir / "app.log").read_text(encoding="utf-8", errors="replace")[-2000:]
                raise RuntimeError(f"the app on {config or variables} did not start:\n{tail}") from None
            time.sleep(0.3)
        yield base
    finally:
        app.terminate()
        app.wait(10)
        log.close()
