"""Rate limits across real ``agora serve`` processes: shared through Redis, and still
enforced, per process, when Redis cannot be reached."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.served import Served, agora, base_env, free_port, serve

pytestmark = pytest.mark.slow

LIMIT = 10
PRODUCTS = "/api/v1/products"


def _hit(served: Served, credential: str) -> int:
    response = httpx.get(
        f"{served.base_url}{PRODUCTS}",
        headers={"Authorization": f"Bearer {credential}"},
        timeout=10,
    )
    return response.status_code


def _credential() -> str:
    # Limits outside /auth are kept per credential: a fresh one is a fresh window, so
    # runs sharing one Redis never count each other's requests.
    return f"rate-limit-probe-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("served-rate-limits")


def _two_processes(
    workdir: Path, name: str, redis_url: str, ready_path: str
) -> Iterator[tuple[Served, Served]]:
    env = base_env(
        f"sqlite+aiosqlite:///{workdir / f'{name}.db'}",
        AGORA_REDIS_URL=redis_url,
        AGORA_RATE_LIMIT_API_PER_MINUTE=str(LIMIT),
    )
    migrated = agora("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    with (
        serve(env, workdir / f"{name}-first.log", ready_path) as first,
        serve(env, workdir / f"{name}-second.log", ready_path) as second,
    ):
        yield first, second


@pytest.fixture(scope="module")
def sharing_redis(workdir: Path) -> Iterator[tuple[Served, Served]]:
    redis_url = os.environ.get("AGORA_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("needs AGORA_TEST_REDIS_URL")  # the embedded run has no Redis
    yield from _two_processes(workdir, "shared", redis_url, "/health/ready")


@pytest.fixture(scope="module")
def without_redis(workdir: Path) -> Iterator[tuple[Served, Served]]:
    unreachable = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    yield from _two_processes(workdir, "fallback", unreachable, "/health/live")


def test_two_processes_sharing_redis_enforce_one_limit(
    sharing_redis: tuple[Served, Served],
) -> None:
    first, second = sharing_redis
    credential = _credential()
    statuses = [_hit(first, credential) for _ in range(LIMIT // 2)]
    statuses += [_hit(second, credential) for _ in range(LIMIT - LIMIT // 2)]
    assert 429 not in statuses

    assert _hit(first, credential) == 429
    assert _hit(second, credential) == 429
    assert _hit(second, _credential()) != 429, "another client has its own window"


def test_with_redis_unreachable_each_process_still_enforces_the_limit(
    without_redis: tuple[Served, Served],
) -> None:
    first, second = without_redis
    credential = _credential()
    assert 429 not in [_hit(first, credential) for _ in range(LIMIT)]

    refused = httpx.get(
        f"{first.base_url}{PRODUCTS}",
        headers={"Authorization": f"Bearer {credential}"},
        timeout=10,
    )
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    # Without the shared store the other process counts on its own.
    assert _hit(second, credential) != 429
