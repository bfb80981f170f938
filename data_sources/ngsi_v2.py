"""The `ngsi-v2` source: entities of one type from an NGSI v2 broker (FIWARE Orion).

GET {broker}/v2/entities?type=&limit=&offset=&options=count,keyValues with
`Fiware-Service` / `Fiware-ServicePath`; pages by what the broker answers until
`Fiware-Total-Count` entities have come (without the count: until an empty page or one
shorter than the longest; see ngsi_ld.page_entities). Attributes are read as
keyValues or normalized ({"type": …, "value": …, "metadata": …}); `location` as geo:json
(a GeoJSON Point) or geo:point ("lat, lon") gives `_lat`/`_lon`.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from . import FetchResult
from . import http
from .ngsi_ld import MAX_PAGES, count_of, entities_of, flatten_entity, page_entities
from .tabular import point_of

PATH = "/v2/entities"
MAX_PAGE_SIZE = 1000  # Orion's maximum `limit`
_GEO_POINT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
SKIP = {"id", "type"}


def fetch_ngsi_v2(broker_url: str, entity_type: str, *, service: str | None = None,
                  service_path: str | None = None, page_size: int = 100, user_agent: str,
                  timeout: http.Timeout = (5, 20), retries: int = 2, backoff: float = 0.5,
                  max_bytes: int = http.MAX_DOWNLOAD_BYTES, max_pages: int = MAX_PAGES) -> FetchResult:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
    url = broker_url.rstrip("/") + PATH
    headers = {"Accept": "application/json"}
    if service:
        headers["Fiware-Service"] = service
    if service_path:
        headers["Fiware-ServicePath"] = service_path
    public = http.redact(f"{url}?{urlencode({'type': entity_type})}")
    with http.session(user_agent, max_bytes) as s:
        def page_at(offset: int) -> tuple[list[dict[str, Any]], int | None]:
            params = {"type": entity_type, "limit": page_size, "offset": offset, "options": "count,keyValues"}
            response = http.get(s, url, params=params, headers=headers, timeout=timeout, retries=retries,
                                backoff=backoff)
            return entities_of(response, public), count_of(response, "Fiware-Total-Count", public)

        rows = page_entities(page_at, entity_row, public, max_pages)
    return FetchResult(rows=rows, source_url=public, source_modified=None)


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
