"""Seeded generator of Mieruka's embedded SAMPLE data (invented, not real data).

    rows = generate("toilets", areas, datetime.date(2026, 11, 25))
    tables = generate_all(areas, as_of)

Every row is a ``dict[str, str]`` keyed exactly by ``COLUMNS[dataset]`` – the shape
``csv.DictReader`` gives – with numbers and coordinates as strings and blanks as ''.
Output depends only on (dataset, areas, as_of, seed): each dataset draws from
``random.Random(f"{seed}:{dataset}")``.  Rows are spread over ``areas.leaves``
(wards and non-designated municipalities) proportionally to their weight and
scattered in a disc around each leaf's office; how many rows a dataset has scales with
the prefecture's population (``volume``), and the prefecture's own name prefixes every
address.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Callable

from . import air, events, facilities
from .columns import COLUMNS, DATASETS, EVERY_LEAF, MINIMUMS, TARGETS
from .common import Leaf, Prefecture, prefecture_leaves, prefecture_of

DEFAULT_SEED = 20261125

Rows = list[dict[str, str]]


def volume(dataset: str, prefecture: Prefecture) -> int:
    """Rows (nursery: facilities) of a dataset for a prefecture: Osaka's ``TARGETS``
    scaled by the prefecture's population relative to Osaka's, at least ``MINIMUMS``.
    Osaka gets exactly ``TARGETS``."""
    target = TARGETS[dataset] // 12 if dataset == "nursery-vacancies" else TARGETS[dataset]
    if prefecture.is_osaka:
        return target
    return max(MINIMUMS[dataset], round(target * prefecture.scale))


_Builder = Callable[[random.Random, list[Leaf], dt.date, Prefecture], Rows]


def _floor(dataset: str) -> int:
    return 1 if dataset in EVERY_LEAF else 0


_BUILDERS: dict[str, _Builder] = {
    "baby-stations": lambda r, lv, d, p: facilities.baby_stations(r, lv, d, volume("baby-stations", p)),
    "nursery-vacancies": lambda r, lv, d, p: facilities.nursery_vacancies(r, lv, d, volume("nursery-vacancies", p)),
    "toilets": lambda r, lv, d, p: facilities.toilets(r, lv, d, volume("toilets", p)),
    "aed": lambda r, lv, d, p: facilities.aed(r, lv, d, volume("aed", p), _floor("aed")),
    "evacuation-sites": lambda r, lv, d, p: facilities.evacuation_sites(
        r, lv, d, volume("evacuation-sites", p), _floor("evacuation-sites")),
    "wifi": lambda r, lv, d, p: facilities.wifi(r, lv, d, volume("wifi", p), p.short_en),
    "medical": lambda r, lv, d, p: facilities.medical(r, lv, d, volume("medical", p), _floor("medical")),
    "air-quality-stations": lambda r, lv, d, p: air.stations(r, lv, d, volume("air-quality-stations", p)),
    "events": lambda r, lv, d, p: events.events(r, lv, d, volume("events", p), events.partners(p.code)),
}


def _rng(seed: int, dataset: str) -> random.Random:
    return random.Random(f"{seed}:{dataset}")


def _generate(dataset: str, leaves: list[Leaf], prefecture: Prefecture, as_of: dt.date, seed: int,
              stations: Rows | None = None) -> Rows:
    if dataset == "air-quality-readings":
        if stations is None:
            stations = _generate("air-quality-stations", leaves, prefecture, as_of, seed)
        return air.readings(_rng(seed, dataset), stations, as_of)
    return _BUILDERS[dataset](_rng(seed, dataset), leaves, as_of, prefecture)


def generate(dataset: str, areas: Any, as_of: dt.date, seed: int = DEFAULT_SEED) -> Rows:
    """Rows of one sample dataset (see ``DATASETS``) for an ``AreaTable``."""
    if dataset not in COLUMNS:
        raise ValueError(f"unknown sample dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    return _generate(dataset, prefecture_leaves(areas), prefecture_of(areas), as_of, seed)


def generate_all(areas: Any, as_of: dt.date, seed: int = DEFAULT_SEED) -> dict[str, Rows]:
    """All sample datasets, keyed by dataset id in ``DATASETS`` order."""
    leaves, prefecture = prefecture_leaves(areas), prefecture_of(areas)
    out: dict[str, Rows] = {}
    for name in DATASETS:
        out[name] = _generate(name, leaves, prefecture, as_of, seed, stations=out.get("air-quality-stations"))
    return out


__all__ = ["COLUMNS", "DATASETS", "DEFAULT_SEED", "generate", "generate_all", "volume"]
