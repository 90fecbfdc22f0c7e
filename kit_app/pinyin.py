"""Fast pinyin for search columns: full pinyin and initials of a name.

pypinyin's phrase segmentation costs ~90 µs per company name, too slow to import 20,000 rows a
second. Here each character takes its most common reading from pypinyin's character table, and a
polyphonic character takes its reading from pypinyin's two-character phrase table when the name
contains such a phrase (重庆 → chong qing, 银行 → yin hang). Tones are dropped and ü is written v,
as people type it.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def _plain(reading: str) -> str:
    s = unicodedata.normalize("NFD", reading.lower()).replace("u\u0308", "v")
    return "".join(c for c in s if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, tuple[str, ...]], dict[str, list[list[str]]]]:
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    chars: dict[str, tuple[str, ...]] = {}
    for code, readings in pinyin_dict.items():
        plain: list[str] = []
        for r in readings.split(","):
            p = _plain(r)
            if p not in plain:
                plain.append(p)
        chars[chr(code)] = tuple(plain)
    return chars, phrases_dict


def syllables(text: str) -> list[str]:
    """One lowercase syllable per Chinese character; runs of other letters/digits kept as words."""
    chars, phrases = _tables()
    out: list[str] = []
    word: list[str] = []
    n = len(text)
    for i, ch in enumerate(text):
        readings = chars.get(ch)
        if readings is None:
            if ch.isalnum():
                word.append(ch.lower())
            elif word:
                out.append("".join(word))
                word = []
            continue
        if word:
            out.append("".join(word))
            word = []
        reading = readings[0]
        if len(readings) > 1:
            phrase = phrases.get(text[i : i + 2]) if i + 1 < n else None
            if phrase is not None:
                reading = _plain(phrase[0][0])
            elif i > 0 and (phrase := phrases.get(text[i - 1 : i + 1])) is not None:
                reading = _plain(phrase[1][0])
        out.append(reading)
    if word:
        out.append("".join(word))
    return out


@lru_cache(maxsize=1)
def _fast_tables() -> tuple[frozenset[str], dict[int, str], dict[int, str]]:
    """Characters with a single reading, and str.translate tables to their pinyin and initial."""
    chars, _phrases = _tables()
    simple = {c: r[0] for c, r in chars.items() if len(r) == 1 and r[0]}
    return (
        frozenset(simple),
        {ord(c): r for c, r in simple.items()},
        {ord(c): r[0] for c, r in simple.items()},
    )


def full_and_initials(text: str) -> tuple[str, str]:
    """(``nanningshiqingxiuqu``, ``nnsqxq``) for 南宁市青秀区."""
    simple, full_t, init_t = _fast_tables()
    if simple.issuperset(text):
        # only single-reading characters: the translation runs in C (most names)
        return text.translate(full_t), text.translate(init_t)
    syl = syllables(text)
    return "".join(syl), "".join(s[0] for s in syl if s)
