"""Japanese-aware text normalisation for the importers: NFKC (full-width → half-width
digits and letters, half-width kana → full-width). (The map's search normalises in the
browser: `mieruka.searchKey` in assets/mieruka-map.js.)"""
from __future__ import annotations

import unicodedata


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)
