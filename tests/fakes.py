"""Hand-written fakes of the ordering and payments ports, for fast service tests.

Each fake unit of work snapshots its store on entry and restores it unless committed,
so the fakes honour "leaving without commit rolls back" like the real ones.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from agora.ordering.domain import Cart, Order, StatusChange
from agora.ordering.ports import OrderFilter
from agora.payments.domain import ACTIVE_STATUSES, Payment
from agora.platform.errors import ConflictError, NotFoundError, OutOfStockError
from agora.platform.events import DomainEvent
from agora.platform.ids import new_id
from agora.platform.money import Money


@dataclass(frozen=True)
class FakeProduct:
    id: UUID
    sku: str
    slug: str
    name: str
    price: Money
    stock: int
    for_sale: bool = True

    @property
    def is_visible(self) -> bool:
        return self.for_sale


def make_product(stock: int = 10, amount: int = 1999, currency: str = "EUR") -> FakeProduct:
    product_id = new_id()
    suffix = product_id.hex[-8:]
    return FakeProduct(
        product_id,
        f"SKU-{suffix}",
        f"p-{suffix}",
        f"Product {suffix}",
        Money(amount, currency),
        stock,
    )


@dataclass
class OrderingStore:
    """Everything the ordering fakes persist, including the catalog's stock."""

    products: dict[UUID, FakeProduct] = field(default_factory=dict)
    orders: dict[UUID, Order] = field(default_factory=dict)
    history: list[StatusChange] = field(default_factory=list)
    carts: dict[UUID, dict[UUID, int]] = field(default_factory=dict)
    events: list[DomainEvent] = field(default_factory=list)

    def add_product(self, product: FakeProduct) -> FakeProduct:
        self.products[product.id] = product
        return product


class FakeCatalog:
    def __init__(self, store: OrderingStore) -> None:
        self._store = store

    async def products_for_sale(self, ids: Collection[UUID]) -> Mapping[UUID, FakeProduct]:
        products = self._store.products
        return {i: products[i] for i in ids if i in products and products[i].for_sale}

    async def products_by_id(self, ids: Collection[UUID]) -> Mapping[UUID, FakeProduct]:
        return {i: self._store.products[i] for i in ids if i in self._store.products}


class FakeStockLedger:
    def __init__(self, store: OrderingStore) -> None:
        self._store = store

    async def reserve(self, product_id: UUID, quantity: int) -> FakeProduct:
        product = self._store.products.get(product_id)
        if product is None or not product.for_sale:
            raise NotFoundError("The product is not for sale.")
        if product.stock < quantity:
            raise OutOfStockError(product_id=str(product_id), available=product.stock)
        self._store.products[product_id] = replace(product, stock=product.stock - quantity)
        return product

    async def release(self, product_id: UUID, quantity: int) -> None:
        product = self._store.products[product_id]
        self._store.products[product_id] = replace(product, stock=product.stock + quantity)


class FakeOrderRepository:
    def __init__(self, store: OrderingStore) -> None:
        self._store = store

    async def add(self, order: Order) -> None:
        self._store.orders[order.id] = order
        self._store.history.append(
            StatusChange(order.id, None, order.status, order.customer_id, order.created_at)
        )

    async def get(self, order_id: UUID) -> Order | None:
        return self._store.orders.get(order_id)

    async def list(
        self, where: OrderFilter, offset: int, limit: int
    ) -> tuple[Sequence[Order], int]:
        found = [
            o
            for o in self._store.orders.values()
            if (where.customer_id is None or o.customer_id == where.customer_id)
            and (where.status is None or o.status is where.status)
            and (where.created_from is None or o.created_at >= where.created_from)
            and (where.created_to is None or o.created_at < where.created_to)
        ]
        found.sort(key=lambda o: (o.created_at, o.id), reverse=True)
        return found[offset : offset + limit], len(found)

    async def save(self, order: Order, change: StatusChange, expected_version: int) -> bool:
        current = self._store.orders.get(order.id)
        if current is None or current.version != expected_version:
            return False
        self._store.orders[order.id] = order
        self._store.history.append(change)
        return True

    async def set_payment(self, order_id: UUID, status: str, reference: str | None) -> None:
        order = self._store.orders[order_id]
        self._store.orders[order_id] = order.with_payment(status, reference)

    async def history(self, order_id: UUID) -> Sequence[StatusChange]:
        return [c for c in self._store.history if c.order_id == order_id]


