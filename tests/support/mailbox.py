"""Reading mail as a user would: from the development mailbox at ``/dev/mailbox.json``.

Mail is queued and sent by the events backbone. A test app driven in-process (no
lifespan, so no backbone running) has its container's backbone drained first; a served
instance runs its own, so reading waits briefly for the mail to arrive.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


async def deliver_queued_mail(client: httpx.AsyncClient) -> bool:
    """Drain the in-process app's backbone: relay and send what is queued. False when
    the client talks to a served instance (whose own backbone sends)."""
    transport = client._transport
    app = getattr(transport, "app", None)
    container = getattr(getattr(app, "state", None), "container", None)
    if container is None:
        return False
    await container.events.backbone.drain()
    return True


async def messages_to(
    client: httpx.AsyncClient, email: str, *, wait_seconds: float = 5.0
) -> list[dict[str, Any]]:
    """Every kept message to ``email``, newest first."""
    in_process = await deliver_queued_mail(client)
    deadline = asyncio.get_running_loop().time() + (0 if in_process else wait_seconds)
    while True:
        response = await client.get("/dev/mailbox.json")
        assert response.status_code == 200, response.text
        found = [m for m in response.json()["data"] if m["to"] == email.lower()]
        if found or asyncio.get_running_loop().time() >= deadline:
            return found
        await asyncio.sleep(0.1)


async def last_mail(
    client: httpx.AsyncClient, email: str, subject: str | None = None
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    while True:
        for message in await messages_to(client, email):
            if subject is None or message["subject"] == subject:
                return message
        if loop.time() >= deadline:
            raise AssertionError(f"no mail to {email} with subject {subject!r}")
        await asyncio.sleep(0.1)


def token_in(message: dict[str, Any]) -> str:
    """The ``token`` query parameter of the message's first link."""
    link: str = message["links"][0]
    return parse_qs(urlsplit(link).query)["token"][0]


async def verification_token(client: httpx.AsyncClient, email: str) -> str:
    return token_in(await last_mail(client, email, "Confirm your email address"))


async def reset_token(client: httpx.AsyncClient, email: str) -> str:
    return token_in(await last_mail(client, email, "Reset your Agora password"))
