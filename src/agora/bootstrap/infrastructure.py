"""What every context leans on: rate limits, health checks, the audit trail, mail."""

from __future__ import annotations

from sqlalchemy import text

from agora.bootstrap.container import Container
from agora.platform.logging import get_logger
from agora.platform.production_guard import production_notices
from agora.platform.rate_limiter import MemoryRateLimiter, RateLimiter, RedisRateLimiter

log = get_logger("agora.bootstrap")


def announce_production_notices(c: Container) -> None:
    """Development parts production runs by explicit choice: logged loudly, shown in readiness."""
    for code, message in production_notices(c.settings).items():
        log.error("development_part_in_production", code=code, detail=message)
        c.health.warn(code, message)


def wire_rate_limits(c: Container) -> None:
    """Shared windows in Redis when configured; per-process windows otherwise."""
    local = MemoryRateLimiter()
    limiter: RateLimiter = (
        RedisRateLimiter(c.settings.redis_url, fallback=local) if c.settings.redis_url else local
    )
    c.registry.provide(RateLimiter, limiter)  # type: ignore[type-abstract]


def wire_health(c: Container) -> None:
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


def wire_audit(c: Container) -> None:
    """The audit trail every context records security and admin actions in.

    One ``AuditService`` is both the query and verify service and the platform's
    ``AuditTrail``: records are hash-chained rows in the application's own database.
    """
    from agora.audit.adapters.sql import SqlAuditUnitOfWork
    from agora.audit.services import AuditService
    from agora.platform.audit import AuditTrail

    engine = c.engine

    def unit_of_work(*, read_only: bool = False, snapshot: bool = False) -> SqlAuditUnitOfWork:
        return SqlAuditUnitOfWork(engine, read_only=read_only, snapshot=snapshot)

    service = AuditService(unit_of_work)
    c.registry.provide(AuditService, service)
    c.registry.provide(AuditTrail, service)  # type: ignore[type-abstract]


def wire_notifications(c: Container) -> None:
    """Mail: SMTP, or the in-process development mailbox read at ``/dev/mailbox``."""
    from agora.notifications.adapters.mailbox import MailboxMailer
    from agora.notifications.adapters.smtp import SmtpMailer
    from agora.notifications.ports import Mailbox, Mailer
    from agora.notifications.services import MailService

    s = c.settings
    mailer: Mailer
    if s.effective_mail_backend == "smtp":
        mailer = SmtpMailer(
            host=s.smtp_host,
            port=s.smtp_port,
            security=s.smtp_security,
            timeout=s.smtp_timeout_seconds,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
        )
    else:
        mailbox = MailboxMailer(capacity=s.mailbox_size)
        c.registry.provide(Mailbox, mailbox)  # type: ignore[type-abstract]
        mailer = mailbox
    c.registry.provide(MailService, MailService(mailer, s.mail_from))
