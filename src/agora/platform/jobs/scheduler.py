"""The scheduler: runs each job when it is due, under a lease, on an asyncio task.

Every process that runs the scheduler (``agora worker``, the web process in embedded
mode, any number of each) tries each due job; the lease is a conditional update of the
job's row, so one of them wins and the others skip it until it is due again. The winner
records the outcome and the next due time (the interval plus a little jitter, so that
instances started together drift apart) under its fencing token: a run that outlived
its lease, and so may have been overtaken, records nothing. A failing job records its
error and is tried again at its next interval; it never stops the others. On shutdown
a run in progress is cancelled and its lease given back, so another instance may run
the job at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import uuid4

from agora.platform.clock import utcnow
from agora.platform.errors import NotFoundError
from agora.platform.events.retry import describe_error
from agora.platform.events.signals import Wakeup
from agora.platform.jobs.model import Job, JobRun, Outcome
from agora.platform.jobs.ports import JobLeases, JobState, Lease
from agora.platform.logging import get_logger

log = get_logger("agora.jobs")


class UnknownJobError(NotFoundError):
    code = "UNKNOWN_JOB"
    default_message = "There is no scheduled job of that name."


def instance_name() -> str:
    """Who holds a lease, as an operator reads it: host, process id and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:6]}"


class Scheduler:
    def __init__(
        self,
        jobs: Sequence[Job],
        leases: JobLeases,
        *,
        owner: str | None = None,
        poll_seconds: float = 15.0,
        jitter: float = 0.1,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] = random.random,
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {sorted(names)}")
        self.jobs = tuple(jobs)
        self.owner = owner or instance_name()
        self._leases = leases
        self._poll_seconds = poll_seconds
        self._jitter = jitter
        self._clock = clock
        self._rand = rand
        self._registered = False
        self._task: asyncio.Task[None] | None = None
        self.wakeup = Wakeup()

    def job(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        raise UnknownJobError(job=name, known=", ".join(j.name for j in self.jobs))

    async def states(self) -> dict[str, JobState]:
        await self._register()
        return {s.name: s for s in await self._leases.states([j.name for j in self.jobs])}

    # -- running ----------------------------------------------------------------------

    async def run_due(self) -> list[JobRun]:
        """Run every job that is due and not held elsewhere, side by side; returns the
        runs this instance made."""
        # One read first, so that a pass with nothing due writes nothing (on SQLite every
        # attempt at a lease would take the write lock); the lease decides regardless.
        states = await self.states()
        now = self._clock()
        due = [
            job
            for job in self.jobs
            if (state := states.get(job.name)) is None
            or (state.next_run_at <= now and not state.held(now))
        ]
        results = await asyncio.gather(
            *(self._try(job, due_only=True) for job in due), return_exceptions=True
        )
        runs: list[JobRun] = []
        for job, result in zip(due, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):  # the lease could not be taken: DB away
                log.warning("job_lease_failed", job=job.name, error=describe_error(result))
            elif result is not None:
                runs.append(result)
        return runs

    async def run_now(self, name: str) -> JobRun | None:
        """Run ``name`` now, due or not; None when another instance holds its lease."""
        job = self.job(name)
        await self._register()
        return await self._try(job, due_only=False)

    async def _register(self) -> None:
        if not self._registered:
            now = self._clock()
            await self._leases.register({job.name: now for job in self.jobs})
            self._registered = True

    async def _try(self, job: Job, *, due_only: bool) -> JobRun | None:
        now = self._clock()
        lease = await self._leases.acquire(job.name, self.owner, job.lease, now, due_only=due_only)
        if lease is None:
            return None
        return await self._run(job, lease, now)

    async def _run(self, job: Job, lease: Lease, started: datetime) -> JobRun:
        log.info("job_started", job=job.name, fencing_token=lease.token)
        try:
            summary = await job.run()
        except asyncio.CancelledError:
            # Shutting down: give the lease back and leave the job due, for whoever is next.
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    self._finish(job, lease, started, Outcome.INTERRUPTED, next_run_at=started)
                )
            raise
        except Exception as exc:
            error = describe_error(exc)
            log.error("job_failed", job=job.name, error=error, fencing_token=lease.token)
            return await self._finish(job, lease, started, Outcome.FAILED, error=error)
        log.info("job_finished", job=job.name, summary=summary, fencing_token=lease.token)
        return await self._finish(job, lease, started, Outcome.SUCCEEDED, summary=summary)

    async def _finish(
        self,
        job: Job,
        lease: Lease,
        started: datetime,
        outcome: Outcome,
        *,
        summary: str | None = None,
        error: str | None = None,
        next_run_at: datetime | None = None,
    ) -> JobRun:
        finished = self._clock()
        if next_run_at is None:
            next_run_at = finished + job.interval * (1 + self._jitter * self._rand())
        try:
            recorded = await self._leases.release(
                lease, finished, outcome.value, error, next_run_at
            )
        except Exception as exc:  # the lease runs out on its own; the job is due again then
            log.warning("job_release_failed", job=job.name, error=describe_error(exc))
            recorded = False
        if not recorded:
            log.warning("job_lease_lost", job=job.name, fencing_token=lease.token)
        return JobRun(
            job.name, lease.owner, lease.token, started, finished, outcome, summary, error, recorded
        )

    # -- the background task ----------------------------------------------------------

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                await self.run_due()
                sleep = await self._sleep_for()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: back off, keep the loop
                failures += 1
                log.warning("scheduler_loop_failed", error=describe_error(exc))
                sleep = min(60.0, 0.5 * 2**failures)
            await self.wakeup.wait(sleep)

    async def _sleep_for(self) -> float:
        """Until the next job is due (or its lease runs out), at most the poll interval."""
        now = self._clock()
        soonest = self._poll_seconds
        for state in (await self.states()).values():
            at = state.lease_until if state.held(now) and state.lease_until else state.next_run_at
            soonest = min(soonest, (at - now).total_seconds())
        return max(0.05, soonest)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self.run(), name="jobs-scheduler")
            log.info("scheduler_started", owner=self.owner, jobs=[j.name for j in self.jobs])

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
