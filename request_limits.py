"""The bounds on what one request may ask of the server — in one place, for the API and the
Dash callbacks alike (issue 9: a handful of small requests must not take the site down).

A list a request carries is de-duplicated (order kept) before it is counted: one area code
repeated 5,000 times is one area. Over the bound, the API answers 400 naming the parameter
and the limit; a callback shows the first `limit` items and says so on the page.
"""
from __future__ import annotations

from typing import Iterable, TypeVar

T = TypeVar("T")

#: areas an indicator page compares (its URL's `area`, its area picker, its callback)
PAGE_AREAS = 8
#: areas one API query may name: more than any prefecture has (Hokkaido: 179 municipalities + 10 wards)
API_AREAS = 300
#: the longest query string served (bytes); longer → 414. The map's fullest URL is well under 2 KB.
QUERY_BYTES = 8 * 1024
#: the default largest request body (MIERUKA_MAX_BODY_KB): a Dash callback's body is a few KB
BODY_KB = 1024
#: items of any other list a callback receives (pattern-matched inputs: one per layer, filter, row)
CALLBACK_LIST = 5_000


class TooMany(ValueError):
    """A list over its bound: `parameter` and `limit` name it for the caller."""

    def __init__(self, parameter: str, limit: int, given: int):
        super().__init__(f"{parameter}: {given:,} distinct values given, at most {limit:,} allowed")
        self.parameter, self.limit, self.given = parameter, limit, given


def unique(values: Iterable[T]) -> list[T]:
    """The values without repeats, in their first order."""
    return list(dict.fromkeys(values))


def bounded(values: Iterable[T], parameter: str, limit: int) -> list[T]:
    """The distinct values, or TooMany when there are more than `limit` of them."""
    distinct = unique(values)
    if len(distinct) > limit:
        raise TooMany(parameter, limit, len(distinct))
    return distinct


def clamped(values: Iterable[T], limit: int) -> tuple[list[T], int]:
    """(the first `limit` distinct values, how many distinct values were left out)."""
    distinct = unique(values)
    return distinct[:limit], max(0, len(distinct) - limit)
