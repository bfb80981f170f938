"""The server's twin of the map's filter predicates in assets/mieruka-map.js.

The browser decides which features of a layer pass its filters, the area and the search
(`m.layerView`, `m.match` and its `kinds` table). A layer too large to send to the browser
is filtered here instead, with the same decisions: `layer_view` is `m.layerView` (the parts
`m.match` reads), `match` is `m.match`, `search_key` is `m.searchKey`, `now_parts` is
`m.nowParts`. tests/unit/test_map_filters.py runs the JavaScript itself in node and holds
the two equal, case by case and record by record over every layer of the default deployment.

Records are a layer's normalised records (services/layers.py), which the browser sees as
feature properties. The JS reads them by JavaScript's rules, and so does this module where a
field holds an odd value: only `=== true` passes a flag, `contains` is `indexOf` (an element
of a list, a part of a text), counts, levels and dates compare loosely (`"2" > 0`,
`null >= 0`, `[2] >= 2`), the search text is `[name, name_kana, address].join(" ")`.
Where the JS throws (a field of a type its predicate cannot read: a number where `contains`
wants text or a list, `days` that is a number), `match` raises TypeError as the browser's
filter does — which then shows nothing of the layer.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from registry import LayerSpec

__all__ = ["ActiveFilter", "LayerView", "Now", "layer_view", "match", "now_parts", "open_now", "search_key",
           "time_dependent"]


@dataclass(frozen=True)
class Now:
    """The deployment's local time, as m.nowParts gives it."""

    weekday: int  # 0 = Monday
    minutes: int  # minutes since midnight
    date: str  # "YYYY-MM-DD"


@dataclass(frozen=True)
class ActiveFilter:
    """One filter with a value, as m.layerView puts it in the hideout's `filters`."""

    id: str
    kind: str
    fields: tuple[str, ...]
    value: str
    latest: str | None  # the layer's newest month (vacancy's default)


@dataclass(frozen=True)
class LayerView:
    """The parts of m.layerView's result that m.match reads."""

    q: str  # already a search key
    areas: tuple[str, ...] | None
    filters: tuple[ActiveFilter, ...]


def now_parts(timezone: str, moment: dt.datetime) -> Now:
    """m.nowParts(timezone) at `moment` (aware), in the zone (Asia/Tokyo when empty)."""
    if moment.utcoffset() is None:
        raise ValueError("now_parts needs an aware moment")
    local = moment.astimezone(ZoneInfo(timezone or "Asia/Tokyo"))
    return Now(local.weekday(), local.hour * 60 + local.minute, local.date().isoformat())


def search_key(text: Any) -> str:
    """m.searchKey: NFKC, katakana → hiragana, lower case, no white space ("" for a falsy value)."""
    if not _truthy(text):
        return ""
    key = unicodedata.normalize("NFKC", _string(text)).translate(_HIRAGANA)
    return _SPACES.sub("", key.lower())


def layer_view(layer: LayerSpec, values: Mapping[str, Any], areas: Sequence[str] | None, q: str | None,
               latest: str | None) -> LayerView:
    """m.layerView: the layer's filters that have a value (filter id → URL value, see
    services/map_state.py), in the layer's order; `areas` the area codes that match (already
    expanded to a city's wards) or None; `q` the search text; `latest` the newest month."""
    filters = []
    for spec in layer.filters:
        value = values.get(spec.id)
        if value is None or value is False or value == "":
            continue
        filters.append(ActiveFilter(spec.id, spec.kind, tuple(spec.fields), "1" if value is True else _string(value),
                                    latest))
    return LayerView(search_key(q), None if areas is None else tuple(areas), tuple(filters))


def time_dependent(view: LayerView) -> bool:
    """Whether the view's result changes with the clock (an open_now or date_window filter)."""
    return any(f.kind in ("open_now", "date_window") for f in view.filters)


def match(record: Mapping[str, Any], view: LayerView, now: Now) -> bool:
    """m.match: does `record` pass the view's area, search and every filter?"""
    if view.areas is not None and not any(_same(code, record.get("area_code")) for code in view.areas):
        return False
    if view.q:
        text = _string([record.get("name"), record.get("name_kana"), record.get("address")], " ")
        if view.q not in search_key(text):
            return False
    for f in view.filters:
        test = _KINDS.get(f.kind)  # an unknown kind passes, as in the JS
        if test is not None and not test(record, f, now):
            return False
    return True


# ---------- the predicates: the JS `kinds`, one function per filter kind ----------

def open_now(record: Mapping[str, Any], now: Now) -> bool:
    """Whether a place is open at `now` by its hours, as the map's open-now filter says."""
    return _open_now(record, None, now)