class FakeCartRepository:
    def __init__(self, store: OrderingStore) -> None:
        self._store = store

    async def get(self, customer_id: UUID) -> Cart:
        return Cart(customer_id, dict(self._store.carts.get(customer_id, {})))

    async def set_quantity(self, customer_id: UUID, product_id: UUID, quantity: int) -> None:
        self._store.carts.setdefault(customer_id, {})[product_id] = quantity

    async def add_quantity(
        self, customer_id: UUID, product_id: UUID, quantity: int, max_quantity: int
    ) -> int | None:
        lines = self._store.carts.setdefault(customer_id, {})
        summed = lines.get(product_id, 0) + quantity
        if summed > max_quantity:
            return None
        lines[product_id] = summed
        return summed

    async def remove(self, customer_id: UUID, product_ids: Collection[UUID]) -> int:
        lines = self._store.carts.get(customer_id, {})
        return sum(lines.pop(p, None) is not None for p in product_ids)

    async def clear(self, customer_id: UUID) -> None:
        self._store.carts.pop(customer_id, None)


class _FakeUnitOfWork:
    def __init__(self, store: Any) -> None:
        self._store = store
        self._events: list[DomainEvent] = []
        self._saved: dict[str, Any] = {}
        self.committed = False

    async def __aenter__(self) -> Self:
        self._saved = copy.deepcopy(self._store.__dict__)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.committed:
            self._store.__dict__.update(self._saved)

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        self._store.events.extend(self._events)
        self._events.clear()
        self.committed = True


class FakeOrderingUnitOfWork(_FakeUnitOfWork):
    def __init__(self, store: OrderingStore) -> None:
        super().__init__(store)
        self.orders = FakeOrderRepository(store)
        self.carts = FakeCartRepository(store)
        self.stock = FakeStockLedger(store)


def ordering_uow_factory(store: OrderingStore) -> Any:
    def factory(*, read_only: bool = False) -> FakeOrderingUnitOfWork:
        return FakeOrderingUnitOfWork(store)

    return factory


@dataclass
class PaymentsStore:
    payments: dict[UUID, Payment] = field(default_factory=dict)
    webhooks: set[str] = field(default_factory=set)
    events: list[DomainEvent] = field(default_factory=list)


class FakePaymentRepository:
    def __init__(self, store: PaymentsStore) -> None:
        self._store = store

    def _latest(self, *matches: Any) -> Payment | None:
        found = [p for p in self._store.payments.values() if all(m(p) for m in matches)]
        return max(found, key=lambda p: p.created_at, default=None)

    async def add(self, payment: Payment) -> None:
        if payment.status in ACTIVE_STATUSES and await self.active_for_order(payment.order_id):
            raise ConflictError("A payment for this order is already in progress.")
        self._store.payments[payment.id] = payment

    async def active_for_order(self, order_id: UUID) -> Payment | None:
        return self._latest(lambda p: p.order_id == order_id, lambda p: p.status in ACTIVE_STATUSES)

    async def latest_for_order(self, order_id: UUID) -> Payment | None:
        return self._latest(lambda p: p.order_id == order_id)

    async def by_reference(self, provider: str, reference: str) -> Payment | None:
        return self._latest(
            lambda p: p.provider == provider, lambda p: p.provider_reference == reference
        )

    async def save(self, payment: Payment, expected_version: int) -> bool:
        current = self._store.payments.get(payment.id)
        if current is None or current.version != expected_version:
            return False
        self._store.payments[payment.id] = payment
        return True

    async def remember_webhook(self, event_id: str, event_type: str) -> bool:
        if event_id in self._store.webhooks:
            return False
        self._store.webhooks.add(event_id)
        return True


class FakePaymentsUnitOfWork(_FakeUnitOfWork):
    def __init__(self, store: PaymentsStore) -> None:
        super().__init__(store)
        self.payments = FakePaymentRepository(store)


def payments_uow_factory(store: PaymentsStore) -> Any:
    def factory(*, read_only: bool = False) -> FakePaymentsUnitOfWork:
        return FakePaymentsUnitOfWork(store)

    return factory


# -- audit trail --------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRecord:
    """One recorded action; readable as attributes or, like an API item, by key."""

    action: str
    actor_id: UUID | None
    target_type: str | None
    target_id: str | None
    outcome: str
    details: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)


@dataclass
class RecordingAuditTrail:
    """The ``AuditTrail`` port, keeping what services record so tests can read it back."""

    records: list[AuditRecord] = field(default_factory=list)

    async def record(
        self,
        action: str,
        *,
        actor_id: UUID | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        outcome: str = "success",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.records.append(
            AuditRecord(action, actor_id, target_type, target_id, outcome, dict(details or {}))
        )

    def actions(self) -> list[tuple[str, str]]:
        return [(r.action, r.outcome) for r in self.records]

    def last(self, action: str) -> AuditRecord:
        return next(r for r in reversed(self.records) if r.action == action)

    def about(self, target_id: object) -> list[AuditRecord]:
        return [r for r in self.records if r.target_id == str(target_id)]
