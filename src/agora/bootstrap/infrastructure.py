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
from agora.notifications.administration import MailAdministration
from agora.notifications.ports import (
    Mailbox,
    Mailer,
    MailMessagesIn,
    MailServerProbe,
    NotificationsUnitOfWorkFactory,
)
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
    # Queued mail: on its own unit of work, or inside another context's.
    notifications_uow: NotificationsUnitOfWorkFactory
    mail_messages_in: MailMessagesIn
    # Whether the SMTP server answers (None: the mailbox, which always does).
    mail_probe: MailServerProbe | None
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
    mail_admin: MailAdministration
    notifications_uow: NotificationsUnitOfWorkFactory


def build_infrastructure(settings: Settings, adapters: InfrastructureAdapters) -> Infrastructure:
    audit = AuditService(adapters.audit_uow)
    mail = MailService(
        adapters.mailer,
        settings.mail_from,
        uow=adapters.notifications_uow,
        messages_in=adapters.mail_messages_in,
        mailbox=adapters.mailbox,
        probe=adapters.mail_probe,
    )
    health = HealthChecks(checks=dict(adapters.probes), optional=set(adapters.degrading))
    # Mail that cannot go out degrades the instance; it still takes orders (the mail waits).
    health.add("mail", mail.check, optional=True)
    return Infrastructure(
        health=health,
        rate_limiter=adapters.rate_limiter,
        idempotency=adapters.idempotency,
        audit=audit,
        mail=mail,
        mail_admin=MailAdministration(adapters.notifications_uow, audit),
        notifications_uow=adapters.notifications_uow,
    )


def announce_production_notices(settings: Settings, health: HealthChecks) -> None:
    """Development parts production runs by explicit choice: logged loudly, shown in readiness."""
    for code, message in production_notices(settings).items():
        log.error("development_part_in_production", code=code, detail=message)
        health.warn(code, message)
