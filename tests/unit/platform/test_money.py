"""Money: integer minor units, one currency per sum, never floats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agora.platform.errors import ValidationError
from agora.platform.money import MAX_AMOUNT, Money, total, validate_currency

amounts = st.integers(min_value=0, max_value=10**9)


def test_money_adds_and_multiplies_in_minor_units() -> None:
    assert Money(1999, "EUR") * 3 == Money(5997, "EUR")
    assert Money(1999, "EUR") + Money(1, "EUR") == Money(2000, "EUR")
    assert 2 * Money(5, "EUR") == Money(10, "EUR")


def test_money_refuses_floats_and_bad_currencies() -> None:
    with pytest.raises(ValidationError):
        Money(19.99, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Money(True, "EUR")
    with pytest.raises(ValidationError):
        Money(100, "eur")
    with pytest.raises(ValidationError):
        Money(MAX_AMOUNT + 1, "EUR")


def test_amounts_in_different_currencies_do_not_mix() -> None:
    with pytest.raises(ValidationError) as caught:
        Money(100, "EUR") + Money(100, "USD")
    assert caught.value.details["currencies"] == ["EUR", "USD"]


@given(st.lists(amounts, max_size=50))
def test_total_is_the_sum_of_amounts(values: list[int]) -> None:
    assert total([Money(v, "EUR") for v in values], "EUR") == Money(sum(values), "EUR")


@given(amounts, st.integers(min_value=0, max_value=99))
def test_multiplication_is_repeated_addition(amount: int, quantity: int) -> None:
    repeated = total([Money(amount, "EUR")] * quantity, "EUR")
    assert Money(amount, "EUR") * quantity == repeated


def test_only_active_iso_4217_codes_are_currencies() -> None:
    for code in ("EUR", "USD", "JPY", "CHF", "XCG", "ZWG"):
        assert validate_currency(code) == code
    for code in ("XYZ", "ABC", "XXX", "XTS", "XAU", "HRK", "ZWL", "eur", "EURO", ""):
        with pytest.raises(ValidationError):
            validate_currency(code)
