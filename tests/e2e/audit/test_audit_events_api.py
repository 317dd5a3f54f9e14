"""The audit trail through the API: what gets recorded, who may read it, how it is filtered."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from agora.bootstrap import Container
from agora.platform.access import Role
from tests.support.accounts import PASSWORD, Account, register_customer, unique_email
from tests.support.catalog import create_category, create_product

API = "/api/v1"
EVENTS = f"{API}/audit-events"
FIELDS = {
    "id",
    "seq",
    "occurred_at",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "ip",
    "request_id",
    "details",
}


async def events(client: httpx.AsyncClient, admin: Account, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(EVENTS, params={"page_size": 100, **params}, headers=admin.headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def by_request(
    client: httpx.AsyncClient, admin: Account, request_id: str, **params: Any
) -> dict[str, Any]:
    """The one record the request with this X-Request-ID left."""
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    matching = [
        e
        for e in await events(client, admin, since=since, **params)
        if e["request_id"] == request_id
    ]
    assert len(matching) == 1, matching
    return matching[0]


def request_id() -> str:
    return f"audit-{uuid.uuid4().hex}"


# -- what is recorded -----------------------------------------------------------------


async def test_logins_are_recorded_with_ip_and_request_id_and_never_the_password(
    client: httpx.AsyncClient, admin: Account
) -> None:
    customer = await register_customer(client)
    wrong = "definitely-not-the-password-77"
    rid = request_id()
    failed = await client.post(
        f"{API}/auth/login",
        json={"email": customer.email, "password": wrong},
        headers={"X-Request-ID": rid},
    )
    assert failed.status_code == 401

    listed = await events(client, admin, actor=str(customer.id), action="auth.login")
    assert [e["outcome"] for e in listed] == ["failure", "success"]  # newest first
    failure, success = listed
    assert set(failure) == FIELDS
    assert failure["request_id"] == rid
    assert failure["ip"] == "127.0.0.1"
    assert failure["actor_id"] == str(customer.id)
    assert (failure["target_type"], failure["target_id"]) == ("user", str(customer.id))
    assert failure["details"] == {"factor": "password", "reason": "bad_password"}
    assert success["details"] == {"factor": "password"}
    assert failure["seq"] > success["seq"]
    response = await client.get(EVENTS, params={"actor": str(customer.id)}, headers=admin.headers)
    assert wrong not in response.text
    assert PASSWORD not in response.text


async def test_a_failed_login_for_an_unknown_email_keeps_only_a_fingerprint(
    client: httpx.AsyncClient, admin: Account
) -> None:
    email = unique_email("nobody")
    rid = request_id()
    for _ in range(2):
        await client.post(
            f"{API}/auth/login",
            json={"email": email, "password": "whatever-it-may-be-1"},
            headers={"X-Request-ID": rid if _ == 0 else request_id()},
        )
    record = await by_request(client, admin, rid, action="auth.login")
    assert record["actor_id"] is None
    assert record["target_id"] is None
    assert record["outcome"] == "failure"
    assert record["details"]["reason"] == "unknown_account"
    fingerprint = record["details"]["email_fingerprint"]
    assert len(fingerprint) == 32
    listed = await events(client, admin, action="auth.login")
    # The same address always gives the same fingerprint, so attempts can be correlated...
    assert sum(e["details"].get("email_fingerprint") == fingerprint for e in listed) == 2
    # ...but the address itself is stored nowhere.
    response = await client.get(EVENTS, params={"action": "auth.login"}, headers=admin.headers)
    assert email not in response.text
    assert email.split("@")[0] not in response.text


async def test_logout_and_refresh_token_reuse_are_recorded(
    client: httpx.AsyncClient, admin: Account, customer: Account
) -> None:
    rotated = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": customer.refresh_token}
    )
    assert rotated.status_code == 200
    reused = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": customer.refresh_token}
    )
    assert reused.status_code == 401
    [reuse] = await events(
        client, admin, actor=str(customer.id), action="auth.refresh_reuse_detected"
    )
    assert reuse["outcome"] == "failure"
    assert reuse["target_type"] == "session"
    assert reuse["details"]["session_revoked"] is True

    other = await register_customer(client)
    logged_out = await client.post(
        f"{API}/auth/logout", json={"refresh_token": other.refresh_token}
    )
    assert logged_out.status_code == 204
    [logout] = await events(client, admin, actor=str(other.id), action="auth.logout")
    assert logout["outcome"] == "success"
    assert logout["target_type"] == "session"
    # An unknown token changes nothing and records nothing.
    await client.post(f"{API}/auth/logout", json={"refresh_token": "not-a-token"})
    assert len(await events(client, admin, actor=str(other.id), action="auth.logout")) == 1


async def test_deleting_products_and_categories_is_recorded(
    client: httpx.AsyncClient, admin: Account, staff: Account
) -> None:
    category = await create_category(client, staff.headers)
    product = await create_product(client, staff.headers)
    assert (
        await client.delete(f"{API}/products/{product['id']}", headers=staff.headers)
    ).status_code == 204
    assert (
        await client.delete(f"{API}/categories/{category['id']}", headers=staff.headers)
    ).status_code == 204

    mine = await events(client, admin, actor=str(staff.id))
    assert [(e["action"], e["target_id"]) for e in mine if e["action"] != "auth.login"] == [
        ("catalog.category_deleted", category["id"]),
        ("catalog.product_deleted", product["id"]),
    ]
    product_record = next(e for e in mine if e["action"] == "catalog.product_deleted")
    assert product_record["details"] == {"sku": product["sku"], "name": product["name"]}


async def test_refunds_and_cancellations_by_staff_are_recorded(
    client: httpx.AsyncClient, admin: Account, staff: Account, customer: Account
) -> None:
    product = await create_product(client, staff.headers)
    orders = []
    for _ in range(3):
        placed = await client.post(
            f"{API}/orders",
            json={
                "payment_token": "tok_success",
                "items": [{"product_id": product["id"], "quantity": 1}],
            },
            headers=customer.headers,
        )
        assert placed.status_code == 201, placed.text
        orders.append(placed.json()["data"])
    by_staff, by_customer, refunded = orders
    assert (
        await client.post(
            f"{API}/orders/{by_staff['id']}/cancel",
            json={"reason": "suspected fraud"},
            headers=staff.headers,
        )
    ).status_code == 200
    assert (
        await client.post(f"{API}/orders/{by_customer['id']}/cancel", headers=customer.headers)
    ).status_code == 200
    assert (
        await client.post(f"{API}/orders/{refunded['id']}/refund", headers=staff.headers)
    ).status_code == 200

    staff_actions = await events(client, admin, actor=str(staff.id))
    assert [
        (e["action"], e["target_id"]) for e in staff_actions if e["target_type"] == "order"
    ] == [
        ("orders.refunded", refunded["id"]),
        ("orders.cancelled", by_staff["id"]),
    ]
    cancel = next(e for e in staff_actions if e["action"] == "orders.cancelled")
    assert cancel["details"]["reason"] == "suspected fraud"
    assert cancel["details"]["customer_id"] == str(customer.id)
    assert cancel["details"]["refund_due"] is True
    assert cancel["details"]["total"] == {"amount": 1999, "currency": "EUR"}
    # A customer cancelling their own order is not an admin action.
    assert not [
        e
        for e in await events(client, admin, action="orders.cancelled")
        if e["target_id"] == by_customer["id"]
    ]
    # Every refund that moved money, whoever asked for it, is recorded once by payments.
    refunds = [
        e["details"]["order_id"]
        for e in await events(client, admin, action="payments.refunded")
        if e["details"]["order_id"] in {o["id"] for o in orders}
    ]
    assert sorted(refunds) == sorted(o["id"] for o in orders)


async def test_role_changes_and_deactivation_by_an_operator_are_recorded(
    client: httpx.AsyncClient, container: Container, admin: Account
) -> None:
    customer = await register_customer(client)
    identity = container.identity
    await identity.users.set_role(customer.email, Role.STAFF)
    await identity.users.set_role(customer.email, Role.STAFF)  # no change, no record
    await identity.users.deactivate(customer.email)
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    changes = [
        e
        for e in await events(client, admin, since=since)
        if e["target_id"] == str(customer.id) and e["action"].startswith("users.")
    ]
    assert [(e["action"], e["details"]) for e in changes] == [
        ("users.deactivated", {}),
        ("users.role_changed", {"from": "customer", "to": "staff"}),
    ]
    assert all(e["actor_id"] is None for e in changes)  # an operator at the console


# -- who may read it ------------------------------------------------------------------


async def test_only_holders_of_audit_read_may_query(
    client: httpx.AsyncClient, customer: Account, staff: Account, admin: Account
) -> None:
    assert (await client.get(EVENTS)).status_code == 401
    for account in (customer, staff):
        refused = await client.get(EVENTS, headers=account.headers)
        assert refused.status_code == 403
        assert refused.json()["errors"]["code"] == "FORBIDDEN"
    assert (await client.get(EVENTS, headers=admin.headers)).status_code == 200


# -- filters and pagination -------------------------------------------------------------


async def test_filters_by_actor_action_and_time_with_pagination_newest_first(
    client: httpx.AsyncClient, admin: Account
) -> None:
    customer = await register_customer(client)
    for _ in range(4):
        await client.post(
            f"{API}/auth/login", json={"email": customer.email, "password": "wrong-password-123"}
        )
    actor = str(customer.id)
    first = await client.get(EVENTS, params={"actor": actor, "page_size": 3}, headers=admin.headers)
    second = await client.get(
        EVENTS, params={"actor": actor, "page_size": 3, "page": 2}, headers=admin.headers
    )
    assert first.json()["meta"]["pagination"] == {
        "page": 1,
        "page_size": 3,
        "total": 5,
        "pages": 2,
    }
    seqs = [e["seq"] for e in first.json()["data"] + second.json()["data"]]
    assert len(seqs) == 5
    assert seqs == sorted(seqs, reverse=True)
    assert second.json()["data"][-1]["outcome"] == "success"  # the registration's login

    newest = datetime.fromisoformat(first.json()["data"][0]["occurred_at"])
    oldest = datetime.fromisoformat(second.json()["data"][-1]["occurred_at"])
    later = (newest + timedelta(seconds=1)).isoformat()
    assert await events(client, admin, actor=actor, since=later) == []
    assert await events(client, admin, actor=actor, until=oldest.isoformat()) == []
    window = await events(client, admin, actor=actor, since=oldest.isoformat(), until=later)
    assert len(window) == 5
    # A time without an offset is UTC.
    naive = oldest.astimezone(UTC).replace(tzinfo=None).isoformat()
    assert len(await events(client, admin, actor=actor, since=naive)) == 5
    assert await events(client, admin, actor=actor, action="auth.logout") == []
    assert await events(client, admin, actor=str(uuid.uuid4())) == []


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"until": "2026-13-40"},
        {"actor": "not-a-uuid"},
        {"action": "Auth Login"},
        {"action": "x" * 65},
        {"page": "0"},
        {"page_size": "101"},
        {"since": "2026-11-22T10:00:00Z", "until": "2026-11-22T09:00:00Z"},
        {"since": "0001-01-01T00:00:00+14:00"},
    ],
    ids=",".join,
)
async def test_bad_filters_are_422(
    client: httpx.AsyncClient, admin: Account, params: dict[str, str]
) -> None:
    response = await client.get(EVENTS, params=params, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"


# -- the chain under concurrent writers ---------------------------------------------------


async def test_fifty_concurrent_records_keep_one_unbroken_chain(
    client: httpx.AsyncClient, container: Container, admin: Account
) -> None:
    audit = container.infrastructure.audit
    marker = uuid.uuid4().hex
    await asyncio.gather(
        *(
            audit.record("test.concurrent", target_type="test", target_id=f"{marker}-{n}")
            for n in range(50)
        )
    )
    mine = [
        e
        for e in await events(client, admin, action="test.concurrent")
        if e["target_id"].startswith(marker)
    ]
    seqs = sorted(e["seq"] for e in mine)
    assert seqs == list(range(seqs[0], seqs[0] + 50))
    report = await audit.verify()
    assert report.intact, report.broken
    assert report.head.seq >= seqs[-1]


async def test_fifty_concurrent_failed_logins_are_all_recorded_in_the_chain(
    client: httpx.AsyncClient, container: Container, admin: Account
) -> None:
    customer = await register_customer(client)
    answers = await asyncio.gather(
        *(
            client.post(
                f"{API}/auth/login",
                json={"email": customer.email, "password": f"wrong-password-{n:03}"},
            )
            for n in range(50)
        )
    )
    assert {a.status_code for a in answers} == {401}
    failures = await events(client, admin, actor=str(customer.id), action="auth.login")
    assert sum(e["outcome"] == "failure" for e in failures) == 50
    assert len({e["seq"] for e in failures}) == 51
    assert (await container.infrastructure.audit.verify()).intact
