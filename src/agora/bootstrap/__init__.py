"""The composition root: the only place that picks adapters and wires services.

``build_container(settings)`` creates the engine, takes the production adapters the
settings call for (``production``) and builds each area's services on them, in
dependency order: ``infrastructure`` (readiness, rate limits, idempotency, audit, mail),
then ``identity``, then ``commerce`` (catalog, payments, ordering), then ``events`` (the
catalogue, the consumers and the backbone that relays and delivers), then ``jobs`` (the
scheduled housekeeping and its scheduler). Each area builder is
a plain function of the settings, its adapters and the services it leans on, and returns
a typed bundle; unit tests call the same builders with fakes. ``container`` holds the
bundles and the registry the HTTP edge looks services up in.
"""

from __future__ import annotations

from sqlalchemy import MetaData

# Imported for their side effect: each adds its tables to the shared metadata.
import agora.audit.adapters.tables
import agora.catalog.adapters.tables
import agora.identity.adapters.tables
import agora.identity.oidc.adapters.tables
import agora.notifications.adapters.tables
import agora.ordering.adapters.tables
import agora.payments.adapters.tables
import agora.platform.db.tables  # noqa: F401
from agora.bootstrap.commerce import build_commerce
from agora.bootstrap.container import Container
from agora.bootstrap.events import build_consumers, build_events
from agora.bootstrap.identity import build_identity
from agora.bootstrap.infrastructure import announce_production_notices, build_infrastructure
from agora.bootstrap.jobs import build_jobs
from agora.bootstrap.production import (
    LIST_TOTAL_CACHE_SECONDS,
    Closer,
    commerce_adapters,
    identity_adapters,
    infrastructure_adapters,
)
from agora.platform.db.engine import create_engine
from agora.platform.db.schema import metadata
from agora.platform.settings import Settings

__all__ = ["LIST_TOTAL_CACHE_SECONDS", "Container", "build_container", "load_metadata"]


async def build_container(settings: Settings) -> Container:
    engine = create_engine(settings)
    on_close: list[Closer] = []
    infrastructure = build_infrastructure(settings, infrastructure_adapters(settings, engine))
    audit = infrastructure.audit
    identity = build_identity(
        settings,
        identity_adapters(settings, engine, on_close),
        audit=audit,
        mail=infrastructure.mail,
    )
    commerce = build_commerce(
        settings, commerce_adapters(settings, engine), audit=audit, accounts=identity.accounts
    )
    consumers = build_consumers(settings, infrastructure, identity, commerce)
    events = build_events(settings, engine, consumers, audit=audit)
    jobs = build_jobs(settings, engine, infrastructure, identity, commerce)
    announce_production_notices(settings, infrastructure.health)
    return Container(
        settings, engine, infrastructure, identity, commerce, events, jobs, tuple(on_close)
    )


def load_metadata() -> MetaData:
    """The shared metadata with every context's tables in it (for migrations)."""
    return metadata
