"""End to end over HTTP: the app in its own process on a config whose AED layer comes from
a CKAN catalog (a local server speaking the Action API). Killing the upstream keeps the
API serving the last good data and /healthz says the layer is stale."""
from __future__ import annotations

import json
import time
import urllib.error

import pytest

from tests.fakes.servers import CkanServer, ResourceFile, aed_rows, csv_bytes
from tests.live_config import get_json, live_config, running_app
from tests.unit.test_live_indicators import population_source
from tests.unit.test_live_layers import utc


@pytest.fixture
def live_app(tmp_path):
    with CkanServer() as ckan:
        ckan.publish("aed-toyonaka", "AED設置場所一覧（豊中市）", organization=("toyonaka-city", "豊中市"),
                     modified=utc(2026, 4, 1), resources=[ResourceFile(
                         "AED一覧", "CSV", "aed.csv", csv_bytes(aed_rows(3), "cp932"), "text/csv", utc(2026, 4, 1))])
        with CkanServer() as gone:  # a catalog that is never there: the population indicator has no data
            dead = gone.url
        config = live_config(tmp_path, {"aed": {"kind": "ckan", "url": ckan.url, "dataset": "aed-toyonaka", "ttl": 10},
                                        "population": population_source(dead)})
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


def test_a_dataset_that_never_had_data_is_listed_as_unavailable_with_its_reason(live_app):
    base, _ckan = live_app
    assert get_json(f"{base}/healthz")["datasets"]["population"]["status"] == "failing"
    listing = get_json(f"{base}/api/v1/indicators")
    assert "population" not in [i["id"] for i in listing["indicators"]]
    [missing] = listing["unavailable"]
    assert missing["id"] == "population" and "connection refused" in missing["reason"]
    assert get_json(f"{base}/api/v1/layers")["unavailable"] == []
    with pytest.raises(urllib.error.HTTPError) as info:
        get_json(f"{base}/api/v1/indicators/population.json")
    assert info.value.code == 503
    assert "population" in json.load(info.value)["error"]["message"]
    # per-capita figures of other indicators have nothing to divide by: missing, not an error
    crime = get_json(f"{base}/api/v1/indicators/crime.json?per_capita=1&area=272051")
    assert crime["count"] > 0 and all(r["value"] is None for r in crime["records"])

