"""What checking an access token costs: the per-request price of authentication.

Tokens come from the server over HTTP: an administrator's login, then refreshes of that
session (each signs a new access token and rotates the refresh token; their latency is
reported too). They are checked in this process by the platform ``Authenticator`` that
``agora.bootstrap.build_container`` wires for the API, on the server's database and
secret: key refresh and revocation checks, ES256 verification or the verified-token
cache, the revoked-session lookup and the account's current role, plus
``Principal.require``. Two cases: a token this process has verified before (every
request after a client's first) and a token it has never seen (a full ECDSA P-256
verification). An administrator's token takes the same path as a staff member's.
"""

from __future__ import annotations

import statistics
import time
import timeit
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from agora.bootstrap import build_container
from agora.platform.access import Authenticator, Permission
from agora.platform.settings import Settings
from servers import BenchmarkError

TARGET_US = 200.0


@dataclass
class Tokens:
    seen: str  # verified once before timing: the warm path
    fresh: list[str]  # never verified by this process: the cold path
    refresh_seconds: list[float]  # one per refresh over HTTP


def obtain_tokens(base_url: str, email: str, password: str, count: int) -> Tokens:
    """A login and ``count`` refreshes of its session, one after another."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        pair = _data(http.post("/api/v1/auth/login", json={"email": email, "password": password}))
        seen, refresh = pair["access_token"], pair["refresh_token"]
        fresh, seconds = [], []
        for _ in range(count):
            started = time.perf_counter()
            response = http.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
            seconds.append(time.perf_counter() - started)
            pair = _data(response)
            fresh.append(pair["access_token"])
            refresh = pair["refresh_token"]
    return Tokens(seen, fresh, seconds)


async def measure_verification(
    settings: Settings, tokens: Tokens, iterations: int
) -> dict[str, Any]:
    container = await build_container(settings)
    try:
        authenticator = container.identity.authenticator
        # The first call reads the signing keys, the revoked sessions and the account's
        # access from the database; timed calls find them in memory.
        principal = await authenticator.authenticate(tokens.seen)
        principal.require(Permission.ORDERS_MANAGE)
        return _timed(authenticator, tokens, iterations)
    finally:
        await container.close()


def _timed(authenticator: Authenticator, tokens: Tokens, iterations: int) -> dict[str, Any]:
    def warm() -> None:
        principal = _run_to_completion(authenticator.authenticate(tokens.seen))
        principal.require(Permission.ORDERS_MANAGE)

    timer = timeit.Timer(warm)
    repeats = timer.repeat(repeat=5, number=max(1, iterations // 5))
    warm_mean = sum(repeats) / iterations * 1e6
    warm_stats = _percentiles(_per_call(warm, iterations))

    pending = iter(tokens.fresh)

    def cold() -> None:
        principal = _run_to_completion(authenticator.authenticate(next(pending)))
        principal.require(Permission.ORDERS_MANAGE)

    cold_stats = _percentiles(_per_call(cold, len(tokens.fresh)))
    refresh_ms = sorted(s * 1000 for s in tokens.refresh_seconds)
    return {
        "warm": {"iterations": iterations, "timeit_mean_us": warm_mean, **warm_stats},
        "cold": {"iterations": len(tokens.fresh), **cold_stats},
        "refresh": {
            "calls": len(refresh_ms),
            "mean_ms": statistics.fmean(refresh_ms),
            "p50_ms": _at(refresh_ms, 0.50),
            "p99_ms": _at(refresh_ms, 0.99),
        },
        "raw_ecdsa_verify_mean_us": _raw_ecdsa_verify_us(count=min(len(tokens.fresh), 1_000)),
        "target_us": TARGET_US,
    }


def _run_to_completion(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Drive a coroutine that never suspends, without an event loop's overhead."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise BenchmarkError("authentication suspended: it did I/O on the request path")


def _at(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _percentiles(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    return {
        "mean_us": statistics.fmean(ordered) / 1000,
        "p50_us": _at(ordered, 0.50) / 1000,
        "p99_us": _at(ordered, 0.99) / 1000,
        "max_us": ordered[-1] / 1000,
    }


def _per_call(call: Callable[[], object], count: int) -> list[int]:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(count):
        started = clock()
        call()
        samples.append(clock() - started)
    return samples


def _raw_ecdsa_verify_us(count: int) -> float:
    """One P-256 signature check in OpenSSL, without any JWT handling: the floor."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    message = b"x" * 300
    signature = private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    public = private_key.public_key()
    seconds = timeit.timeit(
        lambda: public.verify(signature, message, ec.ECDSA(hashes.SHA256())), number=count
    )
    return seconds / count * 1e6


def _data(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise BenchmarkError(
            f"{response.request.url.path} failed: {response.status_code} {response.text[:300]}"
        )
    data: dict[str, Any] = response.json()["data"]
    return data
