"""Changing the password: the current one is required, other sessions end, this one stays."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.accounts import Account, login
from tests.support.mailbox import last_mail, messages_to

pytestmark = pytest.mark.anyio

CHANGE = "/api/v1/auth/password"
REFRESH = "/api/v1/auth/refresh"
NEW_PASSWORD = "quartz-meadow-lantern-ferry"


async def _can_log_in(client: httpx.AsyncClient, email: str, password: str) -> bool:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code == 200


async def _refreshes(client: httpx.AsyncClient, refresh_token: str) -> bool:
    response = await client.post(REFRESH, json={"refresh_token": refresh_token})
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


async def test_a_change_ends_the_other_sessions_and_keeps_this_one(
    client: httpx.AsyncClient, customer: Account
) -> None:
    other_device = await login(client, customer.email, customer.password)

    response = await client.post(
        CHANGE,
        json={"current_password": customer.password, "new_password": NEW_PASSWORD},
        headers=customer.headers,
    )

    assert response.status_code == 204, response.text
    assert await _refreshes(client, customer.refresh_token), "the caller stays signed in"
    assert not await _refreshes(client, str(other_device["refresh_token"]))
    assert not await _can_log_in(client, customer.email, customer.password)
    assert await _can_log_in(client, customer.email, NEW_PASSWORD)
    notice = await last_mail(client, customer.email, "Your Agora password was changed")
    assert notice["to"] == customer.email


async def test_a_wrong_current_password_changes_nothing(
    client: httpx.AsyncClient, customer: Account
) -> None:
    other_device = await login(client, customer.email, customer.password)

    response = await client.post(
        CHANGE,
        json={"current_password": "not-my-password-at-all", "new_password": NEW_PASSWORD},
        headers=customer.headers,
    )

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["code"] == "INVALID_CURRENT_PASSWORD"
    assert errors["details"] == {"field": "current_password"}
    assert await _can_log_in(client, customer.email, customer.password)
    assert await _refreshes(client, str(other_device["refresh_token"]))
    subjects = [m["subject"] for m in await messages_to(client, customer.email)]
    assert "Your Agora password was changed" not in subjects


async def test_a_new_password_must_pass_the_policy(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.post(
        CHANGE,
        json={"current_password": customer.password, "new_password": "asdfghjkl;lkjh"},
        headers=customer.headers,
    )

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["details"]["field"] == "password"
    assert "keyboard patterns" in errors["message"]
    assert await _can_log_in(client, customer.email, customer.password)


async def test_the_new_password_may_not_contain_the_users_name(
    client: httpx.AsyncClient, customer: Account
) -> None:
    local_part = customer.email.split("@")[0]
    response = await client.post(
        CHANGE,
        json={"current_password": customer.password, "new_password": f"{local_part}-rocks-2026"},
        headers=customer.headers,
    )
    assert response.status_code == 422
    assert "your name or the name part of your email" in response.json()["errors"]["message"]


async def test_changing_the_password_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.post(
        CHANGE, json={"current_password": "whatever-it-is", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"current_password": "x"},
        {"new_password": NEW_PASSWORD},
        {"current_password": "x", "new_password": NEW_PASSWORD, "role": "admin"},
    ],
)
async def test_malformed_bodies_are_422(
    client: httpx.AsyncClient, customer: Account, body: dict[str, Any]
) -> None:
    response = await client.post(CHANGE, json=body, headers=customer.headers)
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"


async def test_a_change_makes_an_outstanding_reset_link_useless(
    client: httpx.AsyncClient, customer: Account
) -> None:
    await client.post("/api/v1/auth/password-reset/request", json={"email": customer.email})
    message = await last_mail(client, customer.email, "Reset your Agora password")
    token = message["links"][0].split("token=", 1)[1]

    changed = await client.post(
        CHANGE,
        json={"current_password": customer.password, "new_password": NEW_PASSWORD},
        headers=customer.headers,
    )
    assert changed.status_code == 204

    reset = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "password": "another-" + NEW_PASSWORD},
    )
    assert reset.status_code == 422
    assert reset.json()["errors"]["code"] == "INVALID_EMAIL_TOKEN"
    assert await _can_log_in(client, customer.email, NEW_PASSWORD)
