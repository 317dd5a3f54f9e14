"""Email verification through the API and the emailed link, reading mail like a user would."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from agora.app import create_app
from agora.bootstrap import Container, build_container
from agora.identity.accounts.adapters.tables import email_tokens
from agora.identity.accounts.domain import hash_email_token
from agora.platform.clock import utcnow
from tests.conftest import make_test_settings
from tests.support.accounts import PASSWORD, Account, register_customer, unique_email
from tests.support.catalog import create_product
from tests.support.mailbox import last_mail, messages_to, verification_token

pytestmark = pytest.mark.anyio

VERIFY = "/api/v1/auth/verify-email"
RESEND = "/api/v1/auth/verify-email/resend"
PROFILE = "/api/v1/auth/profile"


async def _verified(client: httpx.AsyncClient, account: Account) -> bool:
    response = await client.get(PROFILE, headers=account.headers)
    assert response.status_code == 200, response.text
    verified: bool = response.json()["data"]["email_verified"]
    return verified


async def _expire(container: Container, token: str) -> None:
    async with container.engine.begin() as conn:
        await conn.execute(
            update(email_tokens)
            .where(email_tokens.c.token_hash == hash_email_token(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def _invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors["code"] == "INVALID_EMAIL_TOKEN"
    assert errors["details"] == {"field": "token"}
    assert "ask for a new one" in errors["message"]


# -- the link in the email ---------------------------------------------------------------


async def test_sign_up_mails_a_single_use_link_that_verifies_the_address(
    client: httpx.AsyncClient, customer: Account
) -> None:
    message = await last_mail(client, customer.email, "Confirm your email address")
    assert message["from"] == "Agora <no-reply@agora.example>"
    assert message["links"][0].startswith("http://127.0.0.1:8000/verify-email?token=")
    assert "expires in 24 hours" in message["text"]
    assert not await _verified(client, customer)

    token = await verification_token(client, customer.email)
    response = await client.post(VERIFY, json={"token": token})

    assert response.status_code == 200, response.text
    user = response.json()["data"]
    assert user["email"] == customer.email
    assert user["email_verified"] is True
    assert await _verified(client, customer)
    _invalid_token(await client.post(VERIFY, json={"token": token}))


async def test_a_link_used_twice_at_once_verifies_once(
    client: httpx.AsyncClient, customer: Account
) -> None:
    token = await verification_token(client, customer.email)

    responses = await asyncio.gather(
        *(client.post(VERIFY, json={"token": token}) for _ in range(8))
    )

    assert sorted(r.status_code for r in responses) == [200] + [422] * 7
    assert await _verified(client, customer)


async def test_an_expired_link_is_refused(
    client: httpx.AsyncClient, container: Container, customer: Account
) -> None:
    token = await verification_token(client, customer.email)
    await _expire(container, token)

    _invalid_token(await client.post(VERIFY, json={"token": token}))
    assert not await _verified(client, customer)


@pytest.mark.parametrize("token", ["x", "A" * 43, "not even-base64!"])
async def test_unknown_tokens_are_refused_with_one_stable_code(
    client: httpx.AsyncClient, token: str
) -> None:
    _invalid_token(await client.post(VERIFY, json={"token": token}))


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": "a" * 201}, {"token": 5}])
async def test_malformed_bodies_are_422(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post(VERIFY, json=body)
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"


async def test_a_password_reset_token_cannot_verify_an_email(
    client: httpx.AsyncClient, customer: Account
) -> None:
    await client.post("/api/v1/auth/password-reset/request", json={"email": customer.email})
    reset = await last_mail(client, customer.email, "Reset your Agora password")
    token = reset["links"][0].split("token=", 1)[1]
    _invalid_token(await client.post(VERIFY, json={"token": token}))


# -- resending -----------------------------------------------------------------------------


async def test_resending_mails_a_new_link_and_the_old_one_stops_working(
    client: httpx.AsyncClient, customer: Account
) -> None:
    first = await verification_token(client, customer.email)

    response = await client.post(RESEND, headers=customer.headers)
    assert response.status_code == 202, response.text
    assert response.json()["data"] == {"message": "A new verification link is on its way."}
    second = await verification_token(client, customer.email)

    assert second != first
    assert len(await messages_to(client, customer.email)) == 2
    _invalid_token(await client.post(VERIFY, json={"token": first}))
    assert (await client.post(VERIFY, json={"token": second})).status_code == 200


async def test_resending_to_a_verified_address_is_a_conflict(
    client: httpx.AsyncClient, customer: Account
) -> None:
    token = await verification_token(client, customer.email)
    assert (await client.post(VERIFY, json={"token": token})).status_code == 200

    response = await client.post(RESEND, headers=customer.headers)
    assert response.status_code == 409
    assert response.json()["errors"]["code"] == "EMAIL_ALREADY_VERIFIED"


async def test_resending_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.post(RESEND)
    assert response.status_code == 401
    assert response.json()["errors"]["code"] == "UNAUTHENTICATED"


async def test_a_staff_account_created_by_an_operator_can_ask_for_a_link(
    client: httpx.AsyncClient, staff: Account
) -> None:
    assert await messages_to(client, staff.email) == []  # operators' accounts get no mail
    assert (await client.post(RESEND, headers=staff.headers)).status_code == 202
    token = await verification_token(client, staff.email)
    assert (await client.post(VERIFY, json={"token": token})).status_code == 200


# -- the page the link opens ---------------------------------------------------------------


async def test_the_link_opens_a_page_whose_form_verifies_the_address(
    client: httpx.AsyncClient, customer: Account
) -> None:
    message = await last_mail(client, customer.email, "Confirm your email address")
    link = message["links"][0].removeprefix("http://127.0.0.1:8000")

    page = await client.get(link)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp, "no script may run: default-src 'none' covers it"
    assert not await _verified(client, customer), "opening the link alone changes nothing"
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert action
    assert token

    done = await client.post(action.group(1), data={"token": token.group(1)})

    assert done.status_code == 200
    assert f"<strong>{customer.email}</strong> is verified" in done.text
    assert await _verified(client, customer)
    again = await client.post(action.group(1), data={"token": token.group(1)})
    assert again.status_code == 422
    assert "invalid, has expired or was already used" in again.text


async def test_the_page_escapes_what_it_echoes(client: httpx.AsyncClient) -> None:
    page = await client.get("/verify-email", params={"token": '"><script>alert(1)</script>'})
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&quot;&gt;&lt;script&gt;" in page.text


async def test_the_page_without_a_token_explains_what_to_do(client: httpx.AsyncClient) -> None:
    page = await client.get("/verify-email")
    assert page.status_code == 200
    assert "open the link exactly as it was sent" in page.text
    assert "<form" not in page.text


# -- checkout may require a verified address --------------------------------------------------


@pytest.fixture
async def strict_client(migrated: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app as a shop that requires a verified email address for checkout."""
    settings = make_test_settings(migrated, require_verified_email_for_checkout=True)
    built = await build_container(settings)
    app = create_app(settings, container=built)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await built.close()


