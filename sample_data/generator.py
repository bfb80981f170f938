"""Seeded generator of Mieruka's embedded SAMPLE data (invented, not real data).

    rows = generate("toilets", areas, datetime.date(2026, 11, 25))
    tables = generate_all(areas, as_of)

Every row is a ``dict[str, str]`` keyed exactly by ``COLUMNS[dataset]`` – the shape
``csv.DictReader`` gives – with numbers and coordinates as strings and blanks as ''.
Output depends only on (dataset, areas, as_of, seed): each dataset draws from
``random.Random(f"{seed}:{dataset}")``.  Rows are spread over ``areas.leaves``
(wards and non-designated municipalities) proportionally to their weight and
scattered in a disc around each leaf's office.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Callable

from . import air, events, facilities
from .columns import COLUMNS, DATASETS, TARGETS
from .common import Leaf, osaka_leaves

DEFAULT_SEED = 20261125

Rows = list[dict[str, str]]

_BUILDERS: dict[str, Callable[[random.Random, list[Leaf], dt.date], Rows]] = {
    "baby-stations": lambda r, lv, d: facilities.baby_stations(r, lv, d, TARGETS["baby-stations"]),
    "nursery-vacancies": lambda r, lv, d: facilities.nursery_vacancies(r, lv, d, TARGETS["nursery-vacancies"] // 12),
    "toilets": lambda r, lv, d: facilities.toilets(r, lv, d, TARGETS["toilets"]),
    "aed": lambda r, lv, d: facilities.aed(r, lv, d, TARGETS["aed"]),
    "evacuation-sites": lambda r, lv, d: facilities.evacuation_sites(r, lv, d, TARGETS["evacuation-sites"]),
    "wifi": lambda r, lv, d: facilities.wifi(r, lv, d, TARGETS["wifi"]),
    "medical": lambda r, lv, d: facilities.medical(r, lv, d, TARGETS["medical"]),
    "air-quality-stations": lambda r, lv, d: air.stations(r, lv, d, TARGETS["air-quality-stations"]),
    "events": lambda r, lv, d: events.events(r, lv, d, TARGETS["events"]),
}


def _rng(seed: int, dataset: str) -> random.Random:
    return random.Random(f"{seed}:{dataset}")


def _generate(dataset: str, leaves: list[Leaf], as_of: dt.date, seed: int,
              stations: Rows | None = None) -> Rows:
    if dataset == "air-quality-readings":
        if stations is None:
            stations = _generate("air-quality-stations", leaves, as_of, seed)
        return air.readings(_rng(seed, dataset), stations, as_of)
    return _BUILDERS[dataset](_rng(seed, dataset), leaves, as_of)


def generate(dataset: str, areas: Any, as_of: dt.date, seed: int = DEFAULT_SEED) -> Rows:
    """Rows of one sample dataset (see ``DATASETS``) for an ``AreaTable``."""
    if dataset not in COLUMNS:
        raise ValueError(f"unknown sample dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    return _generate(dataset, osaka_leaves(areas), as_of, seed)


def generate_all(areas: Any, as_of: dt.date, seed: int = DEFAULT_SEED) -> dict[str, Rows]:
    """All sample datasets, keyed by dataset id in ``DATASETS`` order."""
    leaves = osaka_leaves(areas)
    out: dict[str, Rows] = {}
    for name in DATASETS:
        out[name] = _generate(name, leaves, as_of, seed, stations=out.get("air-quality-stations"))
    return out


__all__ = ["COLUMNS", "DATASETS", "DEFAULT_SEED", "generate", "generate_all"]
