"""Account security is out of reach of API keys: a leaked integration key must not be
able to enrol MFA (and keep the recovery codes), change the password, end the owner's
sessions or mint keys. Each refusal is ``403 SESSION_REQUIRED`` and changes nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from agora.bootstrap import Container
from agora.identity.adapters.tables import users
from agora.identity.mfa.adapters.tables import mfa_recovery_codes, totp_credentials
from tests.support.access import bearer, create_api_key, x_api_key
from tests.support.accounts import Account, login
from tests.support.mfa import (
    CONFIRM,
    DISABLE,
    ENROLL,
    STATUS,
    AuthenticatorApp,
    enable_mfa,
    enroll,
)

pytestmark = pytest.mark.anyio

API = "/api/v1"
PROFILE = f"{API}/auth/profile"
NEW_PASSWORD = "quartz-meadow-lantern-ferry"
BOTH_WAYS: list[Callable[[str], dict[str, str]]] = [bearer, x_api_key]

# Routes under /auth and /api-keys that take credentials but stay open to a key: they read
# or change nothing about how the account signs in.
KEY_USABLE = {
    ("GET", "/auth/profile"),
    ("PATCH", "/auth/profile"),
    ("POST", "/auth/verify-email/resend"),
}
# The account-security routes there are today; new ones must join them or KEY_USABLE.
ACCOUNT_SECURITY = {
    ("GET", "/auth/mfa"),
    ("POST", "/auth/mfa/totp/enroll"),
    ("POST", "/auth/mfa/totp/confirm"),
    ("POST", "/auth/mfa/totp/disable"),
    ("POST", "/auth/password"),
    ("GET", "/auth/sessions"),
    ("DELETE", "/auth/sessions/{session_id}"),
    ("POST", "/auth/logout-all"),
    ("POST", "/api-keys"),
    ("GET", "/api-keys"),
    ("DELETE", "/api-keys/{api_key_id}"),
}


def _assert_session_required(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["errors"]["code"] == "SESSION_REQUIRED"


async def _key_of(client: httpx.AsyncClient, account: Account) -> str:
    key: str = (await create_api_key(client, account))["key"]
    return key


async def _scalar(container: Container, statement: Any) -> Any:
    async with container.engine.connect() as conn:
        return (await conn.execute(statement)).scalar_one()


def _credentialed_operations(openapi: dict[str, Any]) -> set[tuple[str, str]]:
    """Every operation under /auth and /api-keys that accepts a credential."""
    found = set()
    for path, operations in openapi["paths"].items():
        relative = path.removeprefix(API)
        if not relative.startswith(("/auth", "/api-keys")):
            continue
        for method, operation in operations.items():
            if operation.get("security"):
                found.add((method.upper(), relative))
    return found


async def test_every_account_security_route_refuses_an_api_key(
    client: httpx.AsyncClient, customer: Account
) -> None:
    openapi = (await client.get("/openapi.json")).json()
    credentialed = _credentialed_operations(openapi)
    assert credentialed >= ACCOUNT_SECURITY
    key = await _key_of(client, customer)
    refused = set()
    for method, path in sorted(credentialed):
        url = API + re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        for send in BOTH_WAYS:
            response = await client.request(method, url, json={}, headers=send(key))
            if (method, path) in KEY_USABLE:
                assert response.status_code != 403, (method, path, response.text)
            else:
                _assert_session_required(response)
                refused.add((method, path))
    assert refused == credentialed - KEY_USABLE
    assert refused >= ACCOUNT_SECURITY
    # The owner's session still reaches them (a sign-in is all they need).
    assert (await client.get(f"{API}/auth/sessions", headers=customer.headers)).status_code == 200


async def test_a_key_cannot_enrol_mfa_for_its_owner(
    client: httpx.AsyncClient, container: Container, customer: Account
) -> None:
    key = await _key_of(client, customer)

    _assert_session_required(await client.post(ENROLL, headers=bearer(key)))

    where = totp_credentials.c.user_id == customer.id
    assert await _scalar(container, select(func.count()).where(where)) == 0
    status = await client.get(STATUS, headers=customer.headers)
    assert status.json()["data"]["enabled"] is False


async def test_a_key_cannot_confirm_an_enrolment_nor_receive_recovery_codes(
    client: httpx.AsyncClient, container: Container, customer: Account
) -> None:
    app = AuthenticatorApp((await enroll(client, customer))["secret"])
    key = await _key_of(client, customer)

    response = await client.post(CONFIRM, json={"code": app.code()}, headers=x_api_key(key))

    _assert_session_required(response)
    assert "recovery_codes" not in response.text
    confirmed = select(totp_credentials.c.confirmed_at).where(
        totp_credentials.c.user_id == customer.id
    )
    assert await _scalar(container, confirmed) is None
    codes = select(func.count()).where(mfa_recovery_codes.c.user_id == customer.id)
    assert await _scalar(container, codes) == 0
    # The owner's own session can still finish what it started.
    finished = await client.post(CONFIRM, json={"code": app.code()}, headers=customer.headers)
    assert finished.status_code == 200, finished.text


async def test_a_key_cannot_disable_mfa(
    client: httpx.AsyncClient, container: Container, customer: Account
) -> None:
    enabled = await enable_mfa(client, customer)
    key = await _key_of(client, customer)

    response = await client.post(
        DISABLE, json={"code": enabled.recovery_codes[0]}, headers=bearer(key)
    )

    _assert_session_required(response)
    codes = select(func.count()).where(mfa_recovery_codes.c.user_id == customer.id)
    assert await _scalar(container, codes) == len(enabled.recovery_codes)
    status = await client.get(STATUS, headers=customer.headers)
    assert status.json()["data"]["enabled"] is True


async def test_a_key_cannot_change_the_password(
    client: httpx.AsyncClient, container: Container, customer: Account
) -> None:
    key = await _key_of(client, customer)
    stored = select(users.c.password_hash).where(users.c.id == customer.id)
    before = await _scalar(container, stored)

    response = await client.post(
        f"{API}/auth/password",
        json={"current_password": customer.password, "new_password": NEW_PASSWORD},
        headers=x_api_key(key),
    )

    _assert_session_required(response)
    assert await _scalar(container, stored) == before
    await login(client, customer.email, customer.password)  # the old password still works
    assert (await client.get(PROFILE, headers=customer.headers)).status_code == 200


async def test_a_key_cannot_list_or_end_the_owners_sessions(
    client: httpx.AsyncClient, customer: Account
) -> None:
    key = await _key_of(client, customer)
    sessions = (await client.get(f"{API}/auth/sessions", headers=customer.headers)).json()
    [current] = [s["id"] for s in sessions["data"] if s["current"]]

    for send in BOTH_WAYS:
        _assert_session_required(await client.get(f"{API}/auth/sessions", headers=send(key)))
        _assert_session_required(
            await client.delete(f"{API}/auth/sessions/{current}", headers=send(key))
        )
        _assert_session_required(await client.post(f"{API}/auth/logout-all", headers=send(key)))

    assert (await client.get(PROFILE, headers=customer.headers)).status_code == 200
    after = (await client.get(f"{API}/auth/sessions", headers=customer.headers)).json()
    assert current in {s["id"] for s in after["data"]}
    # The key itself still does what keys are for.
    assert (await client.get(PROFILE, headers=bearer(key))).status_code == 200
