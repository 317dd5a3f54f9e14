"""The order confirmation email: what a customer reads once their order is paid.

Plain text first (every client shows it); the HTML part escapes every value that came
from the order (names are typed by staff and could hold markup) with markupsafe.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from markupsafe import Markup

from agora.notifications.domain import Recipient

KIND = "ordering.confirmation"
# ISO 4217 minor units where they are not two digits (the rest of the list is two).
_EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


@dataclass(frozen=True, slots=True)
class ConfirmedLine:
    name: str
    sku: str
    quantity: int
    unit_amount: int  # the price paid per unit, in minor units


@dataclass(frozen=True, slots=True)
class PaidOrder:
    order_id: UUID
    number: str
    customer_id: UUID
    currency: str
    total_amount: int
    lines: tuple[ConfirmedLine, ...]


def money_text(amount: int, currency: str) -> str:
    """``EUR 19.99``: the amount in the currency's major unit, never through a float."""
    exponent = _EXPONENTS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent)
    return f"{currency} {sign}{major}" + (f".{minor:0{exponent}d}" if exponent else "")


def dedupe_key(order_id: UUID) -> str:
    """One confirmation per order, however often its payment event arrives."""
    return f"{KIND}:{order_id}"


def subject(order: PaidOrder) -> str:
    return f"Your Agora order {order.number} is confirmed"


def text_body(order: PaidOrder, recipient: Recipient) -> str:
    lines = [
        f"Hello {recipient.name},",
        "",
        f"thank you for your order {order.number}. We have received your payment.",
        "",
    ]
    for line in order.lines:
        amount = money_text(line.unit_amount * line.quantity, order.currency)
        unit = money_text(line.unit_amount, order.currency)
        lines.append(f"  {line.quantity} x {line.name} ({line.sku}) at {unit}: {amount}")
    lines += ["", f"Total paid: {money_text(order.total_amount, order.currency)}", ""]
    lines.append("We will write again when your order ships.")
    return "\n".join(lines) + "\n"


def html_body(order: PaidOrder, recipient: Recipient) -> str:
    rows = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            line.quantity,
            line.name,
            money_text(line.unit_amount, order.currency),
            money_text(line.unit_amount * line.quantity, order.currency),
        )
        for line in order.lines
    )
    document = Markup(
        "<!doctype html><html><body>"
        "<p>Hello {name},</p>"
        "<p>thank you for your order <strong>{number}</strong>. We have received your "
        "payment.</p>"
        "<table><thead><tr><th>Qty</th><th>Item</th><th>Unit price</th><th>Amount</th>"
        "</tr></thead><tbody>{rows}</tbody></table>"
        "<p><strong>Total paid: {total}</strong></p>"
        "<p>We will write again when your order ships.</p>"
        "</body></html>"
    ).format(
        name=recipient.name,
        number=order.number,
        rows=rows,
        total=money_text(order.total_amount, order.currency),
    )
    return str(document)
