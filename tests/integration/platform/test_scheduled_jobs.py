"""The scheduler on the real database: one instance at a time runs a job, whatever runs
at once; a dead holder's lease is taken over once it runs out; a failing job records
its error and holds back none of the others; a shutdown gives the lease back.

Each test uses jobs of its own (random names), its own clock where time must pass, and
removes its rows from ``scheduled_jobs`` afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import delete

from agora.bootstrap import Container
from agora.platform.clock import utcnow
from agora.platform.db.job_leases import SqlJobLeases
from agora.platform.db.tables import scheduled_jobs
from agora.platform.jobs import Job, JobState, Outcome, Scheduler


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Counting:
    """A job's work that counts its runs, takes a while, and can be told to fail."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.runs = 0
        self.running = 0
        self.most_at_once = 0
        self.seconds = seconds
        self.fail: str | None = None

    async def __call__(self) -> str:
        self.runs += 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(self.seconds)
            if self.fail:
                raise RuntimeError(self.fail)
            return f"run {self.runs}"
        finally:
            self.running -= 1


@pytest.fixture
async def names(container: Container) -> AsyncIterator[Callable[[str], str]]:
    made: list[str] = []

    def name(kind: str) -> str:
        made.append(f"test.{kind}-{uuid4().hex[:8]}")
        return made[-1]

    yield name
    async with container.engine.begin() as conn:
        await conn.execute(delete(scheduled_jobs).where(scheduled_jobs.c.name.in_(made)))


def scheduler(container: Container, *jobs: Job, clock: Clock, owner: str) -> Scheduler:
    return Scheduler(jobs, SqlJobLeases(container.engine), owner=owner, clock=clock, jitter=0)


async def state_of(container: Container, name: str) -> JobState:
    (state,) = await SqlJobLeases(container.engine).states([name])
    return state


async def test_of_many_schedulers_at_once_one_runs_a_due_job_once_per_interval(
    container: Container, names: Callable[[str], str]
) -> None:
    clock, work = Clock(), Counting()
    job = Job(names("once"), timedelta(minutes=5), work, "counts")
    instances = [scheduler(container, job, clock=clock, owner=f"instance-{n}") for n in range(5)]

    for _ in range(3):  # three rounds within one interval: one run in all
        await asyncio.gather(*(s.run_due() for s in instances))
    assert work.runs == 1
    assert work.most_at_once == 1

    clock.advance(minutes=5, seconds=1)
    rounds = await asyncio.gather(*(s.run_due() for s in instances))
    runs = [run for round_ in rounds for run in round_]
    assert work.runs == 2
    assert len(runs) == 1
    assert runs[0].recorded
    state = await state_of(container, job.name)
    assert state.fencing_token == 2  # raised on each of the two acquisitions
    assert state.last_outcome == Outcome.SUCCEEDED
    assert state.lease_owner is None
    assert state.lease_until is None
    assert state.next_run_at == clock.now + job.interval


async def test_a_lease_held_by_a_dead_instance_is_taken_over_once_it_runs_out(
    container: Container, names: Callable[[str], str]
) -> None:
    clock, work = Clock(), Counting(0)
    job = Job(names("takeover"), timedelta(minutes=1), work, "counts", lease=timedelta(minutes=2))
    leases = SqlJobLeases(container.engine)
    await leases.register({job.name: clock.now})
    # An instance takes the lease, then dies without giving it back.
    dead = await leases.acquire(job.name, "dead-instance", job.lease, clock.now, due_only=True)
    assert dead is not None
    alive = scheduler(container, job, clock=clock, owner="alive")

    assert await alive.run_due() == []
    assert await alive.run_now(job.name) is None  # not even on demand while it is held
    clock.advance(minutes=1)
    assert await alive.run_due() == []
    assert work.runs == 0

    clock.advance(minutes=1, seconds=1)
    (run,) = await alive.run_due()
    assert work.runs == 1
    assert run.token == dead.token + 1
    # The dead instance coming back cannot overwrite what the new holder recorded.
    assert not await leases.release(dead, clock.now, "succeeded", None, clock.now)
    state = await state_of(container, job.name)
    assert state.last_outcome == Outcome.SUCCEEDED
    assert state.next_run_at == clock.now + job.interval


