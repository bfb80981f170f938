"""Message catalogs: every text shown to people comes from here (one TOML file per language)."""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("ja", "en")
DEFAULT = "ja"
_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    return tomllib.loads((_DIR / f"{lang}.toml").read_text(encoding="utf-8"))


def lang_or_default(value: object) -> str:
    return value if value in LANGUAGES else DEFAULT


# What the messages say for the deployment served ({prefecture}, {prefecture_in}, {indicators_n},
# {indicator_list}), set once per process by set_place at start-up: one deployment per process.
PLACE_WORDS = ("prefecture", "prefecture_short", "prefecture_in", "indicators_n", "indicator_list", "deployment_title")
_PLACE: dict[str, dict[str, str]] = {lang: {"{deployment_title}": name} for lang, name in (("ja", "見える化"), ("en", "Mieruka"))}


def set_place(words: dict[str, dict[str, str]]) -> None:
    """The deployment's words per language (registry.prefecture_words plus counts and lists)."""
    for lang in LANGUAGES:
        _PLACE[lang] = {"{" + name + "}": str(word) for name, word in words.get(lang, {}).items()}


def t(key: str, lang: str = DEFAULT, **values: object) -> str:
    """The message `key` in `lang`, with the deployment's words put in and formatted with
    `values`; a missing key shows itself."""
    lang = lang_or_default(lang)
    text = catalog(lang).get(key) or catalog(DEFAULT).get(key) or key
    if "{" in text:
        for token, word in _PLACE[lang].items():
            text = text.replace(token, word)
    return text.format(**values) if values else text


def text_of(mapping: dict, lang: str) -> str:
    """A config text {"ja": …, "en": …} in `lang`."""
    return mapping.get(lang) or mapping.get(DEFAULT) or ""


# reasons whose key carries a name: the importer's "unreadable <field>", "unreadable <pollutant> reading",
# "line break in <field>" and "<field> kept as written"
_NAMED_REASONS = ((re.compile(r"^unreadable (\S+) reading$"), "reason.unreadable_reading"),
                  (re.compile(r"^unreadable (\S+)$"), "reason.unreadable"),
                  (re.compile(r"^line break in (\S+)$"), "reason.line_break"),
                  (re.compile(r"^(\S+) kept as written$"), "reason.kept_as_written"))


def reason_text(reason: str, lang: str) -> str:
    """A rejected / repaired / derived reason of an import report (stable English keys, as the
    API gives them) in `lang`; a reason the catalog does not know shows as it is."""
    text = catalog(lang_or_default(lang)).get(f"reason.{reason}")
    if text:
        return text
    for pattern, key in _NAMED_REASONS:
        match = pattern.match(reason)
        if match:
            return t(key, lang, name=match.group(1))
    return reason
