"""REST routes of the ordering context: parse, call a service, render. No SQL, no policy."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import CurrentPrincipal, Page, idempotency_store, use
from agora.http.idempotency import Execution, run_idempotently
from agora.http.schemas import Envelope, error_responses
from agora.ordering.carts import CartService
from agora.ordering.domain import OrderStatus
from agora.ordering.ports import OrderFilter
from agora.ordering.schemas import (
    CartItemIn,
    CartOut,
    CartQuantityIn,
    OrderCancel,
    OrderCreate,
    OrderOut,
    cart_out,
    order_out,
)
from agora.ordering.services import OrderService
from agora.platform.idempotency_keys import IdempotencyStore, validate_key

router = APIRouter()
Carts = Annotated[CartService, Depends(use(CartService))]
Orders = Annotated[OrderService, Depends(use(OrderService))]
Idempotency = Annotated[IdempotencyStore, Depends(idempotency_store)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retry safely: the same key and body replay the first response.",
    ),
]
CART_ERRORS = error_responses(401, 404, 422)
TRANSITION_ERRORS = error_responses(401, 403, 404, 409, 422)


# -- cart -------------------------------------------------------------------------------


@router.get(
    "/cart",
    tags=["cart"],
    summary="The cart with live prices",
    response_model=Envelope[CartOut],
    responses=error_responses(401),
)
async def view_cart(carts: Carts, principal: CurrentPrincipal) -> Response:
    """Always readable: lines that cannot be bought now carry an ``issue`` and are left
    out of the total; checkout refuses the cart until they are fixed (409 CART_NOT_READY)."""
    return envelope.ok(cart_out(await carts.view(principal)))


@router.post(
    "/cart/items",
    tags=["cart"],
    summary="Add a product to the cart (adds to the quantity already there, up to 99)",
    response_model=Envelope[CartOut],
    responses=CART_ERRORS,
)
async def add_cart_item(body: CartItemIn, carts: Carts, principal: CurrentPrincipal) -> Response:
    return envelope.ok(cart_out(await carts.add_item(principal, body.product_id, body.quantity)))


@router.patch(
    "/cart/items/{product_id}",
    tags=["cart"],
    summary="Set the quantity of a cart line",
    response_model=Envelope[CartOut],
    responses=CART_ERRORS,
)
async def set_cart_quantity(
    product_id: UUID, body: CartQuantityIn, carts: Carts, principal: CurrentPrincipal
) -> Response:
    return envelope.ok(cart_out(await carts.set_quantity(principal, product_id, body.quantity)))


@router.delete(
    "/cart/items/{product_id}",
    tags=["cart"],
    summary="Remove a cart line",
    response_model=Envelope[CartOut],
    responses=CART_ERRORS,
)
async def remove_cart_item(product_id: UUID, carts: Carts, principal: CurrentPrincipal) -> Response:
    return envelope.ok(cart_out(await carts.remove_item(principal, product_id)))


@router.delete(
    "/cart",
    tags=["cart"],
    summary="Empty the cart",
    response_model=Envelope[CartOut],
    responses=error_responses(401),
)
async def clear_cart(carts: Carts, principal: CurrentPrincipal) -> Response:
    return envelope.ok(cart_out(await carts.clear(principal)))


# -- orders -----------------------------------------------------------------------------


@router.post(
    "/orders",
    tags=["orders"],
    summary="Place an order (checkout) from explicit items or the cart",
    status_code=201,
    response_model=Envelope[OrderOut],
    responses=error_responses(401, 402, 403, 404, 409, 422),
)
async def place_order(
    body: OrderCreate,
    orders: Orders,
    store: Idempotency,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Reserve stock, charge, confirm; a declined payment is 402 and changes no stock.

    With ``Idempotency-Key``, an outcome is stored only once the request started
    executing (the order was placed and its stock reserved): the order (201), a declined
    payment (402) or a cancellation during payment (409) is replayed byte for byte for
    the same key and body. A request refused before that (422 validation or empty cart,
    404, 409 out of stock or ``CART_NOT_READY``, 403) stores nothing, so the same key
    works once the cause is fixed. The same key with another body is 422
    ``IDEMPOTENCY_KEY_REUSED``; while the first is running, 409 ``REQUEST_IN_PROGRESS``.
    When the shop requires a verified email address, an unverified customer gets 403
    ``EMAIL_NOT_VERIFIED``.
    """
    items = None if body.items is None else [(i.product_id, i.quantity) for i in body.items]

    async def checkout(execution: Execution | None = None) -> Response:
        order = await orders.place_order(
            principal,
            body.payment_token,
            items,
            idempotency_key,
            on_started=None if execution is None else execution.start,
        )
        return envelope.ok(order_out(order), status_code=201)

    if idempotency_key is None:
        return await checkout()
    canonical = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return await run_idempotently(
        store,
        f"orders:{principal.user_id}",
        validate_key(idempotency_key),
        hashlib.sha256(canonical).hexdigest(),
        checkout,
    )


