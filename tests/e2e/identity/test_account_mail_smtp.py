"""The whole account flow with mail through SMTP, to a real server the test starts and stops.

Mail is queued and sent by the events backbone; these tests drive it with ``drain``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from agora.app import create_app
from agora.bootstrap import Container, build_container
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
async def smtp_container(
    migrated: str, smtp_server: SmtpServer, container: Container
) -> AsyncIterator[Container]:
    await container.events.backbone.drain()  # the rest of the suite's mail goes to its mailbox
    settings = make_test_settings(
        migrated,
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        smtp_timeout_seconds=3,
        public_url="https://shop.example",
        events_retry_base_seconds=0.05,
        events_retry_max_seconds=0.1,
    )
    built = await build_container(settings)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def smtp_client(smtp_container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(smtp_container.settings, container=smtp_container)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def mail_to(server: SmtpServer, address: str) -> list[object]:
    return [m for _, recipients, m in server.inbox.messages if address in recipients]


async def test_sign_up_mails_the_link_through_smtp(
    smtp_client: httpx.AsyncClient, smtp_server: SmtpServer, smtp_container: Container
) -> None:
    account = await register_customer(smtp_client)
    await smtp_container.events.backbone.drain()

    ((_, recipients, mail),) = [m for m in smtp_server.inbox.messages if account.email in m[1]]
    assert recipients == [account.email]
    assert mail["Subject"] == "Confirm your email address"
    body = mail.get_content()
    link = next(word for word in body.split() if word.startswith("https://"))
    assert link.startswith("https://shop.example/verify-email?token=")
    token = parse_qs(urlsplit(link).query)["token"][0]

    verified = await smtp_client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200
    assert verified.json()["data"]["email_verified"] is True


async def test_with_the_mail_server_down_sign_up_and_a_resend_work_and_the_mail_follows(
    smtp_client: httpx.AsyncClient, smtp_server: SmtpServer, smtp_container: Container
) -> None:
    smtp_server.stop()
    backbone = smtp_container.events.backbone

    account = await register_customer(smtp_client)
    resend = await smtp_client.post("/api/v1/auth/verify-email/resend", headers=account.headers)
    assert resend.status_code == 202  # queued: nobody waits for the mail server
    reset = await smtp_client.post(
        "/api/v1/auth/password-reset/request", json={"email": account.email}
    )
    assert reset.status_code == 202
    await backbone.drain()  # first attempts fail; the messages wait for their retry

    smtp_server.start()
    await asyncio.sleep(0.2)
    await backbone.drain()
    subjects = sorted(m["Subject"] for m in mail_to(smtp_server, account.email))
    assert subjects == [
        "Confirm your email address",
        "Confirm your email address",
        "Reset your Agora password",
    ]
