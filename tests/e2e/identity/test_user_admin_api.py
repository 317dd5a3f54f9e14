"""Admin user management over HTTP: list, search, read, change role, (de)activate."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agora.bootstrap import Container
from agora.platform.access import Role
from tests.support.access import (
    RecordingAuditTrail,
    bearer,
    create_api_key,
    isolated_platform,
    recording_audit,
)
from tests.support.accounts import PASSWORD, Account, create_account, register_customer

pytestmark = pytest.mark.anyio

USERS = "/api/v1/users"


@pytest.fixture
def audit(container: Container) -> Iterator[RecordingAuditTrail]:
    with recording_audit(container) as recorder:
        yield recorder


async def named(container: Container, name: str, role: Role = Role.CUSTOMER) -> dict[str, Any]:
    """A user with a chosen name (and a unique email), created like the CLI does."""
    user = await container.identity.registration.create_user(
        email=f"named-{uuid.uuid4().hex[:12]}@example.com", password=PASSWORD, name=name, role=role
    )
    return {"id": str(user.id), "email": user.email, "name": user.name}


async def search(client: httpx.AsyncClient, admin: Account, **params: Any) -> httpx.Response:
    return await client.get(USERS, params=params, headers=admin.headers)


# -- who may ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["customer", "staff"])
async def test_only_admins_manage_users(
    client: httpx.AsyncClient, customer: Account, staff: Account, admin: Account, who: str
) -> None:
    account = customer if who == "customer" else staff
    target = f"{USERS}/{admin.id}"
    for response in (
        await client.get(USERS, headers=account.headers),
        await client.get(target, headers=account.headers),
        await client.patch(target, json={"role": "customer"}, headers=account.headers),
        await client.patch(
            f"{USERS}/{account.id}", json={"role": "admin"}, headers=account.headers
        ),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["errors"]["code"] == "FORBIDDEN"
    profile = await client.get("/api/v1/auth/profile", headers=account.headers)
    assert profile.json()["data"]["role"] == account.role.value


async def test_anonymous_callers_are_401(client: httpx.AsyncClient, customer: Account) -> None:
    for response in (
        await client.get(USERS),
        await client.get(f"{USERS}/{customer.id}"),
        await client.patch(f"{USERS}/{customer.id}", json={"is_active": False}),
    ):
        assert response.status_code == 401


# -- list and search ----------------------------------------------------------------------


async def test_pages_are_ordered_by_email_and_never_overlap(
    client: httpx.AsyncClient, container: Container, admin: Account
) -> None:
    marker = f"Pager{uuid.uuid4().hex[:8]}"
    created = [await named(container, f"{marker} {i}") for i in range(5)]
    seen: list[str] = []
    for page in (1, 2, 3):
        response = await search(client, admin, q=marker, page=page, page_size=2)
        assert response.status_code == 200
        body = response.json()
        assert body["meta"]["pagination"] == {
            "page": page,
            "page_size": 2,
            "total": 5,
            "pages": 3,
        }
        seen += [user["email"] for user in body["data"]]
    assert seen == sorted(user["email"] for user in created)
    beyond = await search(client, admin, q=marker, page=4, page_size=2)
    assert beyond.status_code == 200
    assert beyond.json()["data"] == []
    assert beyond.json()["meta"]["pagination"]["total"] == 5


@pytest.mark.parametrize(
    "params",
    [{"page_size": 101}, {"page_size": 0}, {"page": 0}, {"role": "root"}, {"q": "x" * 101}],
)
async def test_bad_list_parameters_are_422(
    client: httpx.AsyncClient, admin: Account, params: dict[str, Any]
) -> None:
    response = await search(client, admin, **params)
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"


async def test_the_largest_page_is_accepted(client: httpx.AsyncClient, admin: Account) -> None:
    response = await search(client, admin, page_size=100)
    assert response.status_code == 200
    assert len(response.json()["data"]) <= 100


async def test_search_matches_email_or_name_in_any_case(
    client: httpx.AsyncClient, container: Container, admin: Account
) -> None:
    marker = uuid.uuid4().hex[:10]
    by_name = await named(container, f"Ada Lovelace{marker}")
    by_email = await register_customer(client, email=f"grace-{marker}@example.com")
    found = await search(client, admin, q=marker.upper())
    assert {u["id"] for u in found.json()["data"]} == {by_name["id"], str(by_email.id)}
    only_email = await search(client, admin, q=f"GRACE-{marker}@EXAMPLE")
    assert [u["id"] for u in only_email.json()["data"]] == [str(by_email.id)]


@pytest.mark.parametrize(("needle", "decoy"), [("50%off", "50 cents off"), ("c_d", "cXd")])
async def test_search_treats_like_wildcards_literally(
    client: httpx.AsyncClient, container: Container, admin: Account, needle: str, decoy: str
) -> None:
    marker = uuid.uuid4().hex[:10]
    wanted = await named(container, f"{marker} {needle}")
    await named(container, f"{marker} {decoy}")
    response = await search(client, admin, q=f"{marker} {needle}")
    assert [u["id"] for u in response.json()["data"]] == [wanted["id"]]
    everything = await search(client, admin, q="%")
    assert all("%" in u["name"] or "%" in u["email"] for u in everything.json()["data"])


async def test_filters_by_role_and_activation(
    client: httpx.AsyncClient, container: Container, admin: Account, staff: Account
) -> None:
    staff_only = await search(client, admin, role="staff", page_size=100)
    assert staff_only.status_code == 200
    assert {u["role"] for u in staff_only.json()["data"]} == {"staff"}
    marker = f"Inactive{uuid.uuid4().hex[:8]}"
    gone = await named(container, marker)
    await named(container, marker)
    await client.patch(f"{USERS}/{gone['id']}", json={"is_active": False}, headers=admin.headers)
    inactive = await search(client, admin, q=marker, is_active="false")
    assert [u["id"] for u in inactive.json()["data"]] == [gone["id"]]
    active = await search(client, admin, q=marker, is_active="true")
    assert gone["id"] not in {u["id"] for u in active.json()["data"]}
    assert len(active.json()["data"]) == 1


async def test_admin_reads_one_user_without_secrets(
    client: httpx.AsyncClient, admin: Account, customer: Account
) -> None:
    response = await client.get(f"{USERS}/{customer.id}", headers=admin.headers)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["email"] == customer.email
    assert data["is_active"] is True
    assert data["role"] == "customer"
    assert "password_hash" not in data
    assert (await client.get(f"{USERS}/{uuid.uuid4()}", headers=admin.headers)).status_code == 404
    assert (await client.get(f"{USERS}/not-a-uuid", headers=admin.headers)).status_code == 422


# -- changing access -----------------------------------------------------------------------


async def test_promotion_takes_effect_at_the_next_refresh_and_is_audited(
    client: httpx.AsyncClient, admin: Account, customer: Account, audit: RecordingAuditTrail
) -> None:
    response = await client.patch(
        f"{USERS}/{customer.id}", json={"role": "staff"}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["data"]["role"] == "staff"
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": customer.refresh_token}
    )
    token = refreshed.json()["data"]["access_token"]
    product = await client.post(
        "/api/v1/products",
        json={
            "sku": f"P-{uuid.uuid4().hex[:8]}",
            "name": "Promoted",
            "price": {"amount": 100, "currency": "EUR"},
        },
        headers=bearer(token),
    )
    assert product.status_code == 201, product.text
    [record] = audit.about(customer.id)
    assert (record.action, record.actor_id, record.target_type) == (
        "users.role_changed",
        admin.id,
        "user",
    )
    assert record.details == {"from": "customer", "to": "staff"}


@pytest.mark.parametrize(
    "body",
    [
        {"email": "taken@example.com"},
        {"name": "Renamed"},
        {"email_verified": True},
        {"password_hash": "x"},
        {"role": "superuser"},
        {"is_active": "maybe"},
        {"role": "staff", "id": str(uuid.UUID(int=1))},
    ],
)
async def test_only_role_and_activation_can_be_changed(
    client: httpx.AsyncClient, admin: Account, customer: Account, body: dict[str, Any]
) -> None:
    before = (await client.get(f"{USERS}/{customer.id}", headers=admin.headers)).json()["data"]
    response = await client.patch(f"{USERS}/{customer.id}", json=body, headers=admin.headers)
    assert response.status_code == 422
    after = (await client.get(f"{USERS}/{customer.id}", headers=admin.headers)).json()["data"]
    assert after == before


async def test_an_empty_change_changes_nothing(
    client: httpx.AsyncClient, admin: Account, customer: Account, audit: RecordingAuditTrail
) -> None:
    before = (await client.get(f"{USERS}/{customer.id}", headers=admin.headers)).json()["data"]
    for body in ({}, {"role": "customer", "is_active": True}):
        response = await client.patch(f"{USERS}/{customer.id}", json=body, headers=admin.headers)
        assert response.status_code == 200
        assert response.json()["data"] == before
    assert audit.records == []


async def test_a_stale_version_is_409_and_changes_nothing(
    client: httpx.AsyncClient, admin: Account, customer: Account
) -> None:
    url = f"{USERS}/{customer.id}"
    version = (await client.get(url, headers=admin.headers)).json()["data"]["version"]
    first = await client.patch(
        url, json={"role": "staff", "version": version}, headers=admin.headers
    )
    assert first.status_code == 200
    stale = await client.patch(
        url, json={"is_active": False, "version": version}, headers=admin.headers
    )
    assert stale.status_code == 409
    assert stale.json()["errors"]["code"] == "VERSION_CONFLICT"
    assert (await client.get(url, headers=admin.headers)).json()["data"]["is_active"] is True


async def test_unknown_user_is_404(client: httpx.AsyncClient, admin: Account) -> None:
    response = await client.patch(
        f"{USERS}/{uuid.uuid4()}", json={"is_active": False}, headers=admin.headers
    )
    assert response.status_code == 404


async def test_deactivation_ends_sessions_and_keys_and_reactivation_allows_login(
    client: httpx.AsyncClient, admin: Account, staff: Account, audit: RecordingAuditTrail
) -> None:
    key = (await create_api_key(client, staff, ["catalog:write"]))["key"]
    assert (await client.get("/api/v1/auth/profile", headers=bearer(key))).status_code == 200

    off = await client.patch(
        f"{USERS}/{staff.id}", json={"is_active": False}, headers=admin.headers
    )
    assert off.status_code == 200
    assert off.json()["data"]["is_active"] is False
    login = {"email": staff.email, "password": staff.password}
    assert (await client.post("/api/v1/auth/login", json=login)).status_code == 401
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": staff.refresh_token})
    assert refresh.status_code == 401
    assert (await client.get("/api/v1/auth/profile", headers=bearer(key))).status_code == 401

    on = await client.patch(f"{USERS}/{staff.id}", json={"is_active": True}, headers=admin.headers)
    assert on.status_code == 200
    assert (await client.post("/api/v1/auth/login", json=login)).status_code == 200
    # What deactivation ended stays ended: old sessions and keys do not come back.
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": staff.refresh_token})
    assert refresh.status_code == 401
    assert (await client.get("/api/v1/auth/profile", headers=bearer(key))).status_code == 401

    actions = [(r.action, r.actor_id, r.outcome) for r in audit.about(staff.id)]
    assert actions == [
        ("users.deactivated", admin.id, "success"),
        ("users.reactivated", admin.id, "success"),
    ]
    assert audit.about(staff.id)[0].details == {"api_keys_revoked": 1}


@pytest.mark.parametrize("body", [{"role": "staff"}, {"role": "customer"}, {"is_active": False}])
async def test_admins_cannot_demote_or_deactivate_themselves(
    client: httpx.AsyncClient, admin: Account, audit: RecordingAuditTrail, body: dict[str, Any]
) -> None:
    response = await client.patch(f"{USERS}/{admin.id}", json=body, headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["errors"]["code"] == "OWN_ACCESS_CHANGE"
    me = (await client.get(f"{USERS}/{admin.id}", headers=admin.headers)).json()["data"]
    assert (me["role"], me["is_active"]) == ("admin", True)
    [refused] = audit.about(admin.id)
    assert refused.outcome == "failure"
    assert refused.details["reason"] == "own_access"


async def test_a_demoted_admin_cannot_keep_managing_users_with_an_old_token(
    client: httpx.AsyncClient, container: Container, admin: Account, customer: Account
) -> None:
    other = await create_account(container, client, Role.ADMIN)
    demoted = await client.patch(
        f"{USERS}/{other.id}", json={"role": "staff"}, headers=admin.headers
    )
    assert demoted.status_code == 200
    # ``other`` still holds an access token that says admin.
    attempt = await client.patch(
        f"{USERS}/{customer.id}", json={"role": "admin"}, headers=other.headers
    )
    assert attempt.status_code == 403
    reread = await client.get(f"{USERS}/{customer.id}", headers=admin.headers)
    assert reread.json()["data"]["role"] == "customer"


# -- the last administrator --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("change", [{"role": "customer"}, {"is_active": False}])
async def test_two_admins_removing_each_other_at_once_leave_one(
    tmp_path: Path, change: dict[str, Any]
) -> None:
    async with isolated_platform(tmp_path) as platform:
        first = await create_account(platform.container, platform.client, Role.ADMIN)
        second = await create_account(platform.container, platform.client, Role.ADMIN)

        async def remove(actor: Account, target: Account) -> httpx.Response:
            return await platform.client.patch(
                f"{USERS}/{target.id}", json=change, headers=actor.headers
            )

        responses = await asyncio.gather(remove(first, second), remove(second, first))
        assert sorted(r.status_code == 200 for r in responses) == [False, True]
        refused = next(r for r in responses if r.status_code != 200)
        # Which refusal depends only on when the loser's request read its own account:
        # before the winner committed, the last-admin guard stops it; after, its own
        # access is already gone (demoted: no permission; deactivated: signed out).
        gone = (403, "FORBIDDEN") if "role" in change else (401, "UNAUTHENTICATED")
        outcome = (refused.status_code, refused.json()["errors"]["code"])
        assert outcome in {(409, "LAST_ADMIN"), gone}, refused.text

        survivor = second if responses[1].status_code == 200 else first
        admins = await platform.client.get(
            USERS, params={"role": "admin", "is_active": "true"}, headers=survivor.headers
        )
        assert [u["id"] for u in admins.json()["data"]] == [str(survivor.id)]
