"""Reading mail as a user would: from the development mailbox at ``/dev/mailbox.json``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


async def messages_to(client: httpx.AsyncClient, email: str) -> list[dict[str, Any]]:
    """Every kept message to ``email``, newest first."""
    response = await client.get("/dev/mailbox.json")
    assert response.status_code == 200, response.text
    return [m for m in response.json()["data"] if m["to"] == email.lower()]


async def last_mail(
    client: httpx.AsyncClient, email: str, subject: str | None = None
) -> dict[str, Any]:
    for message in await messages_to(client, email):
        if subject is None or message["subject"] == subject:
            return message
    raise AssertionError(f"no mail to {email} with subject {subject!r}")


def token_in(message: dict[str, Any]) -> str:
    """The ``token`` query parameter of the message's first link."""
    link: str = message["links"][0]
    return parse_qs(urlsplit(link).query)["token"][0]


async def verification_token(client: httpx.AsyncClient, email: str) -> str:
    return token_in(await last_mail(client, email, "Confirm your email address"))


async def reset_token(client: httpx.AsyncClient, email: str) -> str:
    return token_in(await last_mail(client, email, "Reset your Agora password"))
