"""The composition root: the only place that picks adapters and wires services.

``build_container(settings)`` creates engines and clients, builds each context's
services on the adapters the settings call for, and registers them for the edges (REST
API, CLI, worker). Tests build the same container with their own settings.

The wiring is one module per area: ``infrastructure`` (rate limits, health, audit,
mail), ``identity`` and ``commerce`` (catalog, payments, ordering); ``container`` holds
what they fill.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import MetaData

from agora.bootstrap.commerce import wire_catalog, wire_ordering, wire_payments
from agora.bootstrap.container import Container
from agora.bootstrap.identity import wire_access, wire_identity, wire_mfa, wire_oidc
from agora.bootstrap.infrastructure import (
    announce_production_notices,
    wire_audit,
    wire_health,
    wire_notifications,
    wire_rate_limits,
)
from agora.platform.db.engine import create_engine
from agora.platform.db.idempotency_store import SqlIdempotencyStore
from agora.platform.db.schema import metadata
from agora.platform.health_checks import HealthChecks
from agora.platform.idempotency_keys import IdempotencyStore
from agora.platform.settings import Settings

__all__ = ["Container", "build_container", "load_metadata"]


async def build_container(settings: Settings) -> Container:
    engine = create_engine(settings)
    container = Container(settings=settings, engine=engine)
    container.registry.provide(Settings, settings)
    container.registry.provide(HealthChecks, container.health)
    container.registry.provide(
        IdempotencyStore,  # type: ignore[type-abstract]
        SqlIdempotencyStore(engine, timedelta(hours=settings.idempotency_ttl_hours)),
    )
    wire_rate_limits(container)
    wire_health(container)
    wire_audit(container)
    wire_notifications(container)
    wire_identity(container)
    wire_access(container)
    wire_mfa(container)
    wire_oidc(container)
    wire_catalog(container)
    wire_payments(container)
    wire_ordering(container)
    announce_production_notices(container)
    return container


def load_metadata() -> MetaData:
    """Import every context's tables so the shared metadata is complete (for migrations)."""
    import agora.audit.adapters.tables
    import agora.catalog.adapters.tables
    import agora.identity.access.adapters.tables
    import agora.identity.accounts.adapters.tables
    import agora.identity.adapters.tables
    import agora.identity.mfa.adapters.tables
    import agora.identity.oidc.adapters.tables
    import agora.identity.sessions.adapters.tables
    import agora.identity.tokens.adapters.tables
    import agora.ordering.adapters.tables
    import agora.payments.adapters.tables
    import agora.platform.db.tables  # noqa: F401

    return metadata
