"""The `ckan` source: a resource of a dataset on a CKAN portal, found through the Action API.

The package comes from `package_show(id=dataset)`, or from `package_search` (q, and
fq=organization:<org>) taking the most recently modified package that has a matching
resource. The resource is the one whose format matches (case-insensitive; an empty
format is judged by the URL's extension) and, if asked, whose name contains a text;
the newest (`last_modified`, else `metadata_modified`) wins. It is downloaded and read
by `tabular`. An API key goes to the CKAN host only: the API calls, and a download only
when it is served by the same scheme, host and port.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckanapi
import requests
from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ServerIncompatibleError, ValidationError

from . import FetchResult, SourceError, SourceFormatError, SourceUnavailable
from . import http, tabular
from .store import from_iso
from .text import nfkc

SEARCH_ROWS = 50  # packages considered from one search, newest first


class _RemoteCKAN(ckanapi.RemoteCKAN):
    """ckanapi's client, sending through `http.send` (retries, typed errors, timeouts)."""

    def __init__(self, address: str, *, apikey: str | None, user_agent: str, session: requests.Session,
                 timeout: http.Timeout, retries: int, backoff: float):
        super().__init__(address, apikey=apikey, user_agent=user_agent, session=session)
        self._options = {"timeout": timeout, "retries": retries, "backoff": backoff}
        self.last_status: int | None = None

    def _request_fn(self, url, data, headers, files, requests_kwargs):
        response = http.send(self.session, "POST", url, data=data, headers=headers, pass_client_errors=True,
                             allow_redirects=False, **self._options)
        self.last_status = response.status_code
        return response.status_code, response.text

    def _request_fn_get(self, url, data_dict, headers, requests_kwargs):
        response = http.send(self.session, "GET", url, params=data_dict, headers=headers,
                             pass_client_errors=True, allow_redirects=False, **self._options)
        self.last_status = response.status_code
        return response.status_code, response.text


def fetch_ckan(base_url: str, *, dataset: str | None = None, query: str | None = None,
               organization: str | None = None, resource_format: str = "CSV", name_contains: str | None = None,
               api_key: str | None = None, user_agent: str, timeout: http.Timeout = (5, 20), retries: int = 2,
               backoff: float = 0.5, max_bytes: int = http.MAX_DOWNLOAD_BYTES) -> FetchResult:
    """Rows of the chosen resource; source_modified from the resource (else the package)."""
    if not (dataset or query or organization):
        raise ValueError("fetch_ckan needs a dataset id, a search query or an organization")
    base = base_url.rstrip("/")
    label = http.redact(base)  # the portal as named in messages
    what = f"dataset {dataset!r}" if dataset else "search " + ", ".join(
        part for part in (f"q={query!r}" if query else "", f"organization={organization!r}" if organization else "")
        if part)
    try:
        with http.session(user_agent, max_bytes) as s:
            client = _RemoteCKAN(base, apikey=api_key or None, user_agent=s.headers["User-Agent"], session=s,
                                 timeout=timeout, retries=retries, backoff=backoff)
            package, resource = _choose(client, label, what, dataset, query, organization, resource_format,
                                        name_contains)
            url = _resource_url(base, resource, what)
            headers = {"Authorization": api_key} if api_key and http.same_origin(url, base) else None
            response = http.get(s, url, headers=headers, timeout=timeout, retries=retries, backoff=backoff)
            where = http.redact(url)
            fmt = tabular.format_name(_text(resource.get("format"))) or tabular.guess_format(
                url, response.headers.get("Content-Type"))
            rows = tabular.rows_from_bytes(response.content, fmt, where)
            modified = (_stamp(resource.get("last_modified")) or http.last_modified(response)
                        or _stamp(package.get("metadata_modified")))
            return FetchResult(rows=rows, source_url=where, source_modified=modified)
    except SourceError as exc:  # every message names the dataset (or search) and never a key
        message = str(exc)
        if api_key:  # belt and braces: an upstream echoing the key back
            message = message.replace(api_key, "***")
        if what not in message:
            message = f"CKAN {label}: {what}: {message}"
        if message == str(exc):
            raise
        raise type(exc)(message) from None


