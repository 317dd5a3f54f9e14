"""The checkout saga and order transitions, built by the composition root on fakes of
every port."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

import pytest

from agora.bootstrap.commerce import build_ordering, build_payments
from agora.ordering.carts import CartService
from agora.ordering.consumers import refund_due_consumer
from agora.ordering.domain import OrderStatus
from agora.ordering.events import OrderMoved
from agora.ordering.ports import OrderFilter, PaymentProcessor
from agora.ordering.pricing import LineIssue
from agora.ordering.services import OrderService
from agora.payments.adapters.test_cards import TestCardGateway
from agora.payments.domain import PaymentProviderError, PaymentResult, PaymentStatus
from agora.platform.access import Principal, Role
from agora.platform.errors import (
    ConflictError,
    IllegalTransitionError,
    NotFoundError,
    OutOfStockError,
    PaymentDeclinedError,
    PermissionDeniedError,
    ValidationError,
)
from agora.platform.events.consumers import Received
from agora.platform.money import Money
from tests.fakes import (
    FakeCatalog,
    FakeOrderingUnitOfWork,
    FakePaymentsUnitOfWork,
    FakeProduct,
    FakeTestChargesUnitOfWork,
    OrderingStore,
    PaymentsStore,
    ProviderChargesStore,
    RecordingAuditTrail,
    VerifiedAccounts,
    make_product,
    unit_settings,
)


class World:
    """Ordering and payments as the composition root builds them, on fakes of every port."""

    def __init__(self) -> None:
        self.store = OrderingStore()
        self.payments_store = PaymentsStore()
        self.audit = RecordingAuditTrail()
        self.payments = build_payments(
            FakePaymentsUnitOfWork.factory(self.payments_store),
            TestCardGateway(FakeTestChargesUnitOfWork.factory(ProviderChargesStore()), "secret"),
            self.audit,
        )
        self.carts, self.orders = self.ordering(FakeCatalog(self.store), self.payments)
        self.customer = Principal.for_user(uuid4(), Role.CUSTOMER)
        self.staff = Principal.for_user(uuid4(), Role.STAFF)

    def ordering(
        self, catalog: FakeCatalog, payments: PaymentProcessor
    ) -> tuple[CartService, OrderService]:
        """Carts and orders on this world's store, with these catalog and payments."""
        return build_ordering(
            unit_settings(currency="EUR"),
            FakeOrderingUnitOfWork.factory(self.store),
            catalog=catalog,
            payments=payments,
            accounts=VerifiedAccounts(),
            audit=self.audit,
        )

    def product(self, stock: int = 10, amount: int = 1999) -> FakeProduct:
        return self.store.add_product(make_product(stock, amount))

    def stock(self, product: FakeProduct) -> int:
        return self.store.products[product.id].stock


@pytest.fixture
def world() -> World:
    return World()


async def test_checkout_reserves_stock_charges_and_marks_paid(world: World) -> None:
    a, b = world.product(amount=1000), world.product(amount=250)
    order = await world.orders.place_order(world.customer, "tok_success", [(a.id, 2), (b.id, 3)])
    assert order.status is OrderStatus.PAID
    assert order.total.amount == 2 * 1000 + 3 * 250
    assert order.payment_status == "captured"
    assert order.payment_reference
    assert (world.stock(a), world.stock(b)) == (8, 7)
    assert {line.sku for line in order.items} == {a.sku, b.sku}
    assert [e.name for e in world.store.events] == ["ordering.OrderPlaced", "ordering.OrderPaid"]
    history = [c.to_status for c in world.store.history if c.order_id == order.id]
    assert history == [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("tok_declined", "card_declined"),
        ("tok_insufficient_funds", "insufficient_funds"),
        ("tok_processing_error", "processing_error"),
    ],
)
async def test_failed_payment_releases_stock_and_marks_the_order_failed(
    world: World, token: str, reason: str
) -> None:
    product = world.product(stock=5)
    with pytest.raises(PaymentDeclinedError) as caught:
        await world.orders.place_order(world.customer, token, [(product.id, 2)])
    assert caught.value.details["reason"] == reason
    assert world.stock(product) == 5
    (order,) = world.store.orders.values()
    assert str(order.id) == caught.value.details["order_id"]
    assert order.status is OrderStatus.PAYMENT_FAILED


