"""Ports of the ordering context: what checkout needs from the catalog, payments and storage.

The catalog and payments contexts implement the first group; the composition root
plugs them in, so ordering never imports another context.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.ordering.domain import Cart, Order, OrderStatus, StatusChange
from agora.platform.money import Money
from agora.platform.unit_of_work import UnitOfWork, UnitOfWorkFactory


class ProductView(Protocol):
    """A product as the catalog shows it now."""

    @property
    def id(self) -> UUID: ...
    @property
    def sku(self) -> str: ...
    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def price(self) -> Money: ...
    @property
    def stock(self) -> int: ...
    @property
    def is_visible(self) -> bool:
        """Published and not deleted: on sale to shoppers."""
        ...


class ProductCatalog(Protocol):
    async def products_for_sale(self, ids: Collection[UUID]) -> Mapping[UUID, ProductView]:
        """Published, not deleted products among ``ids``; unknown ids are left out."""
        ...

    async def products_by_id(self, ids: Collection[UUID]) -> Mapping[UUID, ProductView]:
        """Every stored product among ``ids``, also unpublished and deleted ones."""
        ...


class CustomerAccounts(Protocol):
    """What checkout may need to know about the customer (implemented by identity)."""

    async def email_verified(self, customer_id: UUID) -> bool: ...


class StockReservation(Protocol):
    """The product as it was when its units were taken: what the order snapshots."""

    @property
    def id(self) -> UUID: ...
    @property
    def sku(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def price(self) -> Money: ...


class StockLedger(Protocol):
    """Stock moves, on the ordering unit of work's own transaction."""

    async def reserve(self, product_id: UUID, quantity: int) -> StockReservation:
        """Take units atomically; ``OutOfStockError`` / ``NotFoundError`` otherwise."""
        ...

    async def release(self, product_id: UUID, quantity: int) -> None: ...


class PaymentOutcome(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def reference(self) -> str | None: ...
    @property
    def decline_reason(self) -> str | None: ...
    @property
    def succeeded(self) -> bool: ...


class PaymentProcessor(Protocol):
    """Charges and refunds orders (implemented by the payments context)."""

    def check_token(self, token: str) -> None: ...

    async def charge(
        self,
        order_id: UUID,
        customer_id: UUID,
        amount: Money,
        token: str,
        idempotency_key: str,
    ) -> PaymentOutcome: ...

    async def refund(self, order_id: UUID) -> PaymentOutcome: ...

    async def reconcile(self, order_id: UUID) -> PaymentOutcome | None:
        """The order's payment as the provider knows it (asking the provider when its
        answer was never recorded); None when the order has no payment."""
        ...


@dataclass(frozen=True, slots=True)
class OrderFilter:
    customer_id: UUID | None = None
    status: OrderStatus | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class OrderRepository(Protocol):
    async def add(self, order: Order) -> None: ...

    async def get(self, order_id: UUID) -> Order | None: ...

    async def list(
        self, where: OrderFilter, offset: int, limit: int
    ) -> tuple[Sequence[Order], int]:
        """One page, newest first, and the total count."""
        ...

    async def save(self, order: Order, change: StatusChange, expected_version: int) -> bool:
        """Write a transition if the stored version is still ``expected_version``."""
        ...

    async def set_payment(self, order_id: UUID, status: str, reference: str | None) -> None:
        """Record the latest payment status shown with the order (not a transition)."""
        ...

    async def history(self, order_id: UUID) -> Sequence[StatusChange]: ...


class CartRepository(Protocol):
    async def get(self, customer_id: UUID) -> Cart: ...

    async def set_quantity(self, customer_id: UUID, product_id: UUID, quantity: int) -> None: ...

    async def add_quantity(
        self, customer_id: UUID, product_id: UUID, quantity: int, max_quantity: int
    ) -> int | None:
        """Atomically add to a line (creating it); None if the sum would pass ``max_quantity``."""
        ...

    async def remove(self, customer_id: UUID, product_ids: Collection[UUID]) -> int:
        """Remove lines; returns how many existed."""
        ...

    async def clear(self, customer_id: UUID) -> None: ...

    async def delete_untouched_since(self, before: datetime) -> int:
        """Remove every cart none of whose lines changed since ``before``; returns how
        many lines went."""
        ...


class OrderingUnitOfWork(UnitOfWork, Protocol):
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def carts(self) -> CartRepository: ...
    @property
    def stock(self) -> StockLedger: ...


OrderingUnitOfWorkFactory = UnitOfWorkFactory[OrderingUnitOfWork]