async def test_a_run_overtaken_after_its_lease_ran_out_records_nothing(
    container: Container, names: Callable[[str], str]
) -> None:
    clock = Clock()
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> str:
        started.set()
        await release.wait()
        return "late"

    name = names("overtaken")
    slow_job = Job(name, timedelta(minutes=1), slow, "slow", lease=timedelta(seconds=30))
    fast_work = Counting(0)
    fast_job = Job(name, timedelta(minutes=1), fast_work, "fast", lease=timedelta(seconds=30))
    first = scheduler(container, slow_job, clock=clock, owner="first")
    second = scheduler(container, fast_job, clock=clock, owner="second")

    first_round = asyncio.create_task(first.run_due())
    await started.wait()
    clock.advance(seconds=31)  # the first holder's lease runs out while it still works
    (overtaking,) = await second.run_due()
    release.set()
    (overtaken,) = await first_round

    assert overtaking.recorded
    assert not overtaken.recorded
    assert overtaken.token < overtaking.token
    state = await state_of(container, name)
    assert state.fencing_token == overtaking.token
    assert state.last_finished_at == overtaking.finished_at


async def test_a_failing_job_records_its_error_and_the_others_still_run(
    container: Container, names: Callable[[str], str]
) -> None:
    clock, broken, healthy = Clock(), Counting(0), Counting(0)
    broken.fail = "the provider is down"
    failing = Job(names("failing"), timedelta(minutes=1), broken, "fails")
    working = Job(names("working"), timedelta(minutes=1), healthy, "works")
    instance = scheduler(container, failing, working, clock=clock, owner="one")

    runs = {run.name: run for run in await instance.run_due()}
    assert runs[failing.name].outcome is Outcome.FAILED
    assert runs[working.name].outcome is Outcome.SUCCEEDED
    failed = await state_of(container, failing.name)
    assert failed.last_outcome == Outcome.FAILED
    assert failed.last_error == "RuntimeError: the provider is down"
    assert failed.lease_until is None  # the lease is given back after a failure too
    assert failed.next_run_at == clock.now + failing.interval

    broken.fail = None
    clock.advance(minutes=1, seconds=1)
    await instance.run_due()
    recovered = await state_of(container, failing.name)
    assert recovered.last_outcome == Outcome.SUCCEEDED
    assert recovered.last_error is None
    assert healthy.runs == 2


async def test_running_now_ignores_the_schedule_but_not_the_lease(
    container: Container, names: Callable[[str], str]
) -> None:
    clock, work = Clock(), Counting(0)
    job = Job(names("now"), timedelta(hours=1), work, "counts")
    instance = scheduler(container, job, clock=clock, owner="one")
    await instance.run_due()
    assert await instance.run_due() == []  # not due for an hour
    run = await instance.run_now(job.name)
    assert run is not None
    assert run.outcome is Outcome.SUCCEEDED
    assert run.summary == "run 2"
    assert work.runs == 2


async def test_stopping_interrupts_a_run_and_gives_its_lease_back(
    container: Container, names: Callable[[str], str]
) -> None:
    started = asyncio.Event()

    async def forever() -> str:
        started.set()
        await asyncio.sleep(3600)
        return "never"

    job = Job(names("stopped"), timedelta(minutes=1), forever, "blocks")
    instance = Scheduler([job], SqlJobLeases(container.engine), owner="stopping", poll_seconds=0.05)
    instance.start()
    await asyncio.wait_for(started.wait(), 10)
    assert (await state_of(container, job.name)).lease_owner == "stopping"
    await instance.stop()
    assert not instance.running
    state = await state_of(container, job.name)
    assert state.lease_owner is None
    assert state.lease_until is None
    assert state.last_outcome == Outcome.INTERRUPTED
    assert state.next_run_at <= utcnow()  # due at once for the next instance


async def test_the_background_loop_runs_due_jobs_by_itself(
    container: Container, names: Callable[[str], str]
) -> None:
    work = Counting(0)
    job = Job(names("loop"), timedelta(seconds=0.2), work, "counts")
    instance = Scheduler(
        [job], SqlJobLeases(container.engine), owner="loop", poll_seconds=0.05, jitter=0
    )
    instance.start()
    try:
        for _ in range(200):
            if work.runs >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await instance.stop()
    assert work.runs >= 2