async def test_out_of_stock_persists_nothing(world: World) -> None:
    plenty, scarce = world.product(stock=10), world.product(stock=1)
    with pytest.raises(OutOfStockError):
        await world.orders.place_order(
            world.customer, "tok_success", [(plenty.id, 1), (scarce.id, 2)]
        )
    assert (world.stock(plenty), world.stock(scarce)) == (10, 1)
    assert world.store.orders == {}
    assert world.payments_store.payments == {}


async def test_unknown_token_is_refused_before_anything_happens(world: World) -> None:
    product = world.product()
    with pytest.raises(ValidationError):
        await world.orders.place_order(world.customer, "tok_nope", [(product.id, 1)])
    assert world.stock(product) == 10
    assert world.store.orders == {}


async def test_checkout_from_the_cart_empties_the_bought_lines(world: World) -> None:
    a, b = world.product(), world.product()
    await world.carts.add_item(world.customer, a.id, 2)
    await world.carts.add_item(world.customer, b.id, 1)
    order = await world.orders.place_order(world.customer, "tok_success")
    assert {(line.product_id, line.quantity) for line in order.items} == {(a.id, 2), (b.id, 1)}
    assert (await world.carts.view(world.customer)).items == ()


async def test_checkout_with_an_empty_cart_is_refused(world: World) -> None:
    with pytest.raises(ValidationError):
        await world.orders.place_order(world.customer, "tok_success")


async def test_declined_checkout_keeps_the_cart(world: World) -> None:
    product = world.product()
    await world.carts.add_item(world.customer, product.id, 1)
    with pytest.raises(PaymentDeclinedError):
        await world.orders.place_order(world.customer, "tok_declined")
    assert len((await world.carts.view(world.customer)).items) == 1


async def test_customer_cancels_a_paid_order_and_gets_a_refund(world: World) -> None:
    product = world.product()
    order = await world.orders.place_order(world.customer, "tok_success", [(product.id, 3)])
    cancelled = await world.orders.cancel(world.customer, order.id, "changed my mind")
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.payment_status == "refunded"
    assert world.stock(product) == 10
    (payment,) = world.payments_store.payments.values()
    assert payment.status is PaymentStatus.REFUNDED


async def test_a_second_cancel_is_refused_and_refunds_nothing_more(world: World) -> None:
    product = world.product()
    order = await world.orders.place_order(world.customer, "tok_success", [(product.id, 1)])
    await world.orders.cancel(world.customer, order.id)
    with pytest.raises(IllegalTransitionError):
        await world.orders.cancel(world.customer, order.id)
    assert world.stock(product) == 10


