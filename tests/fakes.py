"""Hand-written fakes of the contexts' ports, for unit tests that build services through
the composition root (``agora.bootstrap``'s area builders) without a database.

Every context's fake unit of work extends ``FakeUnitOfWork``: it works on the context's
store (a dataclass standing for its tables), snapshots it on entry and restores it
unless committed, so leaving without commit rolls back as it does in the database;
committed events land in ``store.events``. The repositories implement what the unit
tests reach, no more.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from agora.bootstrap.identity import IdentityAdapters
from agora.catalog.domain import Category, Product, ProductFilter, search_terms
from agora.identity.access.domain import AccountAccess, ApiKey
from agora.identity.accounts.adapters.password_strength import ZxcvbnStrengthEstimator
from agora.identity.accounts.domain import EmailToken, EmailTokenPurpose
from agora.identity.domain import User
from agora.identity.mfa.adapters.qr_code import SegnoQrCodes
from agora.identity.mfa.domain import TotpCredential
from agora.identity.sessions.domain import RefreshToken
from agora.identity.sessions.throttle import NoLoginThrottle
from agora.identity.tokens.adapters.key_store import MemorySigningKeyStore
from agora.notifications.domain import EmailMessage
from agora.ordering.domain import Cart, Order, StatusChange
from agora.ordering.ports import OrderFilter
from agora.payments.adapters.test_cards import TestCharge
from agora.payments.domain import ACTIVE_STATUSES, GatewayStatus, Payment
from agora.platform.clock import utcnow
from agora.platform.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    OutOfStockError,
    StaleVersionError,
)
from agora.platform.events import DomainEvent
from agora.platform.ids import new_id
from agora.platform.money import Money
from agora.platform.settings import Settings
from tests.conftest import make_test_settings


def unit_settings(**overrides: object) -> Settings:
    """Settings to build services on fakes with: their database is never opened."""
    return make_test_settings("sqlite+aiosqlite:///:memory:", **overrides)


class FakeUnitOfWork:
    def __init__(self, store: Any, *, read_only: bool = False) -> None:
        self.store = store
        self._read_only = read_only
        self._events: list[DomainEvent] = []
        self._saved: dict[str, Any] = {}
        self.committed = False

    @classmethod
    def factory(cls, store: Any) -> Callable[..., Self]:
        """What services take: ``factory()`` opens a writing unit, ``factory(read_only=True)``
        a query."""

        def open_unit(*, read_only: bool = False) -> Self:
            return cls(store, read_only=read_only)

        return open_unit

    async def __aenter__(self) -> Self:
        self._saved = copy.deepcopy(self.store.__dict__)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.committed:
            return
        # In place, so that repositories (and units still open) keep seeing the store.
        for name, saved in self._saved.items():
            current = getattr(self.store, name)
            if isinstance(current, dict):
                current.clear()
                current.update(saved)
            elif isinstance(current, list):
                current[:] = saved
            else:
                setattr(self.store, name, saved)

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        assert not self._read_only, "a read-only unit must not commit"
        self.store.events.extend(self._events)
        self._events.clear()
        self.committed = True


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


# -- catalog ------------------------------------------------------------------------------


@dataclass
class CatalogStore:
    products: dict[UUID, Product] = field(default_factory=dict)
    categories: dict[UUID, Category] = field(default_factory=dict)
    events: list[DomainEvent] = field(default_factory=list)


class FakeProducts:
    def __init__(self, store: CatalogStore) -> None:
        self._store = store

    async def get(self, product_id: UUID, *, for_update: bool = False) -> Product | None:
        return self._store.products.get(product_id)

    async def get_by_slug(self, slug: str) -> Product | None:
        return next((p for p in self._store.products.values() if p.slug == slug), None)

    async def get_many(self, ids: Collection[UUID]) -> list[Product]:
        return [p for i, p in self._store.products.items() if i in ids]

    async def add(self, product: Product) -> None:
        await self.add_many([product])

    async def add_many(self, products: Sequence[Product]) -> None:
        for product in products:
            for name in ("sku", "slug"):
                if any(
                    getattr(p, name) == getattr(product, name)
                    for p in self._store.products.values()
                ):
                    raise AlreadyExistsError(field=name)
            self._store.products[product.id] = product

    async def update(self, product: Product, expected_version: int) -> Product:
        stored = self._store.products[product.id]
        if stored.version != expected_version or stored.deleted_at is not None:
            raise StaleVersionError()
        saved = replace(product, version=stored.version + 1)
        self._store.products[product.id] = saved
        return saved

    async def adjust_stock(self, product_id: UUID, delta: int, now: datetime) -> Product | None:
        product = self._store.products.get(product_id)
        if product is None or product.deleted_at is not None or product.stock + delta < 0:
            return None
        saved = replace(product, stock=product.stock + delta, updated_at=now)
        self._store.products[product_id] = saved
        return saved

    async def search(
        self, query: ProductFilter, *, offset: int, limit: int
    ) -> tuple[list[Product], int]:
        terms = search_terms(query.q)
        found = [
            p
            for p in self._store.products.values()
            if p.deleted_at is None
            and (p.is_published or query.include_unpublished)
            and all(t in p.name.lower() for t in terms)
        ]
        return found[offset : offset + limit], len(found)

    async def count_in_category(self, category_id: UUID) -> int:
        return sum(
            1
            for p in self._store.products.values()
            if p.category_id == category_id and p.deleted_at is None
        )

    async def exists(self) -> bool:
        return any(p.deleted_at is None for p in self._store.products.values())


class FakeCategories:
    def __init__(self, store: CatalogStore) -> None:
        self._store = store

    async def get(self, category_id: UUID) -> Category | None:
        return self._store.categories.get(category_id)

    async def get_by_slug(self, slug: str) -> Category | None:
        return next((c for c in self._store.categories.values() if c.slug == slug), None)

    async def list_all(self) -> list[Category]:
        return [c for c in self._store.categories.values() if c.deleted_at is None]

    async def add(self, category: Category) -> None:
        await self.add_many([category])

    async def add_many(self, categories: Sequence[Category]) -> None:
        for category in categories:
            if await self.get_by_slug(category.slug):
                raise AlreadyExistsError(field="slug")
            self._store.categories[category.id] = category

    async def update(self, category: Category, expected_version: int) -> Category:
        stored = self._store.categories[category.id]
        if stored.version != expected_version:
            raise StaleVersionError()
        saved = replace(category, version=stored.version + 1)
        self._store.categories[category.id] = saved
        return saved

    async def has_children(self, category_id: UUID) -> bool:
        return any(
            c.parent_id == category_id and c.deleted_at is None
            for c in self._store.categories.values()
        )


class FakeCatalogUnitOfWork(FakeUnitOfWork):
    def __init__(self, store: CatalogStore, *, read_only: bool = False) -> None:
        super().__init__(store, read_only=read_only)
        self.products = FakeProducts(store)
        self.categories = FakeCategories(store)


# -- ordering (with the catalog's stock as ordering sees it) ------------------------------


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


class FakeOrderingUnitOfWork(FakeUnitOfWork):
    def __init__(self, store: OrderingStore, *, read_only: bool = False) -> None:
        super().__init__(store, read_only=read_only)
        self.orders = FakeOrderRepository(store)
        self.carts = FakeCartRepository(store)
        self.stock = FakeStockLedger(store)


@dataclass
class VerifiedAccounts:
    """The ``CustomerAccounts`` port: the customers whose email is verified."""

    verified: set[UUID] = field(default_factory=set)

    async def email_verified(self, customer_id: UUID) -> bool:
        return customer_id in self.verified


# -- payments -----------------------------------------------------------------------------


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


class FakePaymentsUnitOfWork(FakeUnitOfWork):
    def __init__(self, store: PaymentsStore, *, read_only: bool = False) -> None:
        super().__init__(store, read_only=read_only)
        self.payments = FakePaymentRepository(store)


@dataclass
class ProviderChargesStore:
    """The test card provider's book of charges, by reference."""

    charges: dict[str, TestCharge] = field(default_factory=dict)
    events: list[DomainEvent] = field(default_factory=list)


