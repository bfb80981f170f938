"""python -m tools.real_data [--only NAME[,NAME]] [--shared PATH]: see the package doc."""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from .common import DEFAULT_SHARED, OUT

# Builder modules, in the order they run (later ones may read what earlier ones wrote:
# the evacuation sites are located on the bundled boundaries). Each has build(shared, out) -> str.
BUILDERS = ("areas", "boundaries", "views", "gsi", "toilets")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.real_data", description=__doc__)
    parser.add_argument("--only", help="comma-separated builders: " + ", ".join(BUILDERS))
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the real-data folder to read")
    args = parser.parse_args(argv)
    if not args.shared.is_dir():
        print(f"real-data folder not found: {args.shared}", file=sys.stderr)
        return 2
    names = args.only.split(",") if args.only else list(BUILDERS)
    for name in names:
        if name not in BUILDERS:
            print(f"unknown builder {name!r} (known: {', '.join(BUILDERS)})", file=sys.stderr)
            return 2
    for name in names:
        started = time.perf_counter()
        summary = importlib.import_module(f"tools.real_data.{name}").build(args.shared, OUT)
        print(f"{name}: {summary} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
