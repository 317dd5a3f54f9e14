"""Every integer a request can carry is bounded by the column it ends up in.

The OpenAPI document is walked (bodies, query, path and header parameters), so a new
field without bounds fails here instead of answering 500 once a client sends 2**31.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import BigInteger, Integer, SmallInteger

from agora.bootstrap import load_metadata
from tests.support.accounts import Account
from tests.support.catalog import create_category, create_product

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# Request fields that are stored in (or compared with) a column of another name.
STORED_AS = {
    "amount": "price_amount",
    "min_price": "price_amount",
    "max_price": "price_amount",
    "delta": "stock",
}


def _column_limits() -> dict[str, int]:
    """The largest value each integer column name can hold, over every table that has it."""
    limits: dict[str, int] = {}
    for table in load_metadata().tables.values():
        for column in table.columns:
            if isinstance(column.type, SmallInteger):
                limit = 2**15 - 1
            elif isinstance(column.type, BigInteger):
                limit = INT64_MAX
            elif isinstance(column.type, Integer):
                limit = INT32_MAX
            else:
                continue
            limits[column.name] = min(limit, limits.get(column.name, limit))
    return limits


def _integers(
    schema: dict[str, Any], components: dict[str, Any], name: str, where: str
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    if "$ref" in schema:
        ref = schema["$ref"].rsplit("/", 1)[-1]
        yield from _integers(components[ref], components, name, f"{where}>{ref}")
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            yield from _integers(part, components, name, where)
    if schema.get("type") == "integer":
        yield name, where, schema
    for prop, sub in schema.get("properties", {}).items():
        yield from _integers(sub, components, prop, f"{where}.{prop}")
    if isinstance(schema.get("items"), dict):
        yield from _integers(schema["items"], components, name, f"{where}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _integers(schema["additionalProperties"], components, name, f"{where}{{}}")


def _request_integers(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    components = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                yield from _integers(
                    parameter["schema"],
                    components,
                    parameter["name"],
                    f"{where} {parameter['in']} {parameter['name']}",
                )
            for content in operation.get("requestBody", {}).get("content", {}).values():
                yield from _integers(content["schema"], components, "", f"{where} body")


async def test_every_request_integer_has_bounds_its_column_can_hold(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    limits = _column_limits()
    found = list(_request_integers(spec))
    # The walk sees the fields this rule exists for (so it cannot pass by finding nothing).
    assert {"version", "stock", "delta", "quantity", "amount", "page"} <= {n for n, _, _ in found}
    unbounded = []
    for name, where, schema in found:
        limit = limits.get(STORED_AS.get(name, name), INT32_MAX)
        maximum, minimum = schema.get("maximum"), schema.get("minimum")
        if maximum is None or minimum is None or maximum > limit or minimum < -limit - 1:
            unbounded.append(f"{where}: [{minimum}, {maximum}] must fit [{-limit - 1}, {limit}]")
    assert unbounded == []


# -- the routes that answered 500 --------------------------------------------------------

TOO_LARGE = pytest.mark.parametrize("version", [2**31, 2**63, 2**64], ids=["2e31", "2e63", "2e64"])


def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"]["code"] == "VALIDATION_ERROR"
    assert [f["field"] for f in body["errors"]["details"]["fields"]] == ["body.version"]


@TOO_LARGE
async def test_profile_version_past_its_column_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, customer: Account, version: int
) -> None:
    before = (await client.get("/api/v1/auth/profile", headers=customer.headers)).json()["data"]
    response = await client.patch(
        "/api/v1/auth/profile",
        json={"name": "Changed", "version": version},
        headers=customer.headers,
    )
    _assert_refused(response)
    after = (await client.get("/api/v1/auth/profile", headers=customer.headers)).json()["data"]
    assert after == before


@TOO_LARGE
async def test_product_version_past_its_column_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, staff: Account, version: int
) -> None:
    product = await create_product(client, staff.headers)
    response = await client.patch(
        f"/api/v1/products/{product['id']}",
        json={"name": "Changed", "version": version},
        headers=staff.headers,
    )
    _assert_refused(response)
    after = await client.get(f"/api/v1/products/{product['id']}", headers=staff.headers)
    assert after.json()["data"] == product


@TOO_LARGE
async def test_category_version_past_its_column_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, staff: Account, version: int
) -> None:
    category = await create_category(client, staff.headers)
    response = await client.patch(
        f"/api/v1/categories/{category['id']}",
        json={"name": "Changed", "version": version},
        headers=staff.headers,
    )
    _assert_refused(response)
    after = await client.get(f"/api/v1/categories/{category['id']}")
    assert after.json()["data"] == category


async def test_the_largest_version_a_column_holds_is_a_409_not_a_500(
    client: httpx.AsyncClient, staff: Account
) -> None:
    category = await create_category(client, staff.headers)
    response = await client.patch(
        f"/api/v1/categories/{category['id']}",
        json={"name": "Changed", "version": INT32_MAX},
        headers=staff.headers,
    )
    assert response.status_code == 409, response.text
    after = await client.get(f"/api/v1/categories/{category['id']}")
    assert after.json()["data"] == category
