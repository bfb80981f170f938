"""Write the sample datasets as CSV files.

    python -m sample_data --out DIR [--as-of YYYY-MM-DD] [--seed N] [--areas data/real/areas/27.csv]

One UTF-8-with-BOM CSV per dataset (``DIR/<dataset>.csv``); prints the row counts.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path

from .columns import COLUMNS
from .generator import DEFAULT_SEED, generate_all

_DEFAULT_AREAS = Path(__file__).resolve().parents[1] / "data" / "real" / "areas" / "27.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample_data", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today(),
                        help="reference date YYYY-MM-DD (default: today)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--areas", type=Path, default=_DEFAULT_AREAS, help="area table CSV")
    args = parser.parse_args(argv)

    from services.areas import AreaTable

    tables = generate_all(AreaTable.from_csv(args.areas), args.as_of, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    width = max(map(len, tables))
    for name, rows in tables.items():
        path = args.out / f"{name}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS[name])
            writer.writeheader()
            writer.writerows(rows)
        print(f"{name:<{width}}  {len(rows):>6} rows  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
