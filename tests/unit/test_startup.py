"""Start-up behaviour an operator sees, and the message catalogs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import string
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_broken_config_stops_start_up_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text(f'extends = "{(ROOT / "config" / "osaka.toml").as_posix()}"\n'
                      '[layers.toilets]\ncolour = "blue"\n', encoding="utf-8")
    env = {**os.environ, "MIERUKA_CONFIG": str(config), "PORT": str(_free_port())}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mieruka: configuration error:")
    assert str(config) in lines[0] and "layers.toilets.colour" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("command", [["app.py"], ["worker.py"]])
@pytest.mark.parametrize("variable, value, problem", [
    ("MIERUKA_MAX_DOWNLOAD_MB", "lots", "MIERUKA_MAX_DOWNLOAD_MB: 'lots' is not a whole number"),
    ("PORT", "0", "PORT: 0 is below the minimum of 1"),
    ("MIERUKA_SAMPLE_AS_OF", "25/11/2026", "MIERUKA_SAMPLE_AS_OF: '25/11/2026' is not a date YYYY-MM-DD"),
])
def test_a_bad_environment_variable_stops_start_up_with_one_line(command, variable, value, problem) -> None:
    env = {**os.environ, "PORT": str(_free_port()), variable: value}
    result = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"mieruka: configuration error: {problem}"]


def test_message_catalogs_have_the_same_keys() -> None:
    catalogs = {lang: tomllib.loads((ROOT / "i18n" / f"{lang}.toml").read_text(encoding="utf-8"))
                for lang in ("ja", "en")}
    ja, en = set(catalogs["ja"]), set(catalogs["en"])
    assert ja - en == set(), "keys missing in en.toml"
    assert en - ja == set(), "keys missing in ja.toml"
    for lang, catalog in catalogs.items():
        empty = [key for key, value in catalog.items() if not isinstance(value, str) or not value.strip()]
        assert empty == [], f"empty messages in {lang}.toml"


def test_message_placeholders_match() -> None:
    """A translation that drops or renames {count} would show a broken text or raise (the
    deployment's own words, {prefecture} and the like, may be said in one language only)."""
    from i18n import PLACE_WORDS

    catalogs = [tomllib.loads((ROOT / "i18n" / f"{lang}.toml").read_text(encoding="utf-8")) for lang in ("ja", "en")]

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name and name not in PLACE_WORDS}

    ja, en = catalogs
    differ = {key: (fields(ja[key]), fields(en[key])) for key in ja.keys() & en.keys()
              if fields(ja[key]) != fields(en[key])}
    assert differ == {}
