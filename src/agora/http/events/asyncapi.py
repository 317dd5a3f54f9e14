"""The AsyncAPI document of Agora's events, as JSON and as a page rendered here.

``/asyncapi.json`` is the document (generated from the event catalogue, see
``agora.platform.events.asyncapi``); ``/asyncapi`` renders the same document on the
server as plain HTML: channels, their messages, each payload's fields and who consumes
them. No script, no CDN: it works offline and under the pages' strict CSP.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import HTMLResponse, Response

from agora.http import envelope
from agora.http.dependencies import use
from agora.http.pages import escape, page
from agora.platform.events.operations import EventsOperations

router = APIRouter(include_in_schema=False)
SCHEMA_REF = "#/components/schemas/"


Operations = Annotated[EventsOperations, Depends(use(EventsOperations))]


@router.get("/asyncapi.json")
async def asyncapi_json(operations: Operations) -> Response:
    return Response(envelope.dumps(operations.asyncapi()), media_type="application/json")


@router.get("/asyncapi")
async def asyncapi_page(operations: Operations) -> HTMLResponse:
    return page("Agora events (AsyncAPI)", render(operations.asyncapi()))


def render(document: dict[str, Any]) -> str:
    info = document["info"]
    parts = [
        f'<p class="note">AsyncAPI {escape(document["asyncapi"])}, version '
        f'{escape(info["version"])}. The document itself: <a href="/asyncapi.json">'
        "/asyncapi.json</a>.</p>",
        f"<p>{escape(info['description'])}</p>",
        "<h2>Servers</h2>",
    ]
    for name, server in document["servers"].items():
        parts.append(
            f"<article><h3>{escape(name)}</h3><p>{escape(server['protocol'])} "
            f"{escape(server.get('protocolVersion', ''))}: {escape(server['description'])}"
            "</p></article>"
        )
    receivers = _receivers(document)
    parts.append("<h2>Channels</h2><ul>")
    parts.extend(
        f'<li><a href="#channel-{escape(name)}">{escape(name)}</a>: '
        f"{escape(channel['summary'])}</li>"
        for name, channel in document["channels"].items()
    )
    parts.append("</ul>")
    messages = document["components"]["messages"]
    for name, channel in document["channels"].items():
        parts.append(
            f'<article id="channel-{escape(name)}"><h3>{escape(name)}</h3>'
            f"<p>{escape(channel['summary'])}</p>"
            f"<p>Routing key <code>{escape(channel['address'])}</code> on exchange "
            f"<code>{escape(channel['bindings']['amqp']['exchange']['name'])}</code>.</p>"
        )
        consumers = receivers.get(name, [])
        parts.append(
            "<p>Consumed by: "
            + (", ".join(f"<code>{escape(c)}</code>" for c in consumers) or "no consumer yet")
            + ".</p>"
        )
        for ref in channel["messages"].values():
            key = ref["$ref"].rsplit("/", 1)[-1]
            message = messages[key]
            parts.append(f"<h4>{escape(message['title'])}</h4>")
            payload = message["payload"]["properties"]["payload"]
            parts.append(_fields(_resolve(document, payload)))
        parts.append("</article>")
    parts.append("<h2>Schemas</h2>")
    for name, schema in document["components"]["schemas"].items():
        parts.append(
            f'<article id="schema-{escape(name)}"><h3>{escape(name)}</h3>'
            f"{_fields(schema)}</article>"
        )
    return "".join(parts)


def _receivers(document: dict[str, Any]) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        table.setdefault(channel, []).append(operation["x-agora-queue"])
    return table


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
        found: dict[str, Any] = document["components"]["schemas"][ref[len(SCHEMA_REF) :]]
        return found
    return schema


def _fields(schema: dict[str, Any]) -> str:
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        return f"<p>{escape(_type(schema))}</p>"
    required = set(schema.get("required", ()))
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td>{_type_html(field)}</td>"
        f"<td>{'yes' if name in required else 'no'}</td>"
        f"<td>{escape(field.get('description', ''))}</td></tr>"
        for name, field in properties.items()
    )
    return (
        "<table><thead><tr><th>field</th><th>type</th><th>required</th>"
        f"<th>description</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _type_html(field: dict[str, Any]) -> str:
    ref = field.get("$ref")
    if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
        name = ref[len(SCHEMA_REF) :]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    items = field.get("items")
    if field.get("type") == "array" and isinstance(items, dict) and "$ref" in items:
        return f"array of {_type_html(items)}"
    return escape(_type(field))


def _type(field: dict[str, Any]) -> str:
    if "$ref" in field:
        return str(field["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in field:
        return " or ".join(_type(option) for option in field["anyOf"])
    if "enum" in field:
        return "one of " + ", ".join(str(value) for value in field["enum"])
    if "const" in field:
        return f"always {field['const']}"
    kind = str(field.get("type", "any"))
    if kind == "array" and isinstance(field.get("items"), dict):
        return f"array of {_type(field['items'])}"
    if "format" in field:
        return f"{kind} ({field['format']})"
    return kind
