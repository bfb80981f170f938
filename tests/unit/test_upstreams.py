"""The fetch layer of live sources against local fake upstreams (tests/fakes): CKAN,
NGSI-LD and NGSI v2 brokers, plain file URLs; paging, headers, representations,
encodings, retries, timeouts, malformed payloads and API-key hygiene."""
from __future__ import annotations

import datetime as dt
import io
import json
import time
from pathlib import Path

import pytest
import requests

from data_sources import FetchResult, SourceFormatError, SourceIncomplete, SourceUnavailable, files
from data_sources import http, ngsi_ld, ngsi_v2
from data_sources.ckan import fetch_ckan
from data_sources.ngsi_ld import fetch_ngsi_ld
from data_sources.ngsi_v2 import fetch_ngsi_v2
from data_sources.tabular import fetch_url, guess_format, rows_from_bytes, to_text
from tests.fakes import (
    CIO,
    TOILET_TYPE,
    CkanServer,
    FileServer,
    NgsiLdServer,
    NgsiV2Server,
    ResourceFile,
    aed_rows,
    csv_bytes,
    english_toilet_rows,
    geojson_bytes,
    toilet_entities,
    toilet_entities_v2,
)

UA = http.DEFAULT_USER_AGENT
FAST = {"backoff": 0.01}  # retries stay on (2), waits shrink
N = 1234  # more than one maximal page (1,000)
JST = dt.timezone(dt.timedelta(hours=9))
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def ld_server():
    with NgsiLdServer() as srv:
        srv.add(toilet_entities(N), tenant="osaka")
        srv.add([], tenant="empty")
        srv.add(toilet_entities(3), tenant="small")
        yield srv


@pytest.fixture
def ld(ld_server):
    ld_server.reset()
    yield ld_server
    assert not ld_server.errors


@pytest.fixture(scope="module")
def v2_server():
    with NgsiV2Server() as srv:
        srv.add(toilet_entities_v2(N), service="osaka", service_path="/toilets")
        srv.add(toilet_entities_v2(3, city_code="272035"), service="osaka", service_path="/other")
        yield srv


@pytest.fixture
def v2(v2_server):
    v2_server.reset()
    v2_server.ignore_key_values = False
    yield v2_server
    assert not v2_server.errors


@pytest.fixture
def file_server():
    with FileServer() as srv:
        yield srv


