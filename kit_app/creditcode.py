"""统一社会信用代码 (unified social credit code), GB 32100-2015.

18 characters: registration authority (1), organisation type (1), administrative division (6, GB/T 2260),
organisation code (9, GB 11714 with its own check character) and a check character over the first 17.
The alphabet omits I, O, Z, S and V.
"""

from __future__ import annotations

import random

from kit_app.i18n import _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 11714 organisation code (positions 9-17 of the credit code): 8 characters + check.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


_FULLWIDTH = {o: o - 0xFEE0 for o in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20  # ideographic space


def normalise(code: str) -> str:
    """Upper-case, strip spaces and convert full-width characters typed by Chinese input methods."""
    if code.isascii() and code.isalnum():
        return code.upper()
    return "".join(code.translate(_FULLWIDTH).upper().split())


def check_char(first17: str) -> str:
    v = _VALUE
    total = sum(map(lambda c, w: v[c] * w, first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def validate(code: str) -> str | None:
    """Return None if ``code`` is a valid credit code, else a translated reason."""
    if len(code) != 18:
        return _("must be 18 characters, got {n}").format(n=len(code))
    for pos, ch in enumerate(code, start=1):
        if ch not in _VALUE:
            return _("character {ch!r} at position {pos} is not allowed").format(ch=ch, pos=pos)
    if not code[2:8].isdigit():
        return _("positions 3-8 must be an administrative division code")
    expected = check_char(code[:17])
    if code[17] != expected:
        return _("bad check digit: expected {expected}, found {found}").format(
            expected=expected, found=code[17]
        )
    return None


def is_valid(code: str) -> bool:
    return validate(code) is None


def _org_code(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    check = "0" if c == 11 else ("X" if c == 10 else str(c))
    return body + check


def generate(division_code: str, rng: random.Random, kind: str = "91") -> str:
    """A valid credit code for an enterprise (91 = 工商, enterprise) registered in ``division_code``."""
    first17 = kind + division_code + _org_code(rng)
    return first17 + check_char(first17)
