"""The build step that turns the real open data in ../shared/real-data/ into the compact
snapshots bundled under data/real/, each with its provenance (see common.py).

    python -m tools.real_data                 # every snapshot
    python -m tools.real_data --only gsi      # one builder
    python -m tools.real_data --shared PATH   # another copy of shared/real-data

Run it by hand when an input changes, and commit what it writes: the app reads only
data/real/, never ../shared/.
"""
