"""The `ngsi-ld` source: entities of one type from an NGSI-LD context broker.

GET {broker}/ngsi-ld/v1/entities?type=&limit=&offset=&count=true pages by what the broker
answers (see `page_entities`: a broker may cap `limit` without saying so) until the
NGSILD-Results-Count it announces has come, or without a count until a page shorter than
the longest one, or an empty one. The tenant goes in `NGSILD-Tenant`; the @context (which makes Japanese short names such as
公衆トイレ一覧 resolve) in a `Link` header. Both representations are read: keyValues
(attribute → value) and normalized (attribute → {"type": "Property", "value": …},
GeoProperty, Relationship "object" …). Each entity becomes a row: `id`, `type`, every
attribute as text (see `tabular.to_text`) and `_lon`/`_lat` from its `location`.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

import requests

from . import FetchResult, SourceFormatError, SourceIncomplete
from . import http
from .tabular import point_of, to_text

PATH = "/ngsi-ld/v1/entities"
MAX_PAGE_SIZE = 1000  # the usual broker maximum for `limit`
MAX_ENTITIES = 1_000_000  # a broker that never stops paging is broken, not large
MAX_PAGES = 10_000  # requests of one fetch: 200,000 entities even from a broker capping pages at 20
JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
# Attribute types of the normalized representation → the member holding the value.
ATTRIBUTE_VALUE = {"Property": "value", "GeoProperty": "value", "Relationship": "object",
                   "LanguageProperty": "languageMap", "VocabProperty": "vocab", "JsonProperty": "json",
                   "ListProperty": "valueList", "ListRelationship": "objectList"}
SKIP = {"@context", "id", "type"}


def fetch_ngsi_ld(broker_url: str, entity_type: str, *, tenant: str | None = None, context: str | None = None,
                  page_size: int = 100, key_values: bool = True, user_agent: str,
                  timeout: http.Timeout = (5, 20), retries: int = 2, backoff: float = 0.5,
                  max_bytes: int = http.MAX_DOWNLOAD_BYTES, max_pages: int = MAX_PAGES) -> FetchResult:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
    url = broker_url.rstrip("/") + PATH
    headers = {"Accept": "application/json" if context else "application/ld+json"}
    if tenant:
        headers["NGSILD-Tenant"] = tenant
    if context:
        headers["Link"] = f'<{context}>; rel="{JSONLD_CONTEXT_REL}"; type="application/ld+json"'
    public = http.redact(f"{url}?{urlencode({'type': entity_type})}")
    with http.session(user_agent, max_bytes) as s:
        def page_at(offset: int) -> tuple[list[dict[str, Any]], int | None]:
            params: dict[str, Any] = {"type": entity_type, "limit": page_size, "offset": offset, "count": "true"}
            if key_values:
                params["options"] = "keyValues"
            response = http.get(s, url, params=params, headers=headers, timeout=timeout, retries=retries,
                                backoff=backoff)
            return entities_of(response, public), count_of(response, "NGSILD-Results-Count", public)

        rows = page_entities(page_at, entity_row, public, max_pages)
    return FetchResult(rows=rows, source_url=public, source_modified=None)


def page_entities(page_at: Callable[[int], tuple[list[dict[str, Any]], int | None]], to_row, where: str,
                  max_pages: int = MAX_PAGES) -> list[dict[str, str]]:
    """Rows of every entity, paged by what the broker answers (NGSI-LD and NGSI v2 alike).

    `page_at(offset)` → (entities, the count the broker announces or None). The next offset
    is the entities answered so far, not the `limit` asked: a broker may cap pages below it
    without an error. With a count, paging goes on until that many have come; without one,
    until an empty page or one shorter than the longest so far (the broker's cap), so a
    first page shorter than asked costs one more request to tell a cap from the end.
    SourceIncomplete when the broker answered fewer entities than it announced, answered a
    page of entities already seen (it ignores the offset), or paging passed `max_pages`."""
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    offset = longest = 0
    total: int | None = None
    for _ in range(max_pages):
        page, count = page_at(offset)
        total = count if count is not None else total  # the latest word: entities may come and go meanwhile
        if not page:
            break
        if not add_new(rows, seen, page, to_row):
            raise SourceIncomplete(f"{where}: the broker answered the same entities again at offset {offset} "
                                   "(it ignores the offset): paging cannot go on")
        if len(rows) > MAX_ENTITIES:
            raise SourceFormatError(f"{where}: more than {MAX_ENTITIES} entities; the broker keeps paging")
        offset += len(page)
        if total is not None:
            if offset >= total:
                break
        elif len(page) < longest:
            break
        longest = max(longest, len(page))
    else:
        raise SourceIncomplete(f"{where}: stopped after {max_pages} pages ({len(rows)} entities"
                               + (f" of {total}" if total is not None else "") + "); the broker keeps paging")
    if total is not None and len(rows) < total:
        raise SourceIncomplete(f"{where}: the broker answered {len(rows)} of the {total} entities it announced")
    return rows


def count_of(response: requests.Response, header: str, where: str) -> int | None:
    """The entity count a broker announces in `header`, or None when it gives none."""
    value = response.headers.get(header)
    if value is None:
        return None
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise SourceFormatError(f"{where}: {header} is not a count: {value[:20]!r}")
    return count


def entities_of(response: requests.Response, where: str) -> list[dict[str, Any]]:
    """The JSON array of entity objects a broker answered, or SourceFormatError."""
    try:
        body = response.json()
    except ValueError:
        raise SourceFormatError(f"{where}: the broker answered malformed JSON") from None
    if not isinstance(body, list):
        raise SourceFormatError(f"{where}: expected a JSON array of entities, got a JSON {type(body).__name__}")
    for entity in body:
        if not isinstance(entity, dict) or not isinstance(entity.get("id"), str) or not entity["id"]:
            raise SourceFormatError(f"{where}: an entity without an id: {_excerpt(entity)}")
    return body


def add_new(rows: list[dict[str, str]], seen: set[str], page: Iterable[dict], to_row) -> int:
    """Append rows of entities not seen before; returns how many were new."""
    new = 0
    for entity in page:
        if entity["id"] in seen:
            continue
        seen.add(entity["id"])
        rows.append(to_row(entity))
        new += 1
    return new


def _excerpt(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def attribute_value(value: Any) -> Any:
    """The plain value of an attribute in either representation."""
    if isinstance(value, list) and value and all(isinstance(v, dict) and v.get("type") in ATTRIBUTE_VALUE
                                                 for v in value):
        # a multi-attribute: prefer the default instance (no datasetId)
        value = next((v for v in value if "datasetId" not in v), value[0])
    if isinstance(value, dict) and value.get("type") in ATTRIBUTE_VALUE:
        member = ATTRIBUTE_VALUE[value["type"]]
        if member in value:
            value = value[member]
    if isinstance(value, dict) and "@value" in value:  # a JSON-LD typed value: {"@type": "DateTime", "@value": …}
        return value["@value"]
    return value


def flatten_entity(entity: dict[str, Any], value_of, location_of, skip: set[str]) -> dict[str, str]:
    """An entity as a row: id, type, every attribute as text, and `_lon`/`_lat` of `location`
    (shared by NGSI-LD and NGSI v2, which differ in how values and locations are written)."""
    row = {"id": to_text(entity.get("id")), "type": to_text(entity.get("type"))}
    for name, raw in entity.items():
        if name in skip or name == "location":  # the point is read into _lon/_lat below
            continue
        row[name] = to_text(value_of(raw))
    row["_lon"], row["_lat"] = location_of(value_of(entity.get("location")))
    return row


def entity_row(entity: dict[str, Any]) -> dict[str, str]:
    return flatten_entity(entity, attribute_value, point_of, SKIP)
