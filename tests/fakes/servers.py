"""Local HTTP servers that speak the upstream protocols, for tests of the fetch layer.

Each server is a `ThreadingHTTPServer` on 127.0.0.1:0, run in a background thread by
`with Server() as srv:`; `srv.url` is its base URL and `srv.requests` records every
request (method, path, query, headers, body) so tests can assert paging and headers.

- `CkanServer`: the CKAN Action API at /api/3/action/<name> and /api/action/<name>
  (GET and POST; ckanapi posts to the latter), package_show / package_search shaped like
  CKAN 2.9+, private datasets behind an API token, resource downloads from the same server.
- `NgsiLdServer`: an NGSI-LD broker (/ngsi-ld/v1/entities) with tenants, a JSON-LD
  @context given by a Link header, keyValues / normalized, limit ≤ 1000, ProblemDetails.
- `NgsiV2Server`: an Orion-like NGSI v2 broker (/v2/entities) with Fiware-Service /
  Fiware-ServicePath, options=count → Fiware-Total-Count, keyValues / normalized.
- `FileServer`: static files (any server can also serve files: `add_file`).

Paging quirks of real brokers, on both NGSI servers (see `BrokerQuirks`): `cap` answers at
most that many entities whatever `limit` asks (as brokers with a lower maximum do, without
an error); `send_count` False leaves the count header out; `ignore_offset` answers the first
page for every offset; `serve_at_most` stops answering entities after that many while the
count still announces them all.

Failure switches on every server: `fail_next(n, mode)` and `fail_always(mode)` with mode
"500", "503", "429", "slow" (answer after `slow_seconds`, or at `release()`; `hold()` makes
every request wait for it), "malformed" (truncated JSON),
"html" (an error page with status 200) or "drop" (close without answering); `stop()`
leaves a port that refuses connections.
"""
from __future__ import annotations

import csv
import datetime as dt
import email.utils
import io
import json
import re
import threading
import traceback
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from requests.structures import CaseInsensitiveDict

CIO = "https://cio-context.fiware-testbed.jp/dataset#"
CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld"
DEFAULT_CONTEXT = "https://uri.etsi.org/ngsi-ld/default-context/"
TOILET_TYPE = "公衆トイレ一覧"
FAIL_MODES = ("500", "503", "429", "slow", "malformed", "html", "drop")


# --------------------------------------------------------------------------- the base server
@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, str]  # last value of each parameter, decoded
    headers: CaseInsensitiveDict
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(obj: Any, status: int = 200, content_type: str = "application/json",
               headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), content_type, headers or {})


@dataclass
class _File:
    data: bytes
    content_type: str
    last_modified: str | None
    private: bool
    encoding: str | None = None  # Content-Encoding of `data` as stored (e.g. "gzip")


class _Handler(BaseHTTPRequestHandler):
    server: "FakeServer"
    protocol_version = "HTTP/1.0"  # one request per connection: simple and enough here

    def do_GET(self):  # noqa: N802 (the http.server naming)
        self._handle("GET")

    def do_POST(self):  # noqa: N802
        self._handle("POST")

    def do_HEAD(self):  # noqa: N802
        self._handle("HEAD")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        request = Recorded(method, unquote(parts.path), query, CaseInsensitiveDict(self.headers.items()), body)
        server = self.server
        server.record(request)
        mode = server.next_failure()
        try:
            if mode == "drop":
                self.close_connection = True
                return
            if mode == "slow":
                server.released.wait(server.slow_seconds)
                reply = server.dispatch(request)
            elif mode is not None:
                reply = server.failure_reply(mode)
            else:
                reply = server.dispatch(request)
        except Exception:  # a bug in the fake: say so loudly instead of hanging the client
            server.errors.append(traceback.format_exc())
            reply = Reply(599, traceback.format_exc().encode(), "text/plain")
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(reply.body)
        except OSError:  # the client gave up (read timeout): nothing to answer
            pass

    def log_message(self, format, *args):  # noqa: A002 (silence the access log)
        pass


