"""Provider webhooks: signature checked, applied once."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import orjson
import pytest

from agora.bootstrap import Container
from agora.payments.adapters.sql import SqlPaymentsUnitOfWork
from agora.payments.adapters.test_cards import sign
from agora.payments.domain import PaymentStatus
from agora.platform.settings import Settings
from tests.support.accounts import Account
from tests.support.catalog import create_product

URL = "/api/v1/payments/webhooks/test"


def secret(settings: Settings) -> str:
    return settings.payment_webhook_secret.get_secret_value()


async def captured_reference(client: httpx.AsyncClient, customer: Account, staff: Account) -> str:
    product = await create_product(client, staff.headers)
    response = await client.post(
        "/api/v1/orders",
        json={
            "payment_token": "tok_success",
            "items": [{"product_id": product["id"], "quantity": 1}],
        },
        headers=customer.headers,
    )
    assert response.status_code == 201, response.text
    reference: str = response.json()["data"]["payment"]["reference"]
    return reference


def refund_event(reference: str) -> bytes:
    return orjson.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "payment.refunded",
            "data": {"reference": reference},
        }
    )


async def post(client: httpx.AsyncClient, payload: bytes, signature: str) -> httpx.Response:
    return await client.post(
        URL,
        content=payload,
        headers={"content-type": "application/json", "Agora-Signature": signature},
    )


async def test_signed_refund_webhook_refunds_the_payment_once(
    client: httpx.AsyncClient,
    container: Container,
    settings: Settings,
    customer: Account,
    staff: Account,
) -> None:
    reference = await captured_reference(client, customer, staff)
    payload = refund_event(reference)
    signature = sign(payload, secret(settings))
    first = await post(client, payload, signature)
    assert first.status_code == 200, first.text
    assert first.json()["data"]["type"] == "payment.refunded"
    again = await post(client, payload, signature)
    assert again.status_code == 200
    async with SqlPaymentsUnitOfWork(container.engine, read_only=True) as unit:
        payment = await unit.payments.by_reference("test", reference)
    assert payment is not None
    assert payment.status is PaymentStatus.REFUNDED
    assert payment.version == 3  # pending -> captured -> refunded, not refunded twice


@pytest.mark.anyio
@pytest.mark.parametrize(
    "signature",
    [
        "t=1,v1=deadbeef",
        "nonsense",
        "t={now},v1=" + "0" * 64,
    ],
)
async def test_bad_signature_is_401(
    client: httpx.AsyncClient, settings: Settings, signature: str
) -> None:
    payload = refund_event("pay_test_unknown")
    response = await post(client, payload, signature.format(now=int(time.time())))
    assert response.status_code == 401
    assert response.json()["errors"]["code"] == "UNAUTHENTICATED"


async def test_stale_or_foreign_signature_is_401(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    payload = refund_event("pay_test_unknown")
    stale = await post(client, payload, sign(payload, secret(settings), int(time.time()) - 600))
    assert stale.status_code == 401
    foreign = await post(client, payload, sign(payload, "someone-elses-secret"))
    assert foreign.status_code == 401


async def test_missing_signature_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        URL, content=refund_event("x"), headers={"content-type": "application/json"}
    )
    assert response.status_code == 401
    assert response.json()["errors"]["code"] == "UNAUTHENTICATED"


async def test_signed_body_that_is_not_an_event_is_400(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    payload: dict[str, Any] = {"hello": "world"}
    body = orjson.dumps(payload)
    response = await post(client, body, sign(body, secret(settings)))
    assert response.status_code == 400
    assert response.json()["errors"]["code"] == "INVALID_WEBHOOK"


async def test_event_for_an_unknown_payment_is_acknowledged_and_changes_nothing(
    client: httpx.AsyncClient, container: Container, settings: Settings
) -> None:
    reference = f"pay_test_nobody_{uuid.uuid4().hex}"
    payload = refund_event(reference)
    response = await post(client, payload, sign(payload, secret(settings)))
    # Acknowledged, so the provider stops redelivering an event no payment here matches.
    assert response.status_code == 200
    assert response.json()["data"] == {
        "event_id": orjson.loads(payload)["id"],
        "type": "payment.refunded",
    }
    async with SqlPaymentsUnitOfWork(container.engine, read_only=True) as unit:
        assert await unit.payments.by_reference("test", reference) is None
