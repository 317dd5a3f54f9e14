"""The category API: a tree staff maintain and everyone reads."""

from __future__ import annotations

import uuid

import httpx

from tests.support.accounts import Account
from tests.support.catalog import create_category, create_product

API = "/api/v1"


async def test_categories_list_flat_and_as_a_tree(
    client: httpx.AsyncClient, staff: Account
) -> None:
    top = await create_category(client, staff.headers)
    child = await create_category(client, staff.headers, parent_id=top["id"])
    flat = await client.get(f"{API}/categories")
    assert flat.status_code == 200
    by_id = {c["id"]: c for c in flat.json()["data"]}
    assert by_id[child["id"]]["parent_id"] == top["id"]
    tree = (await client.get(f"{API}/categories", params={"tree": "true"})).json()["data"]
    node = next(n for n in tree if n["id"] == top["id"])
    assert [c["id"] for c in node["children"]] == [child["id"]]
    assert node["children"][0]["children"] == []


async def test_a_category_is_found_by_id_or_slug(client: httpx.AsyncClient, staff: Account) -> None:
    category = await create_category(client, staff.headers)
    for reference in (category["id"], category["slug"]):
        response = await client.get(f"{API}/categories/{reference}")
        assert response.status_code == 200
        assert response.json()["data"] == category
    assert (await client.get(f"{API}/categories/{uuid.uuid4()}")).status_code == 404
    assert (await client.get(f"{API}/categories/nope-{uuid.uuid4().hex}")).status_code == 404


async def test_category_slug_is_generated_and_must_be_unique(
    client: httpx.AsyncClient, staff: Account
) -> None:
    suffix = uuid.uuid4().hex[:8]
    made = await create_category(client, staff.headers, name=f"Home & Garden {suffix}", slug=None)
    assert made["slug"] == f"home-garden-{suffix}"
    again = await client.post(
        f"{API}/categories", json={"name": f"Home & Garden {suffix}"}, headers=staff.headers
    )
    assert again.status_code == 409
    assert again.json()["errors"]["code"] == "ALREADY_EXISTS"


async def test_categories_are_renamed_and_moved_under_the_version(
    client: httpx.AsyncClient, staff: Account
) -> None:
    a = await create_category(client, staff.headers)
    b = await create_category(client, staff.headers, parent_id=a["id"])
    url = f"{API}/categories/{a['id']}"
    renamed = await client.patch(url, json={"version": 1, "name": "Renamed"}, headers=staff.headers)
    assert renamed.status_code == 200
    assert renamed.json()["data"]["version"] == 2
    stale = await client.patch(url, json={"version": 1, "name": "Again"}, headers=staff.headers)
    assert stale.status_code == 409
    assert stale.json()["errors"]["code"] == "VERSION_CONFLICT"
    cycle = await client.patch(
        url, json={"version": 2, "parent_id": b["id"]}, headers=staff.headers
    )
    assert cycle.status_code == 422
    itself = await client.patch(
        url, json={"version": 2, "parent_id": a["id"]}, headers=staff.headers
    )
    assert itself.status_code == 422
    orphan = await client.patch(
        f"{API}/categories/{b['id']}", json={"version": 1, "parent_id": None}, headers=staff.headers
    )
    assert orphan.json()["data"]["parent_id"] is None


async def test_categories_in_use_cannot_be_deleted(
    client: httpx.AsyncClient, staff: Account
) -> None:
    parent = await create_category(client, staff.headers)
    child = await create_category(client, staff.headers, parent_id=parent["id"])
    product = await create_product(client, staff.headers, category_id=child["id"])
    has_children = await client.delete(f"{API}/categories/{parent['id']}", headers=staff.headers)
    assert has_children.status_code == 409
    has_products = await client.delete(f"{API}/categories/{child['id']}", headers=staff.headers)
    assert has_products.status_code == 409
    await client.delete(f"{API}/products/{product['id']}", headers=staff.headers)
    assert (
        await client.delete(f"{API}/categories/{child['id']}", headers=staff.headers)
    ).status_code == 204
    assert (
        await client.delete(f"{API}/categories/{parent['id']}", headers=staff.headers)
    ).status_code == 204
    assert (await client.get(f"{API}/categories/{parent['id']}")).status_code == 404


async def test_customers_cannot_change_categories(
    client: httpx.AsyncClient, staff: Account, customer: Account
) -> None:
    category = await create_category(client, staff.headers)
    url = f"{API}/categories/{category['id']}"
    for method, target, body in (
        ("POST", f"{API}/categories", {"name": "Mine"}),
        ("PATCH", url, {"version": 1, "name": "Mine"}),
        ("DELETE", url, None),
    ):
        response = await client.request(method, target, json=body, headers=customer.headers)
        assert response.status_code == 403, (method, target)
    assert (await client.get(url)).json()["data"] == category


async def test_bad_category_input_is_422(client: httpx.AsyncClient, staff: Account) -> None:
    for body in (
        {"name": ""},
        {"name": "x", "slug": "Bad Slug"},
        {"name": "x", "parent_id": str(uuid.uuid4())},
        {"name": "x", "extra": 1},
    ):
        response = await client.post(f"{API}/categories", json=body, headers=staff.headers)
        assert response.status_code == 422, body
    bad_tree = await client.get(f"{API}/categories", params={"tree": "sideways"})
    assert bad_tree.status_code == 422
