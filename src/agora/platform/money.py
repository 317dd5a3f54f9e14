"""Money as integer minor units plus an ISO 4217 currency code; never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agora.platform.errors import ValidationError

_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Minor-unit amounts are kept well inside a signed 64-bit column.
MAX_AMOUNT = 10**15

# The active alphabetic codes of ISO 4217 List One (current currency and funds), as the
# standard's maintenance agency publishes them in 2025: after XCG replaced ANG, ZWG
# replaced ZWL and SLE replaced SLL. Left out on purpose: precious metals (XAU, XAG, XPD,
# XPT), bond-market units (XBA-XBD), XDR, XSU, XUA, and the testing and no-currency codes
# XTS and XXX, in none of which a shop can price goods. Update this set when an
# amendment of the standard adds or withdraws a currency.
ISO_4217_CURRENCIES = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP
    DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS
    INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP
    SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN
    UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - a table of codes reads better than 165 quoted strings
)


def validate_currency(code: str) -> str:
    """``code`` if it is an active ISO 4217 currency, else a ``ValidationError``.

    ``Money`` itself only checks the shape of a code, so amounts already stored under a
    withdrawn or mistyped code can still be read (and flagged) rather than crash a read.
    """
    if code not in ISO_4217_CURRENCIES:
        raise ValidationError(
            "Currency must be an active ISO 4217 code.", field="currency", currency=code
        )
    return code


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
