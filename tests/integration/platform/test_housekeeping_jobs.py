"""The housekeeping jobs on the real database: what is spent or abandoned goes, what is
live stays, and a second run (or two at once) removes nothing more.

Rows are written straight into the tables with dates in the past, as time would have
left them; each test looks only at its own rows.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Table, insert, select

from agora.bootstrap import Container
from agora.identity.accounts.adapters.tables import email_tokens
from agora.identity.mfa.adapters.tables import mfa_challenges
from agora.identity.oidc.adapters.tables import oidc_login_states
from agora.identity.sessions.adapters.tables import refresh_tokens
from agora.ordering.adapters.tables import cart_items
from agora.platform.clock import utcnow
from agora.platform.db.event_retention import SqlEventRetention
from agora.platform.db.tables import event_inbox, idempotency_keys, outbox_events
from agora.platform.errors import IdempotencyKeyReusedError
from agora.platform.ids import new_id
from tests.support.accounts import stored_user

DAY = timedelta(days=1)


async def write(container: Container, table: Table, *rows: dict[str, Any]) -> None:
    async with container.engine.begin() as conn:
        await conn.execute(insert(table), list(rows))


async def present(container: Container, table: Table, column: str, values: list[Any]) -> set[Any]:
    async with container.engine.connect() as conn:
        rows = await conn.execute(select(table.c[column]).where(table.c[column].in_(values)))
        return {value for (value,) in rows}


async def run(container: Container, name: str) -> str:
    result = await container.jobs.scheduler.run_now(name)
    assert result is not None
    assert result.error is None, result.error
    return result.summary or ""


def cart_line(customer: UUID, updated_at: datetime) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "product_id": uuid4(),
        "quantity": 1,
        "added_at": updated_at - DAY,
        "updated_at": updated_at,
    }


async def test_carts_untouched_for_the_retention_go_and_recent_ones_stay(
    container: Container,
) -> None:
    now = utcnow()
    abandoned, recent, mixed = uuid4(), uuid4(), uuid4()
    await write(
        container,
        cart_items,
        cart_line(abandoned, now - 40 * DAY),
        cart_line(abandoned, now - 31 * DAY),
        cart_line(recent, now - DAY),
        # One line changed lately keeps the whole cart.
        cart_line(mixed, now - 60 * DAY),
        cart_line(mixed, now - 2 * DAY),
    )
    customers = [abandoned, recent, mixed]

    carts = container.commerce.carts
    await asyncio.gather(  # two at once, as two instances whose leases overlapped
        carts.purge_abandoned(timedelta(days=30)), carts.purge_abandoned(timedelta(days=30))
    )
    assert await present(container, cart_items, "customer_id", customers) == {recent, mixed}
    async with container.engine.connect() as conn:
        mixed_lines = await conn.scalar(
            select(cart_items.c.quantity).where(cart_items.c.customer_id == mixed).limit(1)
        )
    assert mixed_lines == 1
    await run(container, "ordering.purge-abandoned-carts")
    assert await present(container, cart_items, "customer_id", customers) == {recent, mixed}


async def test_expired_idempotency_keys_go_and_live_ones_stay(container: Container) -> None:
    now, ttl = utcnow(), timedelta(hours=container.settings.idempotency_ttl_hours)
    old, live = f"old-{uuid4()}", f"live-{uuid4()}"
    await write(
        container,
        idempotency_keys,
        {"scope": "test", "key": old, "request_hash": "h", "created_at": now - ttl - DAY},
        {"scope": "test", "key": live, "request_hash": "h", "created_at": now - ttl / 2},
    )
    await run(container, "platform.purge-idempotency-keys")
    assert await present(container, idempotency_keys, "key", [old, live]) == {live}
    # The live key still guards its request.
    with pytest.raises(IdempotencyKeyReusedError):
        await container.infrastructure.idempotency.claim("test", live, "other")


async def test_spent_credentials_go_and_live_ones_stay(container: Container) -> None:
    user = await stored_user(container.engine, prefix="purge")
    now = utcnow()

    def token(**dates: datetime | None) -> dict[str, Any]:
        return {
            "id": new_id(),
            "user_id": user.id,
            "purpose": "verify_email",
            "email": user.email,
            "token_hash": uuid4().hex * 2,
            "created_at": now - 3 * DAY,
            "used_at": None,
            **dates,
        }

    expired = token(expires_at=now - 2 * DAY)
    used = token(expires_at=now + DAY, used_at=now - 2 * DAY)
    just_expired = token(
        expires_at=now - timedelta(hours=1)
    )  # kept a day: "expired", not "unknown"
    live = token(expires_at=now + DAY)
    await write(container, email_tokens, expired, used, just_expired, live)

    def session(**dates: datetime | None) -> dict[str, Any]:
        return {
            "id": new_id(),
            "user_id": user.id,
            "family_id": uuid4(),
            "token_hash": uuid4().hex * 2,
            "created_at": now - 40 * DAY,
            "session_started_at": now - 40 * DAY,
            "last_used_at": now - 3 * DAY,
            "kind": "bearer",
            "revoked_at": None,
            **dates,
        }

    ended = session(expires_at=now - 2 * DAY)
    revoked_lately = session(expires_at=now - 2 * DAY, revoked_at=now - timedelta(minutes=5))
    current = session(expires_at=now + DAY)
    await write(container, refresh_tokens, ended, revoked_lately, current)

    def challenge(expires_at: datetime) -> dict[str, Any]:
        return {
            "id": new_id(),
            "user_id": user.id,
            "token_hash": uuid4().hex * 2,
            "created_at": expires_at - timedelta(minutes=5),
            "expires_at": expires_at,
            "attempts": 0,
        }

    stale, open_ = challenge(now - timedelta(minutes=1)), challenge(now + timedelta(minutes=4))
    await write(container, mfa_challenges, stale, open_)

    def sign_in(expires_at: datetime) -> dict[str, Any]:
        return {
            "id": new_id(),
            "state_hash": uuid4().hex * 2,
            "browser_hash": uuid4().hex * 2,
            "nonce": "n",
            "code_verifier": "v" * 43,
            "redirect_uri": "http://testserver/callback",
            "created_at": expires_at - timedelta(minutes=10),
            "expires_at": expires_at,
        }

    abandoned, pending = sign_in(now - 2 * DAY), sign_in(now + timedelta(minutes=5))
    await write(container, oidc_login_states, abandoned, pending)

    for _ in range(2):  # a second run finds nothing more to remove
        await run(container, "identity.purge-expired-credentials")
        ids = [row["id"] for row in (expired, used, just_expired, live)]
        assert await present(container, email_tokens, "id", ids) == {just_expired["id"], live["id"]}
        ids = [row["id"] for row in (ended, revoked_lately, current)]
        assert await present(container, refresh_tokens, "id", ids) == {
            revoked_lately["id"],
            current["id"],
        }
        ids = [stale["id"], open_["id"]]
        assert await present(container, mfa_challenges, "id", ids) == {open_["id"]}
        ids = [abandoned["id"], pending["id"]]
        assert await present(container, oidc_login_states, "id", ids) == {pending["id"]}


async def test_old_published_and_handled_events_go_and_the_rest_stay(
    container: Container,
) -> None:
    now = utcnow()
    retention = timedelta(days=container.settings.events_retention_days)
    old = now - retention - DAY

    def outbox(published_at: datetime | None, dead_at: datetime | None = None) -> dict[str, Any]:
        return {
            "id": uuid4(),
            "name": "test.Retained",
            "version": 1,
            "aggregate_id": uuid4(),
            "payload": {},
            "occurred_at": old,
            "published_at": published_at,
            "dead_at": dead_at,
            "attempts": 0,
        }

    published_long_ago, published_lately = outbox(old), outbox(now - DAY)
    unpublished, dead = outbox(None), outbox(None, dead_at=old)
    await write(container, outbox_events, published_long_ago, published_lately, unpublished, dead)
    consumer = f"test.retention-{uuid4().hex[:8]}"

    def inbox(status: str, handled_at: datetime | None) -> dict[str, Any]:
        return {
            "consumer": consumer,
            "event_id": uuid4(),
            "position": 1,
            "name": "test.Retained",
            "version": 1,
            "aggregate_id": uuid4(),
            "occurred_at": old,
            "payload": {},
            "status": status,
            "attempts": 1,
            "next_attempt_at": old,
            "received_at": old,
            "handled_at": handled_at,
        }

    handled_long_ago, handled_lately = inbox("done", old), inbox("done", now - DAY)
    waiting, dead_letter = inbox("pending", None), inbox("dead", old)
    await write(container, event_inbox, handled_long_ago, handled_lately, waiting, dead_letter)

    try:
        # Two runs at once remove each row once and leave the same rows.
        await asyncio.gather(
            run(container, "events.retention"), SqlEventRetention(container.engine).purge(retention)
        )
        ids = [row["id"] for row in (published_long_ago, published_lately, unpublished, dead)]
        assert await present(container, outbox_events, "id", ids) == {
            published_lately["id"],
            unpublished["id"],
            dead["id"],
        }
        ids = [row["event_id"] for row in (handled_long_ago, handled_lately, waiting, dead_letter)]
        assert await present(container, event_inbox, "event_id", ids) == {
            handled_lately["event_id"],
            waiting["event_id"],
            dead_letter["event_id"],
        }
    finally:  # rows no other test may see
        async with container.engine.begin() as conn:
            await conn.execute(event_inbox.delete().where(event_inbox.c.consumer == consumer))
            await conn.execute(
                outbox_events.delete().where(outbox_events.c.name == "test.Retained")
            )
