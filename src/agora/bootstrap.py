"""The composition root: the only place that picks adapters and wires services.

``build_container(settings)`` creates engines and clients, builds each context's
services on the adapters the settings call for, and registers them for the edges (REST
API, CLI, worker). Tests build the same container with their own settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.platform.database import create_engine, metadata
from agora.platform.health import HealthChecks
from agora.platform.idempotency import SqlIdempotencyStore
from agora.platform.rate_limit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from agora.platform.registry import ServiceRegistry
from agora.platform.settings import Settings

if TYPE_CHECKING:
    from agora.identity.adapters.jwt_tokens import JwtAccessTokens
    from agora.identity.revocation import RevokedSessions
    from agora.identity.services import IdentityService


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    registry: ServiceRegistry = field(default_factory=ServiceRegistry)
    health: HealthChecks = field(default_factory=HealthChecks)

    async def close(self) -> None:
        limiter = self.registry.find(RateLimiter)  # type: ignore[type-abstract]
        if limiter is not None:
            await limiter.close()
        await self.engine.dispose()


async def build_container(settings: Settings) -> Container:
    engine = create_engine(settings)
    container = Container(settings=settings, engine=engine)
    container.registry.provide(Settings, settings)
    container.registry.provide(HealthChecks, container.health)
    container.registry.provide(
        SqlIdempotencyStore,
        SqlIdempotencyStore(engine, timedelta(hours=settings.idempotency_ttl_hours)),
    )
    _wire_rate_limits(container)
    _wire_health(container)
    _wire_audit(container)
    _wire_identity(container)
    _wire_catalog(container)
    _wire_payments(container)
    _wire_ordering(container)
    return container


def _wire_rate_limits(c: Container) -> None:
    """Shared windows in Redis when configured; per-process windows otherwise."""
    local = MemoryRateLimiter()
    limiter: RateLimiter = (
        RedisRateLimiter(c.settings.redis_url, fallback=local) if c.settings.redis_url else local
    )
    c.registry.provide(RateLimiter, limiter)  # type: ignore[type-abstract]


def _wire_health(c: Container) -> None:
    engine = c.engine

    async def database() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    c.health.add("database", database)
    if c.settings.redis_url:
        redis_url = c.settings.redis_url

        async def redis() -> None:
            from redis.asyncio import Redis

            client = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
            try:
                await client.ping()
            finally:
                await client.aclose()

        c.health.add("redis", redis)
    if c.settings.broker_url:
        broker_url = c.settings.broker_url

        async def broker() -> None:
            import aio_pika
            from yarl import URL

            # Built by hand rather than with aio_pika.connect(), so that a failed attempt is
            # closed here and not left for the garbage collector to half-close.
            connection = aio_pika.Connection(URL(broker_url))
            try:
                await connection.connect(timeout=2)
            finally:
                await connection.close()

        c.health.add("broker", broker)


def _wire_audit(c: Container) -> None:
    """The audit trail every context records security and admin actions in."""
    from agora.platform.audit import AuditTrail, NullAuditTrail

    c.registry.provide(AuditTrail, NullAuditTrail())  # type: ignore[type-abstract]


def _wire_identity(c: Container) -> None:
    """Identity: users, passwords, tokens; provides the ``Authenticator``."""
    from functools import partial

    from agora.identity.adapters.common_passwords import common_passwords
    from agora.identity.adapters.password_hashing import Argon2PasswordHasher
    from agora.identity.adapters.sql import SqlIdentityUnitOfWork
    from agora.identity.password_policy import PasswordPolicy
    from agora.identity.services import IdentityService, TokenAuthenticator
    from agora.platform.access import Authenticator
    from agora.platform.audit import AuditTrail

    s = c.settings
    tokens, revocations = _wire_signing_keys_and_revocations(c)
    service = IdentityService(
        uow=partial(SqlIdentityUnitOfWork, c.engine),
        hasher=Argon2PasswordHasher(
            memory_kib=s.password_hash_memory_kib,
            time_cost=s.password_hash_time_cost,
            parallelism=s.password_hash_parallelism,
        ),
        tokens=tokens,
        policy=PasswordPolicy(common_passwords()),
        refresh_ttl=timedelta(hours=s.session_idle_ttl_hours),
        audit=c.registry.get(AuditTrail),  # type: ignore[type-abstract]
        session_max_age=timedelta(days=s.session_absolute_ttl_days),
        revocations=revocations,
    )
    c.registry.provide(IdentityService, service)
    c.registry.provide(Authenticator, TokenAuthenticator(tokens, revocations))  # type: ignore[type-abstract]
    _wire_sessions(c, service)


# -- access tokens, signing keys and sessions --


def _wire_signing_keys_and_revocations(
    c: Container,
) -> tuple[JwtAccessTokens, RevokedSessions]:
    """ES256 keys shared through the database, and the revoked sessions every process
    polls for, so that neither needs a database read per request."""
    from agora.identity.adapters.jwt_tokens import JwtAccessTokens
    from agora.identity.adapters.signing_keys import (
        KeyCipher,
        KeyRing,
        SqlSigningKeyStore,
        retention_for,
    )
    from agora.identity.adapters.sql import SqlIdentityUnitOfWork
    from agora.identity.keys import SigningKeyService
    from agora.identity.revocation import RevokedSessions
    from agora.platform.audit import AuditTrail

    s = c.settings
    token_ttl = timedelta(seconds=s.access_token_ttl_seconds)
    ring = KeyRing(
        SqlSigningKeyStore(c.engine),
        KeyCipher(s.secret_key.get_secret_value()),
        retention=retention_for(token_ttl, s.signing_key_refresh_seconds),
        refresh_interval=s.signing_key_refresh_seconds,
    )
    tokens = JwtAccessTokens(
        ring, issuer=s.jwt_issuer, audience=s.jwt_audience, ttl_seconds=s.access_token_ttl_seconds
    )
    engine = c.engine

    async def revoked_since(since: datetime) -> Sequence[tuple[UUID, datetime]]:
        async with SqlIdentityUnitOfWork(engine, read_only=True) as uow:
            return await uow.refresh_tokens.revoked_since(since)

    revocations = RevokedSessions(
        token_ttl=token_ttl, poll_interval=s.session_revocation_poll_seconds, feed=revoked_since
    )
    audit = c.registry.get(AuditTrail)  # type: ignore[type-abstract]
    keys = SigningKeyService(ring, audit, jwks_max_age=s.signing_key_refresh_seconds)
    c.registry.provide(SigningKeyService, keys)
    return tokens, revocations


def _wire_sessions(c: Container, identity: IdentityService) -> None:
    """The sessions API and the browser cookie session (with its CSRF tokens)."""
    import hashlib
    import hmac

    from agora.identity.sessions import SessionService
    from agora.platform.cookie_sessions import CookieAuthenticator

    secret = c.settings.secret_key.get_secret_value().encode()
    csrf_key = hmac.new(secret, b"agora csrf-token key v1", hashlib.sha256).digest()
    sessions = SessionService(
        uow=identity.uow,
        lifetime=identity.lifetime,
        revocations=identity.revocations,
        csrf_key=csrf_key,
        audit=identity.audit,
    )
    c.registry.provide(SessionService, sessions)
    c.registry.provide(CookieAuthenticator, sessions)  # type: ignore[type-abstract]


def _wire_catalog(c: Container) -> None:
    """Catalog: categories, products, search, stock.

    Ordering reserves stock with ``SqlStockLedger(connection)`` on its own unit of
    work's connection and reads prices through ``CatalogService.products_for_sale``.
    """
    from agora.catalog.adapters.sql import SqlCatalogUnitOfWork, TotalCache
    from agora.catalog.services import CatalogService

    engine = c.engine
    totals = TotalCache()

    def catalog_unit_of_work(*, read_only: bool = False) -> SqlCatalogUnitOfWork:
        return SqlCatalogUnitOfWork(engine, read_only=read_only, totals=totals)

    c.registry.provide(CatalogService, CatalogService(catalog_unit_of_work))


def _wire_payments(c: Container) -> None:
    """Payments: the provider port and the payment records."""
    from agora.payments.adapters.sql import SqlPaymentsUnitOfWork
    from agora.payments.adapters.test_cards import TestCardGateway
    from agora.payments.services import PaymentService

    gateway = TestCardGateway(c.settings.payment_webhook_secret.get_secret_value())
    engine = c.engine

    def unit_of_work(*, read_only: bool = False) -> SqlPaymentsUnitOfWork:
        return SqlPaymentsUnitOfWork(engine, read_only=read_only)

    c.registry.provide(PaymentService, PaymentService(unit_of_work, gateway))


def _wire_ordering(c: Container) -> None:
    """Ordering: carts, checkout saga, orders."""
    from agora.catalog.adapters.stock import SqlStockLedger
    from agora.catalog.services import CatalogService
    from agora.ordering.adapters.sql import SqlOrderingUnitOfWork
    from agora.ordering.services import CartService, OrderService
    from agora.payments.services import PaymentService

    engine = c.engine

    def uow(*, read_only: bool = False) -> SqlOrderingUnitOfWork:
        return SqlOrderingUnitOfWork(engine, SqlStockLedger, read_only=read_only)

    catalog = c.registry.get(CatalogService)
    payments = c.registry.get(PaymentService)
    c.registry.provide(CartService, CartService(uow, catalog, c.settings.currency))
    c.registry.provide(OrderService, OrderService(uow, catalog, payments))


def load_metadata() -> MetaData:
    """Import every context's tables so the shared metadata is complete (for migrations)."""
    import agora.catalog.adapters.tables
    import agora.identity.adapters.tables
    import agora.ordering.adapters.tables
    import agora.payments.adapters.tables
    import agora.platform.tables  # noqa: F401

    return metadata