class FakeServer(ThreadingHTTPServer):
    """Base: binds 127.0.0.1:0, records requests, serves added files, fails on demand."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, api_key: str | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api_key = api_key
        self.requests: list[Recorded] = []
        self.errors: list[str] = []  # tracebacks of bugs in the fake itself
        self.slow_seconds = 5.0
        self.stopping = threading.Event()
        self.released = threading.Event()  # ends every "slow" wait at once (set by release() and stop())
        self.files: dict[str, _File] = {}
        self._lock = threading.Lock()
        self._failures: list[str] = []
        self._fail_always: str | None = None
        self._thread: threading.Thread | None = None

    # life cycle
    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeServer":
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def hold(self) -> None:
        """Answer nothing until release() (or stop()): an upstream that hangs."""
        self.released.clear()
        self.slow_seconds = 3600.0
        self.fail_always("slow")

    def release(self) -> None:
        """Let every held request go on (answered normally from now on)."""
        self.fail_always(None)
        self.released.set()

    def stop(self) -> None:
        self.stopping.set()
        self.released.set()
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def handle_error(self, request, client_address):  # silence socketserver's tracebacks
        pass

    # recording
    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def requests_to(self, path: str) -> list[Recorded]:
        """Recorded requests whose path starts with `path`."""
        return [r for r in self.requests if r.path.startswith(path)]

    # failure switches
    def fail_next(self, times: int, mode: str = "500") -> None:
        assert mode in FAIL_MODES, mode
        with self._lock:
            self._failures.extend([mode] * times)

    def fail_always(self, mode: str | None = "500") -> None:
        assert mode is None or mode in FAIL_MODES, mode
        self._fail_always = mode

    def reset(self) -> None:
        """Forget recorded requests and failure switches (between tests sharing a server)."""
        with self._lock:
            self.requests.clear()
            self._failures.clear()
        self._fail_always = None

    def next_failure(self) -> str | None:
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
        return self._fail_always

    def failure_reply(self, mode: str) -> Reply:
        if mode == "malformed":
            return Reply(200, b'[{"id": "urn:ngsi-ld:x:1", "type": "T", "name": {"type": "Prop', "application/json")
        if mode == "html":
            return Reply(200, b"<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>", "text/html")
        status = int(mode)
        headers = {"Retry-After": "0"} if status in (429, 503) else {}
        return Reply(status, f"<html><body><h1>{status}</h1></body></html>".encode(), "text/html", headers)

    # files
    def add_file(self, path: str, data: bytes, content_type: str = "application/octet-stream", *,
                 last_modified: dt.datetime | None = None, private: bool = False, encoding: str | None = None) -> str:
        """Serve `data` at `path` (decoded, may be Japanese); returns its absolute URL.
        `encoding`: `data` is already compressed so, and served with that Content-Encoding."""
        stamp = email.utils.format_datetime(last_modified.astimezone(dt.timezone.utc), usegmt=True) \
            if last_modified else None
        self.files[path] = _File(data, content_type, stamp, private, encoding)
        return self.url + _quote_path(path)

    def authorised(self, request: Recorded) -> bool:
        token = request.headers.get("Authorization") or request.headers.get("X-CKAN-API-Key")
        return self.api_key is not None and token == self.api_key

    def dispatch(self, request: Recorded) -> Reply:
        file = self.files.get(request.path)
        if file is not None:
            if file.private and not self.authorised(request):
                return Reply(403, b"<html><body>403 Forbidden</body></html>", "text/html")
            headers = {"Last-Modified": file.last_modified} if file.last_modified else {}
            if file.encoding:
                headers["Content-Encoding"] = file.encoding
            return Reply(200, file.data, file.content_type, headers)
        return self.route(request)

    def route(self, request: Recorded) -> Reply:
        return Reply(404, b"<html><body>404 Not Found</body></html>", "text/html")


def _quote_path(path: str) -> str:
    return quote(path, safe="/")


class FileServer(FakeServer):
    """Static files only (an external host that CKAN resources point to)."""


# --------------------------------------------------------------------------- CKAN
def _ckan_time(value: dt.datetime) -> str:
    """CKAN's timestamps: UTC, ISO, no offset, microseconds."""
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


