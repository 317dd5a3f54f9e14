"""Mail that cannot be sent is not lost: it is queued with the change that causes it,
retried on the events backbone, visible to staff when it fails, and re-sent by them.

Mail goes through a real SMTP server (aiosmtpd) that the tests take down and bring
back; the backbone is driven with ``drain`` (a retry is due 0.2 to 0.4 s after a failure,
long enough that one drain makes one attempt).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage as MimeMessage
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import delete, func, select

from agora.app import create_app
from agora.bootstrap import Container, build_container
from agora.notifications.adapters.tables import mail_messages
from agora.platform.db.tables import outbox_events
from agora.platform.db.transaction import SqlUnitOfWork
from tests.conftest import make_test_settings
from tests.support.accounts import Account, register_customer, unique_email
from tests.support.smtp import SmtpServer

MAX_ATTEMPTS = 3
SENDER = "notifications.mail-sender"


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
    built = await build_container(
        make_test_settings(
            migrated,
            mail_backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=smtp_server.port,
            smtp_security="none",
            smtp_timeout_seconds=2,
            events_max_attempts=MAX_ATTEMPTS,
            events_retry_base_seconds=0.4,
            events_retry_max_seconds=0.4,
        )
    )
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


def received_by(server: SmtpServer, address: str) -> list[MimeMessage]:
    return [m for _, recipients, m in server.inbox.messages if address in recipients]


async def rows_to(container: Container, address: str) -> list[Any]:
    async with container.engine.connect() as conn:
        query = select(mail_messages).where(mail_messages.c.recipient == address)
        return list((await conn.execute(query.order_by(mail_messages.c.created_at))).all())


async def retry_round(container: Container) -> None:
    await asyncio.sleep(0.45)  # past the backoff of the failed attempt (0.2 to 0.4 s)
    await container.events.backbone.drain()


async def readiness_of_mail(client: httpx.AsyncClient) -> tuple[int, str, str]:
    response = await client.get("/health/ready")
    body = response.json()["data"]
    return response.status_code, body["status"], body["checks"]["mail"]["status"]


# -- the same transaction -------------------------------------------------------------


async def test_mail_queued_in_a_change_that_rolls_back_is_never_sent(
    container: Container,
) -> None:
    mail, address = container.infrastructure.mail, unique_email("rollback")
    async with SqlUnitOfWork(container.engine) as uow:
        await mail.queue(uow, to=address, subject="Not sent", text="-", kind="test.rollback")
        # leaving without commit: the change (and its mail) rolls back
    async with SqlUnitOfWork(container.engine) as uow:
        kept = await mail.queue(uow, to=address, subject="Sent", text="hi", kind="test.commit")
        await uow.commit()

    rows = await rows_to(container, address)
    assert [r.subject for r in rows] == ["Sent"]
    async with container.engine.connect() as conn:
        events = await conn.scalar(select(func.count()).where(outbox_events.c.aggregate_id == kept))
    assert events == 1  # its MailQueued event committed with it
    await container.events.backbone.drain()
    assert [
        m.message.subject
        for m in container.infrastructure.mail.kept_messages() or ()
        if m.message.to == address
    ] == ["Sent"]


# -- the mail server down, then back ----------------------------------------------------


async def test_with_smtp_down_mail_waits_readiness_is_degraded_and_it_goes_out_once_back(
    smtp_client: httpx.AsyncClient, smtp_server: SmtpServer, smtp_container: Container
) -> None:
    smtp_server.stop()
    account = await register_customer(smtp_client)  # 201 while the mail server is away
    await smtp_container.events.backbone.drain()

    (row,) = await rows_to(smtp_container, account.email)
    assert (row.status, row.attempts) == ("queued", 1)
    assert "DependencyUnavailableError" in row.last_error
    status, overall, mail = await readiness_of_mail(smtp_client)
    assert (status, overall, mail) == (200, "degraded", "degraded")  # still takes orders

    smtp_server.start()
    await retry_round(smtp_container)
    await retry_round(smtp_container)  # nothing more is due: sent once

    (delivered,) = received_by(smtp_server, account.email)
    assert delivered["Subject"] == "Confirm your email address"
    (row,) = await rows_to(smtp_container, account.email)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert row.provider_message_id == delivered["Message-ID"]
    assert await readiness_of_mail(smtp_client) == (200, "ok", "ok")


async def test_an_unreachable_smtp_server_degrades_readiness_before_any_mail_fails(
    smtp_client: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    smtp_server.stop()
    assert await readiness_of_mail(smtp_client) == (200, "degraded", "degraded")


async def test_a_message_already_sent_is_not_sent_again_when_its_event_comes_back(
    smtp_client: httpx.AsyncClient, smtp_server: SmtpServer, smtp_container: Container
) -> None:
    account = await register_customer(smtp_client)
    await smtp_container.events.backbone.drain()
    (row,) = await rows_to(smtp_container, account.email)

    # The same event again (a broker redelivery, a replay): the row says it was sent.
    await smtp_container.infrastructure.mail.deliver(row.id, final_attempt=False)
    assert len(received_by(smtp_server, account.email)) == 1


# -- failed after the last attempt, then re-sent by staff ---------------------------------


async def test_after_the_last_attempt_mail_is_failed_staff_see_it_and_a_resend_delivers_it(
    smtp_client: httpx.AsyncClient,
    smtp_server: SmtpServer,
    smtp_container: Container,
    staff: Account,
    admin: Account,
) -> None:
    smtp_server.stop()
    account = await register_customer(smtp_client)
    await smtp_container.events.backbone.drain()
    for _ in range(MAX_ATTEMPTS):
        await retry_round(smtp_container)

    (row,) = await rows_to(smtp_container, account.email)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    dead = await smtp_container.events.admin.dead_letters(100, consumer=SENDER)
    assert row.id in {UUID(str(d.payload["message_id"])) for d in dead}

    listed = await smtp_client.get(
        "/api/v1/notifications/mail",
        params={"status": "failed", "to": account.email},
        headers=staff.headers,
    )
    assert listed.status_code == 200, listed.text
    (summary,) = listed.json()["data"]
    assert summary["id"] == str(row.id)
    assert summary["kind"] == "identity.verify-email"
    assert summary["last_error"].startswith("DependencyUnavailableError")
    assert listed.json()["meta"]["pagination"]["total"] == 1
    one = await smtp_client.get(f"/api/v1/notifications/mail/{row.id}", headers=staff.headers)
    assert one.status_code == 200
    # The body holds a link that verifies the account: staff never read it.
    assert (one.json()["data"]["text"], one.json()["data"]["body_withheld"]) == (None, True)

    smtp_server.start()
    resent = await smtp_client.post(
        f"/api/v1/notifications/mail/{row.id}/resend", headers=staff.headers
    )
    assert resent.status_code == 202, resent.text
    assert resent.json()["data"]["status"] == "queued"
    again = await smtp_client.post(
        f"/api/v1/notifications/mail/{row.id}/resend", headers=staff.headers
    )
    assert again.status_code == 409
    assert again.json()["errors"]["code"] == "MAIL_ALREADY_QUEUED"
    await smtp_container.events.backbone.drain()

    (delivered,) = received_by(smtp_server, account.email)
    assert delivered["Subject"] == "Confirm your email address"
    (row,) = await rows_to(smtp_container, account.email)
    assert (row.status, row.attempts) == ("sent", MAX_ATTEMPTS + 1)
    audit = await smtp_client.get(
        "/api/v1/audit-events",
        params={"action": "notifications.mail_resent", "actor": str(staff.id)},
        headers=admin.headers,
    )
    assert [e["target_id"] for e in audit.json()["data"]] == [str(row.id)]


async def test_two_staff_resending_the_same_message_at_once_send_it_once_more(
    client: httpx.AsyncClient, container: Container, staff: Account
) -> None:
    address = unique_email("twice")
    async with SqlUnitOfWork(container.engine) as uow:
        message_id = await container.infrastructure.mail.queue(
            uow, to=address, subject="Your receipt", text="Thanks!", kind="test.receipt"
        )
        await uow.commit()
    await container.events.backbone.drain()

    path = f"/api/v1/notifications/mail/{message_id}/resend"
    answers = await asyncio.gather(*(client.post(path, headers=staff.headers) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [202, 409]
    await container.events.backbone.drain()
    kept = container.infrastructure.mail.kept_messages() or ()
    assert [m.message.subject for m in kept if m.message.to == address] == ["Your receipt"] * 2
    (row,) = await rows_to(container, address)
    assert (row.status, row.attempts) == ("sent", 2)


# -- who may see mail, and bad requests --------------------------------------------------


async def test_customers_cannot_list_or_resend_mail_and_anonymous_callers_must_sign_in(
    client: httpx.AsyncClient, customer: Account
) -> None:
    listed = await client.get("/api/v1/notifications/mail", headers=customer.headers)
    assert listed.status_code == 403
    assert listed.json()["errors"]["code"] == "FORBIDDEN"
    some_id = "0190a000-0000-7000-8000-000000000000"
    resend = await client.post(
        f"/api/v1/notifications/mail/{some_id}/resend", headers=customer.headers
    )
    assert resend.status_code == 403
    anonymous = await client.get("/api/v1/notifications/mail")
    assert anonymous.status_code == 401
    assert anonymous.json()["success"] is False


async def test_an_unknown_id_is_404_and_a_bad_id_or_filter_is_422(
    client: httpx.AsyncClient, staff: Account
) -> None:
    unknown = "0190a000-0000-7000-8000-000000000000"
    missing = await client.get(f"/api/v1/notifications/mail/{unknown}", headers=staff.headers)
    assert missing.status_code == 404
    assert missing.json()["errors"]["code"] == "NOT_FOUND"
    resend = await client.post(
        f"/api/v1/notifications/mail/{unknown}/resend", headers=staff.headers
    )
    assert resend.status_code == 404
    malformed = await client.get("/api/v1/notifications/mail/not-an-id", headers=staff.headers)
    assert malformed.status_code == 422
    for params in ({"status": "lost"}, {"page_size": "0"}, {"to": "x" * 400}):
        bad = await client.get("/api/v1/notifications/mail", params=params, headers=staff.headers)
        assert bad.status_code == 422, params
        assert bad.json()["errors"]["code"] == "VALIDATION_ERROR"


async def test_with_the_development_mailbox_readiness_reports_mail_ok(
    client: httpx.AsyncClient,
) -> None:
    assert await readiness_of_mail(client) == (200, "ok", "ok")


@pytest.fixture(autouse=True)
async def _forget_test_rows(container: Container) -> AsyncIterator[None]:
    yield
    async with container.engine.begin() as conn:
        await conn.execute(delete(mail_messages).where(mail_messages.c.kind.like("test.%")))
