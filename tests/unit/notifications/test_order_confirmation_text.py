"""The order confirmation reads like a receipt: amounts in each currency's own unit,
the customer's own words shown as typed in text and escaped in HTML."""

from __future__ import annotations

from agora.notifications.confirmation import (
    ConfirmedLine,
    PaidOrder,
    dedupe_key,
    html_body,
    money_text,
    subject,
    text_body,
)
from agora.notifications.domain import Recipient
from agora.platform.ids import new_id

ORDER = PaidOrder(
    order_id=new_id(),
    number="AG-TEST0001",
    customer_id=new_id(),
    currency="EUR",
    total_amount=2899,
    lines=(
        ConfirmedLine("Mug <script>alert(1)</script>", "MUG-1", 2, 1250),
        ConfirmedLine("Tea", "TEA-1", 1, 399),
    ),
)
ADA = Recipient(email="ada@example.com", name='Ada "<b>" Lovelace')


def test_amounts_use_the_minor_units_of_their_currency() -> None:
    assert money_text(1999, "EUR") == "EUR 19.99"
    assert money_text(5, "EUR") == "EUR 0.05"
    assert money_text(1500, "JPY") == "JPY 1500"
    assert money_text(12345, "BHD") == "BHD 12.345"
    assert money_text(-250, "USD") == "USD -2.50"


def test_the_text_lists_each_item_with_quantity_price_paid_and_the_total() -> None:
    text = text_body(ORDER, ADA)
    assert subject(ORDER) == "Your Agora order AG-TEST0001 is confirmed"
    assert "2 x Mug <script>alert(1)</script> (MUG-1) at EUR 12.50: EUR 25.00" in text
    assert "1 x Tea (TEA-1) at EUR 3.99: EUR 3.99" in text
    assert "Total paid: EUR 28.99" in text
    assert text.startswith('Hello Ada "<b>" Lovelace,')


def test_the_html_part_escapes_every_value_from_the_order_and_the_account() -> None:
    html = html_body(ORDER, ADA)
    assert "<script>" not in html
    assert "<b>" not in html
    assert "Mug &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Ada &#34;&lt;b&gt;&#34; Lovelace" in html
    assert "<strong>Total paid: EUR 28.99</strong>" in html


def test_one_key_per_order() -> None:
    assert dedupe_key(ORDER.order_id) == f"ordering.confirmation:{ORDER.order_id}"
    assert dedupe_key(ORDER.order_id) != dedupe_key(new_id())
