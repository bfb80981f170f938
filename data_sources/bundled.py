"""The `bundled` source: the embedded sample data, made by the seeded generator.

Sample rows are generated for a date (today in the deployment's time zone unless
MIERUKA_SAMPLE_AS_OF pins it), so that "the last 7 days" of readings and "the coming
3 months" of events stay true; the same date and seed always give the same rows.
"""
from __future__ import annotations

import datetime as dt

from sample_data import generate
from sample_data.defects import with_defects
from services.areas import AreaTable

from . import SourceFormatError


def fetch_rows(dataset: str, areas: AreaTable, as_of: dt.date, seed: int) -> list[dict[str, str]]:
    """The sample rows of `dataset`, with the defects real files have (sample_data/defects.py)."""
    try:
        return with_defects(dataset, generate(dataset, areas, as_of, seed), seed)
    except ValueError:
        raise SourceFormatError(f"no bundled sample dataset {dataset!r}") from None
