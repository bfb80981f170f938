"""Importer benchmark: what a live refresh costs between "the bytes arrived" and "the
records are ready for the store", against reading the same bytes as CSV in the same run.

    .venv/bin/python bench/importer.py [--runs 5]

Scenarios (CP932 CSV bytes, as the catalog would send them):
  population  the standard dataset 地域・年齢別人口, every ward and municipality, 36 survey
              dates, with 町丁目 rows (5 per area): a `sum` table with 36 breakdown columns
  crime       a year of the police's street-crime incident list (60,000 rows): a `count` table
  aed         the AED layer's 9,000 sample rows through the layer normaliser (for scale)
For each: the median time to decode and parse the CSV (the baseline: no work of ours
can be faster than reading the file) and to decode, parse and normalise, and rows/s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data_sources.indicator_table import normalise_indicator_rows  # noqa: E402
from data_sources.normalise import normalise_rows  # noqa: E402
from data_sources.tabular import rows_from_bytes  # noqa: E402
from registry import TableSpec, load_deployment  # noqa: E402
from sample_data import generate  # noqa: E402
from services.areas import AreaTable  # noqa: E402
from tests.fakes.servers import crime_row, csv_bytes, population_row  # noqa: E402


def median_s(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    live = load_deployment(ROOT / "config" / "osaka-live.toml")
    base = load_deployment(ROOT / "config" / "osaka.toml")
    areas = AreaTable.from_csv(base.area_table)
    pref = base.prefecture["code"]
    rng = random.Random(7)

    leaves = [a.code for a in areas.leaves]  # wards, and municipalities without wards
    months = [f"{2023 + k // 12}-{k % 12 + 1:02d}-01" for k in range(36)]
    population = [population_row(code, month, rng.randint(500, 3000)) for month in months
                  for code in leaves for _ in range(5)]
    methods = ["ひったくり", "車上ねらい", "部品ねらい", "自動販売機ねらい", "自動車盗", "オートバイ盗", "自転車盗"]
    start = dt.date(2025, 1, 1)
    crime = [crime_row(rng.choice(leaves), (start + dt.timedelta(days=rng.randrange(365))).strftime("%Y/%m/%d"),
                       rng.choice(methods)) for _ in range(60_000)]
    crime_table = TableSpec(area=("市区町村コード（発生地）",), period=("発生年月日（始期）",), count="street_crimes",
                            breakdown=("手口",))
    aed = generate("aed", areas, dt.date(2026, 11, 25))

    scenarios = [
        ("population", csv_bytes(population, "cp932"),
         lambda rows: normalise_indicator_rows(rows, live.indicator("population"), live.indicator("population").source.table,
                                               areas, pref)),
        ("crime", csv_bytes(crime, "cp932"),
         lambda rows: normalise_indicator_rows(rows, base.indicator("crime"), crime_table, areas, pref)),
        ("aed (layer)", csv_bytes(aed, "cp932"),
         lambda rows: normalise_rows(rows, base.layer("aed"), areas, base.bbox)),
    ]
    print(f"Import of CP932 CSV bytes, median of {args.runs} runs (seconds)")
    print(f"{'scenario':14} {'rows':>8} {'MB':>6} {'parse (baseline)':>17} {'parse+import':>13} {'rows/s':>10} {'records':>9}")
    for name, data, work in scenarios:
        parse = median_s(lambda: rows_from_bytes(data, "csv", name), args.runs)
        rows = rows_from_bytes(data, "csv", name)
        records = []

        def full():
            records[:] = work(rows_from_bytes(data, "csv", name))[0]

        total = median_s(full, args.runs)
        print(f"{name:14} {len(rows):8,} {len(data) / 1e6:6.1f} {parse:17.2f} {total:13.2f} "
              f"{len(rows) / total:10,.0f} {len(records):9,}")


if __name__ == "__main__":
    main()