class FakeTestCharges:
    def __init__(self, store: ProviderChargesStore) -> None:
        self._rows = store.charges

    async def by_idempotency_key(self, idempotency_key: str) -> TestCharge | None:
        return next((c for c in self._rows.values() if c.idempotency_key == idempotency_key), None)

    async def add(self, charge: TestCharge) -> TestCharge:
        existing = await self.by_idempotency_key(charge.idempotency_key)
        if existing is not None:
            return existing
        self._rows[charge.reference] = charge
        return charge

    async def get(self, reference: str) -> TestCharge | None:
        return self._rows.get(reference)

    async def capture(self, reference: str) -> bool:
        charge = self._rows.get(reference)
        if charge is None or charge.status is GatewayStatus.DECLINED:
            return False
        self._rows[reference] = replace(charge, status=GatewayStatus.CAPTURED)
        return True

    async def refund(self, reference: str, amount: Money) -> bool:
        charge = self._rows.get(reference)
        if (
            charge is None
            or charge.status is not GatewayStatus.CAPTURED
            or charge.amount.currency != amount.currency
            or charge.refunded_amount + amount.amount > charge.amount.amount
        ):
            return False
        self._rows[reference] = replace(
            charge, refunded_amount=charge.refunded_amount + amount.amount
        )
        return True


