"""The response envelope, built once here for every success and error body.

Success: ``{"success": true, "data": ..., "meta": {...}}``; error:
``{"success": false, "errors": {"code", "message", "details"}, "meta": {...}}``.
Bodies are serialised with orjson straight from Python objects (UUIDs, datetimes and
pydantic models' dumps), skipping a second validation pass on the way out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from agora.platform.request_context import current_request_id

API_VERSION = "v1"
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_SERIALIZE_UUID
# For a body that carries a secret (tokens, keys, one-time codes): no cache may keep it.
NO_STORE = {"Cache-Control": "no-store"}


def _default(value: Any) -> Any:
    # asyncpg hands back its own UUID subclass, which orjson does not serialise natively.
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def meta(pagination: Mapping[str, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request_id": current_request_id(),
        "timestamp": datetime.now(UTC),
        "version": API_VERSION,
    }
    if pagination is not None:
        body["pagination"] = dict(pagination)
    return body


def dumps(body: Any) -> bytes:
    return orjson.dumps(body, default=_default, option=_OPTIONS)


def ok(
    data: Any,
    *,
    status_code: int = 200,
    pagination: Mapping[str, int] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = {"success": True, "data": data, "meta": meta(pagination)}
    return Response(dumps(body), status_code, headers, media_type="application/json")


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> bytes:
    return dumps(
        {
            "success": False,
            "errors": {"code": code, "message": message, "details": dict(details or {})},
            "meta": meta(),
        }
    )


def error(
    status_code: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        error_body(code, message, details), status_code, headers, media_type="application/json"
    )


def pagination(page: int, page_size: int, total: int) -> dict[str, int]:
    pages = (total + page_size - 1) // page_size if total else 0
    return {"page": page, "page_size": page_size, "total": total, "pages": pages}
