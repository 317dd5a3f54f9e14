"""Readiness checks for every configured dependency, run concurrently with a timeout.

The probes of Redis and the message broker are here; the database's is
``platform.db.engine.ping_database``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from redis.asyncio import Redis
from yarl import URL

Check = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    duration_ms: float
    error: str | None = None
    # A failing check of a dependency the platform works without (mail): reported as
    # ``degraded``; the instance stays ready.
    degraded: bool = False

    @property
    def status(self) -> str:
        return "ok" if self.ok else "degraded" if self.degraded else "unavailable"

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "duration_ms": self.duration_ms}
        if self.error:
            body["error"] = self.error
        return body


@dataclass
class HealthChecks:
    timeout_seconds: float = 3.0
    checks: dict[str, Check] = field(default_factory=dict)
    # Ready, but worth an operator's attention (a development part in production): code -> why.
    warnings: dict[str, str] = field(default_factory=dict)
    # Checks whose failure degrades one feature but leaves the instance able to serve:
    # reported as "degraded", and readiness stays 200 so a load balancer keeps the
    # instance (mail waits in its queue, events in the outbox, meanwhile).
    optional: set[str] = field(default_factory=set)

    def add(self, name: str, check: Check, *, optional: bool = False) -> None:
        self.checks[name] = check
        if optional:
            self.optional.add(name)

    def blocks_readiness(self, result: CheckResult) -> bool:
        return not result.ok and not result.degraded

    def warn(self, code: str, message: str) -> None:
        self.warnings[code] = message

    def warnings_out(self) -> list[dict[str, str]]:
        # Codes only: readiness is anonymous, and the full sentences (which say what the
        # weakness allows) belong in the operator's start-up log.
        return [{"code": code} for code in self.warnings]

    async def run(self) -> list[CheckResult]:
        return list(await asyncio.gather(*(self._one(n, c) for n, c in self.checks.items())))

    async def _one(self, name: str, check: Check) -> CheckResult:
        started = time.perf_counter()
        optional = name in self.optional
        try:
            await asyncio.wait_for(check(), self.timeout_seconds)
        except TimeoutError:
            return CheckResult(name, False, _ms(started), "timed out", optional)
        except Exception as exc:  # any failure means "not ready"; the type is the message
            return CheckResult(name, False, _ms(started), type(exc).__name__, optional)
        return CheckResult(name, True, _ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


async def ping_redis(url: str) -> None:
    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def ping_broker(url: str) -> None:
    # Built by hand rather than with aio_pika.connect(), so that a failed attempt is
    # closed here and not left for the garbage collector to half-close.
    connection = aio_pika.Connection(URL(url))
    try:
        await connection.connect(timeout=2)
    finally:
        await connection.close()
