"""Hiragana → katakana, and hiragana → Hepburn romaji in the form place names are written in
English (long vowels dropped: とうきょう → Tokyo, ちゅうおう → Chuo, おおさか → Osaka).

Needed for the wards, which the romaji list (a list of municipalities) does not have.
"""
from __future__ import annotations

_BASE = dict(zip(
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわゐゑをん"
    "がぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽゔぁぃぅぇぉゃゅょ",
    "a i u e o ka ki ku ke ko sa shi su se so ta chi tsu te to na ni nu ne no ha hi fu he ho "
    "ma mi mu me mo ya yu yo ra ri ru re ro wa i e o n "
    "ga gi gu ge go za ji zu ze zo da ji zu de do ba bi bu be bo pa pi pu pe po vu a i u e o ya yu yo".split(),
))
_YOUON = {"ゃ": "a", "ゅ": "u", "ょ": "o"}
_VOWELS = "aeiou"


def to_katakana(hiragana: str) -> str:
    """'おおさかし' → 'オオサカシ' (the table's name_kana is in katakana)."""
    return "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in hiragana)


def _syllables(hiragana: str) -> list[str]:
    """Romaji per mora, with youon (きょ) joined and the sokuon (っ) doubling the next consonant."""
    out: list[str] = []
    double = False
    for ch in hiragana:
        if ch == "っ":
            double = True
            continue
        if ch in _YOUON and out and out[-1].endswith("i") and len(out[-1]) > 1:
            stem = out.pop()[:-1]
            stem = stem if stem in ("sh", "ch", "j") else stem + "y"
            syllable = stem + _YOUON[ch]
        elif ch == "ー":
            continue
        elif ch in _BASE:
            syllable = _BASE[ch]
        else:
            raise ValueError(f"no romaji for {ch!r} in {hiragana!r}")
        if double:
            syllable = ("t" if syllable.startswith("ch") else syllable[0]) + syllable
            double = False
        out.append(syllable)
    return out


def to_romaji(hiragana: str) -> str:
    """Hepburn without macrons, capitalised: 'ひがしよどがわ' → 'Higashiyodogawa',
    'じょうとう' → 'Joto'. ou, oo and uu are one o or u, as on road signs."""
    text = ""
    for syllable in _syllables(hiragana):
        if text and syllable in ("u", "o") and text[-1] == "o" or text and syllable == "u" and text[-1] == "u":
            continue
        text += syllable
    return text[:1].upper() + text[1:]
