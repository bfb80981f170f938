"""Upstream data sources, the normaliser and the typed errors of the data boundary."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field


class SourceError(Exception):
    """Base of the typed errors raised at the data boundary."""


class SourceUnavailable(SourceError):
    """The upstream could not be reached or answered with an error."""


class SourceLoading(SourceUnavailable):
    """No data yet because the first fetch is still under way (not a failure)."""


class SourceFormatError(SourceError):
    """The upstream answered, but with a payload we cannot read."""


class SourceIncomplete(SourceError):
    """The upstream answered, but not all of the data: paging fell short of the count it
    announced, answered the same page again (offset ignored), or passed the page bound."""


class SchemaDrift(SourceError):
    """The upstream answered readable data that no longer fits the mapping: a mapped column
    or attribute vanished, a field's filled share collapsed, or the row count did, against
    the last good snapshot (data_sources/drift.py). The last good data is kept."""


# a server path: /a/b/name (not part of a URL: no word character, ':' or '/' before it) or C:\a\name
_SERVER_PATH = re.compile(r"(?<![\w:/.~-])(?:/[^/\s'\":]+)+/([^/\s'\":]+)|\b[A-Za-z]:\\(?:[^\\\s]+\\)+([^\\\s'\"]+)")


def public_message(text: str) -> str:
    """An error message fit to show anyone: a server file path is cut to the file's name
    ("/srv/mieruka/data/aed.csv: No such file" → "aed.csv: No such file"); URLs stay."""
    return _SERVER_PATH.sub(lambda m: m.group(1) or m.group(2), text)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class FetchResult:
    """What a live source returned: rows of strings for the normaliser, and their provenance.

    `source_url` is public (never carries an API key); `source_modified` is when the
    publisher last changed the data, if the upstream says (CKAN resource last_modified or
    package metadata_modified, HTTP Last-Modified, a file's mtime; None for brokers);
    `fetched_at` is an aware UTC time.
    """

    rows: list[dict[str, str]]
    source_url: str
    source_modified: dt.datetime | None = None
    fetched_at: dt.datetime = field(default_factory=_utc_now)
    derived: tuple[tuple[str, str], ...] = ()  # (reason, example) of values the reader computed (merged GSI lists)
