"""Language of an item: ``en``, ``zh`` or ``other``, from the script of its letters and,
for Latin script, English function words. Fast and dependency-free; a ``lang`` given with
the item wins."""

from __future__ import annotations

import re

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_KANA_HANGUL = re.compile("[\u3040-\u30ff\uac00-\ud7af]")
_LATIN_WORD = re.compile(r"[a-zA-Z][a-zA-Z']*")
_LETTER = re.compile(r"[^\W\d_]")
_EN_FUNCTION_WORDS = (
    "a about all an and are as at be because but by can do don't for from get go have he "
    "her his how i i'm if in is it it's just know like me my no not of on or our out she "
    "so that the their them they this to u up was we what when who why will with you your "
    "lol im dont u r ur now here there new one more see time people day today love good "
    "great free call text reply win get got been has had were am than then only also "
    "very much some any into over after back make think want need"
)
_EN_WORDS = frozenset(_EN_FUNCTION_WORDS.split())


def canonical_lang(lang: str | None) -> str | None:
    """``en-US`` → ``en``, ``zh-Hant``/``zh_TW``/``cmn`` → ``zh``; None stays None."""
    if not lang:
        return None
    base = lang.strip().lower().replace("_", "-").split("-")[0]
    if base in ("zh", "cmn", "yue", "wuu"):
        return "zh"
    if base == "en":
        return "en"
    return "other"


def detect_lang(text: str, given: str | None = None) -> str:
    """``en``, ``zh`` or ``other``."""
    known = canonical_lang(given)
    if known is not None:
        return known
    if not text.isascii():
        han = len(_HAN.findall(text))
        if han:
            if _KANA_HANGUL.search(text):
                return "other"  # Japanese or Korean
            letters = len(_LETTER.findall(text))
            if han * 3 >= letters or han >= 8:
                return "zh"
    words = _LATIN_WORD.findall(text)
    if not words:
        return "other" if _LETTER.search(text) else "en"
    letters = len(_LETTER.findall(text))
    latin = sum(len(w) for w in words)
    if latin * 2 < letters:
        return "other"
    if len(words) < 4:
        return "en"
    hits = sum(w.lower() in _EN_WORDS for w in words)
    return "en" if hits * 10 >= len(words) else "other"
