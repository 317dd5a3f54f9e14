"""Login throttling through the API: growing lockouts per email and per address.

An email without an account is throttled exactly like one with an account, so the
answers never tell which emails are registered.
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from agora.app import create_app
from agora.bootstrap import Container, build_container
from agora.identity.sessions.adapters.throttle_counters import MemoryLoginThrottle
from agora.identity.sessions.throttle import ThrottlePolicy
from tests.conftest import make_test_settings
from tests.support.accounts import PASSWORD, unique_email

REDIS_URL = os.environ.get("AGORA_TEST_REDIS_URL")
DEAD_REDIS = "redis://127.0.0.1:1/0"
LOGIN = "/api/v1/auth/login"
WRONG = "not-the-right-password-9"


def random_ip() -> str:
    # Only ever a value in the ASGI scope; nothing is sent to this address.
    return f"198.51.{random.randint(0, 255)}.{random.randint(1, 254)}"


@asynccontextmanager
async def throttled(database_url: str, **overrides: Any) -> AsyncIterator[Container]:
    values: dict[str, Any] = {
        "login_throttle_account_threshold": 3,
        "login_throttle_ip_threshold": 1000,
        "login_throttle_max_delay_seconds": 8,
        "login_throttle_memory_seconds": 60,
        "redis_url": None,
    }
    values.update(overrides)
    container = await build_container(make_test_settings(database_url, **values))
    try:
        yield container
    finally:
        await container.close()


def client_for(container: Container, ip: str) -> httpx.AsyncClient:
    app = create_app(container.settings, container=container)
    transport = httpx.ASGITransport(app=app, client=(ip, 4711))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def attempt(client: httpx.AsyncClient, email: str, password: str = WRONG) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


async def account(container: Container) -> str:
    identity = container.identity
    user = await identity.registration.register(
        unique_email("throttled"), PASSWORD, "Throttled Person"
    )
    return user.email


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


def seen(response: httpx.Response) -> tuple[int, str | None, Any]:
    """What a client can tell from an answer, minus the per-request meta."""
    body = response.json()
    return response.status_code, response.headers.get("retry-after"), body.get("errors")


async def test_lockouts_grow_and_look_the_same_for_real_and_unknown_emails(
    migrated: str,
) -> None:
    async with throttled(migrated) as container:
        clock = Clock()
        # The same adapter the app wires, on a clock the test moves instead of sleeping.
        container.identity.sign_in.throttle = MemoryLoginThrottle(
            ThrottlePolicy(account_threshold=3, ip_threshold=1000, max_delay=8, memory=60), clock
        )
        real = await account(container)
        unknown = unique_email("never-registered")
        transcripts = {}
        for email in (real, unknown):
            async with client_for(container, random_ip()) as client:
                steps = [seen(await attempt(client, email)) for _ in range(3)]
                for delay in (1, 2, 4, 8, 8):
                    steps.append(seen(await attempt(client, email)))  # refused while locked
                    clock.now += delay
                    steps.append(seen(await attempt(client, email)))  # one more failure
                transcripts[email] = steps

        assert transcripts[real] == transcripts[unknown]
        steps = transcripts[real]
        refused = [s for s in steps if s[0] == 429]
        assert [s[1] for s in refused] == ["1", "2", "4", "8", "8"]
        assert refused[0][2] == {
            "code": "TOO_MANY_LOGIN_ATTEMPTS",
            "message": "Too many failed login attempts; try again in 1 seconds.",
            "details": {"retry_after": 1},
        }
        assert [s[0] for s in steps if s[0] != 429] == [401] * 8

        async with client_for(container, random_ip()) as client:
            # Still counted (the unknown email's turn moved the clock on): locked at once.
            assert (await attempt(client, real)).status_code == 401
            # While locked even the right password is refused, unchecked.
            assert (await attempt(client, real, PASSWORD)).status_code == 429
            clock.now += 8
            assert (await attempt(client, real, PASSWORD)).status_code == 200
            # Success forgot the failures: three more are needed for the next lockout.
            assert [(await attempt(client, real)).status_code for _ in range(4)] == [
                401,
                401,
                401,
                429,
            ]


async def test_a_successful_login_resets_the_accounts_count(migrated: str) -> None:
    async with throttled(migrated) as container:
        email = await account(container)
        async with client_for(container, random_ip()) as client:
            statuses = [(await attempt(client, email)).status_code for _ in range(2)]
            statuses.append((await attempt(client, email, PASSWORD)).status_code)
            statuses += [(await attempt(client, email)).status_code for _ in range(2)]
            assert statuses == [401, 401, 200, 401, 401]
            assert (await attempt(client, email)).status_code == 401  # third in a row: locks
            locked = await attempt(client, email)
            assert locked.status_code == 429
            assert locked.headers["retry-after"] == "1"


async def test_one_address_trying_many_emails_is_locked_out_for_all_of_them(
    migrated: str,
) -> None:
    async with throttled(
        migrated, login_throttle_account_threshold=1000, login_throttle_ip_threshold=4
    ) as container:
        real = await account(container)
        attacker = random_ip()
        async with client_for(container, attacker) as client:
            guesses = [(await attempt(client, unique_email("guess"))).status_code for _ in range(4)]
            assert guesses == [401] * 4
            assert (await attempt(client, unique_email("guess"))).status_code == 429
            assert (await attempt(client, real, PASSWORD)).status_code == 429
        async with client_for(container, random_ip()) as elsewhere:
            assert (await attempt(elsewhere, real, PASSWORD)).status_code == 200


async def test_malformed_emails_count_against_the_address(migrated: str) -> None:
    async with (
        throttled(
            migrated, login_throttle_account_threshold=1000, login_throttle_ip_threshold=2
        ) as container,
        client_for(container, random_ip()) as client,
    ):
        statuses = [(await attempt(client, "not an email")).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


async def test_redis_down_still_throttles_in_each_process(migrated: str) -> None:
    async with (
        throttled(migrated, redis_url=DEAD_REDIS) as first,
        throttled(migrated, redis_url=DEAD_REDIS) as second,
    ):
        email = await account(first)
        ip = random_ip()
        async with client_for(first, ip) as one, client_for(second, ip) as two:
            assert [(await attempt(one, email)).status_code for _ in range(4)] == [
                401,
                401,
                401,
                429,
            ]
            # Per process: the other instance has counted nothing yet.
            assert (await attempt(two, email)).status_code == 401


@pytest.mark.skipif(not REDIS_URL, reason="needs AGORA_TEST_REDIS_URL")
async def test_two_app_instances_share_lockouts_through_redis(migrated: str) -> None:
    async with (
        throttled(migrated, redis_url=REDIS_URL) as first,
        throttled(migrated, redis_url=REDIS_URL) as second,
    ):
        email = await account(first)
        unknown = f"shared-{uuid.uuid4().hex}@example.com"
        async with (
            client_for(first, random_ip()) as one,
            client_for(second, random_ip()) as two,
        ):
            for target in (email, unknown):
                statuses = [
                    (await attempt(one, target)).status_code,
                    (await attempt(two, target)).status_code,
                    (await attempt(one, target)).status_code,
                ]
                assert statuses == [401, 401, 401]
                refused = await attempt(two, target)
                assert refused.status_code == 429, target
                assert refused.headers["retry-after"] == "1"
            await asyncio.sleep(1.1)
            assert (await attempt(two, email, PASSWORD)).status_code == 200
            # The success cleared the shared count: the other instance sees it too.
            assert [(await attempt(one, email)).status_code for _ in range(2)] == [401, 401]
