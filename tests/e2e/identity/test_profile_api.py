"""The signed-in user's profile: read, rename, and nothing more."""

from __future__ import annotations

import uuid

import httpx
import pytest

from agora.bootstrap import Container
from agora.identity.tokens.adapters.jwt_tokens import JwtAccessTokens
from agora.identity.tokens.adapters.key_ring import KeyRing
from agora.platform.access import Role
from agora.platform.settings import Settings
from tests.support.accounts import Account

# Parametrised async tests need the marker at collection time.
pytestmark = pytest.mark.anyio

PROFILE = "/api/v1/auth/profile"


async def test_profile_shows_the_signed_in_user(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.get(PROFILE, headers=customer.headers)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["id"] == str(customer.id)
    assert data["email"] == customer.email
    assert data["role"] == "customer"
    assert "password_hash" not in data


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
async def test_profile_shows_staff_and_admin_roles(
    client: httpx.AsyncClient, staff: Account, admin: Account, role: Role
) -> None:
    account = staff if role is Role.STAFF else admin
    response = await client.get(PROFILE, headers=account.headers)
    assert response.json()["data"]["role"] == role.value


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
    ],
)
async def test_profile_without_a_valid_token_is_a_401(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    get = await client.get(PROFILE, headers=headers)
    patch = await client.patch(PROFILE, json={"name": "Nobody"}, headers=headers)
    for response in (get, patch):
        assert response.status_code == 401
        assert response.json()["errors"]["code"] == "UNAUTHENTICATED"


async def test_customer_can_rename_themselves_and_the_version_moves(
    client: httpx.AsyncClient, customer: Account
) -> None:
    before = (await client.get(PROFILE, headers=customer.headers)).json()["data"]
    response = await client.patch(
        PROFILE, json={"name": "  Grace   Hopper "}, headers=customer.headers
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["name"] == "Grace Hopper"
    assert data["version"] == before["version"] + 1
    assert data["updated_at"] >= before["updated_at"]
    reread = (await client.get(PROFILE, headers=customer.headers)).json()["data"]
    assert reread["name"] == "Grace Hopper"


async def test_stale_profile_version_is_a_conflict(
    client: httpx.AsyncClient, customer: Account
) -> None:
    version = (await client.get(PROFILE, headers=customer.headers)).json()["data"]["version"]
    first = await client.patch(
        PROFILE, json={"name": "First", "version": version}, headers=customer.headers
    )
    assert first.status_code == 200
    stale = await client.patch(
        PROFILE, json={"name": "Second", "version": version}, headers=customer.headers
    )
    assert stale.status_code == 409
    assert stale.json()["errors"]["code"] == "VERSION_CONFLICT"
    current = (await client.get(PROFILE, headers=customer.headers)).json()["data"]
    assert current["name"] == "First"


@pytest.mark.parametrize(
    "body",
    [
        {"role": "admin"},
        {"name": "Sneaky", "role": "staff"},
        {"email": "new@example.com"},
        {"is_active": True},
        {"password_hash": "x"},
    ],
)
async def test_customer_can_never_change_role_or_other_fields(
    client: httpx.AsyncClient, customer: Account, body: dict[str, object]
) -> None:
    response = await client.patch(PROFILE, json=body, headers=customer.headers)
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"
    data = (await client.get(PROFILE, headers=customer.headers)).json()["data"]
    assert data["role"] == "customer"
    assert data["name"] == customer.name
    assert data["email"] == customer.email


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bell\x07name"])
async def test_profile_rejects_a_bad_name(
    client: httpx.AsyncClient, customer: Account, name: str
) -> None:
    response = await client.patch(PROFILE, json={"name": name}, headers=customer.headers)
    assert response.status_code == 422


async def test_profile_update_with_malformed_json_is_a_400(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.patch(
        PROFILE,
        content=b'{"name": ',
        headers={**customer.headers, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"]["code"] == "MALFORMED_JSON"


async def test_users_see_only_their_own_profile(
    client: httpx.AsyncClient, customer: Account, other_customer: Account
) -> None:
    mine = (await client.get(PROFILE, headers=customer.headers)).json()["data"]
    theirs = (await client.get(PROFILE, headers=other_customer.headers)).json()["data"]
    assert mine["id"] == str(customer.id)
    assert theirs["id"] == str(other_customer.id)
    await client.patch(PROFILE, json={"name": "Changed Mine"}, headers=customer.headers)
    theirs_after = (await client.get(PROFILE, headers=other_customer.headers)).json()["data"]
    assert theirs_after["name"] == other_customer.name


async def test_expired_or_foreign_access_tokens_are_a_401(
    client: httpx.AsyncClient, container: Container, settings: Settings, customer: Account
) -> None:
    real = container.identity.sign_in.tokens
    assert isinstance(real, JwtAccessTokens)

    def issuer(keys: KeyRing, ttl: int) -> JwtAccessTokens:
        return JwtAccessTokens(
            keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience, ttl_seconds=ttl
        )

    expired = issuer(real.keys, -60).issue(customer.id, Role.CUSTOMER, uuid.uuid4())
    foreign = issuer(KeyRing.ephemeral(), 900).issue(customer.id, Role.ADMIN, uuid.uuid4())
    fresh = issuer(real.keys, 900).issue(customer.id, Role.CUSTOMER, uuid.uuid4())
    for token, status in ((expired, 401), (foreign, 401), (fresh, 200)):
        response = await client.get(PROFILE, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status, token
    response = await client.get(PROFILE, headers={"Authorization": f"Bearer {expired}"})
    assert "expired" in response.json()["errors"]["message"]
