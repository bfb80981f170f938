"""Schema drift: a source that still answers, and whose rows still load, but no longer fits
the mapping of the deployment config (a renamed column or attribute reads as blank in every
row). Such a fetch must not replace the last good data.

A fetch records a small profile of what it mapped in its snapshot's meta (`meta["profile"]`):

- `filled`: mapped field → how many records have it filled (not None, "", [] or {};
  False and 0 are values);
- `of`: mapped field → how many records it was counted over, where that is not every
  record (an indicator's measure counts over its own records); default `meta["rows"]`;
- `absent`: the mapped fields none of whose source columns (or attributes: a broker's
  rows carry the attributes of their entity) are in the source at all.

`check(previous_meta, new_meta)` compares a new fetch with the last good one and gives a
one-line reason when:

- a mapped field vanished: absent from the source now, present before with values
  (a field that was always empty loses nothing);
- a field's filled share collapsed: filled in at least FILLED_BEFORE (50 %) of the last
  good records and now in under FILLED_NOW (10 %) — a rename, not churn, which moves a
  share by points, not from most to almost none; fields that were mostly empty before are
  never flagged;
- the row count fell under ROWS_KEPT (half) of the last good one.

The share and row rules need at least MIN_ROWS (20) last good records: a handful of events
halving, or 2 of 3 notes gone, is ordinary churn. A previous snapshot without a profile (stored
before profiles existed) is checked by its row count only.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from registry import IndicatorSpec, LayerSpec, TableSpec

from .normalise import column_lookup, matching_headers

FILLED_BEFORE = 0.5  # a field filled in at least this share of the last good records …
FILLED_NOW = 0.1  # … and now in less than this share: collapsed
ROWS_KEPT = 0.5  # fewer records than this share of the last good ones: collapsed
MIN_ROWS = 20  # the share and row rules need at least this many last good records
_NAMED = 5  # fields named in a reason; the rest are counted


def is_filled(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def profile(records: Iterable[Mapping[str, Any]], fields: Iterable[str], absent: Iterable[str] = ()) -> dict:
    """{"filled": field → records with it filled, "absent": [fields]} of `records`."""
    names = list(dict.fromkeys(fields))
    filled = dict.fromkeys(names, 0)
    for record in records:
        for name in names:
            if is_filled(record.get(name)):
                filled[name] += 1
    return {"filled": filled, "absent": sorted(set(absent))}


def headers_of(rows: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every column of a file, or attribute any entity of a broker has."""
    headers: set[str] = set()
    for row in rows:
        if row.keys() - headers:
            headers |= row.keys()
    return headers


def layer_profile(rows: Iterable[Mapping[str, Any]], records: Iterable[Mapping[str, Any]], layer: LayerSpec) -> dict:
    """The profile of a layer's fetch: its fields as mapped by normalise.column_lookup."""
    headers = headers_of(rows)
    lookup = column_lookup(headers, layer)
    absent = []
    for spec in layer.fields:
        if spec.type == "monthly":  # read by the exact column names (normalise_rows)
            missing = spec.month_column not in headers or not any(c in headers for c in spec.value_columns)
        else:
            missing = not lookup[spec.name]
        if missing:
            absent.append(spec.name)
    return profile(records, [f.name for f in layer.fields], absent)


def indicator_profile(rows: Iterable[Mapping[str, Any]], records: Iterable[Mapping[str, Any]],
                      spec: IndicatorSpec, table: TableSpec) -> dict:
    """The profile of an indicator's fetch: each mapped value column (a measure, or
    "measure/breakdown" for a wide breakdown column) with the records it gave. An incident
    list counts rows: its measure is always filled. (Missing area, period and measure columns
    already fail the fetch: indicator_table.normalise_indicator_rows.)"""
    headers = sorted(headers_of(rows))
    wide = {(measure, breakdown): column for measure, mapping in table.breakdowns.items()
            for breakdown, column in mapping.items()}
    columns = {**{measure: column for measure, column in table.values.items()},
               **{f"{measure}/{breakdown}": column for (measure, breakdown), column in wide.items()}}
    filled: dict[str, int] = dict.fromkeys(columns, 0)
    of: dict[str, int] = dict.fromkeys(columns, 0)
    for record in records:
        key = (f"{record['measure']}/{record['breakdown']}" if (record["measure"], record["breakdown"]) in wide
               else record["measure"])
        of[key] = of.get(key, 0) + 1
        filled[key] = filled.get(key, 0) + is_filled(record.get("value"))
    absent = [name for name, column in columns.items() if not matching_headers(headers, (column,))]
    return {"filled": filled, "of": of, "absent": sorted(absent)}


def check(previous: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str | None:
    """Why the fetch whose meta is `new` drifted from the last good one (`previous`), in
    one line, or None when it did not (see the module's rules)."""
    if not previous:
        return None
    reasons = []
    before_rows, now_rows = _rows(previous), _rows(new)
    if before_rows is not None and now_rows is not None and before_rows >= MIN_ROWS and now_rows < before_rows * ROWS_KEPT:
        reasons.append(f"rows fell from {before_rows:,} to {now_rows:,} (under {ROWS_KEPT:.0%} of the last good data)")
    before, now = previous.get("profile"), new.get("profile")
    if isinstance(before, Mapping) and isinstance(now, Mapping):
        was_absent = set(before.get("absent") or ())
        before_filled = before.get("filled") or {}
        vanished = [name for name in now.get("absent") or () if name not in was_absent and before_filled.get(name)]
        if vanished:
            reasons.append(f"mapped field(s) gone from the source: {_names(vanished)}")
        collapsed = []
        for name, filled in before_filled.items():
            if name in vanished or name not in (now.get("filled") or {}):
                continue
            was = _share(before, name, before_rows)
            share = _share(now, name, now_rows)
            if was is None or share is None or was[1] < MIN_ROWS:
                continue
            if was[0] >= FILLED_BEFORE and share[0] < FILLED_NOW:
                collapsed.append(f"{name} {was[0]:.0%} → {share[0]:.0%}")
        if collapsed:
            reasons.append(f"filled share collapsed: {_names(collapsed)}")
    return "; ".join(reasons) or None


def _rows(meta: Mapping[str, Any]) -> int | None:
    rows = meta.get("rows")
    return rows if isinstance(rows, int) and not isinstance(rows, bool) else None


def _share(prof: Mapping[str, Any], name: str, rows: int | None) -> tuple[float, int] | None:
    """(filled share, records counted) of a field; 0 of 0 reads as an empty share."""
    of = (prof.get("of") or {}).get(name, rows)
    filled = (prof.get("filled") or {}).get(name)
    if of is None or filled is None:
        return None
    return (filled / of if of else 0.0), of


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_NAMED])
    return shown + (f" and {len(names) - _NAMED} more" if len(names) > _NAMED else "")
