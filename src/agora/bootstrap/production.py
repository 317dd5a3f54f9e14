"""The adapters a running instance uses, chosen from the settings: the one place that
picks SQL storage, Redis or per-process state, SMTP or the development mailbox, argon2,
zxcvbn, the payment provider and the OIDC client.

Tests build the same services on fakes by passing their own adapters to the area
builders (``build_infrastructure``, ``build_identity``, ``build_commerce`` and the
per-context builders in ``bootstrap.commerce``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import assert_never

from sqlalchemy.ext.asyncio import AsyncEngine

from agora.audit.adapters.sql import SqlAuditUnitOfWork
from agora.bootstrap.commerce import CommerceAdapters
from agora.bootstrap.identity import IdentityAdapters
from agora.bootstrap.infrastructure import InfrastructureAdapters
from agora.catalog.adapters.listing import TotalCache
from agora.catalog.adapters.sql import SqlCatalogUnitOfWork
from agora.catalog.adapters.stock import SqlStockLedger
from agora.identity.access.adapters.account_access import SqlAccountAccess
from agora.identity.accounts.adapters.password_hashing import Argon2PasswordHasher
from agora.identity.accounts.adapters.password_strength import ZxcvbnStrengthEstimator
from agora.identity.adapters.secret_box import SecretBox
from agora.identity.adapters.sql import SqlIdentityUnitOfWork
from agora.identity.mfa.adapters.qr_code import SegnoQrCodes
from agora.identity.mfa.adapters.sql import SqlMfaUnitOfWork
from agora.identity.oidc.adapters.client import HttpOidcProvider
from agora.identity.oidc.adapters.sql import SqlOidcUnitOfWork
from agora.identity.sessions.adapters.throttle_counters import (
    MemoryLoginThrottle,
    RedisLoginThrottle,
)
from agora.identity.sessions.ports import LoginThrottle
from agora.identity.sessions.throttle import ThrottlePolicy
from agora.notifications.adapters.mailbox import MailboxMailer
from agora.notifications.adapters.smtp import SmtpMailer
from agora.notifications.adapters.sql import SqlNotificationsUnitOfWork, messages_in
from agora.notifications.ports import Mailer, MailServerProbe
from agora.ordering.adapters.sql import SqlOrderingUnitOfWork
from agora.payments.adapters.sql import SqlPaymentsUnitOfWork
from agora.payments.adapters.test_cards import TestCardGateway
from agora.payments.adapters.test_charges import SqlTestChargesUnitOfWork
from agora.platform.clock import utcnow
from agora.platform.db.engine import ping_database
from agora.platform.db.idempotency_store import SqlIdempotencyStore
from agora.platform.health_checks import Check, ping_broker, ping_redis
from agora.platform.rate_limiter import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from agora.platform.settings import Settings

Closer = Callable[[], Awaitable[None]]

# How long each worker reuses a counted product-list total (``meta.pagination.total``):
# counting a large catalog costs more than the page itself. The benchmark's bare
# endpoint keeps its total as long, so both do the same database work.
LIST_TOTAL_CACHE_SECONDS = 10.0


def infrastructure_adapters(settings: Settings, engine: AsyncEngine) -> InfrastructureAdapters:
    s = settings
    # Shared windows in Redis when configured; per-process windows otherwise.
    local_limits = MemoryRateLimiter()
    limiter: RateLimiter = (
        RedisRateLimiter(s.redis_url, fallback=local_limits) if s.redis_url else local_limits
    )
    probes: dict[str, Check] = {"database": partial(ping_database, engine)}
    if s.redis_url:
        probes["redis"] = partial(ping_redis, s.redis_url)
    if s.broker_url:
        probes["broker"] = partial(ping_broker, s.broker_url)
    mailer: Mailer
    mailbox: MailboxMailer | None = None
    probe: MailServerProbe | None = None
    if s.effective_mail_backend == "smtp":
        mailer = smtp = SmtpMailer(
            host=s.smtp_host,
            port=s.smtp_port,
            security=s.smtp_security,
            timeout=s.smtp_timeout_seconds,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
        )
        probe = smtp.probe
    else:  # the in-process mailbox, read at /dev/mailbox
        mailer = mailbox = MailboxMailer(capacity=s.mailbox_size)
    return InfrastructureAdapters(
        audit_uow=partial(SqlAuditUnitOfWork, engine),
        mailer=mailer,
        mailbox=mailbox,
        notifications_uow=partial(SqlNotificationsUnitOfWork, engine),
        mail_messages_in=messages_in,
        mail_probe=probe,
        rate_limiter=limiter,
        idempotency=SqlIdempotencyStore(engine, timedelta(hours=s.idempotency_ttl_hours)),
        probes=probes,
        # Orders commit with their events in the outbox whether RabbitMQ answers or not.
        degrading=frozenset({"broker"}),
    )


def identity_adapters(
    settings: Settings, engine: AsyncEngine, on_close: list[Closer]
) -> IdentityAdapters:
    """Identity's adapters; the Redis client of the login throttle goes on ``on_close``."""
    s = settings
    totp_secrets = SecretBox(s.secret_key.get_secret_value(), purpose="agora/totp-secret/v1")
    return IdentityAdapters(
        uow=partial(SqlIdentityUnitOfWork, engine),
        mfa_uow=partial(SqlMfaUnitOfWork, engine, totp_secrets),
        oidc_uow=partial(SqlOidcUnitOfWork, engine),
        signing_keys=partial(SqlIdentityUnitOfWork, engine),
        account_access=SqlAccountAccess(engine),
        hasher=Argon2PasswordHasher(
            memory_kib=s.password_hash_memory_kib,
            time_cost=s.password_hash_time_cost,
            parallelism=s.password_hash_parallelism,
        ),
        strength=ZxcvbnStrengthEstimator(),
        throttle=_login_throttle(s, on_close),
        qr_codes=SegnoQrCodes(),
        oidc_provider=_oidc_provider(s),
        clock=utcnow,
    )


