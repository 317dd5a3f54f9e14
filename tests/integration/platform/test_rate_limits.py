"""Rate limits: per IP on auth, per credential elsewhere, shared through Redis, never off."""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from agora.app import create_app
from agora.bootstrap import build_container
from tests.conftest import make_test_settings

REDIS_URL = os.environ.get("AGORA_TEST_REDIS_URL")
DEAD_REDIS = "redis://127.0.0.1:1/0"
LOGIN = {"email": "nobody@example.com", "password": "not-the-password-at-all"}


def random_ip() -> str:
    # Only ever a value in the ASGI scope; nothing is sent to this address.
    return f"198.51.{random.randint(0, 255)}.{random.randint(1, 254)}"


@asynccontextmanager
async def limited_app(database_url: str, **overrides: object) -> AsyncIterator[object]:
    settings = make_test_settings(
        database_url,
        rate_limit_auth_per_minute=3,
        rate_limit_api_per_minute=5,
        **overrides,
    )
    container = await build_container(settings)
    try:
        yield create_app(settings, container=container)
    finally:
        await container.close()


def client_for(app: object, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 4711))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_auth_endpoints_are_limited_per_ip_with_retry_after(migrated: str) -> None:
    async with limited_app(migrated, redis_url=None) as app:
        ip = random_ip()
        async with client_for(app, ip) as client:
            answers = [await client.post("/api/v1/auth/login", json=LOGIN) for _ in range(4)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
        refused = answers[-1]
        assert refused.json()["errors"]["code"] == "RATE_LIMITED"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit-limit"] == "3"
        assert refused.headers["ratelimit-remaining"] == "0"
        assert answers[0].headers["ratelimit-remaining"] == "2"
        assert refused.headers["x-request-id"]

        async with client_for(app, random_ip()) as other:
            assert (await other.post("/api/v1/auth/login", json=LOGIN)).status_code == 401


async def test_api_calls_are_limited_per_credential(migrated: str) -> None:
    async with (
        limited_app(migrated, redis_url=None) as app,
        client_for(app, random_ip()) as client,
    ):
        token_a = {"Authorization": "Bearer token-a"}
        statuses = [
            (await client.get("/api/v1/cart", headers=token_a)).status_code for _ in range(6)
        ]
        assert statuses == [401] * 5 + [429]
        token_b = {"Authorization": "Bearer token-b"}
        assert (await client.get("/api/v1/cart", headers=token_b)).status_code == 401
        # Health and docs are never limited.
        for _ in range(10):
            assert (await client.get("/health/live")).status_code == 200


async def test_limits_can_be_switched_off(migrated: str) -> None:
    async with (
        limited_app(migrated, redis_url=None, rate_limit_enabled=False) as app,
        client_for(app, random_ip()) as client,
    ):
        for _ in range(8):
            response = await client.post("/api/v1/auth/login", json=LOGIN)
            assert response.status_code == 401
            assert "ratelimit-limit" not in response.headers


async def test_redis_outage_falls_back_to_per_process_limits(migrated: str) -> None:
    async with (
        limited_app(migrated, redis_url=DEAD_REDIS) as app,
        client_for(app, random_ip()) as client,
    ):
        statuses = [
            (await client.post("/api/v1/auth/login", json=LOGIN)).status_code for _ in range(4)
        ]
    assert statuses == [401, 401, 401, 429]


@pytest.mark.skipif(not REDIS_URL, reason="needs AGORA_TEST_REDIS_URL")
async def test_two_app_instances_share_one_limit_through_redis(migrated: str) -> None:
    ip = random_ip()
    async with (
        limited_app(migrated, redis_url=REDIS_URL) as first,
        limited_app(migrated, redis_url=REDIS_URL) as second,
        client_for(first, ip) as one,
        client_for(second, ip) as two,
    ):
        statuses = [
            (await one.post("/api/v1/auth/login", json=LOGIN)).status_code,
            (await two.post("/api/v1/auth/login", json=LOGIN)).status_code,
            (await one.post("/api/v1/auth/login", json=LOGIN)).status_code,
            (await two.post("/api/v1/auth/login", json=LOGIN)).status_code,
        ]
    assert statuses == [401, 401, 401, 429]
