"""Request and response shapes of the ordering API (never storage rows).

Responses are rendered as plain dicts by the ``*_out`` functions (orjson serialises
them directly); the pydantic ``*Out`` models document the same shapes in OpenAPI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from agora.http.bounds import Int32
from agora.http.schemas import MoneyOut, RequestModel
from agora.ordering.domain import MAX_LINES, MAX_QUANTITY, MIN_QUANTITY, Order, OrderStatus
from agora.ordering.pricing import LineIssue, PricedCart

Quantity = Field(ge=MIN_QUANTITY, le=MAX_QUANTITY, description="1 to 99")


class CartItemIn(RequestModel):
    product_id: UUID
    quantity: Int32 = Quantity


class CartQuantityIn(RequestModel):
    quantity: Int32 = Quantity


class CartItemOut(BaseModel):
    product_id: UUID
    sku: str | None = Field(description="Null only if the product no longer exists at all.")
    name: str | None
    unit_price: MoneyOut | None = Field(description="Null when the product is not for sale.")
    quantity: int
    line_total: MoneyOut | None = Field(
        description="Null when the product is not for sale or the total is out of range."
    )
    available: bool = Field(description="Whether the line can be bought now (no issue).")
    issue: LineIssue | None = Field(
        description="Why it cannot: unavailable (deleted or unpublished), currency_mismatch, "
        "amount_out_of_range or out_of_stock. Checkout refuses a cart with issues (409 "
        "CART_NOT_READY)."
    )


class CartOut(BaseModel):
    items: list[CartItemOut]
    total: MoneyOut = Field(description="Over the lines that can be bought.")
    item_count: int = Field(description="Units in the lines that can be bought.")


class OrderItemIn(RequestModel):
    product_id: UUID
    quantity: Int32 = Quantity


class OrderCreate(RequestModel):
    payment_token: str = Field(
        min_length=1,
        max_length=100,
        description="A token from the payment provider (test: tok_success, tok_declined, "
        "tok_insufficient_funds, tok_processing_error). Card numbers never reach the API.",
        examples=["tok_success"],
    )
    items: list[OrderItemIn] | None = Field(
        default=None,
        min_length=1,
        max_length=2 * MAX_LINES,
        description="Explicit items; without them the cart is ordered and emptied on success.",
    )


class OrderCancel(RequestModel):
    reason: str | None = Field(default=None, max_length=500)


class OrderItemOut(BaseModel):
    product_id: UUID
    sku: str
    name: str
    unit_price: MoneyOut
    quantity: int
    line_total: MoneyOut


class OrderPaymentOut(BaseModel):
    status: str | None
    reference: str | None = None


class OrderOut(BaseModel):
    id: UUID
    number: str = Field(examples=["AG-K3V9QZ2M"])
    status: OrderStatus
    customer_id: UUID
    items: list[OrderItemOut]
    total: MoneyOut
    payment: OrderPaymentOut
    created_at: datetime
    updated_at: datetime
    version: int


def cart_out(cart: PricedCart) -> dict[str, Any]:
    return {
        "items": [
            {
                "product_id": line.product_id,
                "sku": line.sku,
                "name": line.name,
                "unit_price": None if line.unit_price is None else line.unit_price.as_dict(),
                "quantity": line.quantity,
                "line_total": None if line.line_total is None else line.line_total.as_dict(),
                "available": line.available,
                "issue": None if line.issue is None else line.issue.value,
            }
            for line in cart.items
        ],
        "total": cart.total.as_dict(),
        "item_count": cart.item_count,
    }


def order_out(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status.value,
        "customer_id": order.customer_id,
        "items": [
            {
                "product_id": line.product_id,
                "sku": line.sku,
                "name": line.name,
                "unit_price": line.unit_price.as_dict(),
                "quantity": line.quantity,
                "line_total": line.line_total.as_dict(),
            }
            for line in order.items
        ],
        "total": order.total.as_dict(),
        "payment": {"status": order.payment_status, "reference": order.payment_reference},
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "version": order.version,
    }
