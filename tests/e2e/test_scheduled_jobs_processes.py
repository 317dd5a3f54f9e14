"""The processes that run the scheduler: ``agora worker`` always, the web process in
embedded mode (and not when told not to). Each test has a fresh SQLite database of its
own, so the real jobs run on nobody else's rows."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from agora.app import create_app
from agora.bootstrap.jobs import DEFAULT_INTERVALS
from agora.platform.db.job_leases import SqlJobLeases
from agora.platform.db.migrations import upgrade
from agora.platform.jobs import JobState
from tests.conftest import make_test_settings
from tests.e2e.served import base_env


@pytest.fixture
def own_database(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    upgrade(url)
    return url


async def states(url: str) -> dict[str, JobState]:
    engine = create_async_engine(url)
    try:
        return {s.name: s for s in await SqlJobLeases(engine).states()}
    finally:
        await engine.dispose()


def all_ran(found: dict[str, JobState]) -> bool:
    return set(found) >= set(DEFAULT_INTERVALS) and all(
        found[name].last_outcome == "succeeded" for name in DEFAULT_INTERVALS
    )


def test_the_worker_runs_every_job_and_gives_the_leases_back_when_stopped(
    own_database: str, tmp_path: Path
) -> None:
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "agora.cli.main", "worker"],
        env=base_env(own_database, AGORA_JOBS_POLL_SECONDS="0.2"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all_ran(asyncio.run(states(own_database))):
            time.sleep(0.2)
        assert all_ran(asyncio.run(states(own_database))), (tmp_path / "worker.log").read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(30)
        log.close()
    assert code == 0, (tmp_path / "worker.log").read_text()
    assert all(s.lease_owner is None for s in asyncio.run(states(own_database)).values())


async def test_the_web_process_runs_the_jobs_in_embedded_mode(own_database: str) -> None:
    app = create_app(make_test_settings(own_database, jobs_poll_seconds=0.1))
    async with app.router.lifespan_context(app):
        for _ in range(300):
            if all_ran(await states(own_database)):
                break
            await asyncio.sleep(0.1)
    found = await states(own_database)
    assert all_ran(found)
    assert all(s.lease_owner is None for s in found.values())


async def test_a_web_process_told_not_to_runs_no_jobs(own_database: str) -> None:
    app = create_app(make_test_settings(own_database, jobs_enabled=False))
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.5)
    assert await states(own_database) == {}
