"""Every user-visible string is translated, and translations keep their placeholders."""

import re
import string
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import resources
from kit_app import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extracted() -> set[str | tuple[str, ...]]:
    ids: set[str | tuple[str, ...]] = set()
    for pkg in ("kit_app", "ui", "devices", "forms", "reports", "central"):
        for _file, _line, msg, _comments, _ctx in extract_from_dir(
            ROOT / pkg, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            ids.add(msg)
    return ids


def catalog():  # type: ignore[no-untyped-def]
    with resources.path("locale", "zh_CN", "LC_MESSAGES", "kit_app.po").open("rb") as fh:
        return read_po(fh, locale="zh_CN")


def fields(s: str) -> set[str]:
    return {f for _t, f, _s, _c in string.Formatter().parse(s) if f is not None}


def test_every_string_has_a_chinese_translation() -> None:
    cat = catalog()
    missing = []
    for msgid in extracted():
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        m = cat.get(key)
        if m is None or not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy:
            missing.append(key)
    assert missing == [], f"untranslated: {missing}"


def test_placeholders_match() -> None:
    for m in catalog():
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strs = m.string if isinstance(m.string, tuple) else (m.string,)
        for s in strs:
            assert fields(s) == fields(ids[0]), (m.id, s)


def test_chinese_is_default_and_english_available() -> None:
    assert i18n.set_language(None) == "zh_CN"
    assert i18n._("Wrong certificate number or password.") == "执法证号或密码错误。"
    assert i18n.set_language("en") == "en"
    assert i18n._("Wrong certificate number or password.") == "Wrong certificate number or password."


def test_no_chinese_in_source_strings_outside_translations() -> None:
    """English is the source language: Chinese in a msgid would leave English users untranslated
    text (examples of Chinese input, like 南宁市, are allowed inside a sentence)."""
    han = re.compile(r"[\u4e00-\u9fff]")
    bad = [m for m in extracted() if isinstance(m, str) and han.search(m) and not re.search(r"[A-Za-z]{3}", m)]
    assert bad == []
