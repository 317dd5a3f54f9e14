"""Password reset through the API and the emailed link: no enumeration, single use, expiry,
every session ended."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from agora.bootstrap import Container
from agora.identity.accounts.adapters.tables import email_tokens
from agora.identity.accounts.domain import hash_email_token
from agora.platform.clock import utcnow
from tests.support.accounts import Account, login, unique_email
from tests.support.mailbox import last_mail, messages_to, reset_token

pytestmark = pytest.mark.anyio

REQUEST = "/api/v1/auth/password-reset/request"
CONFIRM = "/api/v1/auth/password-reset/confirm"
REFRESH = "/api/v1/auth/refresh"
NEW_PASSWORD = "quartz-meadow-lantern-ferry"
_TIMESTAMP = re.compile(rb'"timestamp":"[^"]+"')


async def _request_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(REQUEST, json={"email": email}, headers={"X-Request-ID": "same-id"})


def _invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["errors"]["code"] == "INVALID_EMAIL_TOKEN"


async def _can_log_in(client: httpx.AsyncClient, email: str, password: str) -> bool:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


# -- the request reveals nothing -----------------------------------------------------------


async def test_the_answer_is_byte_identical_for_known_and_unknown_addresses(
    client: httpx.AsyncClient, customer: Account
) -> None:
    known = await _request_reset(client, customer.email)
    unknown = await _request_reset(client, unique_email("nobody"))

    assert known.status_code == unknown.status_code == 202
    # Only the response time stamp differs; the request ID is the one the client sent.
    assert _TIMESTAMP.sub(b"", known.content) == _TIMESTAMP.sub(b"", unknown.content)
    assert known.json()["data"] == {
        "message": "If an account uses this address, a link to reset its password is on its way."
    }
    varying = {"date", "ratelimit-remaining", "ratelimit-reset", "content-length"}
    assert {k: v for k, v in known.headers.items() if k not in varying} == {
        k: v for k, v in unknown.headers.items() if k not in varying
    }


async def test_only_a_real_account_gets_mail(client: httpx.AsyncClient, customer: Account) -> None:
    nobody = unique_email("nobody")
    await _request_reset(client, customer.email)
    await _request_reset(client, nobody)

    message = await last_mail(client, customer.email, "Reset your Agora password")
    assert message["links"][0].startswith("http://127.0.0.1:8000/reset-password?token=")
    assert "expires in 30 minutes" in message["text"]
    assert await messages_to(client, nobody) == []


async def test_the_address_is_matched_in_any_spelling(
    client: httpx.AsyncClient, customer: Account
) -> None:
    await _request_reset(client, f"  {customer.email.upper()} ")
    assert await last_mail(client, customer.email, "Reset your Agora password")


async def test_an_address_that_cannot_exist_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(REQUEST, json={"email": "not-an-address"})
    assert response.status_code == 422
    assert response.json()["errors"]["details"]["field"] == "email"


# -- confirming ----------------------------------------------------------------------------


async def test_a_reset_sets_the_password_and_signs_out_every_session(
    client: httpx.AsyncClient, customer: Account
) -> None:
    second_device = await login(client, customer.email, customer.password)
    await _request_reset(client, customer.email)
    token = await reset_token(client, customer.email)

    response = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})

    assert response.status_code == 204, response.text
    assert not await _can_log_in(client, customer.email, customer.password)
    assert await _can_log_in(client, customer.email, NEW_PASSWORD)
    for refresh_token in (customer.refresh_token, second_device["refresh_token"]):
        refreshed = await client.post(REFRESH, json={"refresh_token": refresh_token})
        assert refreshed.status_code == 401, "every earlier session ended"
    notice = await last_mail(client, customer.email, "Your Agora password was changed")
    assert "If it was not" in notice["text"]
    fresh = await login(client, customer.email, NEW_PASSWORD)
    profile = await client.get(
        "/api/v1/auth/profile", headers={"Authorization": f"Bearer {fresh['access_token']}"}
    )
    assert profile.json()["data"]["email_verified"] is True, "the link proved the mailbox"


async def test_a_reset_link_works_once(client: httpx.AsyncClient, customer: Account) -> None:
    await _request_reset(client, customer.email)
    token = await reset_token(client, customer.email)
    assert (
        await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
    ).status_code == 204

    _invalid_token(
        await client.post(CONFIRM, json={"token": token, "password": "another " + NEW_PASSWORD})
    )
    assert await _can_log_in(client, customer.email, NEW_PASSWORD)


async def test_a_reset_link_used_twice_at_once_works_once(
    client: httpx.AsyncClient, customer: Account
) -> None:
    await _request_reset(client, customer.email)
    token = await reset_token(client, customer.email)
    passwords = [f"{NEW_PASSWORD}-{n}" for n in range(6)]

    responses = await asyncio.gather(
        *(client.post(CONFIRM, json={"token": token, "password": p}) for p in passwords)
    )

    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [204] + [422] * 5
    winner = passwords[statuses.index(204)]
    assert await _can_log_in(client, customer.email, winner)
    for loser in passwords:
        if loser != winner:
            assert not await _can_log_in(client, customer.email, loser)


async def test_a_refused_password_leaves_the_link_usable(
    client: httpx.AsyncClient, customer: Account
) -> None:
    await _request_reset(client, customer.email)
    token = await reset_token(client, customer.email)

    weak = await client.post(CONFIRM, json={"token": token, "password": "aaaaaaaaaaab"})
    assert weak.status_code == 422
    errors = weak.json()["errors"]
    assert errors["code"] == "VALIDATION_ERROR"
    assert errors["details"]["field"] == "password"
    assert 'Repeats like "aaa" are easy to guess.' in errors["message"]
    assert errors["details"]["suggestions"]
    assert await _can_log_in(client, customer.email, customer.password), "nothing changed"

    good = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
    assert good.status_code == 204


async def test_an_expired_link_is_refused(
    client: httpx.AsyncClient, container: Container, customer: Account
) -> None:
    await _request_reset(client, customer.email)
    token = await reset_token(client, customer.email)
    async with container.engine.begin() as conn:
        await conn.execute(
            update(email_tokens)
            .where(email_tokens.c.token_hash == hash_email_token(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    _invalid_token(await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD}))
    assert await _can_log_in(client, customer.email, customer.password)


async def test_a_new_request_makes_the_earlier_link_useless(
    client: httpx.AsyncClient, customer: Account
) -> None:
    await _request_reset(client, customer.email)
    first = await reset_token(client, customer.email)
    await _request_reset(client, customer.email)
    second = await reset_token(client, customer.email)

    _invalid_token(await client.post(CONFIRM, json={"token": first, "password": NEW_PASSWORD}))
    assert (
        await client.post(CONFIRM, json={"token": second, "password": NEW_PASSWORD})
    ).status_code == 204


async def test_a_verification_token_cannot_reset_a_password(
    client: httpx.AsyncClient, customer: Account
) -> None:
    message = await last_mail(client, customer.email, "Confirm your email address")
    token = message["links"][0].split("token=", 1)[1]
    _invalid_token(await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD}))


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"token": "x"},
        {"password": NEW_PASSWORD},
        {"token": "x", "password": NEW_PASSWORD, "role": "admin"},
    ],
)
async def test_malformed_confirmations_are_422(
    client: httpx.AsyncClient, body: dict[str, str]
) -> None:
    response = await client.post(CONFIRM, json=body)
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"


# -- the page the link opens ---------------------------------------------------------------


async def test_the_link_opens_a_form_that_resets_the_password(
    client: httpx.AsyncClient, customer: Account
) -> None:
    await _request_reset(client, customer.email)
    message = await last_mail(client, customer.email, "Reset your Agora password")
    link = message["links"][0].removeprefix("http://127.0.0.1:8000")

    page = await client.get(link)
    assert page.status_code == 200
    assert 'autocomplete="new-password"' in page.text
    assert "<script" not in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token

    weak = await client.post(
        "/reset-password", data={"token": token.group(1), "password": "aaaaaaaaaaab"}
    )
    assert weak.status_code == 422
    assert "Repeats like &quot;aaa&quot; are easy to guess." in weak.text
    assert f'value="{token.group(1)}"' in weak.text, "the form comes back, ready to retry"

    done = await client.post(
        "/reset-password", data={"token": token.group(1), "password": NEW_PASSWORD}
    )
    assert done.status_code == 200
    assert "Your password was changed" in done.text
    assert await _can_log_in(client, customer.email, NEW_PASSWORD)
    again = await client.post(
        "/reset-password", data={"token": token.group(1), "password": NEW_PASSWORD}
    )
    assert again.status_code == 422
    assert "<form" not in again.text
