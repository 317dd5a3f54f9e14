"""The scheduler's loop on a lease store that can fail: it backs off while the database
is away and runs the due jobs once it is back; nothing here needs a database."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from agora.platform.jobs import Job, JobState, Lease, Scheduler, UnknownJobError


class FlakyLeases:
    """Leases in memory; ``down`` makes every call fail as an unreachable database would."""

    def __init__(self) -> None:
        self.rows: dict[str, JobState] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise ConnectionRefusedError("database unreachable")

    async def register(self, first_runs: Mapping[str, datetime]) -> None:
        self._check()
        for name, at in first_runs.items():
            self.rows.setdefault(name, JobState(name, None, None, 0, None, None, None, None, at))

    async def acquire(
        self, name: str, owner: str, duration: timedelta, now: datetime, *, due_only: bool
    ) -> Lease | None:
        self._check()
        row = self.rows[name]
        if row.held(now) or (due_only and row.next_run_at > now):
            return None
        token = row.fencing_token + 1
        self.rows[name] = replace(
            row, lease_owner=owner, lease_until=now + duration, fencing_token=token
        )
        return Lease(name, owner, token, now + duration)

    async def release(
        self, lease: Lease, now: datetime, outcome: str, error: str | None, next_run_at: datetime
    ) -> bool:
        self._check()
        row = self.rows[lease.name]
        if row.fencing_token != lease.token:
            return False
        self.rows[lease.name] = replace(
            row,
            lease_owner=None,
            lease_until=None,
            last_outcome=outcome,
            last_error=error,
            next_run_at=next_run_at,
        )
        return True

    async def states(self, names: Sequence[str] | None = None) -> list[JobState]:
        self._check()
        return [row for name, row in self.rows.items() if names is None or name in names]


async def test_the_loop_survives_the_database_going_away_and_runs_once_it_is_back() -> None:
    runs = 0

    async def work() -> str:
        nonlocal runs
        runs += 1
        return "ok"

    leases = FlakyLeases()
    leases.down = True
    scheduler = Scheduler(
        [Job("test.flaky", timedelta(hours=1), work, "counts")], leases, poll_seconds=0.01
    )
    scheduler.start()
    try:
        await asyncio.sleep(0.3)
        assert runs == 0
        assert scheduler.running  # backing off, not dead
        leases.down = False
        for _ in range(200):
            if runs:
                break
            await asyncio.sleep(0.02)
    finally:
        await scheduler.stop()
    assert runs == 1
    assert leases.rows["test.flaky"].last_outcome == "succeeded"


async def test_an_unknown_job_is_refused_with_the_known_names() -> None:
    async def work() -> None:
        return None

    scheduler = Scheduler([Job("test.known", timedelta(minutes=1), work, "x")], FlakyLeases())
    with pytest.raises(UnknownJobError) as refused:
        await scheduler.run_now("test.unknown")
    assert refused.value.details["known"] == "test.known"


def test_jobs_need_unique_names_and_positive_intervals() -> None:
    async def work() -> None:
        return None

    job = Job("test.same", timedelta(minutes=1), work, "x")
    with pytest.raises(ValueError, match="unique"):
        Scheduler([job, job], FlakyLeases())
    with pytest.raises(ValueError, match="positive"):
        Job("test.never", timedelta(0), work, "x")