@dataclass
class ResourceFile:
    """A resource to publish: its metadata and the bytes behind its URL."""

    name: str
    format: str
    filename: str
    data: bytes
    content_type: str
    last_modified: dt.datetime | None
    host: FakeServer | None = None  # None: uploaded to the CKAN server itself
    url: str | None = None  # an explicit URL instead of serving `data`


class CkanServer(FakeServer):
    """A CKAN 2.10 portal: Action API (both paths, GET and POST) and uploaded resources."""

    SITE = "見える化テストポータル"

    def __init__(self, api_key: str | None = None):
        super().__init__(api_key=api_key)
        self.packages: dict[str, dict] = {}  # by id
        self.organizations: dict[str, dict] = {}

    def organization(self, name: str, title: str) -> dict:
        org = self.organizations.get(name)
        if org is None:
            org = {"id": _uuid("org", name), "name": name, "title": title, "type": "organization",
                   "description": "", "image_url": "", "created": "2020-04-01T00:00:00.000000",
                   "is_organization": True, "approval_status": "approved", "state": "active"}
            self.organizations[name] = org
        return org

    def publish(self, name: str, title: str, *, organization: tuple[str, str], modified: dt.datetime,
                resources: list[ResourceFile], private: bool = False, notes: str = "",
                tags: tuple[str, ...] = ()) -> dict:
        """Add a package whose resources are served (here or by their host); returns it."""
        org = self.organization(*organization)
        package_id = _uuid("package", name)
        items = []
        for position, res in enumerate(resources):
            resource_id = _uuid("resource", name, res.name, str(position))
            host = res.host or self
            if res.url is not None:
                url, url_type = res.url, ""
            elif host is self:
                url = self.add_file(f"/dataset/{package_id}/resource/{resource_id}/download/{res.filename}",
                                    res.data, res.content_type, last_modified=res.last_modified, private=private)
                url_type = "upload"
            else:
                url = host.add_file(f"/opendata/{res.filename}", res.data, res.content_type,
                                    last_modified=res.last_modified)
                url_type = ""
            stamp = _ckan_time(res.last_modified) if res.last_modified else None
            items.append({
                "cache_last_updated": None, "cache_url": None,
                "created": stamp or _ckan_time(modified), "datastore_active": False, "description": "",
                "format": res.format, "hash": "", "id": resource_id, "last_modified": stamp,
                "metadata_modified": _ckan_time(modified), "mimetype": res.content_type or None,
                "mimetype_inner": None, "name": res.name, "package_id": package_id, "position": position,
                "resource_type": None, "size": len(res.data), "state": "active", "url": url,
                "url_type": url_type,
            })
        package = {
            "author": "", "author_email": "", "creator_user_id": _uuid("user", "admin"), "id": package_id,
            "isopen": True, "license_id": "cc-by", "license_title": "Creative Commons Attribution",
            "license_url": "http://www.opendefinition.org/licenses/cc-by", "maintainer": org["title"],
            "maintainer_email": "", "metadata_created": _ckan_time(modified - dt.timedelta(days=400)),
            "metadata_modified": _ckan_time(modified), "name": name, "notes": notes,
            "num_resources": len(items), "num_tags": len(tags), "organization": org, "owner_org": org["id"],
            "private": private, "state": "active", "title": title, "type": "dataset", "url": "",
            "version": "", "extras": [], "groups": [], "relationships_as_object": [],
            "relationships_as_subject": [], "resources": items,
            "tags": [{"display_name": t, "id": _uuid("tag", t), "name": t, "state": "active",
                      "vocabulary_id": None} for t in tags],
        }
        self.packages[package_id] = package
        return package

    # the Action API
    _ACTION = re.compile(r"^/api/(?:3/)?action/([a-z_]+)$")

    def route(self, request: Recorded) -> Reply:
        m = self._ACTION.match(request.path)
        if not m:
            return super().route(request)
        action = m[1]
        if request.method == "POST":
            try:
                data = request.json() or {}
            except ValueError:
                return self._error(400, "Bad request - JSON Error", "Bad Request", action)
        else:
            data = dict(request.query)
        if action == "package_show":
            return self._package_show(request, data)
        if action == "package_search":
            return self._package_search(request, data)
        if action == "status_show":
            return self._ok("status_show", {"ckan_version": "2.10.4", "site_title": self.SITE,
                                            "site_url": self.url, "extensions": ["datastore"]})
        return self._error(400, f"Bad request - Action name not known: {action}", "Bad Request", action)

    def _help(self, action: str) -> str:
        return f"{self.url}/api/3/action/help_show?name={action}"

    def _ok(self, action: str, result: Any) -> Reply:
        return json_reply({"help": self._help(action), "success": True, "result": result})

    def _error(self, status: int, message: str, kind: str, action: str) -> Reply:
        return json_reply({"help": self._help(action), "success": False,
                           "error": {"message": message, "__type": kind}}, status)

    def _find(self, ref: str) -> dict | None:
        return self.packages.get(ref) or next((p for p in self.packages.values() if p["name"] == ref), None)

    def _package_show(self, request: Recorded, data: dict) -> Reply:
        ref = str(data.get("id") or "")
        if not ref:
            return json_reply({"help": self._help("package_show"), "success": False,
                               "error": {"id": ["Missing value"], "__type": "Validation Error"}}, 409)
        package = self._find(ref)
        if package is None:
            return self._error(404, "Not found", "Not Found Error", "package_show")
        if package["private"] and not self.authorised(request):
            return self._error(403, f"Access denied: User  not authorized to read package {package['id']}",
                               "Authorization Error", "package_show")
        return self._ok("package_show", package)

    def _package_search(self, request: Recorded, data: dict) -> Reply:
        q = str(data.get("q") or "*:*").strip()
        fq = str(data.get("fq") or "")
        rows = int(data.get("rows", 10))
        start = int(data.get("start", 0))
        sort = str(data.get("sort") or "score desc, metadata_modified desc")
        include_private = str(data.get("include_private", "false")).lower() == "true" and self.authorised(request)
        orgs = re.findall(r"organization:\"?([\w\-]+)\"?", fq)
        terms = [] if q in ("*:*", "") else q.lower().split()
        found = []
        for package in self.packages.values():
            if package["private"] and not include_private:
                continue
            if orgs and package["organization"]["name"] not in orgs:
                continue
            text = " ".join([package["name"], package["title"], package["notes"]]
                            + [t["name"] for t in package["tags"]]).lower()
            if all(term in text for term in terms):
                found.append(package)
        if "metadata_modified desc" in sort:
            found.sort(key=lambda p: p["metadata_modified"], reverse=True)
        elif "metadata_modified asc" in sort:
            found.sort(key=lambda p: p["metadata_modified"])
        return self._ok("package_search", {"count": len(found), "facets": {}, "results": found[start:start + rows],
                                           "sort": sort, "search_facets": {}})


