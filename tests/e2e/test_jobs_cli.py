"""``agora jobs list`` and ``agora jobs run``, as an operator runs them against the
database the suite migrated."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import create_async_engine

from agora.bootstrap.jobs import DEFAULT_INTERVALS
from agora.platform.clock import utcnow
from agora.platform.db.job_leases import SqlJobLeases
from agora.platform.jobs import Lease
from tests.e2e.served import agora, base_env

WIDE = {"COLUMNS": "250"}  # room for every column of the table


async def _hold(url: str, name: str, owner: str) -> Lease | None:
    engine = create_async_engine(url)
    try:
        leases = SqlJobLeases(engine)
        await leases.register({name: utcnow()})
        return await leases.acquire(name, owner, timedelta(minutes=5), utcnow(), due_only=False)
    finally:
        await engine.dispose()


async def _give_back(url: str, lease: Lease) -> None:
    engine = create_async_engine(url)
    try:
        await SqlJobLeases(engine).release(lease, utcnow(), "succeeded", None, utcnow())
    finally:
        await engine.dispose()


def test_jobs_are_listed_run_on_demand_and_their_outcome_shown(migrated: str) -> None:
    env = base_env(migrated, **WIDE)
    listed = agora("jobs", "list", env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    for name in DEFAULT_INTERVALS:
        assert name in listed.stdout
    for column in ("interval", "last run", "outcome", "next run", "lease holder"):
        assert column in listed.stdout

    ran = agora("jobs", "run", "platform.purge-idempotency-keys", env=env, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "expired idempotency keys removed" in ran.stdout

    after = agora("jobs", "list", env=env, timeout=120)
    (row,) = [line for line in after.stdout.splitlines() if "purge-idempotency-keys" in line]
    assert "succeeded" in row


def test_running_a_job_another_instance_holds_names_the_holder(migrated: str) -> None:
    lease = asyncio.run(_hold(migrated, "events.retention", "worker-7.example:4242"))
    assert lease is not None
    try:
        env = base_env(migrated, **WIDE)
        refused = agora("jobs", "run", "events.retention", env=env, timeout=120)
        assert refused.returncode == 1
        assert "running elsewhere" in refused.stderr
        assert "worker-7.example:4242" in refused.stderr
        listed = agora("jobs", "list", env=env, timeout=120)
        (row,) = [line for line in listed.stdout.splitlines() if "events.retention" in line]
        assert "worker-7.example:4242" in row
    finally:
        asyncio.run(_give_back(migrated, lease))


def test_an_unknown_job_is_refused_with_the_known_names(migrated: str) -> None:
    result = agora("jobs", "run", "ordering.nope", env=base_env(migrated), timeout=120)
    assert result.returncode == 1
    assert "no scheduled job of that name" in result.stderr
    assert "ordering.expire-pending-payments" in result.stderr


def test_an_interval_for_an_unknown_job_stops_the_command_with_one_line(migrated: str) -> None:
    env = base_env(migrated, AGORA_JOBS_INTERVAL_SECONDS='{"ordering.expire-orders": 60}')
    result = agora("jobs", "list", env=env, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "AGORA_JOBS_INTERVAL_SECONDS names unknown jobs" in result.stderr
    assert "ordering.expire-pending-payments" in result.stderr


def test_an_interval_override_shows_in_the_list(migrated: str) -> None:
    env = base_env(migrated, **WIDE, AGORA_JOBS_INTERVAL_SECONDS='{"events.retention": 90}')
    result = agora("jobs", "list", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    (row,) = [line for line in result.stdout.splitlines() if "events.retention" in line]
    assert "90s" in row
