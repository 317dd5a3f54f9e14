"""My sessions through the API: list, revoke one, log out everywhere, and lifetimes.

A revoked session's access tokens stop working at once in the process that revoked it
(other processes: see test_served_tokens.py), not when they expire.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from agora.bootstrap import Container
from agora.identity.sessions.adapters.tables import refresh_tokens
from agora.identity.sessions.domain import hash_refresh_token
from tests.support.accounts import PASSWORD, Account, login

pytestmark = pytest.mark.anyio

SESSIONS = "/api/v1/auth/sessions"
LOGOUT_ALL = "/api/v1/auth/logout-all"
LOGOUT = "/api/v1/auth/logout"
REFRESH = "/api/v1/auth/refresh"
PROFILE = "/api/v1/auth/profile"
PHONE = "Agora-Test-Phone/1.0 (Android 15)"


def _bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sid(access_token: object) -> str:
    claims = jwt.decode(str(access_token), options={"verify_signature": False})
    return str(claims["sid"])


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _sessions(client: httpx.AsyncClient, token: object) -> list[dict[str, Any]]:
    response = await client.get(SESSIONS, headers=_bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def _sign_in_on_phone(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": account.email, "password": PASSWORD},
        headers={"User-Agent": PHONE},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def _status(client: httpx.AsyncClient, token: object) -> int:
    return (await client.get(PROFILE, headers=_bearer(token))).status_code


# -- listing -----------------------------------------------------------------------------


async def test_each_sign_in_is_a_session_with_device_address_and_times(
    client: httpx.AsyncClient, customer: Account
) -> None:
    phone = await _sign_in_on_phone(client, customer)
    listed = await _sessions(client, customer.access_token)
    assert len(listed) == 2
    by_id = {s["id"]: s for s in listed}
    mine, theirs = by_id[_sid(customer.access_token)], by_id[_sid(phone["access_token"])]
    assert mine["current"] is True
    assert theirs["current"] is False
    assert theirs["user_agent"] == PHONE
    assert theirs["ip"] == "127.0.0.1"
    assert theirs["kind"] == mine["kind"] == "bearer"
    assert set(theirs) == {
        "id", "kind", "user_agent", "ip", "created_at", "last_used_at", "expires_at", "current",
    }  # fmt: skip
    # Fresh sessions end after the idle lifetime (7 days) unless used again.
    created, expires = _at(theirs["created_at"]), _at(theirs["expires_at"])
    assert abs((expires - created) - timedelta(days=7)) < timedelta(seconds=5)
    # Most recently used first.
    assert listed[0]["id"] == theirs["id"]


async def test_refreshing_keeps_the_session_and_moves_its_last_use(
    client: httpx.AsyncClient, customer: Account
) -> None:
    [before] = await _sessions(client, customer.access_token)
    await asyncio.sleep(0.01)
    refreshed = await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    access = refreshed.json()["data"]["access_token"]
    [after] = await _sessions(client, access)
    assert after["id"] == before["id"] == _sid(access)
    assert after["created_at"] == before["created_at"]
    assert _at(after["last_used_at"]) > _at(before["last_used_at"])


async def test_another_users_sessions_are_invisible_and_answer_404(
    client: httpx.AsyncClient, customer: Account, other_customer: Account
) -> None:
    theirs = await _sessions(client, other_customer.access_token)
    assert [s["id"] for s in theirs] == [_sid(other_customer.access_token)]
    response = await client.delete(
        f"{SESSIONS}/{_sid(customer.access_token)}", headers=other_customer.headers
    )
    assert response.status_code == 404
    assert response.json()["errors"]["code"] == "NOT_FOUND"
    assert await _status(client, customer.access_token) == 200
    refreshed = await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    assert refreshed.status_code == 200


# -- revoking ------------------------------------------------------------------------------


async def test_revoking_another_device_ends_its_tokens_at_once(
    client: httpx.AsyncClient, customer: Account
) -> None:
    phone = await _sign_in_on_phone(client, customer)
    assert await _status(client, phone["access_token"]) == 200
    response = await client.delete(
        f"{SESSIONS}/{_sid(phone['access_token'])}", headers=customer.headers
    )
    assert response.status_code == 204
    assert response.content == b""
    assert await _status(client, phone["access_token"]) == 401
    refused = await client.get(PROFILE, headers=_bearer(phone["access_token"]))
    assert "session has ended" in refused.json()["errors"]["message"]
    again = await client.post(REFRESH, json={"refresh_token": phone["refresh_token"]})
    assert again.status_code == 401
    assert await _status(client, customer.access_token) == 200
    assert [s["id"] for s in await _sessions(client, customer.access_token)] == [
        _sid(customer.access_token)
    ]


async def test_revoking_the_current_session_signs_this_client_out(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.delete(
        f"{SESSIONS}/{_sid(customer.access_token)}", headers=customer.headers
    )
    assert response.status_code == 204
    assert await _status(client, customer.access_token) == 401
    assert (
        await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    ).status_code == 401


async def test_an_unknown_ended_or_malformed_session_id_is_refused(
    client: httpx.AsyncClient, customer: Account
) -> None:
    phone = await _sign_in_on_phone(client, customer)
    ended = _sid(phone["access_token"])
    assert (await client.delete(f"{SESSIONS}/{ended}", headers=customer.headers)).status_code == 204
    for session_id in (ended, str(uuid.uuid4())):
        response = await client.delete(f"{SESSIONS}/{session_id}", headers=customer.headers)
        assert response.status_code == 404
    malformed = await client.delete(f"{SESSIONS}/not-a-uuid", headers=customer.headers)
    assert malformed.status_code == 422


async def test_logout_all_ends_every_session_of_mine_and_nobody_elses(
    client: httpx.AsyncClient, customer: Account, other_customer: Account
) -> None:
    phone = await _sign_in_on_phone(client, customer)
    laptop = await login(client, customer.email, PASSWORD)
    response = await client.post(LOGOUT_ALL, headers=customer.headers)
    assert response.status_code == 204
    first = {"access_token": customer.access_token, "refresh_token": customer.refresh_token}
    for pair in (phone, laptop, first):
        assert await _status(client, pair["access_token"]) == 401
        refused = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        assert refused.status_code == 401
    assert await _status(client, other_customer.access_token) == 200
    fresh = await login(client, customer.email, PASSWORD)
    assert await _status(client, fresh["access_token"]) == 200
    assert len(await _sessions(client, fresh["access_token"])) == 1


async def test_logout_stops_the_sessions_access_token_too(
    client: httpx.AsyncClient, customer: Account
) -> None:
    assert await _status(client, customer.access_token) == 200
    response = await client.post(LOGOUT, json={"refresh_token": customer.refresh_token})
    assert response.status_code == 204
    assert await _status(client, customer.access_token) == 401


async def test_session_routes_need_a_signed_in_user(client: httpx.AsyncClient) -> None:
    assert (await client.get(SESSIONS)).status_code == 401
    assert (await client.delete(f"{SESSIONS}/{uuid.uuid4()}")).status_code == 401
    assert (await client.post(LOGOUT_ALL)).status_code == 401


# -- refresh reuse and concurrency ---------------------------------------------------------


async def test_refresh_reuse_also_stops_the_sessions_newest_access_token(
    client: httpx.AsyncClient, customer: Account
) -> None:
    rotated = (await client.post(REFRESH, json={"refresh_token": customer.refresh_token})).json()
    newest = rotated["data"]
    assert await _status(client, newest["access_token"]) == 200
    replay = await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    assert replay.status_code == 401
    assert await _status(client, newest["access_token"]) == 401
    assert await _status(client, customer.access_token) == 401


async def test_one_refresh_token_used_concurrently_works_once_and_ends_the_session(
    client: httpx.AsyncClient, customer: Account
) -> None:
    """Two uses of one token are reuse, however close together: one caller gets a pair,
    and the session ends for everyone (a legitimate client refreshes one at a time)."""
    responses = await asyncio.gather(
        *(client.post(REFRESH, json={"refresh_token": customer.refresh_token}) for _ in range(4))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 401, 401, 401]
    [winner] = [r.json()["data"] for r in responses if r.status_code == 200]
    assert await _status(client, winner["access_token"]) == 401
    after = await client.post(REFRESH, json={"refresh_token": winner["refresh_token"]})
    assert after.status_code == 401


# -- lifetimes -------------------------------------------------------------------------------


async def _age(container: Container, refresh_token: str, **values: datetime) -> None:
    async with container.engine.begin() as conn:
        await conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.token_hash == hash_refresh_token(refresh_token))
            .values(**values)
        )


async def test_a_session_unused_for_the_idle_lifetime_ends(
    client: httpx.AsyncClient, container: Container, customer: Account
) -> None:
    now = datetime.now(UTC)
    await _age(container, customer.refresh_token, expires_at=now - timedelta(seconds=1))
    refused = await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    assert refused.status_code == 401
    assert refused.json()["errors"]["code"] == "INVALID_REFRESH_TOKEN"
    assert await _sessions(client, customer.access_token) == []


async def test_rotation_never_extends_a_session_past_its_absolute_lifetime(
    client: httpx.AsyncClient, container: Container, customer: Account
) -> None:
    started = datetime.now(UTC) - timedelta(days=29, hours=23)
    await _age(container, customer.refresh_token, session_started_at=started)
    refreshed = await client.post(REFRESH, json={"refresh_token": customer.refresh_token})
    assert refreshed.status_code == 200
    pair = refreshed.json()["data"]
    [session] = await _sessions(client, pair["access_token"])
    # Capped at sign-in + 30 days, one hour from now, not a week from now.
    assert abs(_at(session["expires_at"]) - (started + timedelta(days=30))) < timedelta(seconds=1)
    assert abs(_at(session["created_at"]) - started) < timedelta(seconds=1)
    # Past the absolute end, even a token that has not expired is refused.
    await _age(
        container,
        pair["refresh_token"],
        session_started_at=started - timedelta(hours=2),
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    refused = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert refused.status_code == 401
