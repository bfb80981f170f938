"""End to end over HTTP: the app in its own process on a config whose AED layer comes from
a CKAN catalog (a local server speaking the Action API). Killing the upstream keeps the
API serving the last good data and /healthz says the layer is stale."""
from __future__ import annotations

import time

import pytest

from tests.fakes.servers import CkanServer, ResourceFile, aed_rows, csv_bytes
from tests.live_config import get_json, live_config, running_app
from tests.unit.test_live_layers import utc


@pytest.fixture
def live_app(tmp_path):
    with CkanServer() as ckan:
        ckan.publish("aed-toyonaka", "AED設置場所一覧（豊中市）", organization=("toyonaka-city", "豊中市"),
                     modified=utc(2026, 4, 1), resources=[ResourceFile(
                         "AED一覧", "CSV", "aed.csv", csv_bytes(aed_rows(3), "cp932"), "text/csv", utc(2026, 4, 1))])
        config = live_config(tmp_path, {"aed": {"kind": "ckan", "url": ckan.url, "dataset": "aed-toyonaka", "ttl": 10}})
        with running_app(config, tmp_path / "cache") as base:
            yield base, ckan


def test_killing_the_upstream_keeps_the_data_and_healthz_says_stale(live_app):
    base, ckan = live_app
    health = get_json(f"{base}/healthz")
    assert health["datasets"]["aed"]["status"] == "ok" and health["datasets"]["aed"]["rows"] == 3
    ckan.stop()  # the catalog is gone: connection refused
    time.sleep(11)  # past the layer's ttl (10 s)
    deadline = time.time() + 30
    while time.time() < deadline:
        health = get_json(f"{base}/healthz")
        if health["datasets"]["aed"]["status"] == "stale":
            break
        time.sleep(1)
    assert health["status"] == "degraded"
    assert health["datasets"]["aed"]["status"] == "stale"
    assert health["datasets"]["toilets"]["status"] == "ok"
    features = get_json(f"{base}/api/v1/layers/aed.geojson")["features"]
    assert len(features) == 3 and features[0]["properties"]["name"].startswith("豊中市役所")
    layers = {layer["id"]: layer for layer in get_json(f"{base}/api/v1/layers")["layers"]}
    assert layers["aed"]["health"]["status"] == "stale" and layers["aed"]["sample"] is False
