"""Logins per second over HTTP at the configured argon2id parameters.

Eight registered customers log in, in a closed loop of ``concurrency`` clients for a
bounded time: first one client alone, then the configured number at once. Logins are
slow on purpose (argon2id), so this is the rate the auth rate limits protect.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from typing import Any

import httpx

from agora.platform.settings import Settings
from auth_server import PASSWORD
from servers import BenchmarkError


async def _login_load(
    base_url: str, emails: list[str], concurrency: int, warmup: float, duration: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    measuring = False
    stop_at = time.monotonic() + warmup + duration

    async def worker(index: int, http: httpx.AsyncClient) -> None:
        nonlocal errors
        email = emails[index % len(emails)]
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = await http.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
            elapsed = time.perf_counter() - started
            if measuring:
                if response.status_code == 200:
                    latencies.append(elapsed)
                else:
                    errors += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        tasks = [asyncio.create_task(worker(i, http)) for i in range(concurrency)]
        await asyncio.sleep(warmup)
        measuring = True
        measured_from = time.monotonic()
        await asyncio.gather(*tasks)
        measured = time.monotonic() - measured_from
    ordered = sorted(latencies)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    return {
        "concurrency": concurrency,
        "seconds": measured,
        "logins": len(latencies),
        "logins_per_second": len(latencies) / measured if measured else 0.0,
        "p50_ms": at(0.50),
        "p99_ms": at(0.99),
        "errors": errors,
    }


def measure_logins(base_url: str, args: argparse.Namespace) -> dict[str, Any]:
    defaults = Settings.model_fields
    argon2 = {
        "memory_kib": defaults["password_hash_memory_kib"].default,
        "time_cost": defaults["password_hash_time_cost"].default,
        "parallelism": defaults["password_hash_parallelism"].default,
    }
    emails = [f"bench-{i}-{uuid.uuid4().hex[:8]}@example.com" for i in range(8)]
    for email in emails:
        response = httpx.post(
            f"{base_url}/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "name": "Bench"},
            timeout=60,
        )
        if response.status_code != 201:
            raise BenchmarkError(f"registration failed: {response.status_code} {response.text}")
    single = asyncio.run(_login_load(base_url, emails, 1, 1.0, 3.0))
    loaded = asyncio.run(
        _login_load(base_url, emails, args.concurrency, args.warmup, args.duration)
    )
    return {"argon2id": argon2, "workers": args.workers, "single": single, "loaded": loaded}
