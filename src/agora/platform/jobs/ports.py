"""What the scheduler needs from storage: a lease per job, taken by a conditional update.

``agora.platform.db.job_leases.SqlJobLeases`` implements it on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Lease:
    """The right to run ``name`` until ``until``. ``token`` (the fencing token) grows on
    every acquisition, so a holder whose lease passed to another can no longer write
    the job's outcome."""

    name: str
    owner: str
    token: int
    until: datetime


@dataclass(frozen=True, slots=True)
class JobState:
    name: str
    lease_owner: str | None
    lease_until: datetime | None
    fencing_token: int
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_outcome: str | None
    last_error: str | None
    next_run_at: datetime

    def held(self, now: datetime) -> bool:
        return self.lease_until is not None and self.lease_until >= now


class JobLeases(Protocol):
    async def register(self, first_runs: Mapping[str, datetime]) -> None:
        """Add a row for each job that has none yet, first due at the given time."""
        ...

    async def acquire(
        self, name: str, owner: str, duration: timedelta, now: datetime, *, due_only: bool
    ) -> Lease | None:
        """Take the lease unless another holds it (and, with ``due_only``, unless the job
        is not due yet); None when this instance may not run the job now."""
        ...

    async def release(
        self,
        lease: Lease,
        now: datetime,
        outcome: str,
        error: str | None,
        next_run_at: datetime,
    ) -> bool:
        """Record the run and give the lease back; False when the lease had passed to
        another instance (its fencing token is no longer the row's)."""
        ...

    async def states(self, names: Sequence[str] | None = None) -> list[JobState]: ...
