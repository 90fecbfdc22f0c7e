"""Numbers as Chinese official documents write them: amounts of money in capitals (大写金额) and
dates in Chinese numerals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_CAPITAL = "零壹贰叁肆伍陆柒捌玖"
_IN_SECTION = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿", "万亿")


def _section(n: int) -> str:
    """0 < n < 10000, in capitals: 1050 → 壹仟零伍拾."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        d = n // 10 ** pos % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _CAPITAL[d] + _IN_SECTION[pos]
    return out


def rmb_upper(amount: float | int | str | Decimal) -> str:
    """An amount of yuan in capitals as on a decision or receipt: 150000 → 壹拾伍万元整,
    10050.5 → 壹万零伍拾元伍角整, 1.05 → 壹元零伍分. ValueError for a negative or too large amount."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0 or value >= Decimal(10) ** 16:
        raise ValueError(f"amount out of range: {amount}")
    fen_total = int(value * 100)
    yuan, fen = divmod(fen_total, 100)
    out = ""
    sections: list[int] = []
    n = yuan
    while n:
        n, s = divmod(n, 10000)
        sections.append(s)
    for i in range(len(sections) - 1, -1, -1):
        s = sections[i]
        if s == 0:
            continue
        if out and (sections[i + 1] == 0 or s < 1000):  # a gap between sections is read as 零
            out += "零"
        out += _section(s) + _SECTIONS[i]
    jiao, f = divmod(fen, 10)
    if yuan:
        out += "元"
    if not jiao and not f:
        return (out or "零元") + "整"
    if jiao:
        out += _CAPITAL[jiao] + "角"
    elif yuan:
        out += "零"
    return out + (_CAPITAL[f] + "分" if f else "整")


def money(amount: float | int | str | Decimal) -> str:
    """¥150,000.00."""
    return f"¥{Decimal(str(amount)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
