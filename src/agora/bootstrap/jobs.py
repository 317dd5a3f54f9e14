"""The scheduled jobs, wired: each one a use case of the context that owns the data,
with its interval (``AGORA_JOBS_INTERVAL_SECONDS`` overrides the defaults here by name)
and the scheduler that runs them under leases in ``scheduled_jobs``.

The web process runs the scheduler in embedded mode and ``agora worker`` always, beside
the events backbone; ``agora jobs`` lists and runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from agora.bootstrap.commerce import Commerce
from agora.bootstrap.identity import Identity
from agora.bootstrap.infrastructure import Infrastructure
from agora.platform.db.event_retention import SqlEventRetention
from agora.platform.db.job_leases import SqlJobLeases
from agora.platform.jobs import Job, Scheduler
from agora.platform.jobs.model import JobWork
from agora.platform.settings import Settings, SettingsError

# Default intervals; AGORA_JOBS_INTERVAL_SECONDS overrides them by name.
EXPIRE_PENDING_PAYMENTS = "ordering.expire-pending-payments"
RECONCILE_PAYMENTS = "payments.reconcile"
PURGE_CARTS = "ordering.purge-abandoned-carts"
PURGE_IDEMPOTENCY_KEYS = "platform.purge-idempotency-keys"
PURGE_IDENTITY = "identity.purge-expired-credentials"
PURGE_EVENTS = "events.retention"

DEFAULT_INTERVALS = {
    EXPIRE_PENDING_PAYMENTS: timedelta(minutes=1),
    RECONCILE_PAYMENTS: timedelta(minutes=5),
    PURGE_CARTS: timedelta(hours=6),
    PURGE_IDEMPOTENCY_KEYS: timedelta(hours=1),
    PURGE_IDENTITY: timedelta(hours=1),
    PURGE_EVENTS: timedelta(hours=1),
}


@dataclass(frozen=True)
class Jobs:
    scheduler: Scheduler
    leases: SqlJobLeases


def _intervals(settings: Settings) -> dict[str, timedelta]:
    overrides = settings.jobs_interval_seconds
    unknown = sorted(set(overrides) - set(DEFAULT_INTERVALS))
    if unknown:
        raise SettingsError(
            f"AGORA_JOBS_INTERVAL_SECONDS names unknown jobs {unknown}; "
            f"the jobs are {sorted(DEFAULT_INTERVALS)}"
        )
    if any(seconds <= 0 for seconds in overrides.values()):
        raise SettingsError("AGORA_JOBS_INTERVAL_SECONDS: every interval must be positive")
    return DEFAULT_INTERVALS | {k: timedelta(seconds=v) for k, v in overrides.items()}


def _identity_purge(identity: Identity) -> JobWork:
    async def purge() -> str:
        tokens = await identity.accounts.purge_spent_tokens()
        sessions = await identity.sessions.purge_ended_sessions()
        challenges = await identity.challenges.purge_expired()
        states = await identity.oidc.purge_expired_states()
        return (
            f"{tokens} email tokens, {sessions} session tokens, {challenges} MFA challenges "
            f"and {states} OIDC sign-ins removed"
        )

    return purge


def build_jobs(
    settings: Settings,
    engine: AsyncEngine,
    infrastructure: Infrastructure,
    identity: Identity,
    commerce: Commerce,
) -> Jobs:
    s = settings
    every = _intervals(s)
    expiry = commerce.expiry
    retention = SqlEventRetention(engine)
    idempotency = infrastructure.idempotency

    async def purge_idempotency_keys() -> str:
        return f"{await idempotency.purge_expired()} expired idempotency keys removed"

    async def reconcile_payments() -> str:
        older_than = timedelta(minutes=s.payments_reconcile_after_minutes)
        return await commerce.payments.reconcile_unsettled(older_than)

    async def purge_carts() -> str:
        return await commerce.carts.purge_abandoned(timedelta(days=s.cart_retention_days))

    async def purge_events() -> str:
        return await retention.purge(timedelta(days=s.events_retention_days))

    jobs = [
        Job(
            EXPIRE_PENDING_PAYMENTS,
            every[EXPIRE_PENDING_PAYMENTS],
            expiry.expire,
            "Complete or cancel orders left in pending_payment past the timeout.",
        ),
        Job(
            RECONCILE_PAYMENTS,
            every[RECONCILE_PAYMENTS],
            reconcile_payments,
            "Settle payments left pending or authorized by asking the provider.",
        ),
        Job(PURGE_CARTS, every[PURGE_CARTS], purge_carts, "Delete carts untouched for days."),
        Job(
            PURGE_IDEMPOTENCY_KEYS,
            every[PURGE_IDEMPOTENCY_KEYS],
            purge_idempotency_keys,
            "Delete idempotency keys past their TTL.",
        ),
        Job(
            PURGE_IDENTITY,
            every[PURGE_IDENTITY],
            _identity_purge(identity),
            "Delete spent email tokens, ended sessions, expired MFA and OIDC challenges.",
        ),
        Job(
            PURGE_EVENTS,
            every[PURGE_EVENTS],
            purge_events,
            "Delete published outbox rows and handled inbox rows past the retention.",
        ),
    ]
    leases = SqlJobLeases(engine)
    return Jobs(Scheduler(jobs, leases, poll_seconds=s.jobs_poll_seconds), leases)
