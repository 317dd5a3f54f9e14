"""What operators read and do on the real database: backlog and lag figures that follow
the events, drains bounded by a timeout, dead letters listed, replayed once and purged,
each change audited with who made it.

Each test runs its own backbone (the container's consumers and a probe of its own) on
the suite's database, and asserts on its probe's figures and its own events only: the
database is shared with the rest of the suite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest

from agora.bootstrap import Container
from agora.bootstrap.events import Events, build_events
from agora.platform.access import Principal, Role
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.errors import PermissionDeniedError, ValidationError
from agora.platform.events import DomainEvent
from agora.platform.events.consumers import Consumer, Consumers, Received
from agora.platform.events.operations import CLI, Selection
from agora.platform.events.ports import ConsumerLag
from agora.platform.ids import new_id
from tests.conftest import make_test_settings
from tests.fakes import RecordingAuditTrail

EVENT = "identity.UserRegistered"


def registered(aggregate: UUID, email: str) -> DomainEvent:
    return DomainEvent(
        EVENT, aggregate, {"user_id": str(aggregate), "email": email, "role": "customer"}
    )


class Probe:
    """A consumer that notes each event it handled, and fails while told to."""

    def __init__(self) -> None:
        self.name = f"test.ops-{uuid4().hex[:8]}"
        self.handled: list[str] = []
        self.fail: Callable[[Received[Any]], bool] = lambda _event: False

    def consumer(self) -> Consumer:
        return Consumer(self.name, frozenset({EVENT}), self.handle, "operations probe")

    async def handle(self, event: Received[Any]) -> None:
        if self.fail(event):
            raise RuntimeError(f"cannot handle {event.payload.email} yet")
        self.handled.append(event.payload.email)


async def commit(container: Container, *events: DomainEvent) -> None:
    async with SqlUnitOfWork(container.engine) as uow:
        for event in events:
            uow.record(event)
        await uow.commit()


@pytest.fixture
async def probe(container: Container) -> Probe:
    # What the rest of the suite committed is relayed before the probe subscribes.
    await build_events(
        container.settings, container.engine, container.events.consumers
    ).backbone.drain()
    return Probe()


@pytest.fixture
def audit() -> RecordingAuditTrail:
    return RecordingAuditTrail()


def events_for(
    container: Container, probe: Probe, audit: RecordingAuditTrail, **settings: object
) -> Events:
    return build_events(
        make_test_settings(container.settings.database_url, **settings),
        container.engine,
        Consumers([*container.events.consumers, probe.consumer()]),
        audit=audit,
    )


async def lag(events: Events, name: str) -> ConsumerLag:
    status = await events.operations.status(CLI)
    return next(c for c in status.consumers if c.consumer == name)


async def test_backlog_grows_with_commits_and_a_drain_empties_it(
    container: Container, probe: Probe, audit: RecordingAuditTrail
) -> None:
    events = events_for(container, probe, audit)
    await commit(container, *(registered(uuid4(), f"n{n}@example.com") for n in range(3)))

    before = await events.operations.status(CLI)
    assert before.unpublished >= 3
    assert before.oldest_unpublished_age_seconds is not None

    drained = await events.operations.drain(CLI, 10)

    assert drained.emptied
    assert drained.status.unpublished == 0
    assert drained.status.oldest_unpublished_age_seconds is None
    mine = next(c for c in drained.status.consumers if c.consumer == probe.name)
    assert (mine.pending, mine.handled, mine.dead) == (0, 3, 0)
    assert sorted(probe.handled) == ["n0@example.com", "n1@example.com", "n2@example.com"]


async def test_a_failing_consumer_shows_as_a_dead_letter_with_its_error(
    container: Container, probe: Probe, audit: RecordingAuditTrail
) -> None:
    events = events_for(container, probe, audit, events_max_attempts=1)
    probe.fail = lambda _event: True
    dead_before = (await events.operations.status(CLI)).dead_letters
    user = uuid4()
    await commit(container, registered(user, "broken@example.com"))

    await events.operations.drain(CLI, 10)

    status = await events.operations.status(CLI)
    assert status.dead_letters == dead_before + 1
    assert (await lag(events, probe.name)).dead == 1
    letters, total = await events.operations.dead_letters(CLI, consumer=probe.name)
    assert total == 1
    (letter,) = letters
    assert (letter.consumer, letter.name, letter.aggregate_id) == (probe.name, EVENT, user)
    assert "cannot handle broken@example.com yet" in letter.last_error
    assert letter.attempts == 1
    assert letter.payload["email"] == "broken@example.com"


async def test_a_replayed_dead_letter_is_handled_again_exactly_once(
    container: Container, probe: Probe, audit: RecordingAuditTrail
) -> None:
    events = events_for(container, probe, audit, events_max_attempts=1)
    probe.fail = lambda _event: True
    await commit(container, registered(uuid4(), "later@example.com"))
    await events.operations.drain(CLI, 10)
    (letter,), _ = await events.operations.dead_letters(CLI, consumer=probe.name)
    probe.fail = lambda _event: False  # the fix is deployed

    outcome = await events.operations.replay(CLI, Selection(ids=(letter.event_id,)))
    assert (outcome.changed, outcome.missing) == (1, ())
    await events.operations.drain(CLI, 10)
    # Replaying it again finds no dead letter: it was handled.
    again = await events.operations.replay(CLI, Selection(ids=(letter.event_id,)))
    await events.operations.drain(CLI, 10)

    assert probe.handled == ["later@example.com"]
    assert (again.changed, again.missing) == (0, (letter.event_id,))
    mine = await lag(events, probe.name)
    assert (mine.pending, mine.dead, mine.handled) == (0, 0, 1)
    records = [r for r in audit.records if r.action == "events.dead_letters.replay"]
    assert [r.details["count"] for r in records] == [1, 0]
    assert {r.actor_id for r in records} == {None}
    assert records[0].details["actor"] == "cli"
    assert records[0].details["ids"] == [str(letter.event_id)]


async def test_replay_all_of_one_consumer_leaves_other_consumers_letters(
    container: Container, audit: RecordingAuditTrail
) -> None:
    first, second = Probe(), Probe()
    for probe in (first, second):
        probe.fail = lambda _event: True
    events = build_events(
        make_test_settings(container.settings.database_url, events_max_attempts=1),
        container.engine,
        Consumers([*container.events.consumers, first.consumer(), second.consumer()]),
        audit=audit,
    )
    await events.backbone.drain()  # earlier events die too; count after them
    before = {p.name: (await lag(events, p.name)).dead for p in (first, second)}
    await commit(container, registered(uuid4(), "both@example.com"))
    await events.operations.drain(CLI, 10)
    first.fail = lambda _event: False

    outcome = await events.operations.replay(CLI, Selection(all=True, consumer=first.name))
    await events.operations.drain(CLI, 10)

    assert outcome.changed == before[first.name] + 1
    assert "both@example.com" in first.handled
    assert second.handled == []
    assert (await lag(events, first.name)).dead == 0
    assert (await lag(events, second.name)).dead == before[second.name] + 1


async def test_purge_drops_letters_for_good_and_older_than_keeps_recent_ones(
    container: Container, probe: Probe, audit: RecordingAuditTrail
) -> None:
    events = events_for(container, probe, audit, events_max_attempts=1)
    probe.fail = lambda _event: True
    await commit(container, *(registered(uuid4(), f"p{n}@example.com") for n in range(2)))
    await events.operations.drain(CLI, 10)
    only_mine = Selection(all=True, consumer=probe.name, older_than_days=1)

    kept = await events.operations.purge(CLI, only_mine)
    assert kept.changed == 0  # they failed moments ago
    purged = await events.operations.purge(CLI, Selection(all=True, consumer=probe.name))
    assert purged.changed == 2

    probe.fail = lambda _event: False
    replayed = await events.operations.replay(CLI, Selection(all=True, consumer=probe.name))
    await events.operations.drain(CLI, 10)
    assert replayed.changed == 0
    assert probe.handled == []  # purged, so never handled
    assert await events.operations.dead_letters(CLI, consumer=probe.name) == ([], 0)
    record = audit.last("events.dead_letters.purge")
    assert (record.details["count"], record.details["consumer"]) == (2, probe.name)


async def test_a_drain_gives_up_at_its_timeout_while_events_wait_for_a_retry(
    container: Container, probe: Probe, audit: RecordingAuditTrail
) -> None:
    events = events_for(
        container, probe, audit, events_max_attempts=5, events_retry_base_seconds=60.0
    )
    probe.fail = lambda _event: True
    await commit(container, registered(uuid4(), "retry@example.com"))

    outcome = await events.operations.drain(CLI, 0.5)

    assert not outcome.emptied
    assert 0.5 <= outcome.seconds < 5
    mine = next(c for c in outcome.status.consumers if c.consumer == probe.name)
    assert (mine.pending, mine.retrying, mine.dead) == (1, 1, 0)
    assert mine.oldest_pending_age_seconds is not None


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ({}, "either event ids or all"),
        ({"ids": (new_id(),), "all": True}, "either event ids or all"),
        ({"all": True, "consumer": "no.such-consumer"}, "No consumer"),
        ({"all": True, "older_than_days": -1}, "older_than_days"),
    ],
)
async def test_bad_selections_are_refused_before_anything_changes(
    container: Container, selection: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        await container.events.operations.purge(CLI, Selection(**selection))


async def test_a_replay_cannot_be_narrowed_by_age(container: Container) -> None:
    with pytest.raises(ValidationError, match="narrows a purge"):
        await container.events.operations.replay(CLI, Selection(all=True, older_than_days=3))


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.STAFF])
async def test_only_administrators_replay_purge_and_drain(container: Container, role: Role) -> None:
    operations = container.events.operations
    principal = Principal.for_user(new_id(), role)
    for attempt in (
        operations.replay(principal, Selection(all=True)),
        operations.purge(principal, Selection(all=True)),
        operations.drain(principal, 1),
    ):
        with pytest.raises(PermissionDeniedError):
            await attempt


async def test_staff_read_status_and_dead_letters_and_customers_do_not(
    container: Container,
) -> None:
    operations = container.events.operations
    staff = Principal.for_user(new_id(), Role.STAFF)
    assert (await operations.status(staff)).consumers
    await operations.dead_letters(staff, limit=1)
    customer = Principal.for_user(new_id(), Role.CUSTOMER)
    with pytest.raises(PermissionDeniedError):
        await operations.status(customer)
    with pytest.raises(PermissionDeniedError):
        await operations.dead_letters(customer)


async def test_two_operators_replaying_the_same_letter_at_once_replay_it_once(
    container: Container, probe: Probe, audit: RecordingAuditTrail
) -> None:
    events = events_for(container, probe, audit, events_max_attempts=1)
    probe.fail = lambda _event: True
    await commit(container, registered(uuid4(), "twice@example.com"))
    await events.operations.drain(CLI, 10)
    (letter,), _ = await events.operations.dead_letters(CLI, consumer=probe.name)
    probe.fail = lambda _event: False
    selection = Selection(ids=(letter.event_id,))

    outcomes = await asyncio.gather(
        events.operations.replay(CLI, selection), events.operations.replay(CLI, selection)
    )
    await events.operations.drain(CLI, 10)

    assert sorted(outcome.changed for outcome in outcomes) == [0, 1]
    assert probe.handled == ["twice@example.com"]