def _login_throttle(s: Settings, on_close: list[Closer]) -> LoginThrottle:
    """Failed-login counters: shared in Redis when configured, per process otherwise."""
    policy = ThrottlePolicy(
        account_threshold=s.login_throttle_account_threshold,
        ip_threshold=s.login_throttle_ip_threshold,
        max_delay=float(s.login_throttle_max_delay_seconds),
        memory=float(s.login_throttle_memory_seconds),
    )
    local = MemoryLoginThrottle(policy)
    if not s.redis_url:
        return local
    shared = RedisLoginThrottle(s.redis_url, policy, fallback=local)
    on_close.append(shared.close)
    return shared


def _oidc_provider(s: Settings) -> HttpOidcProvider | None:
    """The OpenID Connect provider, when configured; its routes answer 404 otherwise."""
    if not (s.oidc_enabled and s.oidc_issuer and s.oidc_client_id and s.oidc_client_secret):
        return None
    return HttpOidcProvider(
        issuer=s.oidc_issuer,
        client_id=s.oidc_client_id,
        client_secret=s.oidc_client_secret.get_secret_value(),
        scopes=s.oidc_scopes,
        timeout_seconds=s.oidc_timeout_seconds,
        allow_http=not s.is_production,
    )


def commerce_adapters(settings: Settings, engine: AsyncEngine) -> CommerceAdapters:
    # AGORA_PAYMENTS_PROVIDER names the adapter; "test" is the only one so far.
    match settings.effective_payments_provider:
        case "test":
            gateway = TestCardGateway(
                partial(SqlTestChargesUnitOfWork, engine),
                settings.payment_webhook_secret.get_secret_value(),
            )
        case unknown:
            assert_never(unknown)
    return CommerceAdapters(
        catalog_uow=partial(
            SqlCatalogUnitOfWork, engine, totals=TotalCache(ttl=LIST_TOTAL_CACHE_SECONDS)
        ),
        payments_uow=partial(SqlPaymentsUnitOfWork, engine),
        gateway=gateway,
        ordering_uow=partial(SqlOrderingUnitOfWork, engine, SqlStockLedger),
    )
