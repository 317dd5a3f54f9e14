"""The events backbone, wired: the catalogue of every context's events, the consumers,
and the relay's delivery (RabbitMQ with a broker URL, this database's inboxes without).

``build_events`` returns what a process runs (the web process in embedded mode,
``agora worker`` always); ``Events`` also carries the operators' side (status, dead
letters, drain: ``operations``) that ``agora events`` and the staff API use, and the
AsyncAPI document generated from the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from agora import __version__
from agora.bootstrap.commerce import Commerce
from agora.bootstrap.identity import Identity
from agora.bootstrap.infrastructure import Infrastructure
from agora.bootstrap.notifications import notification_consumers
from agora.catalog.events import EVENT_TYPES as CATALOG_EVENTS
from agora.identity.accounts.consumers import password_reset_consumer
from agora.identity.events import EVENT_TYPES as IDENTITY_EVENTS
from agora.notifications.events import EVENT_TYPES as NOTIFICATIONS_EVENTS
from agora.ordering.consumers import refund_due_consumer
from agora.ordering.events import EVENT_TYPES as ORDERING_EVENTS
from agora.payments.events import EVENT_TYPES as PAYMENTS_EVENTS
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.broker import RabbitPublisher, RabbitSubscriber, Topology
from agora.platform.db.dead_letters import SqlDeadLetters
from agora.platform.db.inbox import SqlInbox
from agora.platform.db.listener import INBOX_CHANNEL, OUTBOX_CHANNEL, PgNotifications
from agora.platform.db.outbox import SqlOutbox
from agora.platform.events import EventCatalogue, EventType
from agora.platform.events.backbone import EventBackbone
from agora.platform.events.consumers import Consumer, Consumers
from agora.platform.events.operations import EventsOperations
from agora.platform.events.ports import Publisher
from agora.platform.events.relay import OutboxRelay
from agora.platform.events.retry import RetryPolicy
from agora.platform.events.runner import ConsumerRunner
from agora.platform.settings import Settings

EVENT_TYPES: tuple[EventType[Any], ...] = (
    *IDENTITY_EVENTS,
    *CATALOG_EVENTS,
    *ORDERING_EVENTS,
    *PAYMENTS_EVENTS,
    *NOTIFICATIONS_EVENTS,
)


def event_catalogue() -> EventCatalogue:
    return EventCatalogue(EVENT_TYPES)


@dataclass(frozen=True)
class Events:
    catalogue: EventCatalogue
    consumers: Consumers
    admin: SqlDeadLetters
    backbone: EventBackbone
    operations: EventsOperations
    # With a broker: what feeds the inboxes from the consumers' queues.
    subscriber: RabbitSubscriber | None = None


def build_consumers(
    settings: Settings, infrastructure: Infrastructure, identity: Identity, commerce: Commerce
) -> Consumers:
    consumers: list[Consumer] = [
        refund_due_consumer(commerce.orders),
        password_reset_consumer(identity.accounts),
        *notification_consumers(
            infrastructure.mail,
            identity.accounts,
            infrastructure.notifications_uow,
            max_attempts=settings.events_max_attempts,
        ),
    ]
    return Consumers(consumers)


def build_events(
    settings: Settings,
    engine: AsyncEngine,
    consumers: Consumers,
    *,
    publisher: Publisher | None = None,
    services: tuple[tuple[str, Callable[[], Coroutine[Any, Any, None]]], ...] = (),
    audit: AuditTrail | None = None,
) -> Events:
    """With ``settings.broker_url`` the relay publishes to RabbitMQ (through
    ``publisher`` when given, a test's wrapper for instance) and a subscriber feeds
    the inboxes from the consumers' queues; without it, embedded delivery into this
    database's inboxes. ``audit`` records replays and purges (the container passes its
    trail; a backbone built only to run consumers needs none)."""
    catalogue = event_catalogue()
    unknown = {e for c in consumers for e in c.events if e not in catalogue}
    if unknown:
        raise ValueError(f"consumers subscribe to undeclared events: {sorted(unknown)}")
    # Through a broker, events may reach an inbox out of order: it checks the outbox.
    guard = {c.name: c.events for c in consumers} if settings.broker_url else None
    inbox = SqlInbox(engine, guard_order=guard)
    policy = RetryPolicy(
        max_attempts=settings.events_max_attempts,
        base_seconds=settings.events_retry_base_seconds,
        max_seconds=settings.events_retry_max_seconds,
    )
    runners = [
        ConsumerRunner(
            consumer, inbox, catalogue, policy, poll_seconds=settings.events_poll_seconds
        )
        for consumer in consumers
    ]
    # The backbone, once built: what the callbacks below wake.
    backbone_ref: list[EventBackbone] = []
    topology = Topology(settings.broker_exchange, settings.broker_queue_prefix)
    rabbit: RabbitPublisher | None = None
    if settings.broker_url and publisher is None:
        queues = {consumer.name: consumer.events for consumer in consumers}
        rabbit = publisher = RabbitPublisher(
            settings.broker_url,
            topology,
            queues,
            on_reconnected=lambda: _relay_recovered(backbone_ref),
        )
    outbox = SqlOutbox(engine, publisher=publisher, subscriptions=consumers.subscriptions())

    def wake_all() -> None:
        for backbone in backbone_ref:
            backbone.wake_consumers()

    relay = OutboxRelay(
        outbox,
        catalogue,
        batch_size=settings.events_relay_batch,
        poll_seconds=settings.events_poll_seconds,
        on_published=wake_all if publisher is None else lambda: None,
    )
    extra = list(services)
    closers: list[Callable[[], Coroutine[Any, Any, None]]] = []
    subscriber: RabbitSubscriber | None = None
    if publisher is not None:
        closers.append(publisher.close)
    if settings.broker_url:
        subscriber = RabbitSubscriber(
            settings.broker_url,
            topology,
            list(consumers),
            inbox,
            catalogue,
            on_received=lambda name: _wake(backbone_ref, name),
            prefetch=settings.broker_prefetch,
        )
        extra.append(("broker-subscriber", subscriber.run))
        closers.append(subscriber.close)
    if rabbit is not None:  # declares the queues before anything is published
        extra.append(("broker-publisher", rabbit.connect))
    if not settings.is_sqlite:
        listener = PgNotifications(
            settings.database_url,
            {
                OUTBOX_CHANNEL: lambda _payload: relay.wakeup.set(),
                INBOX_CHANNEL: lambda payload: _wake(backbone_ref, payload),
            },
        )
        extra.append(("listener", listener.run))
    backbone = EventBackbone(relay, runners, extra, closers)
    backbone_ref.append(backbone)
    admin = SqlDeadLetters(engine)
    operations = EventsOperations(
        admin,
        catalogue,
        consumers,
        backbone,
        audit or NullAuditTrail(),
        exchange=settings.broker_exchange,
        version=__version__,
    )
    return Events(catalogue, consumers, admin, backbone, operations, subscriber)


def _relay_recovered(backbones: list[EventBackbone]) -> None:
    for backbone in backbones:
        if backbone.relay is not None:
            backbone.relay.recovered.set()


def _wake(backbones: list[EventBackbone], consumer: str) -> None:
    for backbone in backbones:
        backbone.wake_consumers([consumer] if consumer else None)