def _flag(p: Mapping, f: ActiveFilter, now: Now) -> bool:
    # "1" → the filter's own field; otherwise the chosen option names the field (hazards)
    return p.get(_field(f, 0) if f.value == "1" else f.value) is True


def _open_now(p: Mapping, f: ActiveFilter, now: Now) -> bool:
    days = p.get("days")
    if _truthy(days) and not _index_of(days, now.weekday):
        return False
    open_, close = _minutes_of(p.get("open_time")), _minutes_of(p.get("close_time"))
    if open_ is None or close is None:
        return False
    if close <= open_:  # overnight (NaN compares false, as in JS)
        return now.minutes >= open_ or now.minutes < close
    return now.minutes >= open_ and now.minutes < close


def _open_24h(p: Mapping, f: ActiveFilter, now: Now) -> bool:
    days = p.get("days")
    all_days = not _truthy(days) or all(_index_of(days, d) for d in range(7))
    return all_days and _same(p.get("open_time"), "00:00") and (
        _same(p.get("close_time"), "24:00") or _same(p.get("close_time"), "23:59"))


def _choice(p: Mapping, f: ActiveFilter, now: Now) -> bool:
    return _same(p.get(_field(f, 0)), f.value)


def _contains(p: Mapping, f: ActiveFilter, now: Now) -> bool:
    value = p.get(_field(f, 0))
    return _truthy(value) and _index_of(value, f.value)


def _vacancy(p: Mapping, f: ActiveFilter, now: Now) -> bool:
    # value "age@YYYY-MM": a free place in that age class that month (the latest by default)
    parts = f.value.split("@")
    series = p.get(_field(f, 0))
    month = parts[1] if len(parts) > 1 and parts[1] else f.latest
    counts = _get(series if _truthy(series) else {}, _string(month))  # a null month reads key "null"
    if not _truthy(counts):
        return False
    if parts[0] in ("", "any"):
        if not isinstance(counts, (list, tuple)):
            raise TypeError("v.some is not a function")
        return any(_greater(x, 0) for x in counts)
    return _greater(_get(counts, _string(_parse_int(parts[0]))), 0)


def _air_level(p: Mapping, f: ActiveFilter, now: Now) -> bool:
    # value "POLLUTANT:minLevel" (level 1 when left out)
    parts = f.value.split(":")
    readings = p.get("readings")
    reading = _get(readings if _truthy(readings) else {}, parts[0])
    minimum = _parse_int(parts[1] if len(parts) > 1 and parts[1] else "1")
    return _truthy(reading) and _greater_equal(_get(reading, "level"), minimum)


def _date_window(p: Mapping, f: ActiveFilter, now: Now) -> bool:
    if f.value == "today":
        first = last = now.date
    elif f.value == "week":
        first, last = now.date, (dt.date.fromisoformat(now.date) + dt.timedelta(days=6)).isoformat()
    else:
        ends = f.value.split("..")
        first = ends[0] or "0000-00-00"
        last = (ends[1] if len(ends) > 1 else "") or "9999-99-99"
    start, end = p.get(_field(f, 0)), p.get(_field(f, 1))
    if not _truthy(end):
        end = start
    return _truthy(start) and _less_equal(start, last) and _greater_equal(end, first)


_KINDS: dict[str, Callable[[Mapping, ActiveFilter, Now], bool]] = {
    "flag": _flag, "open_now": _open_now, "open_24h": _open_24h, "choice": _choice, "contains": _contains,
    "vacancy": _vacancy, "air_level": _air_level, "date_window": _date_window,
}


def _field(f: ActiveFilter, i: int) -> str:
    # a filter with fewer fields reads p[undefined]: the property "undefined"
    return f.fields[i] if i < len(f.fields) else "undefined"


def _minutes_of(hhmm: Any) -> float | None:
    if not _truthy(hhmm):
        return None
    if not isinstance(hhmm, str):
        raise TypeError("hhmm.split is not a function")
    parts = hhmm.split(":")
    return _parse_int(parts[0]) * 60 + _parse_int(parts[1] if len(parts) > 1 else "undefined")


# ---------- JavaScript's rules for the values records hold (JSON: None is null) ----------

_UNDEFINED = object()  # a property that is not there
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(map(chr, range(0x2000, 0x200b)))
_SPACES = re.compile("[" + re.escape(_JS_SPACE) + "]+")  # JS /\s+/ (not Python's \s: no \x1c-\x1f, \x85)
_HIRAGANA = {c: c - 0x60 for c in range(0x30A1, 0x30F7)}
_NUMBER = re.compile(r"[+-]?(Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)")
_NON_DECIMAL = {16: re.compile(r"0[xX]([0-9a-fA-F]+)"), 8: re.compile(r"0[oO]([0-7]+)"), 2: re.compile(r"0[bB]([01]+)")}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INDEX = re.compile(r"0|[1-9][0-9]*")


