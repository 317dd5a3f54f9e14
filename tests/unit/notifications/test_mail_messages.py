"""Email messages refuse header injection; the development mailbox is bounded, newest first."""

from __future__ import annotations

import pytest

from agora.notifications.adapters.mailbox import MailboxMailer
from agora.notifications.domain import EmailMessage

pytestmark = pytest.mark.anyio
SENDER = "Agora <no-reply@agora.example>"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", "ada@example.com\r\nBcc: eve@example.com"),
        ("subject", "Hello\nBcc: eve@example.com"),
        ("sender", "Agora\r\n <no-reply@agora.example>"),
        ("to", "not an address"),
        ("subject", ""),
        ("subject", "x" * 201),
    ],
)
def test_a_header_must_be_one_sane_line(field: str, value: str) -> None:
    values = {"sender": SENDER, "to": "ada@example.com", "subject": "Hi", "text": "Body"}
    values[field] = value
    with pytest.raises(ValueError, match="must be"):
        EmailMessage(**values)


def test_links_are_the_web_addresses_in_the_body_in_order() -> None:
    message = EmailMessage(
        SENDER,
        "ada@example.com",
        "Links",
        "First https://a.example/x?token=1, then http://b.example/y.\nNot ftp://c.example.",
    )
    assert message.links == ("https://a.example/x?token=1", "http://b.example/y")


async def test_the_mailbox_keeps_the_most_recent_messages_newest_first() -> None:
    mailbox = MailboxMailer(capacity=3)
    for number in range(5):
        await mailbox.send(EmailMessage(SENDER, "ada@example.com", f"Message {number}", "Hi"))

    assert [d.message.subject for d in mailbox.recent()] == [
        "Message 4",
        "Message 3",
        "Message 2",
    ]
