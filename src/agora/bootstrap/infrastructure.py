"""What every context leans on: readiness checks, rate limits, idempotency keys, the audit
trail and mail.

``build_infrastructure`` takes the adapters as ``InfrastructureAdapters``;
``bootstrap.production`` picks them from the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agora.audit.ports import AuditUnitOfWorkFactory
from agora.audit.services import AuditService
from agora.notifications.ports import Mailbox, Mailer
from agora.notifications.services import MailService
from agora.platform.health_checks import Check, HealthChecks
from agora.platform.idempotency_keys import IdempotencyStore
from agora.platform.logging import get_logger
from agora.platform.production_guard import production_notices
from agora.platform.rate_limiter import RateLimiter
from agora.platform.settings import Settings

log = get_logger("agora.bootstrap")


@dataclass(frozen=True)
class InfrastructureAdapters:
    audit_uow: AuditUnitOfWorkFactory
    mailer: Mailer
    # The development mailbox when mail goes there (then it is also the ``mailer``).
    mailbox: Mailbox | None
    rate_limiter: RateLimiter
    idempotency: IdempotencyStore
    # Readiness probes by name: the database, and Redis and the broker when configured.
    probes: Mapping[str, Check]
    # Probes whose failure degrades a feature but not serving (see ``HealthChecks``).
    degrading: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Infrastructure:
    health: HealthChecks
    rate_limiter: RateLimiter
    idempotency: IdempotencyStore
    # One service is both the query and verify side and the ``AuditTrail`` every context
    # records in: hash-chained rows in the application's own database.
    audit: AuditService
    mail: MailService


def build_infrastructure(settings: Settings, adapters: InfrastructureAdapters) -> Infrastructure:
    return Infrastructure(
        health=HealthChecks(checks=dict(adapters.probes), degrading=adapters.degrading),
        rate_limiter=adapters.rate_limiter,
        idempotency=adapters.idempotency,
        audit=AuditService(adapters.audit_uow),
        mail=MailService(adapters.mailer, settings.mail_from, mailbox=adapters.mailbox),
    )


def announce_production_notices(settings: Settings, health: HealthChecks) -> None:
    """Development parts production runs by explicit choice: logged loudly, shown in readiness."""
    for code, message in production_notices(settings).items():
        log.error("development_part_in_production", code=code, detail=message)
        health.warn(code, message)
