"""The identifier rule, over every path in the OpenAPI document.

A ``{..._id}`` segment is a UUID: a malformed one is a 422 naming it, before any lookup.
A ``{reference}`` segment takes an id or a slug: anything that is neither is a 404.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from agora.app import create_app
from tests.conftest import make_test_settings
from tests.support.accounts import Account

_SPEC: dict[str, Any] = create_app(make_test_settings("sqlite+aiosqlite:///:memory:")).openapi()
PATH_PARAMETERS = sorted(
    (method, path, parameter["name"], parameter["schema"])
    for path, operations in _SPEC["paths"].items()
    for method, operation in operations.items()
    for parameter in operation.get("parameters", [])
    if parameter["in"] == "path"
)
ROUTES = pytest.mark.parametrize(
    ("method", "path", "name", "schema"),
    PATH_PARAMETERS,
    ids=[f"{m.upper()} {p}" for m, p, _, _ in PATH_PARAMETERS],
)
MALFORMED = ["not-a-uuid", "123", "0000000-0000-0000-0000-000000000000"]


def _url(path: str, name: str, value: str) -> str:
    url = path.replace(f"{{{name}}}", value)
    # Any other segment gets a well-formed id, so only ``name`` can be at fault.
    for other in [p for _, q, p, _ in PATH_PARAMETERS if q == path and p != name]:
        url = url.replace(f"{{{other}}}", "00000000-0000-4000-8000-000000000000")
    return url


@ROUTES
def test_every_path_segment_is_a_uuid_id_or_an_id_or_slug_reference(
    method: str, path: str, name: str, schema: dict[str, Any]
) -> None:
    if name == "reference":
        assert schema.get("type") == "string", path
    else:
        assert name.endswith("_id"), f"{path}: name the segment {{..._id}} or {{reference}}"
        assert schema.get("format") == "uuid", f"{path}: {{{name}}} must be typed UUID"


@ROUTES
@pytest.mark.parametrize("value", MALFORMED)
async def test_a_malformed_identifier_is_a_422_where_only_an_id_fits_and_404_otherwise(
    client: httpx.AsyncClient,
    admin: Account,
    *,
    method: str,
    path: str,
    name: str,
    schema: dict[str, Any],
    value: str,
) -> None:
    response = await client.request(method, _url(path, name, value), headers=admin.headers)
    body = response.json()
    if name == "reference":
        assert response.status_code == 404, response.text
        assert body["errors"]["code"] == "NOT_FOUND"
        return
    assert response.status_code == 422, response.text
    assert body["errors"]["code"] == "VALIDATION_ERROR"
    assert f"path.{name}" in [f["field"] for f in body["errors"]["details"]["fields"]]