async def test_customer_cannot_cancel_a_fulfilled_order_but_staff_can(world: World) -> None:
    product = world.product()
    order = await world.orders.place_order(world.customer, "tok_success", [(product.id, 1)])
    await world.orders.fulfill(world.staff, order.id)
    with pytest.raises(IllegalTransitionError):
        await world.orders.cancel(world.customer, order.id)
    cancelled = await world.orders.cancel(world.staff, order.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert world.stock(product) == 10


async def test_staff_moves_an_order_to_delivered_and_refunds_without_restocking(
    world: World,
) -> None:
    product = world.product()
    order = await world.orders.place_order(world.customer, "tok_success", [(product.id, 2)])
    for move in (world.orders.fulfill, world.orders.ship, world.orders.deliver):
        order = await move(world.staff, order.id)
    assert order.status is OrderStatus.DELIVERED
    refunded = await world.orders.refund(world.staff, order.id)
    assert refunded.status is OrderStatus.REFUNDED
    assert refunded.payment_status == "refunded"
    assert world.stock(product) == 8  # shipped goods are not back on the shelf


async def test_refund_of_a_paid_order_restocks(world: World) -> None:
    product = world.product()
    order = await world.orders.place_order(world.customer, "tok_success", [(product.id, 2)])
    await world.orders.refund(world.staff, order.id)
    assert world.stock(product) == 10


async def test_customers_cannot_use_staff_transitions(world: World) -> None:
    product = world.product()
    order = await world.orders.place_order(world.customer, "tok_success", [(product.id, 1)])
    for move in (
        world.orders.fulfill,
        world.orders.ship,
        world.orders.deliver,
        world.orders.refund,
    ):
        with pytest.raises(PermissionDeniedError):
            await move(world.customer, order.id)


async def test_customer_cannot_see_another_customers_order(world: World) -> None:
    product = world.product()
    order = await world.orders.place_order(world.customer, "tok_success", [(product.id, 1)])
    stranger = Principal.for_user(uuid4(), Role.CUSTOMER)
    with pytest.raises(NotFoundError):
        await world.orders.get(stranger, order.id)
    with pytest.raises(NotFoundError):
        await world.orders.cancel(stranger, order.id)
    assert (await world.orders.list(stranger, OrderFilter(), 0, 20)) == ([], 0)
    assert (await world.orders.get(world.staff, order.id)).id == order.id


async def test_customer_list_is_limited_to_their_orders_even_with_a_filter(world: World) -> None:
    product = world.product()
    mine = await world.orders.place_order(world.customer, "tok_success", [(product.id, 1)])
    other = Principal.for_user(uuid4(), Role.CUSTOMER)
    await world.orders.place_order(other, "tok_success", [(product.id, 1)])
    orders, count = await world.orders.list(
        world.customer, OrderFilter(customer_id=other.user_id), 0, 20
    )
    assert [o.id for o in orders] == [mine.id]
    assert count == 1
    _, everyone = await world.orders.list(world.staff, OrderFilter(), 0, 20)
    assert everyone == 2


async def test_cart_prices_live_and_flags_lines_that_cannot_be_bought(world: World) -> None:
    a, b = world.product(amount=500), world.product(amount=700, stock=1)
    await world.carts.add_item(world.customer, a.id, 2)
    view = await world.carts.add_item(world.customer, b.id, 3)
    assert view.total.amount == 2 * 500  # b's 3 units are not in stock: not in the total
    assert view.item_count == 2
    assert [line.issue for line in view.items] == [None, LineIssue.OUT_OF_STOCK]
    world.store.products[b.id] = replace(b, for_sale=False)
    view = await world.carts.view(world.customer)
    assert [(line.product_id, line.issue) for line in view.items] == [
        (a.id, None),
        (b.id, LineIssue.UNAVAILABLE),
    ]
    assert view.items[1].unit_price is None
    assert view.items[1].name == b.name


async def test_cart_refuses_unknown_products_and_quantities_out_of_range(world: World) -> None:
    product = world.product()
    with pytest.raises(NotFoundError):
        await world.carts.add_item(world.customer, uuid4(), 1)
    for quantity in (0, 100):
        with pytest.raises(ValidationError):
            await world.carts.add_item(world.customer, product.id, quantity)
    await world.carts.add_item(world.customer, product.id, 98)
    with pytest.raises(ValidationError):
        await world.carts.add_item(world.customer, product.id, 2)
    with pytest.raises(NotFoundError):
        await world.carts.set_quantity(world.customer, uuid4(), 1)
    with pytest.raises(NotFoundError):
        await world.carts.remove_item(world.customer, uuid4())


class CancelDuringCharge:
    """A payment processor during whose charge the customer cancels the order."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.orders: OrderService | None = None

    def check_token(self, token: str) -> None:
        self.world.payments.check_token(token)

    async def charge(self, order_id: UUID, *args: Any) -> PaymentResult:
        assert self.orders is not None
        await self.orders.cancel(self.world.customer, order_id)
        return await self.world.payments.charge(order_id, *args)

    async def refund(self, order_id: UUID) -> PaymentResult:
        return await self.world.payments.refund(order_id)


async def test_order_cancelled_while_being_paid_is_refunded(world: World) -> None:
    product = world.product()
    processor = CancelDuringCharge(world)
    _, orders = world.ordering(FakeCatalog(world.store), processor)
    processor.orders = orders
    with pytest.raises(ConflictError):
        await orders.place_order(world.customer, "tok_success", [(product.id, 2)])
    (order,) = world.store.orders.values()
    assert order.status is OrderStatus.CANCELLED
    assert order.payment_status == "refunded"
    assert world.stock(product) == 10  # released once, by the cancel
    (payment,) = world.payments_store.payments.values()
    assert payment.status is PaymentStatus.REFUNDED


class StaleCatalog(FakeCatalog):
    """Answers with an older price the first ``stale_reads`` times (a concurrent change)."""

    def __init__(self, store: OrderingStore, stale_reads: int) -> None:
        super().__init__(store)
        self.stale_reads = stale_reads

    async def products_for_sale(self, ids: Any) -> Any:
        found = dict(await super().products_for_sale(ids))
        if self.stale_reads > 0:
            self.stale_reads -= 1
            found = {
                i: replace(p, price=Money(p.price.amount - 100, "EUR")) for i, p in found.items()
            }
        return found


def with_catalog(world: World, catalog: FakeCatalog) -> OrderService:
    return world.ordering(catalog, world.payments)[1]


async def test_a_price_change_during_checkout_is_retried_with_the_new_price(
    world: World,
) -> None:
    product = world.product(stock=5, amount=2500)
    orders = with_catalog(world, StaleCatalog(world.store, stale_reads=1))
    order = await orders.place_order(world.customer, "tok_success", [(product.id, 2)])
    assert order.total == Money(5000, "EUR")
    assert world.stock(product) == 3
    assert len(world.store.orders) == 1


async def test_a_catalog_that_keeps_changing_fails_the_checkout_cleanly(world: World) -> None:
    product = world.product(stock=5, amount=2500)
    orders = with_catalog(world, StaleCatalog(world.store, stale_reads=99))
    with pytest.raises(ConflictError):
        await orders.place_order(world.customer, "tok_success", [(product.id, 2)])
    assert world.stock(product) == 5
    assert world.store.orders == {}
    assert world.payments_store.payments == {}


class RefundsDown:
    """A payment processor whose provider refuses refunds until it comes back."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.down = True
        self.refund_calls = 0

    def check_token(self, token: str) -> None:
        self.world.payments.check_token(token)

    async def charge(self, *args: Any) -> PaymentResult:
        return await self.world.payments.charge(*args)

    async def refund(self, order_id: UUID) -> PaymentResult:
        self.refund_calls += 1
        if self.down:
            raise PaymentProviderError("The provider is unreachable.")
        return await self.world.payments.refund(order_id)


async def test_a_cancel_stands_when_the_refund_fails_and_the_consumer_refunds_later(
    world: World,
) -> None:
    product = world.product()
    processor = RefundsDown(world)
    _, orders = world.ordering(FakeCatalog(world.store), processor)
    order = await orders.place_order(world.customer, "tok_success", [(product.id, 2)])

    cancelled = await orders.cancel(world.customer, order.id, "changed my mind")

    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.payment_status == "captured"  # the money is still to go back
    assert world.stock(product) == 10
    event = world.store.events[-1]
    assert (event.name, event.payload["refund_due"]) == ("ordering.OrderCancelled", True)

    handle = refund_due_consumer(orders).handler
    received = Received(
        id=event.id,
        name=event.name,
        version=event.version,
        aggregate_id=event.aggregate_id,
        occurred_at=event.occurred_at,
        attempt=1,
        payload=OrderMoved.model_validate(event.payload),
    )
    with pytest.raises(PaymentProviderError):  # still down: the backbone retries later
        await handle(received)
    processor.down = False
    await handle(received)
    await handle(received)  # a redelivery refunds nothing more

    (payment,) = world.payments_store.payments.values()
    assert payment.status is PaymentStatus.REFUNDED
    assert world.store.orders[order.id].payment_status == "refunded"
    assert processor.refund_calls == 3  # the settled order is not sent to the provider again
    assert world.stock(product) == 10  # the refund moved no stock