def _truthy(v: Any) -> bool:
    """JS ToBoolean: lists and objects are true even when empty; NaN is false."""
    if v is None or v is _UNDEFINED:
        return False
    if isinstance(v, (str, int, float)):
        return bool(v) and not (isinstance(v, float) and math.isnan(v))
    return True


def _string(v: Any, separator: str = ",") -> str:
    """JS String(v); a list is joined (null and undefined as "") with `separator`."""
    if v is None or v is _UNDEFINED:
        return "null" if v is None else "undefined"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return _number_string(float(v))
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return separator.join("" if x is None or x is _UNDEFINED else _string(x) for x in v)
    return "[object Object]"


def _number_string(x: float) -> str:
    """JS Number.prototype.toString(): the shortest digits, exponent only past 1e21 or below 1e-6."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x) or x == 0:
        return "0" if x == 0 else "Infinity" if x > 0 else "-Infinity"
    _, digits, exponent = Decimal(repr(abs(x))).normalize().as_tuple()
    d = "".join(map(str, digits))
    k, n = len(d), exponent + len(d)  # value = 0.d × 10^n
    if k <= n <= 21:
        text = d + "0" * (n - k)
    elif 0 < n <= 21:
        text = d[:n] + "." + d[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + d
    else:
        text = d[0] + ("." + d[1:] if k > 1 else "") + f"e{'+' if n > 0 else '-'}{abs(n - 1)}"
    return ("-" if x < 0 else "") + text


def _number(v: Any) -> float:
    """JS ToNumber (a list or object by its text)."""
    if v is _UNDEFINED:
        return math.nan
    if v is None or isinstance(v, (bool, int, float)):
        return float(v or 0)
    text = _string(v).strip(_JS_SPACE)
    if not text:
        return 0.0
    if _NUMBER.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    for base, pattern in _NON_DECIMAL.items():  # 0x1f, 0o17, 0b11
        m = pattern.fullmatch(text)
        if m:
            return float(int(m[1], base))
    return math.nan


def _parse_int(v: Any) -> float:
    """JS parseInt(v, 10): the leading ASCII digits after white space, else NaN."""
    m = _INTEGER.match(_string(v).lstrip(_JS_SPACE))
    return float(m[0]) if m else math.nan


def _less(a: Any, b: Any) -> bool | None:
    """JS a < b: None when a NaN makes it undefined (then <, <=, >, >= are all false)."""
    a, b = (_string(x) if isinstance(x, (list, tuple, dict)) else x for x in (a, b))
    if isinstance(a, str) and isinstance(b, str):  # by UTF-16 code units
        return a.encode("utf-16-be", "surrogatepass") < b.encode("utf-16-be", "surrogatepass")
    x, y = _number(a), _number(b)
    return None if math.isnan(x) or math.isnan(y) else x < y


def _greater(a: Any, b: Any) -> bool:
    return _less(b, a) is True


def _greater_equal(a: Any, b: Any) -> bool:
    return _less(a, b) is False


def _less_equal(a: Any, b: Any) -> bool:
    return _less(b, a) is False


def _same(a: Any, b: Any) -> bool:
    """JS a === b for JSON values (a list or object is only itself)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return (a is None and b is None) or (a is _UNDEFINED and b is _UNDEFINED)


def _index_of(container: Any, item: Any) -> bool:
    """JS container.indexOf(item) >= 0: an element (===) of a list, a part of a text."""
    if isinstance(container, str):
        return _string(item) in container
    if isinstance(container, (list, tuple)):
        return any(_same(x, item) for x in container)
    raise TypeError(f"{_string(container)}.indexOf is not a function")


def _get(obj: Any, key: str) -> Any:
    """JS obj[key] (own properties: an object's member, a list's element, a text's character)."""
    if isinstance(obj, Mapping):
        return obj.get(key, _UNDEFINED)
    if isinstance(obj, (list, tuple, str)) and _INDEX.fullmatch(key):
        i = int(key)
        if isinstance(obj, str):
            units = obj.encode("utf-16-be", "surrogatepass")
            return units[2 * i:2 * i + 2].decode("utf-16-be", "surrogatepass") if 2 * i < len(units) else _UNDEFINED
        return obj[i] if i < len(obj) else _UNDEFINED
    return _UNDEFINED
