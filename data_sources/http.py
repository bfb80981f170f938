"""HTTP for live sources: one polite session, bounded retries, typed errors.

Every request names the app in its User-Agent. Connection errors, timeouts, 5xx and 429
are retried with exponential backoff (bounded); the last failure and any other 4xx raise
`SourceUnavailable("<url>: <reason>")`. URLs in messages and logs go through `redact`,
and header values (API keys) are never logged or put in messages.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from . import SourceUnavailable

__all__ = ["APP_VERSION", "DEFAULT_USER_AGENT", "session", "get", "send", "redact", "same_origin",
           "last_modified"]

log = logging.getLogger(__name__)

APP_VERSION = "0.1"
PROJECT_URL = "https://github.com/mieruka/mieruka"  # where operators of an upstream can learn who we are
DEFAULT_USER_AGENT = f"Mieruka/{APP_VERSION} (+{PROJECT_URL})"

Timeout = tuple[float, float]
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF = 10.0  # seconds: no single wait is longer, whatever Retry-After or the exponent says
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024  # a response body larger than this (decompressed) is refused
# Query parameters that carry credentials: dropped from every URL we show or log.
SECRET_PARAMS = frozenset({"apikey", "api_key", "api-key", "key", "token", "access_token", "auth",
                           "authorization", "password", "secret", "signature", "sig", "x-ckan-api-key"})


def session(user_agent: str = DEFAULT_USER_AGENT, max_bytes: int = MAX_DOWNLOAD_BYTES) -> requests.Session:
    """A session whose User-Agent names the app (falls back to DEFAULT_USER_AGENT when blank)
    and whose responses may not be larger than `max_bytes` (see `send`)."""
    s = requests.Session()
    s.headers["User-Agent"] = user_agent.strip() or DEFAULT_USER_AGENT
    s.max_bytes = max_bytes  # type: ignore[attr-defined]
    return s


class TooLarge(SourceUnavailable):
    """A response over the download limit: not retried (it will not shrink)."""


def _read_body(response: requests.Response, where: str, max_bytes: int) -> None:
    """Read the (streamed) body into `response.content`, at most `max_bytes` after
    decompression: a huge file or a gzip bomb costs a bounded amount of memory."""
    length = response.headers.get("Content-Length", "")
    encoded = response.headers.get("Content-Encoding", "identity") not in ("", "identity")
    if length.isdigit() and not encoded and int(length) > max_bytes:
        response.close()
        raise TooLarge(f"{where}: {int(length):,} bytes is over the download limit of {max_bytes:,} bytes")
    chunks, total = [], 0
    for chunk in response.iter_content(64 * 1024):
        total += len(chunk)
        if total > max_bytes:
            response.close()
            raise TooLarge(f"{where}: over the download limit of {max_bytes:,} bytes")
        chunks.append(chunk)
    response._content = b"".join(chunks)


def redact(url: str) -> str:
    """The URL without user:password and without query parameters that look like credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in SECRET_PARAMS]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))


def same_origin(a: str, b: str) -> bool:
    """True when both URLs have the same scheme, host and port (where a credential may go)."""
    pa, pb = urlsplit(a), urlsplit(b)

    def port(p):
        return p.port or {"http": 80, "https": 443}.get(p.scheme)

    return (pa.scheme, (pa.hostname or "").lower(), port(pa)) == (pb.scheme, (pb.hostname or "").lower(), port(pb))


def last_modified(response: requests.Response) -> dt.datetime | None:
    """The response's Last-Modified header as an aware UTC datetime, if present and readable."""
    value = response.headers.get("Last-Modified")
    if not value:
        return None
    try:
        stamp = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    return stamp.astimezone(dt.timezone.utc)


def _wait(attempt: int, backoff: float, response: requests.Response | None) -> float:
    delay = backoff * (2 ** attempt)
    retry_after = response.headers.get("Retry-After") if response is not None else None
    if retry_after and retry_after.strip().isdigit():
        delay = max(delay, float(retry_after))
    return min(delay, MAX_BACKOFF)


def send(s: requests.Session, method: str, url: str, *, params: Mapping[str, Any] | None = None,
         headers: Mapping[str, str] | None = None, data: Any = None, timeout: Timeout = (5, 20),
         retries: int = 2, backoff: float = 0.5, pass_client_errors: bool = False,
         allow_redirects: bool = True) -> requests.Response:
    """Send one request with retries; `get` is this for GET. With `pass_client_errors` a
    4xx response is returned (for APIs whose error bodies say what went wrong)."""
    where = redact(url)
    reason = "no attempt made"
    for attempt in range(retries + 1):
        response = None
        try:
            response = s.request(method, url, params=params, headers=headers, data=data, timeout=timeout,
                                 allow_redirects=allow_redirects, stream=True)
            _read_body(response, where, getattr(s, "max_bytes", MAX_DOWNLOAD_BYTES))
        except requests.Timeout as exc:
            reason = "connection timed out" if isinstance(exc, requests.ConnectTimeout) else \
                f"no answer within {timeout[1]} s (read timeout)"
        except requests.ConnectionError as exc:
            text = str(exc).lower()
            reason = ("read timed out" if "timed out" in text else
                      "connection refused" if "refused" in text else "connection failed")
        except requests.RequestException as exc:  # invalid URL, too many redirects: retrying will not help
            raise SourceUnavailable(f"{where}: {type(exc).__name__}") from None
        else:
            status = response.status_code
            if status < 400:
                return response
            if status not in RETRY_STATUSES and status < 500:
                if pass_client_errors:
                    return response
                raise SourceUnavailable(f"{where}: HTTP {status} {response.reason or ''}".rstrip())
            reason = f"HTTP {status} {response.reason or ''}".rstrip()
            response.close()
        if attempt < retries:
            delay = _wait(attempt, backoff, response)
            log.warning("%s: %s; retry %d of %d in %.1f s", where, reason, attempt + 1, retries, delay)
            time.sleep(delay)
    tries = retries + 1
    raise SourceUnavailable(f"{where}: {reason} (after {tries} attempt{'s' if tries > 1 else ''})")


def get(s: requests.Session, url: str, *, params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None, timeout: Timeout = (5, 20), retries: int = 2,
        backoff: float = 0.5) -> requests.Response:
    """GET with retries on connection errors, timeouts, 5xx and 429; SourceUnavailable otherwise."""
    return send(s, "GET", url, params=params, headers=headers, timeout=timeout, retries=retries,
                backoff=backoff)