def _choose(client: _RemoteCKAN, label: str, what: str, dataset: str | None, query: str | None,
            organization: str | None, resource_format: str, name_contains: str | None):
    if dataset:
        package = _call(client, label, what, "package_show", id=dataset)
        if not isinstance(package, dict):
            raise SourceFormatError(f"CKAN {label}: {what}: package_show answered "
                                    f"{type(package).__name__}, not a package")
        resource = _pick_resource(package, resource_format, name_contains)
        if resource is None:
            raise SourceFormatError(f"CKAN {label}: {what} has no {resource_format} resource"
                                    + (f" named like {name_contains!r}" if name_contains else ""))
        return package, resource
    search: dict[str, Any] = {"q": query or "*:*", "rows": SEARCH_ROWS, "sort": "metadata_modified desc"}
    if organization:
        search["fq"] = f"organization:{organization}"
    if client.apikey:
        search["include_private"] = True
    result = _call(client, label, what, "package_search", **search)
    packages = result.get("results") if isinstance(result, dict) else None
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise SourceFormatError(f"CKAN {label}: {what}: package_search answered no list of results")
    if not packages:
        raise SourceUnavailable(f"CKAN {label}: {what} found no dataset")
    packages = sorted(packages, key=lambda p: _stamp(p.get("metadata_modified")) or _EPOCH, reverse=True)
    for package in packages:
        resource = _pick_resource(package, resource_format, name_contains)
        if resource is not None:
            return package, resource
    raise SourceFormatError(f"CKAN {label}: {what}: none of {len(packages)} datasets has a {resource_format} resource"
                            + (f" named like {name_contains!r}" if name_contains else ""))


def _call(client: _RemoteCKAN, label: str, what: str, action: str, **data: Any) -> Any:
    try:
        return client.call_action(action, data)
    except NotFound:
        raise SourceUnavailable(f"CKAN {label}: {what} not found ({action})") from None
    except NotAuthorized:
        raise SourceUnavailable(f"CKAN {label}: {what}: not authorised ({action}; "
                                "private dataset or a wrong API key?)") from None
    except ValidationError:
        raise SourceUnavailable(f"CKAN {label}: {what}: {action} rejected the request (validation error)") from None
    except ServerIncompatibleError:
        raise SourceFormatError(f"CKAN {label}: {what}: {action} did not answer like a CKAN Action API") from None
    except CKANAPIError as exc:
        status = client.last_status
        if status is not None and status >= 400:
            raise SourceUnavailable(f"CKAN {label}: {what}: {action} answered HTTP {status}") from None
        kind = type(exc).__name__
        if kind in ("SearchQueryError", "SearchError", "SearchIndexError"):
            raise SourceUnavailable(f"CKAN {label}: {what}: {action} failed ({kind})") from None
        raise SourceFormatError(f"CKAN {label}: {what}: {action} did not answer like a CKAN Action API") from None


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _stamp(value: Any) -> dt.datetime | None:
    """A CKAN timestamp ("2024-04-01T09:30:00.123456", UTC without an offset) → aware UTC."""
    stamp = from_iso(value.strip()) if isinstance(value, str) else None
    return stamp.astimezone(dt.timezone.utc) if stamp else None


def _text(value: Any) -> str:
    if isinstance(value, dict):  # multilingual fields (ckanext-fluent): {"ja": …, "en": …}
        return " ".join(str(v) for v in value.values())
    return "" if value is None else str(value)


def _resource_format(resource: dict) -> str | None:
    fmt = tabular.format_name(_text(resource.get("format")))
    if fmt is None and not _text(resource.get("format")).strip():
        try:
            fmt = tabular.guess_format(_text(resource.get("url")), _text(resource.get("mimetype")) or None)
        except SourceFormatError:
            return None
    return fmt


def _pick_resource(package: dict, resource_format: str, name_contains: str | None) -> dict | None:
    """The newest resource of the wanted format (and name), or None."""
    resources = package.get("resources")
    if not isinstance(resources, list):
        return None
    wanted = tabular.format_name(resource_format) or resource_format.strip().lower()
    needle = nfkc(name_contains).lower() if name_contains else None
    matches = []
    for position, resource in enumerate(resources):
        if not isinstance(resource, dict) or not resource.get("url"):
            continue
        if _resource_format(resource) != wanted and _text(resource.get("format")).strip().lower() != wanted:
            continue
        if needle and needle not in nfkc(_text(resource.get("name"))).lower():
            continue
        stamp = _stamp(resource.get("last_modified")) or _stamp(resource.get("metadata_modified")) \
            or _stamp(resource.get("created")) or _EPOCH
        matches.append((stamp, -position, resource))
    if not matches:
        return None
    return max(matches, key=lambda m: (m[0], m[1]))[2]


def _resource_url(base: str, resource: dict, what: str) -> str:
    url = _text(resource.get("url")).strip()
    if url.startswith("/"):  # some portals store uploads relative to the site
        url = base + url
    if not url.startswith(("http://", "https://")):
        raise SourceFormatError(f"CKAN {http.redact(base)}: {what}: resource {_text(resource.get('id')) or '?'} "
                                "has no http(s) URL")
    return url