async def test_a_shop_can_require_a_verified_address_for_checkout(
    strict_client: httpx.AsyncClient, client: httpx.AsyncClient, staff: Account
) -> None:
    product = await create_product(client, staff.headers, stock=5)
    shopper = await register_customer(strict_client, email=unique_email("strict"))
    order = {
        "payment_token": "tok_success",
        "items": [{"product_id": product["id"], "quantity": 1}],
    }
    keyed = {**shopper.headers, "Idempotency-Key": f"strict-{shopper.id}"}

    refused = await strict_client.post("/api/v1/orders", json=order, headers=keyed)
    assert refused.status_code == 403, refused.text
    assert refused.json()["errors"]["code"] == "EMAIL_NOT_VERIFIED"
    plain = await strict_client.post("/api/v1/orders", json=order, headers=shopper.headers)
    assert plain.status_code == 403
    stock = await client.get(f"/api/v1/products/{product['id']}")
    assert stock.json()["data"]["stock"] == 5, "a refused checkout reserves nothing"

    token = await verification_token(strict_client, shopper.email)
    assert (await strict_client.post(VERIFY, json={"token": token})).status_code == 200

    # The same Idempotency-Key now places the order: the refusal was not stored as its answer.
    placed = await strict_client.post("/api/v1/orders", json=order, headers=keyed)
    assert placed.status_code == 201, placed.text
    assert placed.json()["data"]["status"] == "paid"


async def test_by_default_an_unverified_customer_can_check_out(
    client: httpx.AsyncClient, staff: Account
) -> None:
    product = await create_product(client, staff.headers)
    shopper = await register_customer(client)
    assert not await _verified(client, shopper)
    response = await client.post(
        "/api/v1/orders",
        json={
            "payment_token": "tok_success",
            "items": [{"product_id": product["id"], "quantity": 1}],
        },
        headers=shopper.headers,
    )
    assert response.status_code == 201, response.text


async def test_registration_with_markup_in_the_name_is_shown_escaped_in_the_mailbox(
    client: httpx.AsyncClient,
) -> None:
    email = unique_email("markup")
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": "<img src=x onerror=alert(1)>"},
    )
    assert response.status_code == 201
    page = await client.get("/dev/mailbox")
    assert page.status_code == 200
    assert "<img src=x" not in page.text
    assert "Hello &lt;img src=x onerror=alert(1)&gt;" in page.text
