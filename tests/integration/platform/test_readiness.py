"""Readiness checks every configured dependency against the real service, and names failures."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from agora.app import create_app
from agora.bootstrap import build_container
from tests.conftest import make_test_settings

REDIS_URL = os.environ.get("AGORA_TEST_REDIS_URL")
BROKER_URL = os.environ.get("AGORA_TEST_BROKER_URL")
# A loopback port nothing listens on: connection refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_BROKER = "amqp://guest:guest@127.0.0.1:1/"


@asynccontextmanager
async def _client_for(database_url: str, **overrides: object) -> AsyncIterator[httpx.AsyncClient]:
    container = await build_container(make_test_settings(database_url, **overrides))
    app = create_app(container.settings, container=container)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client
    finally:
        await container.close()


async def test_unreachable_redis_makes_readiness_503_naming_it(migrated: str) -> None:
    async with _client_for(migrated, redis_url=DEAD_REDIS) as client:
        response = await client.get("/health/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["errors"]["code"] == "SERVICE_UNAVAILABLE"
        assert body["errors"]["details"]["failing"] == ["redis"]
        assert "redis" in body["errors"]["message"]
        assert response.headers["retry-after"] == "5"
        # The rest of the platform still answers.
        assert (await client.get("/health/live")).status_code == 200


async def test_unreachable_broker_is_reported_degraded_and_the_instance_stays_ready(
    migrated: str,
) -> None:
    """Orders commit with their events in the outbox whether RabbitMQ answers or not, so
    a broker outage must not take every web instance out of the load balancer."""
    async with _client_for(migrated, broker_url=DEAD_BROKER) as client:
        response = await client.get("/health/ready")
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["status"] == "degraded"
        assert data["degraded"] == ["broker"]
        assert data["checks"]["broker"]["status"] == "degraded"
        assert data["checks"]["database"]["status"] == "ok"


async def test_a_down_database_still_fails_readiness_when_the_broker_is_down_too(
    migrated: str,
) -> None:
    dead = "postgresql+asyncpg://agora@127.0.0.1:1/agora"
    async with _client_for(dead, broker_url=DEAD_BROKER) as client:
        response = await client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["errors"]["details"]["failing"] == ["database"]


@pytest.mark.skipif(not REDIS_URL or not BROKER_URL, reason="needs AGORA_TEST_REDIS_URL/BROKER_URL")
async def test_ready_when_real_redis_and_broker_answer(migrated: str) -> None:
    async with _client_for(migrated, redis_url=REDIS_URL, broker_url=BROKER_URL) as client:
        response = await client.get("/health/ready")
        assert response.status_code == 200, response.text
        checks = response.json()["data"]["checks"]
        assert {name: c["status"] for name, c in checks.items()} == {
            "database": "ok",
            "redis": "ok",
            "broker": "ok",
            "mail": "ok",
        }


async def test_unreachable_database_is_a_503_not_a_crash(migrated: str) -> None:
    dead = "postgresql+asyncpg://agora@127.0.0.1:1/agora"
    async with _client_for(dead) as client:
        listing = await client.get("/api/v1/products")
        assert listing.status_code == 503
        assert listing.json()["errors"]["details"] == {"dependency": "database"}
        assert listing.headers["retry-after"] == "5"
        # An outage answer is still one of ours: request ID and security headers included.
        assert listing.json()["meta"]["request_id"] == listing.headers["x-request-id"]
        assert listing.headers["x-content-type-options"] == "nosniff"
        assert listing.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in listing.headers["content-security-policy"]
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["errors"]["details"]["failing"] == ["database"]
        assert (await client.get("/health/live")).status_code == 200
