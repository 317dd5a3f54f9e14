"""REST routes of the ordering context: parse, call a service, render. No SQL, no policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import CurrentPrincipal, Page, idempotency_store, use
from agora.http.idempotency import Execution, request_hash, run_idempotently
from agora.http.schemas import Envelope, error_responses
from agora.ordering.carts import CartService
from agora.ordering.domain import Order, OrderStatus
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
from agora.platform.access import Principal
from agora.platform.idempotency_keys import IdempotencyStore, validate_key

# Two groups of routes, each under its own tag, joined by ``router`` at the end.
cart_router = APIRouter(prefix="/cart", tags=["cart"])
orders_router = APIRouter(prefix="/orders", tags=["orders"])
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


@cart_router.get(
    "",
    summary="The cart with live prices",
    response_model=Envelope[CartOut],
    responses=error_responses(401),
)
async def view_cart(carts: Carts, principal: CurrentPrincipal) -> Response:
    """Always readable: lines that cannot be bought now carry an ``issue`` and are left
    out of the total; checkout refuses the cart until they are fixed (409 CART_NOT_READY)."""
    return envelope.ok(cart_out(await carts.view(principal)))


@cart_router.post(
    "/items",
    summary="Add a product to the cart (adds to the quantity already there, up to 99)",
    response_model=Envelope[CartOut],
    responses=CART_ERRORS,
)
async def add_cart_item(body: CartItemIn, carts: Carts, principal: CurrentPrincipal) -> Response:
    return envelope.ok(cart_out(await carts.add_item(principal, body.product_id, body.quantity)))


@cart_router.patch(
    "/items/{product_id}",
    summary="Set the quantity of a cart line",
    response_model=Envelope[CartOut],
    responses=CART_ERRORS,
)
async def set_cart_quantity(
    product_id: UUID, body: CartQuantityIn, carts: Carts, principal: CurrentPrincipal
) -> Response:
    return envelope.ok(cart_out(await carts.set_quantity(principal, product_id, body.quantity)))


@cart_router.delete(
    "/items/{product_id}",
    summary="Remove a cart line",
    response_model=Envelope[CartOut],
    responses=CART_ERRORS,
)
async def remove_cart_item(product_id: UUID, carts: Carts, principal: CurrentPrincipal) -> Response:
    return envelope.ok(cart_out(await carts.remove_item(principal, product_id)))


@cart_router.delete(
    "",
    summary="Empty the cart",
    response_model=Envelope[CartOut],
    responses=error_responses(401),
)
async def clear_cart(carts: Carts, principal: CurrentPrincipal) -> Response:
    return envelope.ok(cart_out(await carts.clear(principal)))


# -- orders -----------------------------------------------------------------------------


@orders_router.post(
    "",
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
    return await run_idempotently(
        store,
        f"orders:{principal.user_id}",
        validate_key(idempotency_key),
        request_hash(body),
        checkout,
    )


@orders_router.get(
    "",
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


@orders_router.get(
    "/{order_id}",
    summary="One order (another customer's order is 404)",
    response_model=Envelope[OrderOut],
    responses=error_responses(401, 404, 422),
)
async def get_order(order_id: UUID, orders: Orders, principal: CurrentPrincipal) -> Response:
    return envelope.ok(order_out(await orders.get(principal, order_id)))


# -- order transitions: one route each, all of the same shape ------------------------

Move = Callable[[OrderService, Principal, UUID], Awaitable[Order]]
MoveWithReason = Callable[[OrderService, Principal, UUID, str | None], Awaitable[Order]]
Endpoint = Callable[..., Awaitable[Response]]


def _moving(move: Move) -> Endpoint:
    async def endpoint(order_id: UUID, orders: Orders, principal: CurrentPrincipal) -> Response:
        return envelope.ok(order_out(await move(orders, principal, order_id)))

    return endpoint


def _moving_with_reason(move: MoveWithReason) -> Endpoint:
    async def endpoint(
        order_id: UUID,
        orders: Orders,
        principal: CurrentPrincipal,
        body: OrderCancel | None = None,
    ) -> Response:
        reason = body.reason if body else None
        return envelope.ok(order_out(await move(orders, principal, order_id, reason)))

    return endpoint


# (action, summary, endpoint, description): POST /orders/{order_id}/<action>
TRANSITIONS: tuple[tuple[str, str, Endpoint, str | None], ...] = (
    (
        "cancel",
        "Cancel an order (a paid order is refunded and its stock released)",
        _moving_with_reason(OrderService.cancel),
        None,
    ),
    ("fulfill", "Staff: mark a paid order fulfilled", _moving(OrderService.fulfill), None),
    ("ship", "Staff: mark a fulfilled order shipped", _moving(OrderService.ship), None),
    ("deliver", "Staff: mark a shipped order delivered", _moving(OrderService.deliver), None),
    (
        "refund",
        "Staff: refund a paid or delivered order in full",
        _moving_with_reason(OrderService.refund),
        "Units go back to stock only if the order never shipped.",
    ),
)
for action, summary, endpoint, description in TRANSITIONS:
    orders_router.add_api_route(
        f"/{{order_id}}/{action}",
        endpoint,
        methods=["POST"],
        name=f"{action}_order",
        summary=summary,
        description=description,
        response_model=Envelope[OrderOut],
        responses=TRANSITION_ERRORS,
    )

router = APIRouter()
router.include_router(cart_router)
router.include_router(orders_router)
