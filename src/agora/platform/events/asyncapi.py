"""The AsyncAPI 3.0 document of Agora's events, generated from the event catalogue.

One channel per event name, whose address is the routing key the relay publishes it
with on the topic exchange; one message per (name, version) whose payload is the
message as it travels (``EventMessage.to_bytes``) with the event's own schema, from its
pydantic model, under ``payload``; one ``receive`` operation per consumer and event it
takes. The document is data only: ``/asyncapi.json`` serves it, ``/asyncapi`` renders
it as a page, and ``docs/asyncapi.json`` is a committed copy a test keeps current.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from agora.platform.events.catalogue import EventCatalogue, EventType
from agora.platform.events.consumers import Consumer

ASYNCAPI_VERSION = "3.0.0"
SERVER = "broker"
SCHEMAS = "#/components/schemas/"
AMQP_BINDING_VERSION = "0.3.0"

DESCRIPTION = (
    "Domain events Agora publishes once the transaction that raised them committed "
    "(transactional outbox, commit order). Each is published on a durable topic "
    "exchange with its name as routing key, as JSON; `id` is the same on every "
    "redelivery and is the key to deduplicate on; `aggregate_id` orders one object's "
    "events; `payload` follows the schema of the event's `version`. Without a broker, "
    "the same messages go to consumer inboxes in the database."
)


def message_key(event_type: EventType[Any]) -> str:
    return f"{event_type.name}.v{event_type.version}"


def operation_key(consumer: Consumer, event_name: str) -> str:
    return f"{consumer.name}.receive.{event_name}"


def asyncapi_document(
    catalogue: EventCatalogue,
    consumers: Iterable[Consumer],
    *,
    exchange: str,
    version: str,
) -> dict[str, Any]:
    types = list(catalogue)
    schemas = _schemas(types)
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    for event_type in types:
        key = message_key(event_type)
        messages[key] = _message(event_type, schemas["refs"][event_type.schema])
        channel = channels.setdefault(
            event_type.name,
            {
                "address": event_type.name,
                "title": event_type.name,
                "summary": event_type.summary,
                "servers": [{"$ref": f"#/servers/{SERVER}"}],
                "messages": {},
                "bindings": {"amqp": _channel_binding(exchange)},
            },
        )
        channel["messages"][key] = {"$ref": f"#/components/messages/{key}"}
    operations: dict[str, Any] = {}
    for consumer in sorted(consumers, key=lambda c: c.name):
        for event_name in sorted(consumer.events):
            operations[operation_key(consumer, event_name)] = {
                "action": "receive",
                "title": f"{consumer.name} takes {event_name}",
                "summary": consumer.summary,
                "channel": {"$ref": f"#/channels/{event_name}"},
                "messages": [
                    {"$ref": f"#/channels/{event_name}/messages/{key}"}
                    for key in channels[event_name]["messages"]
                ],
                "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
                "x-agora-queue": consumer.name,
            }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:agora:events",
        "info": {"title": "Agora events", "version": version, "description": DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": {
            SERVER: {
                "host": "rabbitmq:5672",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "title": "The message broker (AGORA_BROKER_URL)",
                "description": (
                    f"Events are published on the topic exchange `{exchange}` "
                    "(AGORA_BROKER_EXCHANGE); each consumer has its own queue, named "
                    "after it, bound to the routing keys of the events it takes."
                ),
                "bindings": {"amqp": {"bindingVersion": AMQP_BINDING_VERSION}},
                "x-agora-exchange": exchange,
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas["defs"]},
    }


def _channel_binding(exchange: str) -> dict[str, Any]:
    return {
        "is": "routingKey",
        "exchange": {
            "name": exchange,
            "type": "topic",
            "durable": True,
            "autoDelete": False,
            "vhost": "/",
        },
        "bindingVersion": AMQP_BINDING_VERSION,
    }


def _message(event_type: EventType[Any], payload_ref: str) -> dict[str, Any]:
    return {
        "name": event_type.name,
        "title": f"{event_type.name} v{event_type.version}",
        "summary": event_type.summary,
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "id",
                "name",
                "version",
                "aggregate_id",
                "position",
                "occurred_at",
                "payload",
            ],
            "properties": {
                "id": {
                    "type": "string",
                    "format": "uuid",
                    "description": "The event's id: the same on every redelivery.",
                },
                "name": {"type": "string", "const": event_type.name},
                "version": {"type": "integer", "const": event_type.version},
                "aggregate_id": {
                    "type": "string",
                    "format": "uuid",
                    "description": "The object the event is about; its events keep order.",
                },
                "position": {
                    "type": "integer",
                    "description": "Commit-ordered position in the outbox.",
                },
                "occurred_at": {"type": "string", "format": "date-time"},
                "payload": {"$ref": payload_ref},
            },
        },
        "x-agora-context": event_type.context,
        "x-agora-version": event_type.version,
    }


def _schemas(types: list[EventType[Any]]) -> dict[str, Any]:
    models: list[type[BaseModel]] = list(dict.fromkeys(t.schema for t in types))
    refs, top = models_json_schema(
        [(model, "validation") for model in models], ref_template=SCHEMAS + "{model}"
    )
    return {
        "refs": {model: refs[(model, "validation")]["$ref"] for model in models},
        "defs": dict(sorted(top.get("$defs", {}).items())),
    }
