"""The events backbone's shared kernel: events, their catalogue, consumers and the ports
the relay, the inboxes and the scheduler work through."""

from agora.platform.events.catalogue import (
    EventCatalogue,
    EventPayload,
    EventSchemaError,
    EventType,
)
from agora.platform.events.model import DomainEvent, EventMessage, MalformedMessageError

__all__ = [
    "DomainEvent",
    "EventCatalogue",
    "EventMessage",
    "EventPayload",
    "EventSchemaError",
    "EventType",
    "MalformedMessageError",
]
