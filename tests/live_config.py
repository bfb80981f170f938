"""osaka.toml with some entries' sources replaced by live ones, for tests against the local
fake upstreams (tests/fakes/servers.py)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The bundled source line of each entry tests replace.
BUNDLED = {
    "aed": 'source = { kind = "bundled", dataset = "aed" }',
    "air-quality": 'source = { kind = "bundled", dataset = "air-quality-stations", readings = "air-quality-readings", ttl = 900 }',
    "population": 'source = { kind = "bundled", dataset = "population" }',
    "crime": 'source = { kind = "bundled", dataset = "crime" }',
}


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
    """Write osaka.toml with `sources` (entry id → source table) in place of the sample ones."""
    text = (ROOT / "config" / "osaka.toml").read_text(encoding="utf-8")
    text = text.replace('area_table = "../data/areas/osaka.csv"', f'area_table = "{ROOT / "data/areas/osaka.csv"}"')
    for entry, source in sources.items():
        assert text.count(BUNDLED[entry]) == 1, entry
        text = text.replace(BUNDLED[entry], f"source = {inline_toml(source)}")
    path = tmp_path / "live.toml"
    path.write_text(text, encoding="utf-8")
    return path
