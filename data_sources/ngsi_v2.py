"""The `ngsi-v2` source: entities of one type from an NGSI v2 broker (FIWARE Orion).

GET {broker}/v2/entities?type=&limit=&offset=&options=count,keyValues with
`Fiware-Service` / `Fiware-ServicePath`; pages until `Fiware-Total-Count` entities have
come (or a short page, when a broker leaves the count out). Attributes are read as
keyValues or normalized ({"type": …, "value": …, "metadata": …}); `location` as geo:json
(a GeoJSON Point) or geo:point ("lat, lon") gives `_lat`/`_lon`.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from . import FetchResult, SourceFormatError
from . import http
from .ngsi_ld import MAX_ENTITIES, add_new, entities_of, flatten_entity
from .tabular import point_of

PATH = "/v2/entities"
MAX_PAGE_SIZE = 1000  # Orion's maximum `limit`
_GEO_POINT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
SKIP = {"id", "type"}


def fetch_ngsi_v2(broker_url: str, entity_type: str, *, service: str | None = None,
                  service_path: str | None = None, page_size: int = 100, user_agent: str,
                  timeout: http.Timeout = (5, 20), retries: int = 2, backoff: float = 0.5,
                  max_bytes: int = http.MAX_DOWNLOAD_BYTES) -> FetchResult:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
    url = broker_url.rstrip("/") + PATH
    headers = {"Accept": "application/json"}
    if service:
        headers["Fiware-Service"] = service
    if service_path:
        headers["Fiware-ServicePath"] = service_path
    public = http.redact(f"{url}?{urlencode({'type': entity_type})}")
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    offset = 0
    total: int | None = None
    with http.session(user_agent, max_bytes) as s:
        while True:
            params = {"type": entity_type, "limit": page_size, "offset": offset, "options": "count,keyValues"}
            response = http.get(s, url, params=params, headers=headers, timeout=timeout, retries=retries,
                                backoff=backoff)
            page = entities_of(response, public)
            if total is None:
                total = _total(response.headers.get("Fiware-Total-Count"), public)
            new = add_new(rows, seen, page, entity_row)
            offset += len(page)
            if not page or not new:
                break
            if total is not None and offset >= total:
                break
            if total is None and len(page) < page_size:
                break
            if len(rows) > MAX_ENTITIES:
                raise SourceFormatError(f"{public}: more than {MAX_ENTITIES} entities; the broker keeps paging")
    return FetchResult(rows=rows, source_url=public, source_modified=None)


def _total(header: str | None, where: str) -> int | None:
    if header is None:
        return None
    try:
        return int(header)
    except ValueError:
        raise SourceFormatError(f"{where}: Fiware-Total-Count is not a number: {header[:20]!r}") from None


def attribute_value(value: Any) -> Any:
    """keyValues → as is; normalized {"type": …, "value": …, "metadata": …} → the value."""
    if isinstance(value, dict) and "value" in value and "type" in value and set(value) <= {"type", "value", "metadata"}:
        return value["value"]
    return value


def location_of(value: Any) -> tuple[str, str]:
    """(lon, lat) text of a geo:json Point or a geo:point "lat, lon" string, else ("", "")."""
    if isinstance(value, str):
        m = _GEO_POINT.match(value)
        if m:
            return m[2], m[1]
    return point_of(value)


def entity_row(entity: dict[str, Any]) -> dict[str, str]:
    return flatten_entity(entity, attribute_value, location_of, SKIP)
