"""The SMTP mailer against a real SMTP server (aiosmtpd) that the test starts on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from agora.notifications.adapters.smtp import SmtpMailer
from agora.notifications.domain import EmailMessage
from agora.platform.errors import DependencyUnavailableError
from tests.e2e.served import free_port
from tests.support.smtp import SmtpServer

MESSAGE = EmailMessage(
    sender="Agora <no-reply@agora.example>",
    to="ada@example.com",
    subject="Confirm your email address",
    text="Hello Ada,\n\nopen https://shop.example/verify-email?token=abc to confirm.\n",
)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


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
    seen: list[tuple[str, str]] = []

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        seen.append((login, password))
        return AuthResult(success=(login, password) == ("agora", "relay-secret"))

    relay = SmtpServer(authenticator=authenticate, auth_required=True, auth_require_tls=False)
    relay.start()
    try:
        with pytest.raises(DependencyUnavailableError):
            # aiosmtpd stops answering after a failed login: the timeout ends the attempt.
            await _mailer(relay.port, username="agora", password="wrong", timeout=1.0).send(MESSAGE)
        await _mailer(relay.port, username="agora", password="relay-secret").send(MESSAGE)
    finally:
        relay.stop()

    assert [m[1] for m in relay.inbox.messages] == [["ada@example.com"]]
    assert seen[-1] == ("agora", "relay-secret")
