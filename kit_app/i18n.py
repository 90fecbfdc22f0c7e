"""One translation mechanism for core, CLI and UI: gettext catalogues in resources/locale.

Source strings are English; ``zh_CN`` is the default language. Compiled ``.mo`` files are built by
the Makefile; when one is missing (a fresh checkout run without ``make``) the ``.po`` is compiled in
memory with Babel, so the application is never shown untranslated.
"""

from __future__ import annotations

import gettext
import io
import os
import threading

import resources

DOMAIN = "kit_app"
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES = ("zh_CN", "en")

_lock = threading.Lock()
_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def _load(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    base = resources.path("locale", lang, "LC_MESSAGES")
    mo = base / f"{DOMAIN}.mo"
    po = base / f"{DOMAIN}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    if po.exists():
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        return gettext.GNUTranslations(buf)
    return gettext.NullTranslations()


def normalise_language(lang: str | None) -> str:
    if not lang:
        return DEFAULT_LANGUAGE
    lang = lang.replace("-", "_")
    if lang.lower().startswith("zh"):
        return "zh_CN"
    if lang.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def set_language(lang: str | None = None) -> str:
    """Install the catalogue for ``lang`` (default: $KIT_LANG, else zh_CN) and return its code."""
    global _translation, _language
    code = normalise_language(lang or os.environ.get("KIT_LANG"))
    with _lock:
        _translation = _load(code)
        _language = code
    return code


def language() -> str:
    return _language


def _(message: str) -> str:
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (translate at display time)."""
    return message


set_language()


_catalogues: dict[str, gettext.NullTranslations] = {}


def catalogue(lang: str | None) -> gettext.NullTranslations:
    """The catalogue of one language, for a caller serving several at once (the central server's
    console answers each request in its reader's language); the process's own stays as it is."""
    code = normalise_language(lang)
    with _lock:
        if code not in _catalogues:
            _catalogues[code] = _load(code)
        return _catalogues[code]
