"""The defects real open-data files have, added to the embedded sample data so that the
running app shows its import report on /data (what was rejected or repaired, and why).

    rows = with_defects("toilets", generate("toilets", areas, as_of, seed), seed)

Rejected rows are added (a repeated line, a row without coordinates, one at 0, 0), so the
number of good records stays as generated; repaired defects (latitude and longitude
swapped, full-width digits in a coordinate) are made on copies of existing rows in place
and come out of the importer as the values they had. Deterministic per dataset and seed.
"""
from __future__ import annotations

import random

from .columns import COLUMNS

ID_COLUMNS = ("ID", "NO", "局番号")
MONTHLY = {"nursery-vacancies"}  # a facility's rows per month: a repeated id is merged, not a defect
_FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def with_defects(dataset: str, rows: list[dict[str, str]], seed: int) -> list[dict[str, str]]:
    columns = COLUMNS.get(dataset, ())
    id_column = next((c for c in ID_COLUMNS if c in columns), None)
    if id_column is None or "緯度" not in columns or len(rows) < 10:
        return rows
    rng = random.Random(f"{seed}:{dataset}:defects")
    out = [dict(r) for r in rows]
    picks = rng.sample(range(len(out)), 5)
    for i in picks[:2]:  # written the wrong way round
        out[i]["緯度"], out[i]["経度"] = out[i]["経度"], out[i]["緯度"]
    out[picks[2]]["緯度"] = out[picks[2]]["緯度"].translate(_FULL_WIDTH)  # typed in full width
    blank = dict(rows[picks[3]], **{id_column: f"{rows[picks[3]][id_column]}-9", "緯度": "", "経度": ""})
    zero = dict(rows[picks[4]], **{id_column: f"{rows[picks[4]][id_column]}-0", "緯度": "0", "経度": "0"})
    extra = [blank, zero] if dataset in MONTHLY else [dict(rows[picks[0]]), blank, zero]
    return out + extra
