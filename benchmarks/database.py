"""A throw-away PostgreSQL database for one benchmark run, and the checks run against it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from servers import BenchmarkError

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    url = os.environ.get("AGORA_BENCH_DATABASE_URL", DEFAULT_SERVER_URL)
    # asyncpg speaks plain postgresql:// URLs; accept SQLAlchemy's spelling too.
    return re.sub(r"^postgres(ql)?(\+asyncpg)?://", "postgresql://", url)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def describe(url: str) -> str:
    """The URL without credentials, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port or 5432}{parts.path}"


@dataclass
class BenchDatabase:
    """Created on ``create``, dropped (with any remaining connections) on ``drop``."""

    admin_url: str
    name: str

    @classmethod
    def fresh(cls) -> BenchDatabase:
        stamp = time.strftime("%Y%m%d%H%M%S")
        return cls(server_url(), f"agora_bench_{stamp}_{uuid.uuid4().hex[:6]}")

    @property
    def url(self) -> str:
        return with_database(self.admin_url, self.name)

    def create(self) -> None:
        async def go() -> None:
            conn = await _connect(self.admin_url)
            try:
                await conn.execute(f'CREATE DATABASE "{self.name}"')
            finally:
                await conn.close()

        asyncio.run(go())

    def drop(self) -> None:
        async def go() -> None:
            conn = await _connect(self.admin_url)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            finally:
                await conn.close()

        asyncio.run(go())

    def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async def go() -> list[asyncpg.Record]:
            conn = await _connect(self.url)
            try:
                return list(await conn.fetch(query, *args))
            finally:
                await conn.close()

        return asyncio.run(go())

    def fetchval(self, query: str, *args: Any) -> Any:
        rows = self.fetch(query, *args)
        return rows[0][0] if rows else None

    def execution_ms(self, query: str, *args: Any, runs: int = 15) -> float:
        """Median server-side execution time of ``query`` (EXPLAIN ANALYZE), warm cache."""

        async def go() -> float:
            conn = await _connect(self.url)
            try:
                times = []
                for _ in range(runs):
                    plan = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}", *args)
                    times.append(float(json.loads(plan)[0]["Execution Time"]))
            finally:
                await conn.close()
            return statistics.median(times)

        return asyncio.run(go())

    def table_columns(self, table: str) -> set[str]:
        rows = self.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = $1",
            table,
        )
        return {row[0] for row in rows}


_ACTIVITY_SQL = """
SELECT count(*) AS connections,
       count(*) FILTER (WHERE state = 'active') AS active,
       count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock') AS lock_waits,
       count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_transaction
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


class ActivitySampler:
    """Samples ``pg_stat_activity`` of the benchmark database in a background thread.

    Averages say how many sessions were running a query, waiting for a lock, or holding
    a transaction open while the application did something else.
    """

    def __init__(self, url: str, interval: float = 0.25) -> None:
        self.url = url
        self.interval = interval
        self.samples: list[tuple[int, int, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-activity", daemon=True)
        self.problem: str | None = None

    def _run(self) -> None:
        async def go() -> None:
            conn = await _connect(self.url)
            try:
                while not self._stop.is_set():
                    row = await conn.fetchrow(_ACTIVITY_SQL)
                    self.samples.append(tuple(row.values()))
                    await asyncio.sleep(self.interval)
            finally:
                await conn.close()

        try:
            asyncio.run(go())
        except Exception as exc:  # a failed sampler must not fail the run
            self.problem = str(exc)

    def __enter__(self) -> ActivitySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def summary(self) -> dict[str, float] | None:
        if not self.samples:
            return None
        n = len(self.samples)
        return {
            "connections_max": max(s[0] for s in self.samples),
            "active_avg": round(sum(s[1] for s in self.samples) / n, 1),
            "lock_waits_avg": round(sum(s[2] for s in self.samples) / n, 1),
            "idle_in_transaction_avg": round(sum(s[3] for s in self.samples) / n, 1),
        }


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url, timeout=10)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise BenchmarkError(
            f"cannot reach PostgreSQL at {describe(url)}: {exc}. "
            "Start it or point AGORA_BENCH_DATABASE_URL at a server."
        ) from exc
