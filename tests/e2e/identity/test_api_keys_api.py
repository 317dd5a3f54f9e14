"""API keys over HTTP: shown once, stored hashed, scoped, revocable, expiring."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from agora.bootstrap import Container
from agora.identity.access.adapters.tables import api_keys
from agora.platform.access import Role
from tests.support.access import (
    RecordingAuditTrail,
    bearer,
    create_api_key,
    recording_audit,
    x_api_key,
)
from tests.support.accounts import Account, create_account

pytestmark = pytest.mark.anyio

KEYS = "/api/v1/api-keys"
PROFILE = "/api/v1/auth/profile"
KEY_FORMAT = re.compile(r"^agora_([a-z0-9]{8})_[A-Za-z0-9]{43}$")
BOTH_WAYS = [bearer, x_api_key]


@pytest.fixture
def audit(container: Container) -> Iterator[RecordingAuditTrail]:
    with recording_audit(container) as recorder:
        yield recorder


def product_body() -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:10]
    return {
        "sku": f"KEY-{suffix.upper()}",
        "name": f"Made with a key {suffix}",
        "price": {"amount": 500, "currency": "EUR"},
    }


async def stored_row(container: Container, key_id: str) -> Any:
    async with container.engine.connect() as conn:
        return (
            await conn.execute(select(api_keys).where(api_keys.c.id == uuid.UUID(key_id)))
        ).one()


# -- creating and listing ------------------------------------------------------------------


async def test_the_key_is_shown_once_and_stored_only_as_a_hash(
    client: httpx.AsyncClient, container: Container, customer: Account, audit: RecordingAuditTrail
) -> None:
    response = await client.post(
        KEYS, json={"name": "Spreadsheet", "scopes": []}, headers=customer.headers
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    data = response.json()["data"]
    match = KEY_FORMAT.match(data["key"])
    assert match is not None, data["key"]
    assert data["prefix"] == match.group(1)
    assert (data["name"], data["scopes"], data["expires_at"], data["last_used_at"]) == (
        "Spreadsheet",
        [],
        None,
        None,
    )

    listed = await client.get(KEYS, headers=customer.headers)
    assert listed.status_code == 200
    [entry] = listed.json()["data"]
    assert entry["id"] == data["id"]
    assert entry["prefix"] == data["prefix"]
    assert "key" not in entry
    assert data["key"] not in listed.text

    row = await stored_row(container, data["id"])
    assert data["key"] not in {str(value) for value in row}
    assert row.key_hash == hashlib.sha256(data["key"].encode()).hexdigest()

    [record] = audit.about(data["id"])
    assert (record.action, record.actor_id, record.target_type) == (
        "api_keys.created",
        customer.id,
        "api_key",
    )
    assert record.details["prefix"] == data["prefix"]
    assert data["key"] not in str(record.details)


async def test_keys_are_listed_newest_first_and_only_to_their_owner(
    client: httpx.AsyncClient, customer: Account, other_customer: Account
) -> None:
    first = await create_api_key(client, customer)
    second = await create_api_key(client, customer)
    mine = (await client.get(KEYS, headers=customer.headers)).json()["data"]
    assert [k["id"] for k in mine] == [second["id"], first["id"]]
    theirs = (await client.get(KEYS, headers=other_customer.headers)).json()["data"]
    assert theirs == []


@pytest.mark.parametrize(
    ("who", "scopes"),
    [
        ("customer", ["catalog:write"]),
        ("customer", ["orders:manage"]),
        ("staff", ["users:manage"]),
        ("staff", ["catalog:write", "audit:read"]),
    ],
)
async def test_a_key_cannot_carry_more_than_its_creators_role(
    client: httpx.AsyncClient, customer: Account, staff: Account, who: str, scopes: list[str]
) -> None:
    account = customer if who == "customer" else staff
    response = await client.post(
        KEYS, json={"name": "Too much", "scopes": scopes}, headers=account.headers
    )
    assert response.status_code == 422
    error = response.json()["errors"]
    assert error["details"]["field"] == "scopes"
    assert set(error["details"]["not_granted"]) <= set(scopes)
    assert (await client.get(KEYS, headers=account.headers)).json()["data"] == []


async def test_admins_may_grant_every_permission(client: httpx.AsyncClient, admin: Account) -> None:
    everything = ["audit:read", "catalog:read_unpublished", "catalog:write", "orders:manage"]
    everything.append("users:manage")
    data = await create_api_key(client, admin, everything)
    assert data["scopes"] == sorted(everything)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": ["root"]},
        {"name": "x"},
        {"name": "", "scopes": []},
        {"name": "   ", "scopes": []},
        {"name": "x", "scopes": [], "expires_at": "2001-01-01T00:00:00Z"},
        {"name": "x", "scopes": [], "expires_at": "2999-01-01T00:00:00"},  # no time zone
        {"name": "x", "scopes": [], "expires_at": "9999-12-31T23:59:59-12:00"},
        {"name": "x", "scopes": [], "user_id": str(uuid.UUID(int=1))},
        {"name": "x", "scopes": [], "prefix": "aaaaaaaa"},
    ],
)
async def test_bad_key_requests_are_422_and_create_nothing(
    client: httpx.AsyncClient, customer: Account, body: dict[str, Any]
) -> None:
    response = await client.post(KEYS, json=body, headers=customer.headers)
    assert response.status_code == 422, response.text
    assert (await client.get(KEYS, headers=customer.headers)).json()["data"] == []


async def test_keys_per_user_are_limited(
    client: httpx.AsyncClient, container: Container, customer: Account
) -> None:
    limit = container.settings.api_keys_per_user
    for _ in range(limit):
        await create_api_key(client, customer)
    response = await client.post(
        KEYS, json={"name": "one more", "scopes": []}, headers=customer.headers
    )
    assert response.status_code == 409
    assert response.json()["errors"]["code"] == "API_KEY_LIMIT"
    first = (await client.get(KEYS, headers=customer.headers)).json()["data"][-1]
    await client.delete(f"{KEYS}/{first['id']}", headers=customer.headers)
    await create_api_key(client, customer)


# -- authenticating with a key ---------------------------------------------------------------


@pytest.mark.parametrize("send", BOTH_WAYS)
async def test_a_key_acts_as_its_owner(
    client: httpx.AsyncClient, customer: Account, send: Any
) -> None:
    key = (await create_api_key(client, customer))["key"]
    profile = await client.get(PROFILE, headers=send(key))
    assert profile.status_code == 200
    assert profile.json()["data"]["id"] == str(customer.id)
    assert (await client.get("/api/v1/cart", headers=send(key))).status_code == 200


@pytest.mark.parametrize("send", BOTH_WAYS)
async def test_scopes_bound_what_a_staff_key_may_do(
    client: httpx.AsyncClient, staff: Account, send: Any
) -> None:
    narrow = (await create_api_key(client, staff, ["orders:manage"]))["key"]
    refused = await client.post("/api/v1/products", json=product_body(), headers=send(narrow))
    assert refused.status_code == 403
    assert refused.json()["errors"]["code"] == "FORBIDDEN"

    writer = (await create_api_key(client, staff, ["catalog:write"]))["key"]
    created = await client.post("/api/v1/products", json=product_body(), headers=send(writer))
    assert created.status_code == 201, created.text
    # ...and nothing beyond its scope: unpublished products stay out of reach.
    hidden = await client.get(
        "/api/v1/products", params={"include_unpublished": "true"}, headers=send(writer)
    )
    assert hidden.status_code == 403


async def test_a_demoted_owners_keys_lose_the_permission_at_once(
    client: httpx.AsyncClient, container: Container, admin: Account
) -> None:
    owner = await create_account(container, client, Role.STAFF)
    key = (await create_api_key(client, owner, ["catalog:write"]))["key"]
    ok = await client.post("/api/v1/products", json=product_body(), headers=bearer(key))
    assert ok.status_code == 201
    await client.patch(
        f"/api/v1/users/{owner.id}", json={"role": "customer"}, headers=admin.headers
    )
    refused = await client.post("/api/v1/products", json=product_body(), headers=bearer(key))
    assert refused.status_code == 403
    # Promoted back, the key's scope applies again: it was bounded, not revoked.
    await client.patch(f"/api/v1/users/{owner.id}", json={"role": "staff"}, headers=admin.headers)
    again = await client.post("/api/v1/products", json=product_body(), headers=bearer(key))
    assert again.status_code == 201


@pytest.mark.parametrize(
    "credential",
    [
        "agora_",
        "agora_abcdefgh_short",
        "agora_ABCDEFGH_" + "a" * 43,
        "agora_abcdefgh-" + "a" * 43,
        "agora_abcdefgh_" + "a" * 42 + "!",
    ],
)
async def test_malformed_keys_are_401(client: httpx.AsyncClient, credential: str) -> None:
    for headers in (bearer(credential), x_api_key(credential)):
        response = await client.get(PROFILE, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"]["code"] == "INVALID_API_KEY"


async def test_a_right_prefix_with_a_wrong_secret_is_401(
    client: httpx.AsyncClient, customer: Account
) -> None:
    key = (await create_api_key(client, customer))["key"]
    assert (await client.get(PROFILE, headers=bearer(key))).status_code == 200  # now cached
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")
    response = await client.get(PROFILE, headers=bearer(forged))
    assert response.status_code == 401


async def test_last_use_is_recorded_at_most_once_a_minute(
    client: httpx.AsyncClient, customer: Account
) -> None:
    key = await create_api_key(client, customer)
    before = datetime.now(UTC)
    await client.get(PROFILE, headers=bearer(key["key"]))
    [listed] = (await client.get(KEYS, headers=customer.headers)).json()["data"]
    first_use = datetime.fromisoformat(listed["last_used_at"])
    assert first_use >= before - timedelta(seconds=1)
    await client.get(PROFILE, headers=x_api_key(key["key"]))
    [listed] = (await client.get(KEYS, headers=customer.headers)).json()["data"]
    assert datetime.fromisoformat(listed["last_used_at"]) == first_use


# -- revocation, expiry, deactivation --------------------------------------------------------


@pytest.mark.parametrize("send", BOTH_WAYS)
async def test_a_revoked_key_stops_working_at_once(
    client: httpx.AsyncClient, customer: Account, audit: RecordingAuditTrail, send: Any
) -> None:
    key = await create_api_key(client, customer)
    assert (await client.get(PROFILE, headers=send(key["key"]))).status_code == 200  # cached
    revoked = await client.delete(f"{KEYS}/{key['id']}", headers=customer.headers)
    assert revoked.status_code == 204
    response = await client.get(PROFILE, headers=send(key["key"]))
    assert response.status_code == 401
    assert (await client.get(KEYS, headers=customer.headers)).json()["data"] == []
    again = await client.delete(f"{KEYS}/{key['id']}", headers=customer.headers)
    assert again.status_code == 404
    assert [(r.action, r.actor_id) for r in audit.about(key["id"])] == [
        ("api_keys.created", customer.id),
        ("api_keys.revoked", customer.id),
    ]


async def test_revoking_while_the_key_is_in_use_still_revokes(
    client: httpx.AsyncClient, customer: Account
) -> None:
    key = await create_api_key(client, customer)
    uses = [client.get(PROFILE, headers=bearer(key["key"])) for _ in range(10)]
    revoke = client.delete(f"{KEYS}/{key['id']}", headers=customer.headers)
    results = await asyncio.gather(*uses, revoke)
    assert results[-1].status_code == 204
    after = await client.get(PROFILE, headers=bearer(key["key"]))
    assert after.status_code == 401


async def test_another_users_key_is_404_and_keeps_working(
    client: httpx.AsyncClient, customer: Account, other_customer: Account, admin: Account
) -> None:
    key = await create_api_key(client, customer)
    for intruder in (other_customer, admin):
        response = await client.delete(f"{KEYS}/{key['id']}", headers=intruder.headers)
        assert response.status_code == 404
        assert response.json()["errors"]["code"] == "NOT_FOUND"
    assert (await client.get(PROFILE, headers=bearer(key["key"]))).status_code == 200
    unknown = await client.delete(f"{KEYS}/{uuid.uuid4()}", headers=customer.headers)
    assert unknown.status_code == 404


async def test_an_expired_key_is_401(client: httpx.AsyncClient, customer: Account) -> None:
    expires_at = datetime.now(UTC) + timedelta(seconds=1.5)
    key = await create_api_key(client, customer, expires_at=expires_at.isoformat())
    assert datetime.fromisoformat(key["expires_at"]) == expires_at
    assert (await client.get(PROFILE, headers=bearer(key["key"]))).status_code == 200  # cached
    await asyncio.sleep((expires_at - datetime.now(UTC)).total_seconds() + 0.1)
    response = await client.get(PROFILE, headers=bearer(key["key"]))
    assert response.status_code == 401
    assert response.json()["errors"]["code"] == "INVALID_API_KEY"


async def test_a_deactivated_owners_keys_are_401(
    client: httpx.AsyncClient, container: Container, admin: Account
) -> None:
    owner = await create_account(container, client, Role.STAFF)
    key = (await create_api_key(client, owner, ["catalog:write"]))["key"]
    assert (await client.get(PROFILE, headers=x_api_key(key))).status_code == 200  # cached
    await client.patch(
        f"/api/v1/users/{owner.id}", json={"is_active": False}, headers=admin.headers
    )
    for send in BOTH_WAYS:
        assert (await client.get(PROFILE, headers=send(key))).status_code == 401


# -- keys cannot manage keys -------------------------------------------------------------------


async def test_a_key_cannot_create_list_or_revoke_keys(
    client: httpx.AsyncClient, admin: Account
) -> None:
    data = await create_api_key(client, admin, ["users:manage"])
    key = bearer(data["key"])
    for response in (
        await client.post(KEYS, json={"name": "forever", "scopes": ["users:manage"]}, headers=key),
        await client.get(KEYS, headers=key),
        await client.delete(f"{KEYS}/{data['id']}", headers=key),
    ):
        assert response.status_code == 403
        assert response.json()["errors"]["code"] == "SESSION_REQUIRED"
    assert len((await client.get(KEYS, headers=admin.headers)).json()["data"]) == 1
    # The same key does what its scope allows.
    assert (await client.get("/api/v1/users", headers=key)).status_code == 200
