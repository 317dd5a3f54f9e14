"""``agora seed`` loads a deterministic demo catalog and the demo customer."""

from __future__ import annotations

import uuid

import anyio
import httpx
from click.testing import Result
from typer.testing import CliRunner

from agora.cli.main import app as cli
from agora.platform.production_guard import DEFAULT_DEMO_PASSWORD
from tests.support.accounts import Account
from tests.support.production import production_env

API = "/api/v1"


def _env(database_url: str, email: str) -> dict[str, str]:
    return {
        "AGORA_ENVIRONMENT": "test",
        "AGORA_DATABASE_URL": database_url,
        "AGORA_LOG_LEVEL": "WARNING",
        "AGORA_DEMO_CUSTOMER_EMAIL": email,
        "AGORA_DEMO_CUSTOMER_PASSWORD": "violet-harbour-lantern-2026",
        "AGORA_PASSWORD_HASH_MEMORY_KIB": "1024",
        "AGORA_PASSWORD_HASH_TIME_COST": "1",
    }


async def test_seed_loads_a_served_catalog_once_and_the_demo_customer(
    migrated: str, client: httpx.AsyncClient, staff: Account
) -> None:
    email = f"demo-{uuid.uuid4().hex[:8]}@example.com"
    env = _env(migrated, email)

    def run(*args: str) -> Result:
        # The CLI runs its own event loop, so it gets a thread of its own.
        return CliRunner().invoke(cli, list(args), env=env)

    seeded = await anyio.to_thread.run_sync(run, "seed", "--products", "60", "--seed", "11")
    assert seeded.exit_code == 0, seeded.output
    assert "seeded 60 products" in seeded.output
    assert f"Demo login: {email}" in seeded.output

    found = await client.get(
        f"{API}/products",
        params={"q": "ELC01-000001", "include_unpublished": "true"},
        headers=staff.headers,
    )
    product = found.json()["data"][0]
    assert product["sku"] == "ELC01-000001"
    assert product["price"]["currency"] == "EUR"
    electronics = await client.get(f"{API}/products", params={"category": "electronics"})
    assert electronics.json()["meta"]["pagination"]["total"] > 0
    tree = (await client.get(f"{API}/categories", params={"tree": "true"})).json()["data"]
    assert "headphones" in [
        child["slug"]
        for node in tree
        if node["slug"] == "electronics"
        for child in node["children"]
    ]
    login = await client.post(
        f"{API}/auth/login", json={"email": email, "password": "violet-harbour-lantern-2026"}
    )
    assert login.status_code == 200

    skipped = await anyio.to_thread.run_sync(run, "seed", "--if-empty")
    assert skipped.exit_code == 0, skipped.output
    assert "not seeding" in skipped.output
    duplicate = await anyio.to_thread.run_sync(run, "seed", "--products", "5")
    assert duplicate.exit_code == 1
    assert "already loaded" in duplicate.output


async def _product_total(client: httpx.AsyncClient, staff: Account) -> int:
    listed = await client.get(
        f"{API}/products", params={"include_unpublished": "true"}, headers=staff.headers
    )
    total: int = listed.json()["meta"]["pagination"]["total"]
    return total


async def test_production_refuses_to_seed_demo_data_unless_allowed(
    migrated: str, client: httpx.AsyncClient, staff: Account
) -> None:
    email = f"demo-{uuid.uuid4().hex[:8]}@example.com"
    env = production_env(AGORA_DATABASE_URL=migrated, AGORA_DEMO_CUSTOMER_EMAIL=email)
    before = await _product_total(client, staff)

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env)

    refused = await anyio.to_thread.run_sync(run, "seed", "--products", "7", "--seed", "31")
    assert refused.exit_code == 1
    assert "--allow-production" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert await _product_total(client, staff) == before
    login = {"email": email, "password": DEFAULT_DEMO_PASSWORD}
    assert (await client.post(f"{API}/auth/login", json=login)).status_code == 401

    # Allowed, it seeds the catalog but never the demo customer whose password is public.
    allowed = await anyio.to_thread.run_sync(run, "seed", "--products", "0", "--allow-production")
    assert allowed.exit_code == 0, allowed.output
    assert "demo customer was not created" in allowed.output
    assert "Demo login" not in allowed.output
    assert (await client.post(f"{API}/auth/login", json=login)).status_code == 401
