"""Request and response shapes of the ordering API (never storage rows).

Responses are rendered as plain dicts by the ``*_out`` functions (orjson serialises
them directly); the pydantic ``*Out`` models document the same shapes in OpenAPI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from agora.ordering.domain import MAX_LINES, MAX_QUANTITY, MIN_QUANTITY, Order, OrderStatus
from agora.ordering.services import CartView
from agora.platform.http.bounds import Int32
from agora.platform.http.schemas import MoneyOut

Quantity = Field(ge=MIN_QUANTITY, le=MAX_QUANTITY, description="1 to 99")


class CartItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: UUID
    quantity: Int32 = Quantity


class CartQuantityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: Int32 = Quantity


class CartItemOut(BaseModel):
    product_id: UUID
    sku: str
    name: str
    unit_price: MoneyOut
    quantity: int
    line_total: MoneyOut
    available: bool = Field(description="Whether current stock covers the quantity.")


class CartOut(BaseModel):
    items: list[CartItemOut]
    total: MoneyOut
    item_count: int


class OrderItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: UUID
    quantity: Int32 = Quantity


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

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


class OrderCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

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


def cart_out(cart: CartView) -> dict[str, Any]:
    return {
        "items": [
            {
                "product_id": item.product_id,
                "sku": item.sku,
                "name": item.name,
                "unit_price": item.unit_price.as_dict(),
                "quantity": item.quantity,
                "line_total": item.line_total.as_dict(),
                "available": item.available,
            }
            for item in cart.items
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
