"""Ending sessions by a password change, a reset or a deactivation also stops their
access tokens at once, not when the 15-minute tokens expire."""

from __future__ import annotations

import httpx
import pytest

from tests.support.accounts import Account, login
from tests.support.mailbox import reset_token

pytestmark = pytest.mark.anyio

PROFILE = "/api/v1/auth/profile"
NEW_PASSWORD = "quartz-meadow-lantern-ferry"


def _bearer(session: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


async def _status(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return (await client.get(PROFILE, headers=headers)).status_code


async def test_a_password_change_stops_the_other_devices_access_tokens(
    client: httpx.AsyncClient, customer: Account
) -> None:
    other_device = await login(client, customer.email, customer.password)
    assert await _status(client, _bearer(other_device)) == 200

    changed = await client.post(
        "/api/v1/auth/password",
        json={"current_password": customer.password, "new_password": NEW_PASSWORD},
        headers=customer.headers,
    )

    assert changed.status_code == 204, changed.text
    assert await _status(client, _bearer(other_device)) == 401
    assert await _status(client, customer.headers) == 200, "the caller's session stays"


async def test_a_password_reset_stops_every_access_token(
    client: httpx.AsyncClient, customer: Account
) -> None:
    requested = await client.post(
        "/api/v1/auth/password-reset/request", json={"email": customer.email}
    )
    assert requested.status_code == 202
    token = await reset_token(client, customer.email)

    confirmed = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )

    assert confirmed.status_code == 204, confirmed.text
    assert await _status(client, customer.headers) == 401


async def test_deactivation_stops_the_users_access_tokens(
    client: httpx.AsyncClient, customer: Account, admin: Account
) -> None:
    assert await _status(client, customer.headers) == 200

    response = await client.patch(
        f"/api/v1/users/{customer.id}", json={"is_active": False}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert await _status(client, customer.headers) == 401
