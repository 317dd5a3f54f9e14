"""Money as integer minor units plus an ISO 4217 currency code; never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agora.platform.errors import ValidationError

_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Minor-unit amounts are kept well inside a signed 64-bit column.
MAX_AMOUNT = 10**15


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise ValidationError("Money amounts are integers in minor units.", field="amount")
        if abs(self.amount) > MAX_AMOUNT:
            raise ValidationError("Money amount is out of range.", field="amount")
        if not _CURRENCY.match(self.currency):
            raise ValidationError("Currency must be an ISO 4217 code.", field="currency")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValidationError(
                "Cannot combine amounts in different currencies.",
                currencies=sorted({self.currency, other.currency}),
            )

    def as_dict(self) -> dict[str, int | str]:
        return {"amount": self.amount, "currency": self.currency}


def total(amounts: list[Money], currency: str) -> Money:
    """Sum amounts that must all share ``currency`` (an empty list is zero)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
