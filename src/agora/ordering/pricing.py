"""Pricing a cart against the catalog as it is now (pure Python).

A cart stores only product ids and quantities, so anything may have happened to its
products since they were added: deleted, unpublished, repriced, sold out, or (rows
from before the shop refused other currencies) priced in another currency. Pricing
never fails on any of that: each line carries at most one ``LineIssue``, and the total
and item count cover only the lines that can be bought, so a cart is always readable.
Checkout refuses a cart with issues (``CartNotReadyError``), naming the lines to fix.

Amounts stay inside ``MAX_AMOUNT``: a line whose total, or whose share of the cart
total, would pass it is flagged ``amount_out_of_range`` instead of raising; commands
that grow the cart refuse to create such a line in the first place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from agora.ordering.ports import ProductView
from agora.platform.errors import ConflictError, NotFoundError, ValidationError
from agora.platform.money import MAX_AMOUNT, Money

P = TypeVar("P", bound=ProductView)


class LineIssue(StrEnum):
    """Why a cart line cannot be bought now, most fundamental first."""

    UNAVAILABLE = "unavailable"  # deleted, unpublished or unknown
    CURRENCY_MISMATCH = "currency_mismatch"  # priced in another currency than the shop's
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"  # its total would pass the largest amount
    OUT_OF_STOCK = "out_of_stock"  # current stock does not cover the quantity


def sellable_issue(product: ProductView | None, currency: str) -> LineIssue | None:
    """Why ``product`` cannot be sold at all (whatever the quantity), or ``None``."""
    if product is None or not product.is_visible:
        return LineIssue.UNAVAILABLE
    if product.price.currency != currency:
        return LineIssue.CURRENCY_MISMATCH
    return None


def require_sellable(product_id: UUID, product: P | None, currency: str, *, field: str) -> P:
    """``product``, unless it is not for sale or is priced outside the shop's currency."""
    issue = sellable_issue(product, currency)
    if issue is LineIssue.UNAVAILABLE or product is None:
        raise NotFoundError("This product is not for sale.", product_id=str(product_id))
    if issue is LineIssue.CURRENCY_MISMATCH:
        raise ValidationError(
            f"This product is priced in {product.price.currency}, not in the shop's "
            f"currency {currency}.",
            field=field,
            product_id=str(product_id),
            currency=product.price.currency,
            allowed=[currency],
        )
    return product


@dataclass(frozen=True, slots=True)
class PricedLine:
    product_id: UUID
    quantity: int
    sku: str | None  # None only for a product the catalog no longer knows at all
    name: str | None
    unit_price: Money | None  # None when the product is not for sale
    line_total: Money | None  # None when not for sale or out of range
    issue: LineIssue | None = None

    @property
    def available(self) -> bool:
        return self.issue is None


@dataclass(frozen=True, slots=True)
class PricedCart:
    items: tuple[PricedLine, ...]
    total: Money
    item_count: int

    @property
    def issues(self) -> tuple[PricedLine, ...]:
        return tuple(line for line in self.items if line.issue is not None)

    def has(self, issue: LineIssue) -> bool:
        return any(line.issue is issue for line in self.items)


class CartNotReadyError(ConflictError):
    """Checkout of a cart with lines that cannot be bought; ``details.lines`` names them."""

    code = "CART_NOT_READY"
    default_message = (
        "Some items in the cart cannot be bought as they are; remove them or change "
        "their quantity, then check out again."
    )

    @classmethod
    def of(cls, cart: PricedCart) -> CartNotReadyError:
        return cls(
            lines=[
                {"product_id": str(line.product_id), "issue": str(line.issue)}
                for line in cart.issues
            ]
        )


def price_cart(
    lines: Mapping[UUID, int], products: Mapping[UUID, ProductView], currency: str
) -> PricedCart:
    """Price ``lines`` (product id -> quantity, in cart order) in the shop's ``currency``."""
    priced: list[PricedLine] = []
    total = 0
    count = 0
    for product_id, quantity in lines.items():
        product = products.get(product_id)
        issue = sellable_issue(product, currency)
        if issue is LineIssue.UNAVAILABLE or product is None:
            priced.append(
                PricedLine(
                    product_id,
                    quantity,
                    product.sku if product else None,
                    product.name if product else None,
                    None,
                    None,
                    LineIssue.UNAVAILABLE,
                )
            )
            continue
        price = product.price
        amount = price.amount * quantity
        line_total = Money(amount, price.currency) if abs(amount) <= MAX_AMOUNT else None
        if issue is None:  # (a line in another currency shows its price, never summed)
            if line_total is None or total + amount > MAX_AMOUNT:
                issue = LineIssue.AMOUNT_OUT_OF_RANGE
            elif product.stock < quantity:
                issue = LineIssue.OUT_OF_STOCK
            else:
                total += amount
                count += quantity
        priced.append(
            PricedLine(product_id, quantity, product.sku, product.name, price, line_total, issue)
        )
    return PricedCart(tuple(priced), Money(total, currency), count)