class FakeTestChargesUnitOfWork(FakeUnitOfWork):
    def __init__(self, store: ProviderChargesStore, *, read_only: bool = False) -> None:
        super().__init__(store, read_only=read_only)
        self.charges = FakeTestCharges(store)


# -- identity -----------------------------------------------------------------------------


@dataclass
class IdentityStore:
    users: dict[UUID, User] = field(default_factory=dict)
    tokens: dict[UUID, RefreshToken] = field(default_factory=dict)
    email_tokens: dict[UUID, EmailToken] = field(default_factory=dict)
    api_keys: dict[UUID, ApiKey] = field(default_factory=dict)
    totp: dict[UUID, TotpCredential] = field(default_factory=dict)
    events: list[DomainEvent] = field(default_factory=list)


class FakeUsers:
    def __init__(self, store: IdentityStore) -> None:
        self.rows = store.users

    async def add(self, user: User) -> None:
        if any(u.email == user.email for u in self.rows.values()):
            raise AlreadyExistsError(field="email")
        self.rows[user.id] = user

    async def get(self, user_id: UUID) -> User | None:
        return self.rows.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self.rows.values() if u.email == email), None)

    async def update(self, user: User, expected_version: int) -> None:
        if self.rows[user.id].version != expected_version:
            raise StaleVersionError()
        self.rows[user.id] = user

    async def set_password_hash(self, user_id: UUID, password_hash: str) -> None:
        self.rows[user_id] = replace(self.rows[user_id], password_hash=password_hash)

    async def mark_email_verified(self, user_id: UUID, email: str, now: datetime) -> bool:
        user = self.rows.get(user_id)
        if user is None or user.email != email:
            return False
        self.rows[user_id] = replace(
            user,
            email_verified_at=user.email_verified_at or now,
            updated_at=now,
            version=user.version + 1,
        )
        return True


class FakeRefreshTokens:
    def __init__(self, store: IdentityStore) -> None:
        self.rows = store.tokens

    async def add(self, token: RefreshToken) -> None:
        self.rows[token.id] = token

    async def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshToken | None:
        return next((t for t in self.rows.values() if t.token_hash == token_hash), None)

    async def mark_used(self, token_id: UUID, now: datetime) -> bool:
        token = self.rows[token_id]
        if token.used_at is not None or token.revoked_at is not None:
            return False
        self.rows[token_id] = replace(token, used_at=now)
        return True

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        for key, token in list(self.rows.items()):
            if token.family_id == family_id and token.revoked_at is None:
                self.rows[key] = replace(token, revoked_at=now)

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None:
        for key, token in list(self.rows.items()):
            if token.user_id == user_id and token.revoked_at is None:
                self.rows[key] = replace(token, revoked_at=now)

    async def list_current(self, user_id: UUID, now: datetime) -> Sequence[RefreshToken]:
        mine = [t for t in self.rows.values() if t.user_id == user_id and t.is_current(now)]
        return sorted(mine, key=lambda t: t.used_last_at, reverse=True)

    async def touch(self, token_id: UUID, now: datetime, expires_at: datetime) -> None:
        token = self.rows[token_id]
        if token.revoked_at is None:
            self.rows[token_id] = replace(token, last_used_at=now, expires_at=expires_at)

    async def revoked_since(self, since: datetime) -> Sequence[tuple[UUID, datetime]]:
        latest: dict[UUID, datetime] = {}
        for token in self.rows.values():
            if token.revoked_at is not None and token.revoked_at >= since:
                latest[token.family_id] = max(token.revoked_at, latest.get(token.family_id, since))
        return list(latest.items())

    async def revoke_other_families(
        self, user_id: UUID, keep_family_id: UUID, now: datetime
    ) -> None:
        for key, token in list(self.rows.items()):
            if (
                token.user_id == user_id
                and token.family_id != keep_family_id
                and token.revoked_at is None
            ):
                self.rows[key] = replace(token, revoked_at=now)


