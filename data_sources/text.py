"""Japanese-aware text normalisation shared by the importer and the search index.

`search_key` normalises the map's search text on the server exactly as
`mieruka.searchKey` in assets/mieruka-map.js does in the browser:
NFKC (full-width → half-width digits/letters, half-width kana → full-width),
katakana → hiragana, lower case, no white space.
"""
from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def katakana_to_hiragana(value: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in value)


def search_key(*parts: str | None) -> str:
    text = " ".join(p for p in parts if p)
    return _SPACE.sub("", katakana_to_hiragana(nfkc(text)).lower())
