"""Number parsing: every way agencies print a number reads back to it; anything else is invalid."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from nianbao.parsing.numbers import is_value_like, parse_number
from tests.helpers.strategies import number_texts


@given(number_texts())
def test_counts_round_trip(pair: tuple[str, int]) -> None:
    text, value = pair
    assert parse_number(text, "count") == (value, False)


@given(number_texts(signed=True))
def test_signed_counts_round_trip(pair: tuple[str, int]) -> None:
    text, value = pair
    assert parse_number(text, "signed_count").value == value


@given(st.integers(min_value=1, max_value=10**6))
def test_signs_are_only_allowed_where_the_kind_allows(n: int) -> None:
    assert parse_number(f"+{n}", "signed_count").value == n
    assert parse_number(f"-{n}", "signed_count").value == -n
    assert parse_number(f"-{n}", "count").value is None
    assert parse_number(f"+{n}", "count").value is None
    assert parse_number(f"--{n}", "signed_count").value is None


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=9999))
def test_amounts_keep_their_decimals(whole: int, frac: int) -> None:
    text = f"{whole}.{frac:04d}"
    assert parse_number(text, "amount").value == float(text)
    assert parse_number(text, "count").value is None


@given(st.sampled_from(["", " ", "—", "-", "/", "无", "　", "\u00a0", "－", "——"]))
def test_blank_marks_read_as_zero_and_are_flagged(mark: str) -> None:
    assert parse_number(mark, "count") == (0, True)
    assert parse_number(mark, "amount") == (0.0, True)


@given(st.text(alphabet=string.digits, min_size=0, max_size=4), st.sampled_from(string.ascii_letters),
       st.text(alphabet=string.digits, min_size=0, max_size=4))
def test_a_latin_letter_makes_a_cell_invalid_never_zero(before: str, letter: str, after: str) -> None:
    text = before + letter + after
    assert parse_number(text, "count").value is None
    assert is_value_like(text), "an invalid number is still a value cell, not a label"


def test_examples_from_the_contract() -> None:
    assert parse_number("O", "count").value is None
    assert parse_number("1O", "count").value is None
    assert parse_number("12件?", "count").value is None
    assert parse_number("1 2", "count").value is None  # two numbers in one cell
    assert parse_number("１２", "count").value == 12
    assert parse_number("1,234", "count").value == 1234
    assert parse_number("1，234", "count").value == 1234
    assert parse_number("12,34", "count").value is None
    assert parse_number("251000元", "amount").value == 251000.0
    assert parse_number("160.5964万元", "amount").value == 160.5964


def test_labels_are_not_values() -> None:
    assert not is_value_like("其他")
    assert not is_value_like("3.其他")
    assert not is_value_like("结果 维持")
    assert is_value_like("无")
    assert is_value_like("—")
