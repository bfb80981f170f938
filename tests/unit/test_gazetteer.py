"""Places by name (issue 11): the gazetteer of municipalities and of the towns and chōme in
the real layers' addresses, and GET /api/v1/places."""
from __future__ import annotations

import pytest

from services.gazetteer import Gazetteer, canonical, gazetteer


@pytest.mark.parametrize("written", [
    "大阪府大阪市都島区御幸町一丁目10番",
    "大阪市都島区御幸町1-10",
    "都島区　御幸町１－１０",
    "都島区御幸町1丁目10番地",
    "大阪市都島区御幸町１ー１０",
])
def test_one_address_written_many_ways_has_one_form(written):
    assert canonical(written, "大阪府") in ("大阪市都島区御幸町1-10", "都島区御幸町1-10")


@pytest.mark.parametrize("a, b", [
    ("松ヶ丘二丁目", "松が丘2丁目"),
    ("大字箱作446番地の73", "箱作446-の73"),
    ("本町二十三番", "本町23"),
    ("ｽｲﾀ", "すいた"),
])
def test_spelling_variants_meet(a, b):
    assert canonical(a) == canonical(b)


@pytest.fixture(scope="module")
def places(ctx):
    return gazetteer(ctx.areas, ctx.layers.snapshots())


@pytest.mark.parametrize("query", ["大阪市都島区御幸町1丁目", "都島区御幸町1-10", "大阪府大阪市都島区御幸町一丁目10番3号"])
def test_an_address_finds_its_chome_however_written(places, ctx, query):
    [first, *_] = places.search(query)
    assert (first["name"], first["kind"], first["zoom"]) == ("大阪市都島区御幸町1丁目", "chome", 16)
    # where the places of that chōme are (the real layers' own records)
    there = [r for s in ctx.layers.snapshots() if not s.sample for r in s.records
             if "都島区御幸町1-" in (r.get("address") or "") or "都島区御幸町1丁目" in (r.get("address") or "")]
    assert first["places"] == len(there) > 0
    assert first["lat"] == pytest.approx(sum(r["lat"] for r in there) / len(there), abs=1e-6)


def test_typing_offers_the_towns_it_begins_and_a_municipality_by_its_reading(places):
    names = [p["name"] for p in places.search("御幸町")]
    assert "大阪市都島区御幸町" in names and "大阪市都島区御幸町1丁目" in names
    assert names.index("大阪市都島区御幸町") < names.index("大阪市都島区御幸町1丁目")  # the town before its chōme
    assert [p["name"] for p in places.search("すいた")][:1] == ["吹田市"]
    assert [p["name"] for p in places.search("Suita", "en")][:1] == ["Suita City"]
    assert places.search("吹田市")[0]["kind"] == "area" and places.search("吹田市")[0]["places"] is None
    assert places.search("") == [] and places.search("存在しない町名") == []


def test_a_chome_nobody_lists_falls_back_to_its_town(places):
    assert places.search("都島区御幸町9丁目")[0]["name"] == "大阪市都島区御幸町"


def test_sample_layers_addresses_are_never_places(ctx):
    """Sample addresses are made up: only real layers make towns."""
    real = [r for s in ctx.layers.snapshots() if not s.sample for r in s.records]
    sample = [r for s in ctx.layers.snapshots() if s.sample for r in s.records]
    with_real = Gazetteer(ctx.areas, real)
    with_sample = Gazetteer(ctx.areas, real + sample)
    invented = {e.name_ja for e in with_sample.entries} - {e.name_ja for e in with_real.entries}
    assert invented, "the sample data should have addresses the real data has not"
    one = sorted(invented)[0]
    assert one not in [p["name"] for p in gazetteer(ctx.areas, ctx.layers.snapshots()).search(one)]


def test_the_api_answers_places_by_name(client):
    answer = client.get("/api/v1/places?q=%E5%BE%A1%E5%B9%B8%E7%94%BA1-10&lang=en")  # 御幸町1-10
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "public, max-age=300"
    body = answer.json
    assert body["results"][0]["name"] == "御幸町1丁目, Miyakojima Ward (Osaka)"
    assert {s["layer"] for s in body["sources"]} >= {"toilets", "evacuation-sites"}
    too_long = client.get("/api/v1/places?q=" + "あ" * 101)
    assert too_long.status_code == 400 and "at most 100" in too_long.json["error"]["message"]
