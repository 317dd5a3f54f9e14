"""The practical limit: a bare ASGI app (no framework) serving the product list.

It runs the same SQL as Agora's ``GET /api/v1/products?page_size=20`` (the first page,
newest first, plus the count for the pagination block) on an asyncpg pool and returns
the same envelope and product fields, serialised with orjson. Like Agora, it keeps a
counted total for ``BARE_TOTAL_TTL`` seconds per worker (0: count on every request), so
both do the same database work. Nothing else: no routing beyond two paths, no
validation, no middleware. The pool skips asyncpg's reset query on release (safe here:
no session state is ever changed), which is the fastest way asyncpg can serve this.

Served by uvicorn exactly like Agora: ``BARE_DATABASE_URL=... uvicorn bare_app:app
--app-dir benchmarks --workers 2``.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

LIST_SQL = """
SELECT id, sku, slug, name, description, price_amount, currency, stock, category_id,
       is_published, attributes, created_at, updated_at, version, deleted_at
FROM products
WHERE deleted_at IS NULL AND is_published
ORDER BY created_at DESC, id DESC
LIMIT $1 OFFSET $2
"""
COUNT_SQL = "SELECT count(*) FROM products WHERE deleted_at IS NULL AND is_published"
PAGE_SIZE = 20
OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_SERIALIZE_UUID

# The worker's connection pool (created at lifespan start-up) and its cached total.
state: dict[str, Any] = {"total": None, "total_expires": 0.0}


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Release without the server round trip of ``Connection.reset``."""


async def _init(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "jsonb", encoder=orjson.dumps, decoder=orjson.loads, schema="pg_catalog"
    )


def _product(row: asyncpg.Record) -> dict[str, Any]:
    # Field for field what Agora's ``ProductOut`` holds.
    return {
        "id": row["id"],
        "sku": row["sku"],
        "slug": row["slug"],
        "name": row["name"],
        "description": row["description"],
        "price": {"amount": row["price_amount"], "currency": row["currency"]},
        "stock": row["stock"],
        "in_stock": row["stock"] > 0,
        "category_id": row["category_id"],
        "is_published": row["is_published"],
        "attributes": row["attributes"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


async def _products() -> bytes:
    async with state["pool"].acquire() as connection:
        rows = await connection.fetch(LIST_SQL, PAGE_SIZE, 0)
        if len(rows) < PAGE_SIZE:
            total = len(rows)
        elif state["total"] is not None and state["total_expires"] > time.monotonic():
            total = state["total"]
        else:
            total = await connection.fetchval(COUNT_SQL)
            state["total"] = total
            state["total_expires"] = time.monotonic() + state["total_ttl"]
    body = {
        "success": True,
        "data": [_product(row) for row in rows],
        "meta": {
            "request_id": uuid.uuid4().hex,
            "timestamp": datetime.now(UTC),
            "version": "v1",
            "pagination": {
                "page": 1,
                "page_size": PAGE_SIZE,
                "total": total,
                "pages": (total + PAGE_SIZE - 1) // PAGE_SIZE,
            },
        },
    }
    # asyncpg's UUID type is its own class: orjson hands it to ``str``.
    return orjson.dumps(body, default=str, option=OPTIONS)


async def _respond(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            size = int(os.environ.get("BARE_POOL_SIZE", "10"))
            state["total_ttl"] = float(os.environ.get("BARE_TOTAL_TTL", "0"))
            state["pool"] = await asyncpg.create_pool(
                os.environ["BARE_DATABASE_URL"],
                min_size=size,
                max_size=size,
                reset=_no_reset,
                init=_init,
                server_settings={"application_name": "agora-bare", "jit": "off"},
            )
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if "pool" in state:
                await state.pop("pool").close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/api/v1/products":
        await _respond(send, 200, await _products())
    elif path == "/health/ready":
        await _respond(send, 200, b'{"success":true}')
    else:
        await _respond(send, 404, b'{"success":false}')