# --------------------------------------------------------------------------- NGSI-LD
def toilet_entities(count: int, *, city_code: str = "271004", city: str = "大阪市") -> list[dict]:
    """`count` 公衆トイレ一覧 entities in the normalized representation, attribute names
    from the cio data model (short names, as a client with the cio @context sees them)."""
    entities = []
    for i in range(1, count + 1):
        lat = round(34.60 + (i % 97) * 0.003, 6)
        lon = round(135.40 + (i % 89) * 0.003, 6)
        prop = lambda value: {"type": "Property", "value": value}  # noqa: E731
        entity = {
            "id": f"urn:ngsi-ld:{TOILET_TYPE}:{city_code}-{i:05d}",
            "type": TOILET_TYPE,
            "都道府県コード又は市区町村コード": prop(city_code),
            "NO": prop(str(i)),
            "都道府県名": prop("大阪府"),
            "市区町村名": prop(city),
            "名称": prop(f"中之島公園　第{i}公衆トイレ（ＷＣ）"),
            "名称_カナ": prop(f"ナカノシマコウエン ダイ{i}コウシュウトイレ"),
            "名称_英語": prop(f"Nakanoshima Park Public Toilet No.{i}"),
            "住所": prop(f"大阪府大阪市北区中之島１丁目{i}番"),
            "方書": prop("㈱髙島屋前"),
            "設置位置": prop("公園北側入口横"),
            "緯度": prop(lat),
            "経度": prop(lon),
            "男性トイレ総数": prop(3),
            "女性トイレ総数": prop(2.0),  # JSON numbers may come as 2.0: still "2"
            "多機能トイレ数": prop(i % 3),
            "車椅子使用者用トイレ有無": prop("有" if i % 2 else "無"),
            "乳幼児用設備設置トイレ有無": prop("有" if i % 3 == 0 else "無"),
            "オストメイト設置トイレ有無": prop("無"),
            "利用開始時間": prop("07:00"),
            "利用終了時間": prop("21:00"),
            "利用可能時間特記事項": prop("年末年始（12月29日～1月3日）は閉鎖"),
            "備考": prop(""),
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        }
        entities.append(entity)
    return entities