def xlsx_bytes() -> bytes:
    """An AED list as municipalities put it in a spreadsheet: a title line, a blank row,
    then the header; numbers, dates and times as typed cells."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "AED一覧"
    sheet.append(["AED設置場所一覧（令和6年4月1日現在）"])
    sheet.append([])
    sheet.append(["都道府県コード又は市区町村コード", "NO", "名称", "住所", "緯度", "経度", "台数", "設置日",
                  "開始時間", "小児対応設備の有無", "備考"])
    sheet.append([272035, 1, "豊中市役所　第１庁舎（ＡＥＤ）", "大阪府豊中市中桜塚３丁目１－１", 34.7812, 135.4698, 3.0,
                  dt.datetime(2024, 4, 1), dt.time(8, 45), True, None])
    sheet.append([272035, 2, "㈱髙橋ビル", "大阪府豊中市本町１丁目", 34.7856, 135.4701, 1,
                  dt.date(2023, 10, 15), dt.time(9, 0), False, "土日休み"])
    sheet.append([None, None, None])  # a trailing empty row is skipped
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def ckan():
    with CkanServer(api_key="ckan-secret-token-123") as srv:
        yield srv
        assert not srv.errors


def aed_package(srv: CkanServer, name: str = "aed-toyonaka", **kw) -> dict:
    """A package with two yearly CSVs (CP932, UTF-8), an XLSX and a PDF."""
    old = [dict(r, 名称=r["名称"] + "（旧）") for r in aed_rows(2)]
    return srv.publish(name, "AED設置場所一覧（豊中市）", organization=("toyonaka-city", "豊中市"),
                       modified=utc(2024, 5, 1, 3), notes="AEDの設置場所", tags=("AED", "防災"), resources=[
                           ResourceFile("AED一覧（2023年度）", "CSV", "aed2023.csv", csv_bytes(old, "cp932"),
                                        CSV_TYPE, utc(2023, 4, 1, 0, 30)),
                           ResourceFile("AED一覧（2024年度）", "csv", "aed2024.csv", csv_bytes(aed_rows(3), "cp932"),
                                        CSV_TYPE, utc(2024, 4, 1, 0, 30)),
                           ResourceFile("AED一覧（Excel版）", "XLSX", "aed.xlsx", xlsx_bytes(), XLSX_TYPE,
                                        utc(2024, 4, 2)),
                           ResourceFile("AED一覧（PDF版）", "PDF", "aed.pdf", b"%PDF-1.4", "application/pdf",
                                        utc(2025, 1, 1)),
                       ], **kw)


# --------------------------------------------------------------------------- NGSI-LD
def test_ngsi_ld_pages_over_1000_entities_each_once_with_tenant_and_context(ld):
    result = fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=100,
                           user_agent=UA, **FAST)
    ids = [row["id"] for row in result.rows]
    assert len(ids) == N and len(set(ids)) == N
    calls = ld.requests_to("/ngsi-ld/v1/entities")
    assert [int(r.query["offset"]) for r in calls] == list(range(0, N, 100))
    for r in calls:
        assert r.query["type"] == TOILET_TYPE and r.query["limit"] == "100" and r.query["options"] == "keyValues"
        assert r.headers["NGSILD-Tenant"] == "osaka"
        assert r.headers["Link"] == (f'<{ld.context_url}>; rel="http://www.w3.org/ns/json-ld#context"; '
                                     'type="application/ld+json"')
        assert r.headers["Accept"] == "application/json"
        assert r.headers["User-Agent"].startswith("Mieruka/")
    assert result.source_modified is None
    assert result.source_url == f"{ld.url}/ngsi-ld/v1/entities?type=%E5%85%AC%E8%A1%86%E3%83%88%E3%82%A4%E3%83%AC%E4%B8%80%E8%A6%A7"
    assert result.fetched_at.tzinfo is not None


def test_ngsi_ld_largest_pages(ld):
    result = fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=1000,
                           user_agent=UA, **FAST)
    assert len(result.rows) == N
    assert [r.query["offset"] for r in ld.requests] == ["0", "1000"]
    with pytest.raises(ValueError):
        fetch_ngsi_ld(ld.url, TOILET_TYPE, page_size=1001, user_agent=UA)
    # the fake refuses what a broker refuses
    answer = requests.get(f"{ld.url}/ngsi-ld/v1/entities", params={"type": TOILET_TYPE, "limit": 1001},
                          headers={"NGSILD-Tenant": "osaka"}, timeout=5)
    assert answer.status_code == 400 and answer.json()["type"].endswith("BadRequestData")


def test_ngsi_ld_key_values_and_normalized_give_identical_rows(ld):
    simple = fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=500,
                           key_values=True, user_agent=UA)
    full = fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=500,
                         key_values=False, user_agent=UA)
    assert simple.rows == full.rows
    assert {r.query.get("options") for r in ld.requests} == {"keyValues", None}


def test_ngsi_ld_row_has_japanese_attributes_and_location(ld):
    rows = fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=1000,
                         user_agent=UA).rows
    row = rows[0]
    entity = toilet_entities(1)[0]
    lon, lat = entity["location"]["value"]["coordinates"]
    assert row["id"] == "urn:ngsi-ld:公衆トイレ一覧:271004-00001"
    assert row["type"] == "公衆トイレ一覧"
    assert row["名称"] == "中之島公園　第1公衆トイレ（ＷＣ）"
    assert row["方書"] == "㈱髙島屋前"
    assert row["車椅子使用者用トイレ有無"] == "有"
    assert row["男性トイレ総数"] == "3" and row["女性トイレ総数"] == "2"  # 2.0 in JSON
    assert row["緯度"] == str(lat) and row["経度"] == str(lon)
    assert (row["_lat"], row["_lon"]) == (str(lat), str(lon))
    assert row["備考"] == ""
    assert "@context" not in row


def test_ngsi_ld_rows_feed_the_normaliser(ld):
    from data_sources.normalise import normalise_rows
    from registry import load_deployment
    from services.areas import AreaTable

    deployment = load_deployment(Path(__file__).resolve().parents[2] / "config" / "osaka.toml")
    layer = deployment.layer("toilets")
    rows = fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=1000,
                         user_agent=UA).rows
    records, report = normalise_rows(rows, layer, AreaTable.from_csv(deployment.area_table), deployment.bbox)
    assert len(records) == N and report.total_rejected == 0
    first = next(r for r in records if r["id"] == "1")
    assert first["wheelchair"] is True and first["open_time"] == "07:00" and first["area_code"] == "271004"


# Paging by what the broker answers: a broker may cap `limit` below what is asked without an
# error; the count (NGSI-LD count=true → NGSILD-Results-Count) says when all have come.
def ld_offsets(ld) -> list[int]:
    return [int(r.query["offset"]) for r in ld.requests_to("/ngsi-ld/v1/entities")]


def test_ngsi_ld_a_broker_capping_the_limit_is_paged_to_its_count(ld):
    ld.quirks.cap = 100
    result = fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=500,
                           user_agent=UA)
    assert len({row["id"] for row in result.rows}) == N
    assert ld_offsets(ld) == list(range(0, N, 100))  # the count says when to stop
    assert all(r.query["count"] == "true" and r.query["limit"] == "500" for r in ld.requests)


def test_ngsi_ld_a_capping_broker_without_a_count_is_paged_until_a_page_shorter_than_its_cap(ld):
    ld.quirks.cap, ld.quirks.send_count = 100, False
    result = fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=500,
                           user_agent=UA)
    assert len({row["id"] for row in result.rows}) == N
    assert ld_offsets(ld) == list(range(0, N, 100))  # 34 at offset 1200: shorter than the cap, the end


def test_ngsi_ld_small_sets_with_and_without_a_count(ld):
    rows = fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="small", context=ld.context_url, user_agent=UA).rows
    assert len(rows) == 3 and ld_offsets(ld) == [0]  # the count says these are all
    ld.reset()
    ld.quirks.send_count = False
    rows = fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="small", context=ld.context_url, user_agent=UA).rows
    assert len(rows) == 3 and ld_offsets(ld) == [0, 3]  # 3 of 100 asked may be a cap: one more page says


def test_ngsi_ld_fewer_entities_than_the_count_announced_is_a_failure(ld):
    ld.quirks.cap, ld.quirks.serve_at_most = 100, 700
    with pytest.raises(SourceIncomplete, match="700 of the 1234 entities"):
        fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=500, user_agent=UA)


def test_ngsi_ld_a_broker_ignoring_offset_is_a_failure_not_a_loop(ld):
    ld.quirks.ignore_offset = True
    with pytest.raises(SourceIncomplete, match="same entities again at offset 100"):
        fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=100, user_agent=UA)
    assert ld_offsets(ld) == [0, 100]
    ld.reset()
    ld.quirks.ignore_offset, ld.quirks.send_count = True, False
    with pytest.raises(SourceIncomplete, match="ignores the offset"):
        fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="small", context=ld.context_url, user_agent=UA)


def test_ngsi_ld_paging_stops_at_the_page_bound(ld):
    ld.quirks.cap = 100
    with pytest.raises(SourceIncomplete, match="5 pages"):
        fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=1000, max_pages=5,
                      user_agent=UA)
    assert ld_offsets(ld) == [0, 100, 200, 300, 400]


def test_ngsi_ld_without_context_asks_for_json_ld_and_uses_full_type(ld):
    result = fetch_ngsi_ld(ld.url, CIO + TOILET_TYPE, tenant="osaka", page_size=1000, user_agent=UA)
    assert len(result.rows) == N
    request = ld.requests[0]
    assert request.headers["Accept"] == "application/ld+json" and "Link" not in request.headers
    row = result.rows[0]
    assert row["type"] == CIO + TOILET_TYPE and "@context" not in row
    assert row[CIO + "名称"] == "中之島公園　第1公衆トイレ（ＷＣ）" and row["_lat"]


def test_ngsi_ld_unknown_type_tenant_and_empty(ld):
    with pytest.raises(SourceUnavailable, match="404"):
        fetch_ngsi_ld(ld.url, "存在しない型", tenant="osaka", context=ld.context_url, user_agent=UA)
    with pytest.raises(SourceUnavailable, match="404"):
        fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="nowhere", context=ld.context_url, user_agent=UA)
    assert len(ld.requests) == 2  # a 4xx is not retried
    empty = fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="empty", context=ld.context_url, user_agent=UA)
    assert empty.rows == []


@pytest.mark.parametrize("mode", ["malformed", "html"])
def test_ngsi_ld_malformed_answer(ld, mode):
    ld.fail_always(mode)
    with pytest.raises(SourceFormatError, match="malformed JSON"):
        fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, user_agent=UA, **FAST)
    assert len(ld.requests) == 1  # a 200 with garbage is not retried


def test_ngsi_ld_wrong_shape_is_a_format_error():
    class Shaped(NgsiLdServer):
        def route(self, request):
            from tests.fakes.servers import json_reply
            return json_reply({"entities": []}) if request.query.get("offset") == "0" else json_reply([{"name": 1}])

    with Shaped() as srv:
        with pytest.raises(SourceFormatError, match="JSON array"):
            fetch_ngsi_ld(srv.url, TOILET_TYPE, user_agent=UA)


def test_ngsi_ld_entity_row_reads_every_attribute_kind():
    normalized = {
        "id": "urn:ngsi-ld:X:1", "type": "X", "@context": ["https://example.org/c.jsonld"],
        "name": {"type": "Property", "value": "名前"},
        "count": {"type": "Property", "value": 5.0, "observedAt": "2024-01-01T00:00:00Z"},
        "ratio": {"type": "Property", "value": 0.25},
        "open": {"type": "Property", "value": False},
        "tags": {"type": "Property", "value": ["a", "b", 3]},
        "address": {"type": "Property", "value": {"住所": "大阪市", "郵便番号": "530-0001"}},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Org:1"},
        "label": {"type": "LanguageProperty", "languageMap": {"ja": "トイレ", "en": "Toilet"}},
        "multi": [{"type": "Property", "value": "b", "datasetId": "urn:x"}, {"type": "Property", "value": "a"}],
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [135.5, 34.7, 10]}},
    }
    row = ngsi_ld.entity_row(normalized)
    assert row == {
        "id": "urn:ngsi-ld:X:1", "type": "X", "name": "名前", "count": "5", "ratio": "0.25", "open": "false",
        "tags": "a;b;3", "address": '{"住所":"大阪市","郵便番号":"530-0001"}', "owner": "urn:ngsi-ld:Org:1",
        "label": '{"ja":"トイレ","en":"Toilet"}', "multi": "a",
        "_lon": "135.5", "_lat": "34.7",
    }
    simplified = {k: ngsi_ld.attribute_value(v) for k, v in normalized.items() if k != "@context"}
    assert ngsi_ld.entity_row(simplified) == row
    # a location that is not a Point leaves the coordinates blank for the normaliser to report
    polygon = {"id": "p", "type": "X", "location": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1]]]}}
    assert ngsi_ld.entity_row(polygon)["_lat"] == ""


# --------------------------------------------------------------------------- NGSI v2
def test_ngsi_v2_pages_with_total_count_and_service_headers(v2):
    result = fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/toilets", page_size=100,
                           user_agent=UA, **FAST)
    ids = [row["id"] for row in result.rows]
    assert len(ids) == N and len(set(ids)) == N
    assert [int(r.query["offset"]) for r in v2.requests] == list(range(0, N, 100))
    for r in v2.requests:
        assert r.query["type"] == TOILET_TYPE and r.query["options"] == "count,keyValues"
        assert r.headers["Fiware-Service"] == "osaka" and r.headers["Fiware-ServicePath"] == "/toilets"
        assert r.headers["User-Agent"].startswith("Mieruka/")
    assert result.source_url.startswith(f"{v2.url}/v2/entities?type=") and result.source_modified is None


def test_ngsi_v2_exact_multiple_of_page_size_stops_at_the_total(v2):
    result = fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/toilets", page_size=617,
                           user_agent=UA)
    assert len(result.rows) == N and [r.query["offset"] for r in v2.requests] == ["0", "617"]


def test_ngsi_v2_without_total_count_pages_until_a_short_page(v2):
    v2.quirks.send_count = False
    result = fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/toilets", page_size=617,
                           user_agent=UA)
    assert len(result.rows) == N and [r.query["offset"] for r in v2.requests] == ["0", "617", "1234"]


def v2_offsets(v2) -> list[int]:
    return [int(r.query["offset"]) for r in v2.requests_to("/v2/entities")]


@pytest.mark.parametrize("count", [True, False])
def test_ngsi_v2_a_broker_capping_the_limit_is_paged_by_what_it_answers(v2, count):
    v2.quirks.cap, v2.quirks.send_count = 100, count
    result = fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/toilets", page_size=1000,
                           user_agent=UA)
    assert len({row["id"] for row in result.rows}) == N
    assert v2_offsets(v2) == list(range(0, N, 100))


def test_ngsi_v2_fewer_entities_than_the_total_count_is_a_failure(v2):
    v2.quirks.serve_at_most = 1000
    with pytest.raises(SourceIncomplete, match="1000 of the 1234 entities"):
        fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/toilets", page_size=500, user_agent=UA)


def test_ngsi_v2_a_broker_ignoring_offset_is_a_failure_not_a_loop(v2):
    v2.quirks.ignore_offset = True
    with pytest.raises(SourceIncomplete, match="same entities again at offset 500"):
        fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/toilets", page_size=500, user_agent=UA)
    assert v2_offsets(v2) == [0, 500]


def test_ngsi_v2_paging_stops_at_the_page_bound(v2):
    v2.quirks.cap, v2.quirks.send_count = 100, False
    with pytest.raises(SourceIncomplete, match="3 pages"):
        fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/toilets", page_size=1000, max_pages=3,
                      user_agent=UA)


def test_ngsi_v2_key_values_and_normalized_give_identical_rows(v2):
    simple = fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/toilets", page_size=1000,
                           user_agent=UA).rows
    v2.ignore_key_values = True
    full = fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/toilets", page_size=1000,
                         user_agent=UA).rows
    assert simple == full


def test_ngsi_v2_location_geo_json_and_geo_point(v2):
    rows = fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/toilets", page_size=1000,
                         user_agent=UA).rows
    geo_json, geo_point = rows[0], rows[1]  # the fake alternates the two
    assert "location" not in geo_json and "location" not in geo_point  # read into _lat/_lon, not shown as text
    assert ngsi_v2.location_of(" 34.7 , 135.5 ") == ("135.5", "34.7")
    assert ngsi_v2.location_of("somewhere") == ("", "")
    for row in (geo_json, geo_point):
        assert (row["_lat"], row["_lon"]) == (row["緯度"], row["経度"])
        assert row["名称"].endswith("公衆トイレ（ＷＣ）") and row["type"] == TOILET_TYPE


def test_ngsi_v2_service_path_unknown_type_and_limits(v2):
    everything = fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/#", page_size=1000,
                               user_agent=UA)
    assert len(everything.rows) == N + 3
    assert fetch_ngsi_v2(v2.url, "存在しない型", service="osaka", user_agent=UA).rows == []
    assert fetch_ngsi_v2(v2.url, TOILET_TYPE, user_agent=UA).rows == []  # another service: nothing
    with pytest.raises(ValueError):
        fetch_ngsi_v2(v2.url, TOILET_TYPE, page_size=0, user_agent=UA)
    answer = requests.get(f"{v2.url}/v2/entities", params={"limit": 1001}, timeout=5)
    assert answer.status_code == 400 and "max: 1000" in answer.json()["description"]


def test_ngsi_v2_malformed_answer(v2):
    v2.fail_always("malformed")
    with pytest.raises(SourceFormatError, match="/v2/entities"):
        fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", user_agent=UA)


# --------------------------------------------------------------------------- CKAN
def test_ckan_package_show_picks_the_newest_resource_of_the_format(ckan):
    package = aed_package(ckan)
    result = fetch_ckan(ckan.url, dataset="aed-toyonaka", query=None, organization=None, user_agent=UA)
    newest_csv = package["resources"][1]
    assert result.source_url == newest_csv["url"]
    assert result.source_modified == utc(2024, 4, 1, 0, 30)
    assert len(result.rows) == 3
    row = result.rows[0]  # CP932 decoded, full-width text intact
    assert row["名称"] == "豊中市役所　第1庁舎（ＡＥＤ①）" and row["方書"] == "㈱髙橋ビル１階"
    assert row["都道府県コード又は市区町村コード"] == "272035" and row["緯度"] == "34.7801"
    actions = ckan.requests_to("/api/")
    assert [r.path for r in actions] == ["/api/action/package_show"]  # ckanapi posts to /api/action/
    assert actions[0].method == "POST" and actions[0].json() == {"id": "aed-toyonaka"}


def test_ckan_name_rule_and_other_formats(ckan):
    aed_package(ckan)
    older = fetch_ckan(ckan.url, dataset="aed-toyonaka", query=None, organization=None, name_contains="2023",
                       user_agent=UA)
    assert older.rows[0]["名称"].endswith("（旧）") and older.source_modified == utc(2023, 4, 1, 0, 30)
    sheet = fetch_ckan(ckan.url, dataset="aed-toyonaka", query=None, organization=None, resource_format="xlsx",
                       user_agent=UA)
    assert sheet.source_url.endswith("/aed.xlsx") and len(sheet.rows) == 2
    with pytest.raises(SourceFormatError, match="aed-toyonaka.*GeoJSON"):
        fetch_ckan(ckan.url, dataset="aed-toyonaka", query=None, organization=None, resource_format="GeoJSON",
                   user_agent=UA)


def test_ckan_package_search_takes_the_newest_matching_package(ckan):
    def csv_package(name, org, modified, *, fmt="CSV"):
        return ckan.publish(name, f"AED一覧 {name}", organization=org, modified=modified, tags=("AED",),
                            resources=[ResourceFile("AED一覧", fmt, f"{name}.csv", csv_bytes(aed_rows(1), "utf-8-sig"),
                                                    CSV_TYPE, modified)])

    pref = ("osaka-pref", "大阪府")
    csv_package("aed-2024-01", pref, utc(2024, 1, 10))
    wanted = csv_package("aed-2024-06", pref, utc(2024, 6, 10))
    csv_package("aed-2024-09-pdf", pref, utc(2024, 9, 10), fmt="PDF")  # newest, but no CSV
    csv_package("aed-2025-other", ("sakai-city", "堺市"), utc(2025, 1, 10))  # another organization
    result = fetch_ckan(ckan.url, dataset=None, query="AED", organization="osaka-pref", user_agent=UA)
    assert result.source_url == wanted["resources"][0]["url"]
    search = ckan.requests_to("/api/action/package_search")[0].json()
    assert search["q"] == "AED" and search["fq"] == "organization:osaka-pref"
    assert search["sort"] == "metadata_modified desc" and search["rows"] >= 10
    with pytest.raises(SourceUnavailable, match="found no dataset"):
        fetch_ckan(ckan.url, dataset=None, query="存在しない", organization=None, user_agent=UA)


def test_ckan_action_api_answers_on_both_paths_get_and_post(ckan):
    aed_package(ckan)
    for path in ("/api/3/action/package_show", "/api/action/package_show"):
        got = requests.get(ckan.url + path, params={"id": "aed-toyonaka"}, timeout=5).json()
        posted = requests.post(ckan.url + path, json={"id": "aed-toyonaka"}, timeout=5).json()
        assert got == posted and got["success"] and got["result"]["resources"][0]["format"] == "CSV"
        assert set(got["result"]["resources"][0]) >= {"id", "name", "format", "url", "last_modified",
                                                       "metadata_modified", "package_id", "position"}


def test_ckan_xlsx_cells_become_text(ckan):
    aed_package(ckan)
    rows = fetch_ckan(ckan.url, dataset="aed-toyonaka", query=None, organization=None, resource_format="XLSX",
                      user_agent=UA).rows
    assert rows[0] == {"都道府県コード又は市区町村コード": "272035", "NO": "1", "名称": "豊中市役所　第１庁舎（ＡＥＤ）",
                       "住所": "大阪府豊中市中桜塚３丁目１－１", "緯度": "34.7812", "経度": "135.4698", "台数": "3",
                       "設置日": "2024-04-01", "開始時間": "08:45", "小児対応設備の有無": "true", "備考": ""}
    assert rows[1]["名称"] == "㈱髙橋ビル" and rows[1]["設置日"] == "2023-10-15" and rows[1]["台数"] == "1"


def test_ckan_errors_name_the_dataset(ckan):
    with pytest.raises(SourceUnavailable, match="'no-such-dataset' not found"):
        fetch_ckan(ckan.url, dataset="no-such-dataset", query=None, organization=None, user_agent=UA)
    ckan.fail_always("html")
    with pytest.raises(SourceFormatError, match="'aed-toyonaka'.*CKAN Action API"):
        fetch_ckan(ckan.url, dataset="aed-toyonaka", query=None, organization=None, user_agent=UA)
    ckan.fail_always("500")
    with pytest.raises(SourceUnavailable, match="'aed-toyonaka'.*HTTP 500.*after 3 attempts"):
        fetch_ckan(ckan.url, dataset="aed-toyonaka", query=None, organization=None, user_agent=UA, **FAST)
    ckan.fail_always(None)
    aed_package(ckan)
    ckan.fail_next(1)  # the action call succeeds after one retry, then the download fails
    for path, file in ckan.files.items():
        file.data = b"\x81\x00\xff"
    with pytest.raises(SourceFormatError, match="'aed-toyonaka'.*aed2024.csv: not UTF-8 or CP932"):
        fetch_ckan(ckan.url, dataset="aed-toyonaka", query=None, organization=None, user_agent=UA, **FAST)
    with pytest.raises(ValueError):
        fetch_ckan(ckan.url, dataset=None, query=None, organization=None, user_agent=UA)
    gone = CkanServer().start()
    gone.stop()
    with pytest.raises(SourceUnavailable, match="'aed-toyonaka'.*connection refused"):
        fetch_ckan(gone.url, dataset="aed-toyonaka", query=None, organization=None, user_agent=UA, **FAST)


def test_ckan_api_key_goes_to_the_ckan_host_only(ckan, file_server):
    key = ckan.api_key
    aed_package(ckan, name="aed-private", private=True)
    ckan.publish("toilets-external", "公衆トイレ一覧", organization=("toyonaka-city", "豊中市"), modified=utc(2024, 3, 1),
                 resources=[ResourceFile("公衆トイレ", "CSV", "toilets.csv",
                                         csv_bytes(english_toilet_rows(), "utf-8-sig"), CSV_TYPE, utc(2024, 3, 1),
                                         host=file_server)])
    private = fetch_ckan(ckan.url, dataset="aed-private", query=None, organization=None, api_key=key, user_agent=UA)
    assert len(private.rows) == 3
    found = fetch_ckan(ckan.url, dataset=None, query="AED", organization="toyonaka-city", api_key=key, user_agent=UA)
    assert found.source_url == private.source_url  # private datasets are searched with a key
    assert all(r.headers.get("Authorization") == key for r in ckan.requests)  # the action and the download
    assert ckan.requests[-1].path.endswith("/aed2024.csv")
    external = fetch_ckan(ckan.url, dataset="toilets-external", query=None, organization=None, api_key=key,
                          user_agent=UA)
    assert len(external.rows) == 2 and file_server.requests
    for r in file_server.requests:
        assert "Authorization" not in r.headers and "X-CKAN-API-Key" not in r.headers
        assert key not in json.dumps(dict(r.headers)) and key not in r.path
    assert key not in private.source_url and key not in external.source_url
    # without the key the private dataset is refused, and no message carries a key
    with pytest.raises(SourceUnavailable, match="not authorised") as refused:
        fetch_ckan(ckan.url, dataset="aed-private", query=None, organization=None, api_key="wrong-key-456",
                   user_agent=UA)
    assert "wrong-key-456" not in str(refused.value)


def test_credentials_in_resource_urls_are_never_shown(ckan, file_server):
    key = ckan.api_key
    file_server.add_file("/x.csv", csv_bytes(english_toilet_rows(), "utf-8"), CSV_TYPE)
    ckan.publish("with-token", "トークン付きURL", organization=("osaka-pref", "大阪府"), modified=utc(2024, 1, 1),
                 resources=[ResourceFile("x", "CSV", "x.csv", b"", CSV_TYPE, None,
                                         url=f"{file_server.url}/x.csv?token=S3CRET&lang=ja")])
    result = fetch_ckan(ckan.url, dataset="with-token", query=None, organization=None, api_key=key, user_agent=UA)
    assert result.source_url == f"{file_server.url}/x.csv?lang=ja"
    file_server.fail_always("503")
    with pytest.raises(SourceUnavailable) as failed:
        fetch_ckan(ckan.url, dataset="with-token", query=None, organization=None, api_key=key, user_agent=UA, **FAST)
    message = str(failed.value)
    assert f"{file_server.url}/x.csv" in message and "S3CRET" not in message and key not in message


# --------------------------------------------------------------------------- files by URL, tabular
def test_fetch_url_utf8_bom_csv_with_english_headers(file_server):
    modified = dt.datetime(2024, 7, 1, 12, 0, tzinfo=JST)
    url = file_server.add_file("/opendata/公衆トイレ.csv", csv_bytes(english_toilet_rows(), "utf-8-sig"), CSV_TYPE,
                               last_modified=modified)
    result = fetch_url(url, user_agent=UA)
    assert result.rows[0] == {"ID": "T1", "Name": "Osaka Castle Park Toilet 1", "Name (ja)": "大阪城公園　トイレ1",
                              "Latitude": "34.681", "Longitude": "135.521", "Wheelchair": "Yes"}
    assert result.source_modified == modified.astimezone(dt.timezone.utc)
    assert file_server.requests[0].path == "/opendata/公衆トイレ.csv"
    assert file_server.requests[0].headers["User-Agent"] == UA


def test_fetch_url_geojson(file_server):
    data = geojson_bytes([({"名称": "大阪城公園", "台数": 2.0, "有無": True}, [135.5262, 34.6873]),
                          ({"名称": "座標なし"}, None)])
    url = file_server.add_file("/layers/points", data, "application/geo+json")  # no extension: content type
    rows = fetch_url(url, user_agent=UA).rows
    assert rows == [{"名称": "大阪城公園", "台数": "2", "有無": "true", "_lon": "135.5262", "_lat": "34.6873"},
                    {"名称": "座標なし", "_lon": "", "_lat": ""}]


def test_tabular_formats():
    assert rows_from_bytes(csv_bytes(aed_rows(1), "cp932"), "CSV", "x")[0]["方書"] == "㈱髙橋ビル１階"
    assert rows_from_bytes(csv_bytes(aed_rows(1), "utf-8"), "csv", "x")[0]["名称_カナ"].startswith("トヨナカ")
    assert rows_from_bytes(xlsx_bytes(), "xlsx", "x")[0]["NO"] == "1"


@pytest.mark.parametrize(("data", "fmt", "name", "message"), [
    (b"PK\x03\x04 not really a zip", "xlsx", "x.xlsx", "x.xlsx: not an XLSX workbook"),
    (b"<!DOCTYPE html><html></html>", "csv", "x.csv", "HTML page"),
    (b"\x81\x00\xff\xfe\xfd", "csv", "x.csv", "not UTF-8 or CP932"),
    (b"", "csv", "x.csv", "empty CSV"),
    (b'{"type": "FeatureCollection", "features": [', "geojson", "x.geojson", "not valid JSON"),
    (b'{"type": "Topology"}', "geojson", "x.geojson", "FeatureCollection"),
    (b"%PDF", "pdf", "x.pdf", "unsupported format"),
])
def test_malformed_input_is_a_format_error_that_says_what(data, fmt, name, message):
    with pytest.raises(SourceFormatError, match=message):
        rows_from_bytes(data, fmt, name)


def test_guess_format_and_to_text():
    assert guess_format("https://example.org/data/aed.CSV?x=1") == "csv"
    assert guess_format("公衆トイレ.xlsx") == "xlsx"
    assert guess_format("points.geojson") == "geojson"
    assert guess_format("https://example.org/download", "text/csv; charset=Shift_JIS") == "csv"
    with pytest.raises(SourceFormatError, match=r"\.xls"):
        guess_format("old.xls")
    with pytest.raises(SourceFormatError, match="cannot tell"):
        guess_format("https://example.org/download?apikey=K", "application/octet-stream")
    assert [to_text(v) for v in (None, True, 3, 3.0, 34.6937, float("nan"), ["a", 1.5], {"k": "値"})] == \
        ["", "true", "3", "3", "34.6937", "", "a;1.5", '{"k":"値"}']
    assert to_text(dt.datetime(2024, 4, 1)) == "2024-04-01"
    assert to_text(dt.datetime(2024, 4, 1, 9, 30)) == "2024-04-01T09:30:00"
    assert to_text(dt.time(8, 45)) == "08:45"


def test_files_source_still_reads_csv_and_now_xlsx(tmp_path):
    csv_path = tmp_path / "aed.csv"
    csv_path.write_bytes(csv_bytes(aed_rows(2), "cp932"))
    assert files.fetch_rows(csv_path)[1]["NO"] == "2"
    assert files.read_csv(csv_bytes(aed_rows(1), "utf-8-sig"))[0]["NO"] == "1"
    assert files.decode("ＡＥＤ".encode("cp932")) == "ＡＥＤ"
    xlsx_path = tmp_path / "aed.xlsx"
    xlsx_path.write_bytes(xlsx_bytes())
    result = files.fetch(xlsx_path)
    assert isinstance(result, FetchResult) and len(result.rows) == 2 and result.source_url == "aed.xlsx"
    assert result.source_modified is not None and result.source_modified.tzinfo is not None
    with pytest.raises(SourceUnavailable):
        files.fetch_rows(tmp_path / "missing.csv")


# --------------------------------------------------------------------------- HTTP behaviour
@pytest.mark.parametrize("mode", ["500", "503", "429", "drop"])
def test_two_failures_then_success_takes_three_requests(v2, mode):
    v2.fail_next(2, mode)
    result = fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/other", user_agent=UA, **FAST)
    assert len(result.rows) == 3 and len(v2.requests) == 3


def test_always_failing_gives_up_after_bounded_retries(file_server):
    url = file_server.add_file("/aed.csv", csv_bytes(aed_rows(1), "utf-8"), CSV_TYPE)
    file_server.fail_always("500")
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as failed:
        fetch_url(url, user_agent=UA, retries=2, backoff=0.05)
    assert time.monotonic() - started < 2
    assert str(failed.value) == f"{url}: HTTP 500 Internal Server Error (after 3 attempts)"
    assert len(file_server.requests) == 3


def test_a_read_timeout_is_bounded(file_server):
    url = file_server.add_file("/slow.csv", csv_bytes(aed_rows(1), "utf-8"), CSV_TYPE)
    file_server.slow_seconds = 5
    file_server.fail_always("slow")
    retries, read, backoff = 2, 0.3, 0.05
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="slow.csv: .*(timed out|timeout)"):
        fetch_url(url, user_agent=UA, timeout=(1, read), retries=retries, backoff=backoff)
    elapsed = time.monotonic() - started
    assert elapsed < (retries + 1) * read + backoff * (1 + 2) + 0.5
    assert len(file_server.requests) == 3


def test_connection_refused_after_stop():
    srv = FileServer().start()
    url = srv.add_file("/a.csv", b"a\n1\n", CSV_TYPE)
    assert fetch_url(url, user_agent=UA).rows == [{"a": "1"}]
    srv.stop()
    with pytest.raises(SourceUnavailable, match=r"a\.csv: connection refused \(after 3 attempts\)"):
        fetch_url(url, user_agent=UA, **FAST)


def test_a_client_error_is_not_retried(file_server):
    with pytest.raises(SourceUnavailable, match="missing.csv: HTTP 404"):
        fetch_url(f"{file_server.url}/missing.csv", user_agent=UA, **FAST)
    assert len(file_server.requests) == 1


def test_session_user_agent_and_redaction():
    assert http.DEFAULT_USER_AGENT.startswith(f"Mieruka/{http.APP_VERSION} (+https://")
    assert http.session("Mieruka/9 (+https://example.org)").headers["User-Agent"] == "Mieruka/9 (+https://example.org)"
    assert http.session(" ").headers["User-Agent"] == http.DEFAULT_USER_AGENT
    assert http.redact("https://user:pw@example.org/a.csv?apikey=K&api_key=K&token=K&x=1") == \
        "https://example.org/a.csv?x=1"
    assert http.same_origin("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/api/")
    assert not http.same_origin("http://127.0.0.1:8080/a", "http://127.0.0.1:8081/a")
    assert not http.same_origin("https://ckan.example.org/a", "http://ckan.example.org/a")
    assert http.same_origin("https://CKAN.example.org:443/a", "https://ckan.example.org/b")


def test_every_request_names_the_app(ckan, ld, v2):
    aed_package(ckan)
    fetch_ckan(ckan.url, dataset="aed-toyonaka", query=None, organization=None, user_agent=UA)
    fetch_ngsi_ld(ld.url, TOILET_TYPE, tenant="osaka", context=ld.context_url, page_size=1000, user_agent=UA)
    fetch_ngsi_v2(v2.url, TOILET_TYPE, service="osaka", service_path="/other", user_agent=UA)
    recorded = ckan.requests + ld.requests + v2.requests
    assert len(recorded) == 5  # CKAN action + download, two LD pages, one v2 page
    assert {r.headers["User-Agent"] for r in recorded} == {UA}


# --------------------------------------------------------------------------- download limit

def test_a_file_over_the_download_limit_is_refused_without_retrying(file_server):
    url = file_server.add_file("/big.csv", csv_bytes(aed_rows(200), "utf-8"), CSV_TYPE)
    with pytest.raises(SourceUnavailable, match=r"big\.csv: [\d,]+ bytes is over the download limit of 4,096 bytes"):
        fetch_url(url, user_agent=UA, max_bytes=4096)
    assert len(file_server.requests_to("/big.csv")) == 1  # it will not shrink: no retry
    assert len(fetch_url(url, user_agent=UA).rows) == 200  # under the default limit


def test_a_gzip_bomb_is_stopped_at_the_limit_of_its_decompressed_size(file_server):
    import gzip

    bomb = gzip.compress(b"a,b\n" + b"1,2\n" * 2_000_000)  # ~8 MB of CSV in a few kB
    assert len(bomb) < 100_000
    url = file_server.add_file("/bomb.csv", bomb, CSV_TYPE, encoding="gzip")
    with pytest.raises(SourceUnavailable, match="over the download limit of 1,048,576 bytes"):
        fetch_url(url, user_agent=UA, max_bytes=1024 * 1024)


def test_a_local_file_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes(aed_rows(200), "utf-8"))
    with pytest.raises(SourceUnavailable, match=r"big\.csv: [\d,]+ bytes is over the limit of 4,096 bytes"):
        files.fetch(path, max_bytes=4096)


# --------------------------------------------------------------------------- GSI's own files


@pytest.fixture(scope="module")
def deployment():
    from registry import load_deployment

    return load_deployment(Path(__file__).resolve().parents[2] / "config" / "osaka.toml")



GSI_SITES = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [135.507825, 34.629679]},
     "properties": {"NO": 1, "共通ID": "E2710000002201", "都道府県名及び市町村名": "大阪府大阪市", "施設・場所名": "晴明丘公園",
                    "住所": "大阪府大阪市阿倍野区阿倍野元町15", "洪水": "", "崖崩れ、土石流及び地滑り": "", "高潮": "", "地震": "1",
                    "津波": "1", "大規模な火事": "", "内水氾濫": "", "火山現象": "", "指定避難所との住所同一": "", "備考": ""}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [135.4959, 34.7025]},
     "properties": {"NO": 2, "共通ID": "E2710000023201", "都道府県名及び市町村名": "大阪府大阪市", "施設・場所名": "梅田小学校",
                    "住所": "大阪府大阪市北区梅田1-1", "洪水": "1", "崖崩れ、土石流及び地滑り": "", "高潮": "", "地震": "1",
                    "津波": "", "大規模な火事": "1", "内水氾濫": "", "火山現象": "", "指定避難所との住所同一": "1", "備考": ""}}]}
GSI_SHELTERS_CSV = ("NO,共通ID,都道府県名及び市町村名,施設・場所名,住所,指定緊急避難場所との住所同一,その他市町村長が必要と認める事項,"
                    "受入対象者,備考,緯度,経度\n"
                    "1,E2710000023111,大阪府大阪市,梅田小学校,大阪府大阪市 北区梅田1-1,1,,要配慮者,,34.7025,135.4959\n"
                    "2,E2720300001111,大阪府豊中市,中央公民館,大阪府豊中市中桜塚3-1-1,,,,,34.7813,135.4695\n")


@pytest.mark.parametrize("kind", ["url", "file"])
def test_gsi_format_reads_the_sites_and_the_shelters_as_one_layer(kind, tmp_path, deployment) -> None:
    """A live deployment reads GSI's published lists (GeoJSON or CSV) directly: one record per
    place, a place in both lists is both, each gets its ward."""
    import dataclasses
    import json as json_module

    from data_sources.normalise import normalise_rows
    from data_sources.upstream import fetch_upstream
    from services.boundaries import bundled_boundaries_path
    from services.locate import AreaLocator
    from settings import Settings

    sites = json_module.dumps(GSI_SITES, ensure_ascii=False).encode("utf-8")
    shelters = GSI_SHELTERS_CSV.encode("cp932")  # GSI's CSVs are Shift_JIS
    layer = deployment.layer("evacuation-sites")
    if kind == "url":
        with FileServer() as srv:
            urls = (srv.add_file("/sites.geojson", sites, "application/geo+json"),
                    srv.add_file("/shelters.csv", shelters, CSV_TYPE))
            source = dataclasses.replace(layer.source, kind="url", format="gsi", url=urls[0], urls=urls, dataset=None)
            result = fetch_upstream(source, Settings())
    else:
        (tmp_path / "sites.geojson").write_bytes(sites)
        (tmp_path / "shelters.csv").write_bytes(shelters)
        paths = (tmp_path / "sites.geojson", tmp_path / "shelters.csv")
        source = dataclasses.replace(layer.source, kind="file", format="gsi", path=paths[0], paths=paths, dataset=None)
        result = fetch_upstream(source, Settings())
    from services.areas import AreaTable

    areas = AreaTable.from_csv(deployment.area_table)
    records, report = normalise_rows(result.rows, layer, areas, deployment.bbox,
                                     locate=AreaLocator.for_prefecture(areas, bundled_boundaries_path("27")))
    by_id = {r["id"]: r for r in records}
    assert set(by_id) == {"E2710000002201", "E2710000023201", "E2720300001111"}
    assert by_id["E2710000023201"]["kind"] == ["指定緊急避難場所", "指定避難所"]
    assert by_id["E2710000023201"]["accepted"] == "要配慮者"
    assert by_id["E2710000023201"]["flood"] is True and not by_id["E2710000023201"]["tsunami"]
    assert by_id["E2720300001111"]["kind"] == ["指定避難所"] and by_id["E2720300001111"]["area_code"] == "272035"
    assert by_id["E2710000002201"]["area_code"] == "271195"  # 阿倍野区, from its address
    assert by_id["E2710000023201"]["area_code"] == "271276"  # 北区
    assert dict(result.derived and {r: 1 for r, _ in result.derived}) == {"listed as both an evacuation site and a shelter": 1}
    assert report.rejected == {}


def test_a_file_that_is_neither_gsi_list_says_so(tmp_path, deployment) -> None:
    from data_sources import files

    (tmp_path / "a.csv").write_text("名称,緯度,経度\nx,34.7,135.5\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="neither GSI's evacuation-site list"):
        files.fetch([tmp_path / "a.csv"], fmt="gsi")
