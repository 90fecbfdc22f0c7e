import random

from hypothesis import given
from hypothesis import strategies as st

from kit_app import creditcode

# Published on real business licences / the national credit information site.
REAL_CODES = ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"]


def test_real_codes_validate() -> None:
    for c in REAL_CODES:
        assert creditcode.validate(c) is None, c


def test_bad_check_digit_names_expected_character() -> None:
    reason = creditcode.validate("91350100M000100Y44")
    assert reason is not None and "expected 3" in reason and "found 4" in reason


def test_length_and_alphabet() -> None:
    assert "18 characters" in (creditcode.validate("9135") or "")
    # I, O, Z, S, V are not in the alphabet
    reason = creditcode.validate("91350100M00010OY43")
    assert reason is not None and "'O'" in reason and "position 15" in reason


def test_normalise_fullwidth_and_spaces() -> None:
    assert creditcode.normalise(" ９１３５0100m000100y43 ") == "91350100M000100Y43"


@given(st.integers(min_value=0, max_value=2**32), st.sampled_from(["450103", "451481", "450000"]))
def test_generated_codes_are_valid(seed: int, division: str) -> None:
    code = creditcode.generate(division, random.Random(seed))
    assert creditcode.validate(code) is None
    assert code[2:8] == division


@given(
    st.integers(min_value=0, max_value=2**32),
    st.integers(min_value=0, max_value=16),
    st.sampled_from(creditcode.ALPHABET),
)
def test_any_single_substitution_is_detected(seed: int, pos: int, ch: str) -> None:
    code = creditcode.generate("450103", random.Random(seed))
    if code[pos] == ch:
        return
    mutated = code[:pos] + ch + code[pos + 1 :]
    assert creditcode.validate(mutated) is not None
