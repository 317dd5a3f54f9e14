"""The composition root: the only place that picks adapters and wires services.

``build_container(settings)`` creates engines and clients, builds each context's
services on the adapters the settings call for, and registers them for the edges (REST
API, CLI, worker). Tests build the same container with their own settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.platform.database import create_engine, metadata
from agora.platform.health import HealthChecks
from agora.platform.idempotency import SqlIdempotencyStore
from agora.platform.registry import ServiceRegistry
from agora.platform.settings import Settings


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    registry: ServiceRegistry = field(default_factory=ServiceRegistry)
    health: HealthChecks = field(default_factory=HealthChecks)

    async def close(self) -> None:
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
    _wire_health(container)
    _wire_identity(container)
    _wire_catalog(container)
    _wire_payments(container)
    _wire_ordering(container)
    return container


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

            connection = await aio_pika.connect(broker_url, timeout=2)
            await connection.close()

        c.health.add("broker", broker)


def _wire_identity(c: Container) -> None:
    """Identity: users, passwords, tokens; provides the ``Authenticator``."""


def _wire_catalog(c: Container) -> None:
    """Catalog: categories, products, search, stock."""


def _wire_payments(c: Container) -> None:
    """Payments: the provider port and the payment records."""


def _wire_ordering(c: Container) -> None:
    """Ordering: carts, checkout saga, orders."""


def load_metadata() -> MetaData:
    """Import every context's tables so the shared metadata is complete (for migrations)."""
    import agora.catalog.adapters.tables
    import agora.identity.adapters.tables
    import agora.ordering.adapters.tables
    import agora.payments.adapters.tables
    import agora.platform.tables  # noqa: F401

    return metadata
