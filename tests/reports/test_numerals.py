"""Amounts of money in capitals, as a decision prints them."""

from __future__ import annotations

import pytest

from reports.numerals import money, rmb_upper


@pytest.mark.parametrize(("amount", "upper"), [
    (150000, "壹拾伍万元整"), (100000, "壹拾万元整"), (10050, "壹万零伍拾元整"), (1000000, "壹佰万元整"),
    (1001000, "壹佰万壹仟元整"), (1000100, "壹佰万零壹佰元整"), (100000000, "壹亿元整"), (0.5, "伍角整"),
    (1.05, "壹元零伍分"), (10050.5, "壹万零伍拾元伍角整"), (0, "零元整"), (200000, "贰拾万元整"),
    (100010001, "壹亿零壹万零壹元整"), (1234567.89, "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"), (20, "贰拾元整"),
    (101, "壹佰零壹元整"), (110, "壹佰壹拾元整"), ("3000.00", "叁仟元整"), (0.07, "柒分"),
])
def test_capitals(amount: object, upper: str) -> None:
    assert rmb_upper(amount) == upper  # type: ignore[arg-type]


def test_figures_and_range() -> None:
    assert money(150000) == "¥150,000.00" and money("1234.5") == "¥1,234.50"
    with pytest.raises(ValueError):
        rmb_upper(-1)
