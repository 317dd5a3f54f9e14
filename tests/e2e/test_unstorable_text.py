"""Text no column can store is a 422 naming where it was, on every input, before any SQL.

NUL, a lone UTF-16 surrogate (JSON can spell one) and bytes that are not UTF-8 (a
percent-encoded path or query can carry them) used to reach the database: PostgreSQL
refused the NUL, every driver the surrogate, each as a 500. Each case checks that
nothing was stored.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.accounts import PASSWORD, Account
from tests.support.catalog import create_category, create_product, unique_suffix

# Percent-encoded path segments: NUL, a byte that is not UTF-8, a surrogate's UTF-8 form.
BAD_SEGMENTS = pytest.mark.parametrize("segment", ["a%00b", "%ff", "%ed%a0%80"])
BAD_STRINGS = pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfffy"])


def _assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"]["code"] == "VALIDATION_ERROR"
    assert [f["field"] for f in body["errors"]["details"]["fields"]] == [field]
    assert body["meta"]["request_id"] == response.headers["x-request-id"]


def _json(body: dict[str, Any]) -> bytes:
    # The standard encoder escapes NUL and surrogates (\\u0000, \\ud800) as clients do.
    return json.dumps(body).encode()


@BAD_SEGMENTS
@pytest.mark.parametrize("route", ["/api/v1/products/", "/api/v1/categories/"])
async def test_a_slug_that_is_not_storable_text_is_a_422(
    client: httpx.AsyncClient, route: str, segment: str
) -> None:
    _assert_refused(await client.get(f"{route}{segment}"), "path")


@BAD_SEGMENTS
@pytest.mark.parametrize("name", ["q", "category"])
async def test_a_catalog_search_that_is_not_storable_text_is_a_422(
    client: httpx.AsyncClient, name: str, segment: str
) -> None:
    _assert_refused(await client.get(f"/api/v1/products?{name}={segment}"), f"query.{name}")


@BAD_SEGMENTS
async def test_an_admin_user_search_that_is_not_storable_text_is_a_422(
    client: httpx.AsyncClient, admin: Account, segment: str
) -> None:
    response = await client.get(f"/api/v1/users?q={segment}", headers=admin.headers)
    _assert_refused(response, "query.q")


@BAD_STRINGS
async def test_a_product_description_that_is_not_storable_is_a_422_and_stores_nothing(
    client: httpx.AsyncClient, staff: Account, text: str
) -> None:
    slug = f"unstorable-{unique_suffix()}"
    body = {
        "sku": f"SKU-{unique_suffix()}",
        "slug": slug,
        "name": "Unstorable",
        "description": text,
        "price": {"amount": 100, "currency": "EUR"},
    }
    response = await client.post(
        "/api/v1/products",
        content=_json(body),
        headers={**staff.headers, "content-type": "application/json"},
    )
    _assert_refused(response, "body.description")
    missing = await client.get(f"/api/v1/products/{slug}", headers=staff.headers)
    assert missing.status_code == 404


@BAD_STRINGS
async def test_a_product_update_with_unstorable_attributes_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, staff: Account, text: str
) -> None:
    product = await create_product(client, staff.headers)
    body = {"version": product["version"], "attributes": {"colour": ["red", text]}}
    response = await client.patch(
        f"/api/v1/products/{product['id']}",
        content=_json(body),
        headers={**staff.headers, "content-type": "application/json"},
    )
    _assert_refused(response, "body.attributes.colour.1")
    after = await client.get(f"/api/v1/products/{product['id']}", headers=staff.headers)
    assert after.json()["data"] == product


@BAD_STRINGS
async def test_a_category_name_that_is_not_storable_is_a_422_and_stores_nothing(
    client: httpx.AsyncClient, staff: Account, text: str
) -> None:
    slug = f"unstorable-{unique_suffix()}"
    response = await client.post(
        "/api/v1/categories",
        content=_json({"name": text, "slug": slug}),
        headers={**staff.headers, "content-type": "application/json"},
    )
    _assert_refused(response, "body.name")
    assert (await client.get(f"/api/v1/categories/{slug}")).status_code == 404
    category = await create_category(client, staff.headers)
    renamed = await client.patch(
        f"/api/v1/categories/{category['id']}",
        content=_json({"version": category["version"], "name": text}),
        headers={**staff.headers, "content-type": "application/json"},
    )
    _assert_refused(renamed, "body.name")
    after = await client.get(f"/api/v1/categories/{category['id']}")
    assert after.json()["data"] == category


@pytest.mark.parametrize(
    ("name_json", "codec"),
    [
        ('"a\udb00b"', "utf-8"),  # a surrogate written as UTF-8 bytes, not as an escape
        ('"a\\u0000b"', "utf-16-le"),  # the parser accepts UTF-16; PostgreSQL not the NUL
        ('"plain"', "utf-32"),
    ],
    ids=["utf8-surrogate", "utf16-with-nul", "utf32"],
)
async def test_a_json_body_that_is_not_utf8_is_a_422_and_stores_nothing(
    client: httpx.AsyncClient, staff: Account, name_json: str, codec: str
) -> None:
    slug = f"not-utf8-{unique_suffix()}"
    text = f'{{"name": {name_json}, "slug": "{slug}"}}'
    response = await client.post(
        "/api/v1/categories",
        content=text.encode(codec, "surrogatepass"),
        headers={**staff.headers, "content-type": "application/json"},
    )
    _assert_refused(response, "body")
    assert (await client.get(f"/api/v1/categories/{slug}")).status_code == 404


async def test_absurdly_nested_json_is_a_400_not_a_500(
    client: httpx.AsyncClient, staff: Account
) -> None:
    depth = 20_000  # past the parser's recursion limit, well inside the body limit
    body = b"[" * depth + b'"\\u0041"' + b"]" * depth
    response = await client.post(
        "/api/v1/categories",
        content=body,
        headers={**staff.headers, "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"]["code"] == "BAD_REQUEST"
    assert "x-request-id" in response.headers


async def test_an_unstorable_json_key_is_named_without_echoing_it(
    client: httpx.AsyncClient, staff: Account
) -> None:
    response = await client.post(
        "/api/v1/categories",
        content=b'{"name": "ok", "\\u0000": 1}',
        headers={**staff.headers, "content-type": "application/json"},
    )
    _assert_refused(response, "body.\ufffd")


async def test_escaped_backslashes_and_paired_surrogates_are_ordinary_text(
    client: httpx.AsyncClient, staff: Account
) -> None:
    # "\\u0000" is a backslash and five characters; "\ud83d\ude00" is one emoji.
    category = await create_category(client, staff.headers, name="back\\u0000slash \U0001f600")
    assert category["name"] == "back\\u0000slash \U0001f600"


async def test_a_user_agent_with_a_nul_is_a_422_and_opens_no_session(
    client: httpx.AsyncClient, customer: Account
) -> None:
    sessions = "/api/v1/auth/sessions"
    before = (await client.get(sessions, headers=customer.headers)).json()["data"]
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": customer.email, "password": PASSWORD},
        headers={"User-Agent": "agent\x00smith"},
    )
    _assert_refused(response, "header.user-agent")
    after = (await client.get(sessions, headers=customer.headers)).json()["data"]
    assert len(after) == len(before)


async def test_a_form_field_that_is_not_storable_text_is_a_422(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/verify-email",
        content=b"token=abc%00def",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    _assert_refused(response, "form.token")
