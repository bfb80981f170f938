"""Shared fixtures. One Dash app per test session (Dash Pages registers callbacks
globally); it serves the embedded sample data with map tiles from a local asset, so
browser tests need no network and their console stays clean."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
REAL_DATA = ROOT.parent / "shared" / "real-data"
LOCAL_TILES = "/assets/blank-tile.png?{style}/{z}/{x}/{y}"  # the style shows which base map is on


def reference_file(name: str) -> Path:
    """A file of ../shared/reference, or skip the test with the reason."""
    return _shared(REFERENCE / name, "reference data")


def real_file(name: str) -> Path:
    """A file of ../shared/real-data (the publishers' own files), or skip the test with the reason."""
    return _shared(REAL_DATA / name, "real data (the tests compare the bundled snapshots with it)")


def _shared(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.skip(f"{what} not available: {path}")
    return path


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    from settings import Settings

    return Settings(tile_url=LOCAL_TILES, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def dash_app(settings):
    from app import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
def client(dash_app):
    return dash_app.server.test_client()


@pytest.fixture(scope="session")
def ctx(dash_app):
    return dash_app.server.extensions["mieruka"]
