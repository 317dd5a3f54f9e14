"""Registration, login, refresh rotation with reuse detection, and logout through the API."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from agora.bootstrap import Container
from tests.support.accounts import PASSWORD, Account, login, register_customer, unique_email

# Parametrised async tests need the marker at collection time.
pytestmark = pytest.mark.anyio

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
PROFILE = "/api/v1/auth/profile"


def _without_meta(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    body.pop("meta")
    return body


# -- register --------------------------------------------------------------------------


async def test_register_creates_a_customer_with_a_normalised_email(
    client: httpx.AsyncClient,
) -> None:
    email = unique_email("Mixed.Case")
    response = await client.post(
        REGISTER, json={"email": f"  {email.upper()} ", "password": PASSWORD, "name": " Ada  L "}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True
    user = body["data"]
    assert user["email"] == email.lower()
    assert user["name"] == "Ada L"
    assert user["role"] == "customer"
    assert user["email_verified"] is False
    assert set(user) >= {"id", "email", "name", "role", "email_verified", "created_at"}
    assert "password" not in response.text
    assert "password_hash" not in user
    uuid.UUID(user["id"])


async def test_register_twice_with_the_same_email_is_a_conflict(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.post(
        REGISTER,
        json={"email": customer.email.upper(), "password": PASSWORD, "name": "Someone Else"},
    )
    assert response.status_code == 409
    assert response.json()["errors"]["code"] == "ALREADY_EXISTS"


async def test_register_cannot_choose_a_role(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER,
        json={"email": unique_email(), "password": PASSWORD, "name": "Eve", "role": "admin"},
    )
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD, "name": "No Email"}, "email"),
        ({"email": "x@example.com", "name": "No Password"}, "password"),
        ({"email": "x@example.com", "password": PASSWORD}, "name"),
        ({"email": "", "password": PASSWORD, "name": "Empty"}, "email"),
        ({"email": "x@example.com", "password": PASSWORD, "name": ""}, "name"),
        ({"email": "x@example.com", "password": PASSWORD, "name": 42}, "name"),
    ],
)
async def test_register_rejects_missing_or_mistyped_fields(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post(REGISTER, json=body)
    assert response.status_code == 422
    error = response.json()["errors"]
    assert error["code"] == "VALIDATION_ERROR"
    assert any(f["field"].endswith(field) for f in error["details"]["fields"])


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "x@exa mple.com"])
async def test_register_rejects_a_malformed_email(client: httpx.AsyncClient, email: str) -> None:
    response = await client.post(
        REGISTER, json={"email": email, "password": PASSWORD, "name": "Bad Email"}
    )
    assert response.status_code == 422
    error = response.json()["errors"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "email"


@pytest.mark.parametrize(
    "password",
    ["short-pass", "password1234", "qwerty123456", "123qweasdzxc", "aaaaaaaaaaaaaaaa", "x" * 129],
)
async def test_register_rejects_a_weak_password_and_creates_nothing(
    client: httpx.AsyncClient, password: str
) -> None:
    email = unique_email("weak")
    response = await client.post(
        REGISTER, json={"email": email, "password": password, "name": "Weak Password"}
    )
    assert response.status_code == 422
    error = response.json()["errors"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "password"
    assert error["message"]
    again = await client.post(REGISTER, json={"email": email, "password": PASSWORD, "name": "W"})
    assert again.status_code == 201  # the failed attempt left no account behind


async def test_register_rejects_a_password_containing_the_email_name(
    client: httpx.AsyncClient,
) -> None:
    local = f"marguerite{uuid.uuid4().hex[:6]}"
    response = await client.post(
        REGISTER,
        json={
            "email": f"{local}@example.com",
            "password": f"my-{local}-secret-words",
            "name": "M",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"]["details"]["field"] == "password"


async def test_register_with_malformed_json_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER,
        content=b'{"email": "x@example.com",',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"]["code"] == "MALFORMED_JSON"


# -- login -----------------------------------------------------------------------------


async def test_login_returns_a_bearer_token_pair(client: httpx.AsyncClient) -> None:
    account = await register_customer(client)
    response = await client.post(LOGIN, json={"email": account.email, "password": PASSWORD})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["token_type"] == "bearer"
    assert data["expires_in"] == 900
    assert data["access_token"].count(".") == 2
    assert len(data["refresh_token"]) >= 40
    assert response.headers["cache-control"] == "no-store"
    profile = await client.get(PROFILE, headers={"Authorization": f"Bearer {data['access_token']}"})
    assert profile.status_code == 200
    assert profile.json()["data"]["email"] == account.email


async def test_login_accepts_the_email_in_any_case(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.post(
        LOGIN, json={"email": f" {customer.email.upper()} ", "password": PASSWORD}
    )
    assert response.status_code == 200


async def test_wrong_password_and_unknown_email_get_identical_answers(
    client: httpx.AsyncClient, customer: Account
) -> None:
    wrong = await client.post(LOGIN, json={"email": customer.email, "password": PASSWORD + "x"})
    unknown = await client.post(LOGIN, json={"email": unique_email(), "password": PASSWORD})
    malformed = await client.post(LOGIN, json={"email": "not an email", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == malformed.status_code == 401
    assert _without_meta(wrong) == _without_meta(unknown) == _without_meta(malformed)
    assert wrong.json()["errors"]["code"] == "INVALID_CREDENTIALS"
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_deactivated_user_cannot_log_in(
    container: Container, client: httpx.AsyncClient, customer: Account
) -> None:
    await container.identity.users.deactivate(customer.email)
    response = await client.post(LOGIN, json={"email": customer.email, "password": PASSWORD})
    unknown = await client.post(LOGIN, json={"email": unique_email(), "password": PASSWORD})
    assert response.status_code == 401
    assert _without_meta(response) == _without_meta(unknown)
    refreshed = await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    assert refreshed.status_code == 401


async def test_login_rejects_missing_fields(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGIN, json={"email": "x@example.com"})
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"


# -- refresh ---------------------------------------------------------------------------


async def test_refresh_rotates_the_refresh_token(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["token_type"] == "bearer"
    assert data["refresh_token"] != customer.refresh_token
    assert data["access_token"] != customer.access_token
    profile = await client.get(PROFILE, headers={"Authorization": f"Bearer {data['access_token']}"})
    assert profile.status_code == 200
    again = await client.post(REFRESH, json={"refresh_token": data["refresh_token"]})
    assert again.status_code == 200


async def test_reusing_a_refresh_token_revokes_the_whole_session(
    client: httpx.AsyncClient, customer: Account
) -> None:
    first = await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    newest = first.json()["data"]["refresh_token"]
    replay = await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    assert replay.status_code == 401
    assert replay.json()["errors"]["code"] == "INVALID_REFRESH_TOKEN"
    # The legitimate holder of the newest token is logged out too: the family is burnt.
    after = await client.post(REFRESH, json={"refresh_token": newest})
    assert after.status_code == 401


async def test_reuse_detection_leaves_other_sessions_alone(
    client: httpx.AsyncClient, customer: Account
) -> None:
    other_session = await login(client, customer.email, PASSWORD)
    await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    response = await client.post(REFRESH, json={"refresh_token": other_session["refresh_token"]})
    assert response.status_code == 200


async def test_concurrent_refreshes_with_one_token_yield_at_most_one_pair(
    client: httpx.AsyncClient, customer: Account
) -> None:
    responses = await asyncio.gather(
        *(client.post(REFRESH, json={"refresh_token": customer.refresh_token}) for _ in range(5))
    )
    # The first use rotates the token; every later use of it is a reuse and is refused.
    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401, 401]
    refused = [r.json()["errors"]["code"] for r in responses if r.status_code == 401]
    assert refused == ["INVALID_REFRESH_TOKEN"] * 4


@pytest.mark.parametrize("token", ["nonsense", "x" * 43, "a.b.c"])
async def test_unknown_refresh_token_is_a_401(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post(REFRESH, json={"refresh_token": token})
    assert response.status_code == 401


async def test_access_token_is_not_a_refresh_token(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.post(REFRESH, json={"refresh_token": customer.access_token})
    # An access token is far longer than any refresh token: refused as malformed.
    assert len(customer.access_token) > 200
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"
    # Nothing was spent: the real refresh token still works.
    still = await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    assert still.status_code == 200


async def test_refresh_rejects_bad_bodies(client: httpx.AsyncClient) -> None:
    missing = await client.post(REFRESH, json={})
    assert missing.status_code == 422
    too_long = await client.post(REFRESH, json={"refresh_token": "x" * 500})
    assert too_long.status_code == 422
    malformed = await client.post(
        REFRESH, content=b"{refresh", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400


# -- logout ----------------------------------------------------------------------------


async def test_logout_revokes_the_session(client: httpx.AsyncClient, customer: Account) -> None:
    rotated = await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    current = rotated.json()["data"]["refresh_token"]
    response = await client.post(LOGOUT, json={"refresh_token": current})
    assert response.status_code == 204
    assert response.content == b""
    after = await client.post(REFRESH, json={"refresh_token": current})
    assert after.status_code == 401


async def test_logout_is_idempotent_and_silent_about_unknown_tokens(
    client: httpx.AsyncClient, customer: Account
) -> None:
    assert (
        await client.post(LOGOUT, json={"refresh_token": customer.refresh_token})
    ).status_code == 204
    assert (
        await client.post(LOGOUT, json={"refresh_token": customer.refresh_token})
    ).status_code == 204
    assert (await client.post(LOGOUT, json={"refresh_token": "never-issued"})).status_code == 204


async def test_logout_leaves_other_sessions_alone(
    client: httpx.AsyncClient, customer: Account
) -> None:
    other_session = await login(client, customer.email, PASSWORD)
    await client.post(LOGOUT, json={"refresh_token": customer.refresh_token})
    response = await client.post(REFRESH, json={"refresh_token": other_session["refresh_token"]})
    assert response.status_code == 200


async def test_logout_requires_a_refresh_token(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGOUT, json={})
    assert response.status_code == 422
