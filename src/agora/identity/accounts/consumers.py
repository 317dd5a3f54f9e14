"""Identity's reactions to events, run by the events backbone."""

from __future__ import annotations

from typing import Any

from agora.identity.accounts.services import AccountService
from agora.identity.events import PasswordResetRequested
from agora.platform.events.consumers import Consumer, Received

RESET_MAILER = "identity.password-reset"


def password_reset_consumer(accounts: AccountService) -> Consumer:
    """Issues the link and queues its mail for each reset request the API took.

    Outside the inbox's transaction: the reset writes in units of its own (the token
    with its mail, and the audit record of a refusal in a transaction of its own). A
    retry after a crash mid-way issues a fresh link, which replaces the first.
    """

    async def handle(event: Received[Any]) -> None:
        payload: PasswordResetRequested = event.payload
        await accounts.request_password_reset(payload.email)

    return Consumer(
        name=RESET_MAILER,
        events=frozenset({"identity.PasswordResetRequested"}),
        handler=handle,
        summary="Mail a reset link to the account an address belongs to, if any.",
        in_transaction=False,
    )