# --------------------------------------------------------------------------- statistics tables

#: The age columns of the standard dataset 地域・年齢別人口, in order.
AGE_COLUMNS = [f"{a}-{a + 4}歳の{sex}" for a in range(0, 85, 5) for sex in ("男性", "女性")] + ["85歳以上の男性", "85歳以上の女性"]


def population_row(code: str, date: str, total: int, **extra: str) -> dict[str, str]:
    """A row of the standard dataset 地域・年齢別人口 (every column filled; `extra` overrides)."""
    row = {"都道府県コード又は市区町村コード": code, "地域コード": "", "都道府県名": "大阪府", "市区町村名": "",
           "調査年月日": date, "地域名": "", "総人口": f"{total:,}", "男性": str(total // 2),
           "女性": str(total - total // 2), "世帯数": str(total // 2 - 1), "備考": ""}
    for i, column in enumerate(AGE_COLUMNS):
        row[column] = str(total // 40 + i)
    row.update(extra)
    return row


def crime_row(code: str, date: str, method: str) -> dict[str, str]:
    """A row of the police's street-crime open data (common format; one row per incident)."""
    return {"罪名": "窃盗", "手口": method, "管轄警察署（発生地）": "吹田警察署", "管轄交番・駐在所（発生地）": "",
            "市区町村コード（発生地）": code, "都道府県（発生地）": "大阪府", "市区町村（発生地）": "",
            "町丁目（発生地）": "", "発生年月日（始期）": date, "発生時（始期）": "12"}


AIR_TYPE = "AirQualityObserved"


def air_quality_entities(stations: list[tuple[str, str, str, float, float]], observed: dt.datetime,
                         pm25: list[float | None]) -> list[dict]:
    """AirQualityObserved entities (FIWARE smart data model, normalized representation), one
    per station (code, name, areaServed, lat, lon) with its latest readings; pm25[i] is the
    i-th station's PM2.5 (None: not measured). The time is a JSON-LD typed DateTime."""
    when = observed.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    entities = []
    for i, (code, name, area, lat, lon) in enumerate(stations):
        prop = lambda value, unit=None: {"type": "Property", "value": value, "observedAt": when,  # noqa: E731
                                         **({"unitCode": unit} if unit else {})}
        entity = {
            "id": f"urn:ngsi-ld:{AIR_TYPE}:osaka-{code}",
            "type": AIR_TYPE,
            "stationCode": {"type": "Property", "value": code},
            "stationName": {"type": "Property", "value": name},
            "areaServed": {"type": "Property", "value": area},
            "typeofLocation": {"type": "Property", "value": "一般局"},
            "dateObserved": {"type": "Property", "value": {"@type": "DateTime", "@value": when}},
            "no2": prop(0.012 + i * 0.001, "59"),
            "o3": prop(0.031, "59"),
            "so2": prop(0.002, "59"),
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        }
        if pm25[i] is not None:
            entity["pm25"] = prop(pm25[i], "GQ")
        entities.append(entity)
    return entities


def ld_key_values(entity: dict) -> dict:
    """The keyValues (simplified) form of a normalized NGSI-LD entity."""
    out = {}
    for name, value in entity.items():
        if isinstance(value, dict) and value.get("type") in ("Property", "GeoProperty"):
            out[name] = value["value"]
        elif isinstance(value, dict) and value.get("type") == "Relationship":
            out[name] = value["object"]
        else:
            out[name] = value
    return out


@dataclass
class BrokerQuirks:
    """How a broker deviates from plain paging (defaults: it does not)."""

    cap: int | None = None  # at most this many entities a page, whatever `limit` asks
    send_count: bool = True  # False: no count header even when one is asked for
    ignore_offset: bool = False  # every page starts at the first entity
    serve_at_most: int | None = None  # entities past this index are never answered (the count still has them)

    def page(self, matches: list[dict], offset: int, limit: int) -> list[dict]:
        served = matches if self.serve_at_most is None else matches[:self.serve_at_most]
        start = 0 if self.ignore_offset else offset
        return served[start:start + min(limit, self.cap or limit)]


def _problem(status: int, kind: str, title: str, detail: str = "") -> Reply:
    return json_reply({"type": f"https://uri.etsi.org/ngsi-ld/errors/{kind}", "title": title, "detail": detail},
                      status, "application/json")


class NgsiLdServer(FakeServer):
    """An NGSI-LD broker with tenants. Entity types and attributes are stored under the cio
    vocabulary: a short type name resolves only with the cio @context in a Link header
    (served here at /context.jsonld); without it, types must be full URIs and attribute
    names come back expanded, as a real broker does."""

    MAX_LIMIT = 1000

    def __init__(self):
        super().__init__()
        self.tenants: dict[str | None, list[dict]] = {None: []}
        self.quirks = BrokerQuirks()

    def reset(self) -> None:
        super().reset()
        self.quirks = BrokerQuirks()

    def replace(self, entities: list[dict], tenant: str | None = None) -> None:
        """The tenant's entities are now `entities` (a publisher's next edition)."""
        self.tenants[tenant] = list(entities)

    @property
    def context_url(self) -> str:
        return f"{self.url}/context.jsonld"

    def add(self, entities: list[dict], tenant: str | None = None) -> None:
        self.tenants.setdefault(tenant, []).extend(entities)

    def _known_types(self) -> set[str]:
        return {e["type"] for entities in self.tenants.values() for e in entities}

    def route(self, request: Recorded) -> Reply:
        if request.path == "/context.jsonld":
            terms = {**{t: CIO + t for t in self._known_types() | {TOILET_TYPE}}, "location": CIO + "location"}
            return json_reply({"@context": [terms, CORE_CONTEXT]}, content_type="application/ld+json")
        if request.path != "/ngsi-ld/v1/entities":
            return _problem(404, "ResourceNotFound", "No such resource", request.path)
        if request.method != "GET":
            return _problem(405, "OperationNotSupported", "Only GET in this fake")
        tenant = request.headers.get("NGSILD-Tenant")
        if tenant not in self.tenants:
            return _problem(404, "NonexistentTenant", "Tenant not found", str(tenant))
        try:
            limit = int(request.query.get("limit", "20"))
            offset = int(request.query.get("offset", "0"))
        except ValueError:
            return _problem(400, "BadRequestData", "Invalid value for URI parameter", "limit/offset")
        if limit > self.MAX_LIMIT:
            return _problem(400, "BadRequestData", "Invalid value for URI parameter 'limit'",
                            f"must be an integer value <= {self.MAX_LIMIT}")
        if limit < 1 or offset < 0:
            return _problem(400, "BadRequestData", "Invalid value for URI parameter 'limit' or 'offset'")
        wanted = request.query.get("type")
        if not wanted:
            return _problem(400, "BadRequestData", "Too broad query", "Need at least one of type, attrs, q, geoQ")
        with_context = self.context_url in (request.headers.get("Link") or "")
        expanded = self._expand_type(wanted, with_context)
        if expanded not in {CIO + t for t in self._known_types()}:
            return _problem(404, "ResourceNotFound", "Entity type not found", expanded)
        options = set((request.query.get("options") or "").split(","))
        simplified = bool(options & {"keyValues", "simplified"}) or request.query.get("format") in (
            "keyValues", "simplified")
        matches = [e for e in self.tenants[tenant] if CIO + e["type"] == expanded]
        page = self.quirks.page(matches, offset, limit)
        ld = "application/ld+json" in (request.headers.get("Accept") or "")
        body = []
        for entity in page:
            out = ld_key_values(entity) if simplified else json.loads(json.dumps(entity))
            if not with_context:
                out = {("type" if k == "type" else k if k in ("id", "location") else CIO + k): v
                       for k, v in out.items()}
                out["type"] = CIO + entity["type"]
            if ld:
                out["@context"] = [self.context_url, CORE_CONTEXT] if with_context else CORE_CONTEXT
            body.append(out)
        headers = {}
        if request.query.get("count") == "true" and self.quirks.send_count:
            headers["NGSILD-Results-Count"] = str(len(matches))
        if not ld:
            context = self.context_url if with_context else CORE_CONTEXT
            headers["Link"] = f'<{context}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
        return json_reply(body, content_type="application/ld+json" if ld else "application/json", headers=headers)

    @staticmethod
    def _expand_type(name: str, with_context: bool) -> str:
        if "://" in name:
            return name
        return (CIO if with_context else DEFAULT_CONTEXT) + name


# --------------------------------------------------------------------------- NGSI v2
def toilet_entities_v2(count: int, *, city_code: str = "271004") -> list[dict]:
    """`count` 公衆トイレ一覧 entities in NGSI v2's normalized form; location alternates
    between geo:json and geo:point ("lat, lon")."""
    out = []
    for i, ld in enumerate(toilet_entities(count, city_code=city_code), start=1):
        entity: dict[str, Any] = {"id": f"{TOILET_TYPE}:{city_code}-{i:05d}", "type": TOILET_TYPE}
        for name, attr in ld.items():
            if name in ("id", "type", "location"):
                continue
            value = attr["value"]
            kind = "Number" if isinstance(value, (int, float)) else "Text"
            entity[name] = {"type": kind, "value": value, "metadata": {}}
        lon, lat = ld["location"]["value"]["coordinates"]
        entity["location"] = ({"type": "geo:json", "value": {"type": "Point", "coordinates": [lon, lat]},
                               "metadata": {}} if i % 2 else
                              {"type": "geo:point", "value": f"{lat}, {lon}", "metadata": {}})
        out.append(entity)
    return out


def v2_key_values(entity: dict) -> dict:
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in entity.items()}


class NgsiV2Server(FakeServer):
    """An Orion-like NGSI v2 broker: entities per (Fiware-Service, Fiware-ServicePath)."""

    MAX_LIMIT = 1000

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], list[dict]] = {}
        self.ignore_key_values = False  # answer normalized even when keyValues is asked
        self.quirks = BrokerQuirks()  # quirks.send_count False: no Fiware-Total-Count even with options=count

    def reset(self) -> None:
        super().reset()
        self.quirks = BrokerQuirks()

    def add(self, entities: list[dict], service: str = "", service_path: str = "/") -> None:
        self.store.setdefault((service, service_path), []).extend(entities)

    def replace(self, entities: list[dict], service: str = "", service_path: str = "/") -> None:
        """The service path's entities are now `entities` (a publisher's next edition)."""
        self.store[(service, service_path)] = list(entities)

    def route(self, request: Recorded) -> Reply:
        if request.path == "/version":
            return json_reply({"orion": {"version": "3.10.1", "uptime": "0 d, 0 h, 1 m, 0 s"}})
        if request.path != "/v2/entities":
            return json_reply({"error": "NotFound", "description": "service not found"}, 404)
        service = (request.headers.get("Fiware-Service") or "").lower()
        path = request.headers.get("Fiware-ServicePath") or "/"
        try:
            limit = int(request.query.get("limit", "20"))
            offset = int(request.query.get("offset", "0"))
        except ValueError:
            return json_reply({"error": "BadRequest", "description": "Bad pagination limit"}, 400)
        if limit > self.MAX_LIMIT or limit < 1:
            return json_reply({"error": "BadRequest",
                               "description": f"Bad pagination limit: /{limit}/ [max: {self.MAX_LIMIT}]"}, 400)
        if offset < 0:
            return json_reply({"error": "BadRequest", "description": f"Bad pagination offset: /{offset}/"}, 400)
        options = set((request.query.get("options") or "").split(","))
        wanted = request.query.get("type")
        matches = []
        for (svc, svc_path), entities in self.store.items():
            if svc != service:
                continue
            if path.endswith("/#"):
                root = path[:-2] or "/"
                if not (svc_path == root or svc_path.startswith(root.rstrip("/") + "/")):
                    continue
            elif svc_path != path:
                continue
            matches.extend(e for e in entities if not wanted or e["type"] == wanted)
        page = self.quirks.page(matches, offset, limit)
        if "keyValues" in options and not self.ignore_key_values:
            page = [v2_key_values(e) for e in page]
        headers = {"Fiware-Total-Count": str(len(matches))} if "count" in options and self.quirks.send_count else {}
        return json_reply(page, headers=headers)


# --------------------------------------------------------------------------- files
AED_OLD_EDITION = ["都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名", "名称", "名称_カナ",
                   "住所", "方書", "緯度", "経度", "設置位置", "電話番号", "内線番号", "法人番号", "団体名",
                   "利用可能曜日", "開始時間", "終了時間", "利用可能日時特記事項", "小児対応設備の有無", "URL", "備考"]


def aed_rows(count: int = 3) -> list[dict[str, str]]:
    """Rows of an old-edition (推奨データセット) AED list, with full-width text and
    characters only CP932 has (㈱, 髙, ①)."""
    rows = []
    for i in range(1, count + 1):
        rows.append({
            "都道府県コード又は市区町村コード": "272035", "NO": str(i), "都道府県名": "大阪府", "市区町村名": "豊中市",
            "名称": f"豊中市役所　第{i}庁舎（ＡＥＤ①）", "名称_カナ": f"トヨナカシヤクショ ダイ{i}チョウシャ",
            "住所": "大阪府豊中市中桜塚３丁目１－１", "方書": "㈱髙橋ビル１階", "緯度": f"34.78{i:02d}",
            "経度": f"135.46{i:02d}", "設置位置": "正面玄関ロビー", "電話番号": "06-6858-5050", "内線番号": "",
            "法人番号": "", "団体名": "豊中市", "利用可能曜日": "月火水木金", "開始時間": "8:45",
            "終了時間": "17:15", "利用可能日時特記事項": "土日祝・年末年始を除く", "小児対応設備の有無": "有",
            "URL": "https://www.city.toyonaka.osaka.jp/", "備考": "",
        })
    return rows


def csv_bytes(rows: list[dict[str, str]], encoding: str, header: list[str] | None = None) -> bytes:
    """Rows as a CSV file in `encoding` ("cp932", "utf-8-sig", "utf-8"), CRLF line ends."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=header or list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def english_toilet_rows(count: int = 2) -> list[dict[str, str]]:
    """A toilets list with English headers, as some municipalities publish."""
    return [{"ID": f"T{i}", "Name": f"Osaka Castle Park Toilet {i}", "Name (ja)": f"大阪城公園　トイレ{i}",
             "Latitude": f"34.68{i}", "Longitude": f"135.52{i}", "Wheelchair": "Yes" if i % 2 else "No"}
            for i in range(1, count + 1)]


def geojson_bytes(features: list[tuple[dict, list[float] | None]]) -> bytes:
    """A FeatureCollection of (properties, [lon, lat] or None for a null geometry)."""
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props,
         "geometry": {"type": "Point", "coordinates": coords} if coords else None}
        for props, coords in features]}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")
