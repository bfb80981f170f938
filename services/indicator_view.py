"""The state of an indicator detail page (measure, areas, time window, per capita) and its
URL form, parsed and validated here; unreadable values are ignored and reported.

Query keys: lang, measure, area (comma-separated codes), from, to, pc=1 (per capita).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping
from urllib.parse import urlencode

import request_limits as limits
from registry import IndicatorSpec, MeasureSpec
from services.areas import AreaTable
from services.indicators import IndicatorSnapshot

PRESETS = {"monthly": (12, 36), "yearly": (5, 10), "daily": (30, 90, 365)}
MAX_AREAS = limits.PAGE_AREAS


@dataclass(frozen=True)
class IndicatorView:
    measure: str
    areas: tuple[str, ...]
    start: str | None
    end: str | None
    per_capita: bool = False
    lang: str = "ja"

    def query(self, extra: Mapping[str, str] | None = None) -> str:
        q: dict[str, str] = {}
        if self.lang != "ja":
            q["lang"] = self.lang
        q["measure"] = self.measure
        if self.areas:
            q["area"] = ",".join(self.areas)
        if self.start:
            q["from"] = self.start
        if self.end:
            q["to"] = self.end
        if self.per_capita:
            q["pc" if extra is None else "per_capita"] = "1"
        q.update(extra or {})
        return urlencode(q)


@dataclass(frozen=True)
class Choices:
    """What the page offers for a measure: its areas and periods."""

    measures: tuple[MeasureSpec, ...]
    areas: tuple[str, ...]
    periods: tuple[str, ...]
    defaults: tuple[str, ...] = field(default=())


def series_measures(spec: IndicatorSpec, snap: IndicatorSnapshot) -> tuple[MeasureSpec, ...]:
    """Measures that have a time series of their own (male/female exist only by age)."""
    return tuple(m for m in spec.measures if snap.areas(m.id))


def choices(spec: IndicatorSpec, snap: IndicatorSnapshot, measure: str, areas: AreaTable,
            prefecture: str) -> Choices:
    codes = snap.areas(measure)
    periods = sorted({r["period"] for code in codes for r in snap.series(measure, code)})

    def weight(code):
        area = areas.get(code)
        return area.weight if area else 0

    others = sorted((c for c in codes if c != prefecture), key=lambda c: (-weight(c), c))
    # a prefecture's count dwarfs its municipalities' on one axis: compare counts among peers
    with_prefecture = prefecture in codes and (not spec.measure(measure).is_count or not others)
    defaults = ([prefecture] if with_prefecture else []) + others[:3]
    ordered = ([prefecture] if prefecture in codes else []) + sorted(c for c in codes if c != prefecture)
    return Choices(series_measures(spec, snap), tuple(ordered), tuple(periods), tuple(defaults))


def preset_window(frequency: str, periods: tuple[str, ...], size: int | None) -> tuple[str | None, str | None]:
    """The last `size` periods (None: all)."""
    if not periods:
        return None, None
    if size is None or size >= len(periods):
        return periods[0], periods[-1]
    return periods[-size], periods[-1]


def default_window(frequency: str, periods: tuple[str, ...]) -> tuple[str | None, str | None]:
    return preset_window(frequency, periods, 90 if frequency == "daily" else None)


def parse_view(params: Mapping[str, Any], spec: IndicatorSpec, snap: IndicatorSnapshot, areas: AreaTable,
               prefecture: str, lang: str) -> tuple[IndicatorView, Choices, list[str]]:
    ignored: list[str] = []
    offered = series_measures(spec, snap)
    measure = spec.headline if spec.headline in {m.id for m in offered} else offered[0].id
    if "measure" in params:
        if params["measure"] in {m.id for m in offered}:
            measure = params["measure"]
        else:
            ignored.append(f"measure={str(params['measure'])[:40]}")
    options = choices(spec, snap, measure, areas, prefecture)
    chosen: list[str] = list(options.defaults)
    if "area" in params:
        chosen = []
        for raw in str(params["area"]).split(","):
            area = areas.get(raw)
            code = area.code if area else raw
            if code in options.areas and code not in chosen and len(chosen) < MAX_AREAS:
                chosen.append(code)
            elif raw:
                ignored.append(f"area={raw[:20]}")
        chosen = chosen or list(options.defaults)  # nothing usable: as if no area had been given
    start, end = default_window(spec.measure(measure).frequency, options.periods)
    for key in ("from", "to"):
        if key in params:
            value = str(params[key])
            if value in options.periods:
                start, end = (value, end) if key == "from" else (start, value)
            else:
                ignored.append(f"{key}={value[:20]}")
    if start and end and start > end:
        ignored.append(f"from={start}")
        start = options.periods[0] if options.periods else None
    per_capita = False
    if "pc" in params:
        if params["pc"] == "1" and spec.measure(measure).per_capita:
            per_capita = True
        elif params["pc"] != "0":
            ignored.append(f"pc={str(params['pc'])[:10]}")
    return IndicatorView(measure, tuple(chosen), start, end, per_capita, lang), options, ignored


def with_measure(view: IndicatorView, spec: IndicatorSpec, snap: IndicatorSnapshot, areas: AreaTable,
                 prefecture: str, measure: str) -> tuple[IndicatorView, Choices]:
    """The view after the measure changed: areas kept where the new measure has them."""
    options = choices(spec, snap, measure, areas, prefecture)
    kept = tuple(a for a in view.areas if a in options.areas) or options.defaults
    start, end = default_window(spec.measure(measure).frequency, options.periods)
    per_capita = view.per_capita and spec.measure(measure).per_capita
    return replace(view, measure=measure, areas=kept, start=start, end=end, per_capita=per_capita), options