class FakeEmailTokens:
    def __init__(self, store: IdentityStore) -> None:
        self.rows = store.email_tokens

    async def add(self, token: EmailToken) -> None:
        self.rows[token.id] = token

    async def get_by_hash(self, token_hash: str) -> EmailToken | None:
        return next((t for t in self.rows.values() if t.token_hash == token_hash), None)

    async def mark_used(self, token_id: UUID, now: datetime) -> bool:
        token = self.rows.get(token_id)
        if token is None or not token.is_usable(now):
            return False
        self.rows[token_id] = replace(token, used_at=now)
        return True

    async def delete_for_user(self, user_id: UUID, purpose: EmailTokenPurpose) -> None:
        for key, token in list(self.rows.items()):
            if token.user_id == user_id and token.purpose is purpose:
                del self.rows[key]


class FakeApiKeys:
    def __init__(self, store: IdentityStore) -> None:
        self.rows = store.api_keys

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> int:
        live = [k for k in self.rows.values() if k.user_id == user_id and k.revoked_at is None]
        for key in live:
            self.rows[key.id] = replace(key, revoked_at=now)
        return len(live)


class FakeTotpCredentials:
    """Enough for a login to ask whether the user has MFA on."""

    def __init__(self, store: IdentityStore) -> None:
        self.rows = store.totp

    async def get(self, user_id: UUID) -> TotpCredential | None:
        return self.rows.get(user_id)


class FakeIdentityUnitOfWork(FakeUnitOfWork):
    """Identity's unit of work; it also stands for the MFA and OIDC units, which extend it."""

    def __init__(self, store: IdentityStore, *, read_only: bool = False) -> None:
        super().__init__(store, read_only=read_only)
        self.users = FakeUsers(store)
        self.refresh_tokens = FakeRefreshTokens(store)
        self.email_tokens = FakeEmailTokens(store)
        self.api_keys = FakeApiKeys(store)
        self.totp = FakeTotpCredentials(store)


@dataclass
class FakeAccountAccess:
    """The current-access feed, read from the store's users."""

    store: IdentityStore

    async def __call__(self, user_ids: Collection[UUID]) -> Sequence[AccountAccess]:
        return [AccountAccess.of(u) for u in self.store.users.values() if u.id in user_ids]


@dataclass
class FakeMail:
    """The ``AccountMail`` port: keeps what is queued, newest first, with its kind."""

    sent: list[EmailMessage] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    async def queue(
        self,
        uow: object,
        *,
        to: str,
        subject: str,
        text: str,
        kind: str,
        user_id: UUID | None = None,
    ) -> UUID | None:
        self.sent.insert(0, EmailMessage("Agora <no-reply@agora.example>", to, subject, text))
        self.kinds.insert(0, kind)
        return new_id()


class CountingHasher:
    """A cheap, deterministic stand-in for argon2 that counts its work."""

    def __init__(self, scheme: str = "v2") -> None:
        self.scheme = scheme
        self.hashes = 0
        self.verifications = 0

    async def hash(self, password: str) -> str:
        self.hashes += 1
        return f"{self.scheme}:{password[::-1]}"

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        return password_hash.split(":", 1)[1] == password[::-1]

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"{self.scheme}:")

    @property
    def dummy_hash(self) -> str:
        return f"{self.scheme}:no password reverses to this"


def identity_adapters(store: IdentityStore, **overrides: Any) -> IdentityAdapters:
    """Identity's adapters on ``store``: cheap hashing, keys in memory, no throttling."""
    uow = FakeIdentityUnitOfWork.factory(store)
    values: dict[str, Any] = {
        "uow": uow,
        "mfa_uow": uow,
        "oidc_uow": uow,
        "signing_keys": MemorySigningKeyStore(),
        "account_access": FakeAccountAccess(store),
        "hasher": CountingHasher(),
        "strength": ZxcvbnStrengthEstimator(),
        "throttle": NoLoginThrottle(),
        "qr_codes": SegnoQrCodes(),
        "oidc_provider": None,
        "clock": utcnow,
    }
    values.update(overrides)
    return IdentityAdapters(**values)
