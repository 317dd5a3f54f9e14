"""What a scheduled job is, and what one run of it came to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# A job's work: returns a short summary for the log and ``agora jobs run`` ("3 orders
# cancelled"), or None. It must be idempotent and safe to run twice at once: a lease
# that outlived its holder lets another instance start while the first still runs.
JobWork = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Job:
    name: str  # namespaced by its context: ``ordering.expire-pending-payments``
    interval: timedelta
    run: JobWork
    summary: str
    # How long one run may take before another instance may assume its holder died.
    lease: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if self.interval <= timedelta(0) or self.lease <= timedelta(0):
            raise ValueError(f"job {self.name}: interval and lease must be positive")


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Stopped by a shutdown: the lease is given back so another instance can run it.
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run: which instance ran it under which fencing token, and how it ended."""

    name: str
    owner: str
    token: int
    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    summary: str | None = None
    error: str | None = None
    # False when the lease had passed to another instance before this run finished:
    # its outcome was then not recorded (the newer holder's is).
    recorded: bool = True
