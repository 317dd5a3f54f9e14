"""The whole account flow with mail through SMTP, to a real server the test starts and stops."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from agora.app import create_app
from agora.bootstrap import build_container
from tests.conftest import make_test_settings
from tests.support.accounts import register_customer
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def smtp_client(migrated: str, smtp_server: SmtpServer) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_test_settings(
        migrated,
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        smtp_timeout_seconds=3,
        public_url="https://shop.example",
    )
    container = await build_container(settings)
    transport = httpx.ASGITransport(
        app=create_app(settings, container=container), raise_app_exceptions=False
    )
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
    finally:
        await container.close()


async def test_sign_up_mails_the_link_through_smtp(
    smtp_client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    account = await register_customer(smtp_client)

    ((_, recipients, mail),) = smtp_server.inbox.messages
    assert recipients == [account.email]
    assert mail["Subject"] == "Confirm your email address"
    body = mail.get_content()
    link = next(word for word in body.split() if word.startswith("https://"))
    assert link.startswith("https://shop.example/verify-email?token=")
    token = parse_qs(urlsplit(link).query)["token"][0]

    verified = await smtp_client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200
    assert verified.json()["data"]["email_verified"] is True


async def test_with_the_mail_server_down_sign_up_works_and_a_resend_says_so(
    smtp_client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    smtp_server.stop()

    account = await register_customer(smtp_client)  # 201: the failure is only logged
    down = await smtp_client.post("/api/v1/auth/verify-email/resend", headers=account.headers)
    assert down.status_code == 503
    assert down.json()["errors"]["code"] == "SERVICE_UNAVAILABLE"
    # Which server failed, and how, is in the log; the client learns only what failed.
    assert down.json()["errors"]["details"] == {"dependency": "mail"}
    assert down.headers["retry-after"]

    # A reset request still answers exactly as always.
    reset = await smtp_client.post(
        "/api/v1/auth/password-reset/request", json={"email": account.email}
    )
    assert reset.status_code == 202

    smtp_server.start()
    again = await smtp_client.post("/api/v1/auth/verify-email/resend", headers=account.headers)
    assert again.status_code == 202
    ((_, recipients, mail),) = smtp_server.inbox.messages
    assert recipients == [account.email]
    assert mail["Subject"] == "Confirm your email address"
