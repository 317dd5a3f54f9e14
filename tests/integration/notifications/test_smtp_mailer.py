"""The SMTP mailer against a real SMTP server (aiosmtpd) that the test starts on loopback."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from agora.notifications.adapters.smtp import SmtpMailer
from agora.notifications.domain import EmailMessage
from agora.platform.errors import DependencyUnavailableError
from tests.e2e.served import free_port

MESSAGE = EmailMessage(
    sender="Agora <no-reply@agora.example>",
    to="ada@example.com",
    subject="Confirm your email address",
    text="Hello Ada,\n\nopen https://shop.example/verify-email?token=abc to confirm.\n",
)


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    messages: list[tuple[str, list[str], MimeMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, MimeMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(port, inbox)
    finally:
        controller.stop()


def _mailer(port: int, **overrides: Any) -> SmtpMailer:
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "timeout": 5.0,
    }
    options.update(overrides)
    return SmtpMailer(**options)


async def test_a_message_is_delivered_with_its_recipient_subject_and_body(
    smtp_server: SmtpServer,
) -> None:
    await _mailer(smtp_server.port).send(MESSAGE)

    ((mail_from, recipients, parsed),) = smtp_server.inbox.messages
    assert mail_from == "no-reply@agora.example"
    assert recipients == ["ada@example.com"]
    assert parsed["To"] == "ada@example.com"
    assert parsed["From"] == "Agora <no-reply@agora.example>"
    assert parsed["Subject"] == "Confirm your email address"
    assert parsed["Message-ID"].endswith("@agora.example>")
    assert parsed["Date"]
    body = parsed.get_content()
    assert "https://shop.example/verify-email?token=abc" in body
    assert body.startswith("Hello Ada,")


async def test_a_server_that_is_down_is_a_dependency_failure() -> None:
    port = free_port()  # nothing listens here
    with pytest.raises(DependencyUnavailableError) as caught:
        await _mailer(port).send(MESSAGE)
    assert caught.value.code == "SERVICE_UNAVAILABLE"
    assert caught.value.details["dependency"] == "mail"


async def test_starttls_is_required_not_opportunistic(smtp_server: SmtpServer) -> None:
    # The test server offers no STARTTLS: the mailer must refuse to send in clear text.
    with pytest.raises(DependencyUnavailableError):
        await _mailer(smtp_server.port, security="starttls").send(MESSAGE)
    assert smtp_server.inbox.messages == []


# A loopback test server; production refuses clear text (AGORA_SMTP_SECURITY=none).
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_credentials_are_presented_when_configured() -> None:
    inbox = Inbox()
    seen: list[tuple[str, str]] = []

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        seen.append((login, password))
        return AuthResult(success=(login, password) == ("agora", "relay-secret"))

    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        with pytest.raises(DependencyUnavailableError):
            await _mailer(port, username="agora", password="wrong").send(MESSAGE)
        await _mailer(port, username="agora", password="relay-secret").send(MESSAGE)
    finally:
        controller.stop()

    assert [m[1] for m in inbox.messages] == [["ada@example.com"]]
    assert seen[-1] == ("agora", "relay-secret")
