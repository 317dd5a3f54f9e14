"""The AsyncAPI document: generated from the event catalogue, served as JSON and as an
offline page, and committed in ``docs/asyncapi.json``, which must match what the code
generates now."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from agora.bootstrap import Container
from agora.bootstrap.events import event_catalogue
from agora.cli.events import asyncapi_text

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        assert part in node, f"{ref} points at nothing"
        node = node[part]
    return node


async def test_the_committed_document_is_current(container: Container) -> None:
    generated = asyncapi_text(container)
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    assert committed == generated, (
        "docs/asyncapi.json is stale: the event catalogue or the consumers changed. "
        "Run `make asyncapi` (or `agora events asyncapi > docs/asyncapi.json`) and commit it."
    )


async def test_the_document_has_the_asyncapi_3_shape(container: Container) -> None:
    document = container.events.operations.asyncapi()

    assert document["asyncapi"] == "3.0.0"
    assert {"title", "version"} <= set(document["info"])
    for key in ("channels", "operations", "components", "servers"):
        assert isinstance(document[key], dict)
    for ref in _refs(document):
        _resolve(document, ref)  # every message, schema, channel referenced exists
    for name, operation in document["operations"].items():
        assert operation["action"] in {"send", "receive"}, name
        channel = _resolve(document, operation["channel"]["$ref"])
        for message in operation["messages"]:
            assert message["$ref"].startswith(operation["channel"]["$ref"] + "/messages/")
            assert _resolve(document, message["$ref"]) in channel["messages"].values()


async def test_every_catalogued_event_has_a_channel_and_a_typed_message(
    container: Container,
) -> None:
    document = container.events.operations.asyncapi()
    messages = document["components"]["messages"]

    for event_type in event_catalogue():
        channel = document["channels"][event_type.name]
        assert channel["address"] == event_type.name  # the routing key
        exchange = channel["bindings"]["amqp"]["exchange"]
        assert exchange["name"] == container.settings.broker_exchange
        message = messages[f"{event_type.name}.v{event_type.version}"]
        assert message["payload"]["properties"]["name"]["const"] == event_type.name
        payload = _resolve(document, message["payload"]["properties"]["payload"]["$ref"])
        assert set(payload["properties"]) == set(event_type.schema.model_fields)


async def test_each_consumer_receives_the_events_it_subscribes_to(container: Container) -> None:
    document = container.events.operations.asyncapi()
    for consumer in container.events.consumers:
        for event_name in consumer.events:
            operation = document["operations"][f"{consumer.name}.receive.{event_name}"]
            assert operation["action"] == "receive"
            assert operation["channel"] == {"$ref": f"#/channels/{event_name}"}


async def test_the_document_is_served_as_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/asyncapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    served = response.json()
    assert served["asyncapi"] == "3.0.0"
    assert served == json.loads(COMMITTED.read_text(encoding="utf-8"))


async def test_the_page_renders_every_event_offline_without_script(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/asyncapi")

    assert response.status_code == 200
    html = response.text
    assert "<script" not in html
    assert "http://" not in html
    assert "https://" not in html
    assert "default-src 'none'" in response.headers["content-security-policy"]
    for event_type in event_catalogue():
        assert f'id="channel-{event_type.name}"' in html
    assert "ordering.refund-due" in html  # who consumes what
    assert 'href="#schema-MoneyPayload"' in html  # nested schemas are linked
    assert 'array of <a href="#schema-OrderLinePayload">' in html