@router.get(
    "/orders",
    tags=["orders"],
    summary="List orders, newest first (customers: their own; staff: all, with filters)",
    response_model=Envelope[list[OrderOut]],
    responses=error_responses(401, 422),
)
async def list_orders(
    *,
    orders: Orders,
    principal: CurrentPrincipal,
    page: Page,
    status: Annotated[OrderStatus | None, Query()] = None,
    customer_id: Annotated[UUID | None, Query(description="Staff only")] = None,
    created_from: Annotated[datetime | None, Query(description="Inclusive, ISO 8601")] = None,
    created_to: Annotated[datetime | None, Query(description="Exclusive, ISO 8601")] = None,
) -> Response:
    where = OrderFilter(customer_id, status, created_from, created_to)
    found, total = await orders.list(principal, where, page.offset, page.page_size)
    return envelope.ok(
        [order_out(o) for o in found],
        pagination=envelope.pagination(page.page, page.page_size, total),
    )


@router.get(
    "/orders/{order_id}",
    tags=["orders"],
    summary="One order (another customer's order is 404)",
    response_model=Envelope[OrderOut],
    responses=error_responses(401, 404, 422),
)
async def get_order(order_id: UUID, orders: Orders, principal: CurrentPrincipal) -> Response:
    return envelope.ok(order_out(await orders.get(principal, order_id)))


@router.post(
    "/orders/{order_id}/cancel",
    tags=["orders"],
    summary="Cancel an order (a paid order is refunded and its stock released)",
    response_model=Envelope[OrderOut],
    responses=TRANSITION_ERRORS,
)
async def cancel_order(
    order_id: UUID,
    orders: Orders,
    principal: CurrentPrincipal,
    body: OrderCancel | None = None,
) -> Response:
    reason = body.reason if body else None
    return envelope.ok(order_out(await orders.cancel(principal, order_id, reason)))


@router.post(
    "/orders/{order_id}/fulfill",
    tags=["orders"],
    summary="Staff: mark a paid order fulfilled",
    response_model=Envelope[OrderOut],
    responses=TRANSITION_ERRORS,
)
async def fulfill_order(order_id: UUID, orders: Orders, principal: CurrentPrincipal) -> Response:
    return envelope.ok(order_out(await orders.fulfill(principal, order_id)))


@router.post(
    "/orders/{order_id}/ship",
    tags=["orders"],
    summary="Staff: mark a fulfilled order shipped",
    response_model=Envelope[OrderOut],
    responses=TRANSITION_ERRORS,
)
async def ship_order(order_id: UUID, orders: Orders, principal: CurrentPrincipal) -> Response:
    return envelope.ok(order_out(await orders.ship(principal, order_id)))


@router.post(
    "/orders/{order_id}/deliver",
    tags=["orders"],
    summary="Staff: mark a shipped order delivered",
    response_model=Envelope[OrderOut],
    responses=TRANSITION_ERRORS,
)
async def deliver_order(order_id: UUID, orders: Orders, principal: CurrentPrincipal) -> Response:
    return envelope.ok(order_out(await orders.deliver(principal, order_id)))


@router.post(
    "/orders/{order_id}/refund",
    tags=["orders"],
    summary="Staff: refund a paid or delivered order in full",
    response_model=Envelope[OrderOut],
    responses=TRANSITION_ERRORS,
)
async def refund_order(
    order_id: UUID,
    orders: Orders,
    principal: CurrentPrincipal,
    body: OrderCancel | None = None,
) -> Response:
    """Units go back to stock only if the order never shipped."""
    reason = body.reason if body else None
    return envelope.ok(order_out(await orders.refund(principal, order_id, reason)))
