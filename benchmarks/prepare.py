"""Set-up through the public API and the database: customers, tokens, products, words.

Everything here runs before the clock starts; it uses the same endpoints a client would
(register, login, create product), the ``agora`` CLI for the administrator, and reads
sample ids and names straight from the database so that the load itself only exercises
the routes being measured.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import random
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from database import BenchDatabase
from servers import BenchmarkError, ServerProcess
from stack import Stack

CHECKOUT_STOCK = 5_000_000
_WORD = re.compile(r"[a-z]{4,}")
# Words that appear in nearly every generated name or description tell little about search.
_STOP = frozenset({"with", "from", "this", "that", "your", "their", "into", "made", "each"})


@dataclass
class Customer:
    email: str
    token: str


@dataclass
class Prepared:
    customers: list[Customer]
    admin_token: str
    checkout_product_id: str
    checkout_unit_price: int
    product_ids: list[str]
    search_terms: list[str]


def _data(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise BenchmarkError(f"{what} failed: HTTP {response.status_code} {response.text[:500]}")
    return response.json()["data"]


async def _register_and_login(
    client: httpx.AsyncClient, limit: asyncio.Semaphore, run_id: str, index: int
) -> Customer:
    email = f"bench-{run_id}-{index}@agora.example"
    password = secrets.token_urlsafe(18)
    async with limit:
        _data(
            await client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": password, "name": f"Bench Shopper {index}"},
            ),
            f"registering {email}",
        )
        data = _data(
            await client.post("/api/v1/auth/login", json={"email": email, "password": password}),
            f"logging in {email}",
        )
    return Customer(email, data["access_token"])


async def register_customers(base_url: str, count: int) -> list[Customer]:
    run_id = uuid.uuid4().hex[:8]
    limit = asyncio.Semaphore(4)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        return list(
            await asyncio.gather(
                *(_register_and_login(client, limit, run_id, i) for i in range(count))
            )
        )


def login(base_url: str, email: str, password: str) -> str:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        data = _data(
            client.post("/api/v1/auth/login", json={"email": email, "password": password}),
            f"logging in {email}",
        )
    return str(data["access_token"])


def create_checkout_product(base_url: str, admin_token: str) -> tuple[str, int]:
    """A published product with stock far beyond what the run can sell."""
    suffix = uuid.uuid4().hex[:10]
    body = {
        "sku": f"BENCH-{suffix}".upper(),
        "name": f"Benchmark checkout item {suffix}",
        "description": "Created by the benchmark to take orders under load.",
        "price": {"amount": 1999, "currency": "EUR"},
        "stock": CHECKOUT_STOCK,
        "is_published": True,
    }
    with httpx.Client(
        base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {admin_token}"}
    ) as client:
        data = _data(client.post("/api/v1/products", json=body), "creating the checkout product")
    return str(data["id"]), int(data["price"]["amount"])


def sample_product_ids(db: BenchDatabase, count: int) -> list[str]:
    rows = db.fetch(
        "SELECT id::text FROM products WHERE is_published AND deleted_at IS NULL "
        "ORDER BY random() LIMIT $1",
        count,
    )
    if not rows:
        raise BenchmarkError("the catalog has no published products; did seeding work?")
    return [row[0] for row in rows]


def search_terms(db: BenchDatabase, rng: random.Random, count: int = 60) -> list[str]:
    """Realistic queries: frequent single words of product names, and pairs of them."""
    rows = db.fetch(
        "SELECT name FROM products WHERE is_published AND deleted_at IS NULL "
        "ORDER BY random() LIMIT 3000"
    )
    words: collections.Counter[str] = collections.Counter()
    pairs: collections.Counter[str] = collections.Counter()
    for (name,) in rows:
        tokens = [t for t in _WORD.findall(name.lower()) if t not in _STOP]
        words.update(tokens)
        pairs.update(f"{a} {b}" for a, b in itertools.pairwise(tokens))
    singles = [w for w, _ in words.most_common(count)]
    doubles = [p for p, n in pairs.most_common(count // 3) if n > 1]
    terms = singles + doubles
    if not terms:
        raise BenchmarkError("no search words found in product names")
    rng.shuffle(terms)
    return terms


def stock_of(db: BenchDatabase, product_id: str) -> int:
    value = db.fetchval("SELECT stock FROM products WHERE id = $1::uuid", product_id)
    if value is None:
        raise BenchmarkError(f"product {product_id} not found in the database")
    return int(value)


def prepare(stack: Stack, agora: ServerProcess, customers: int, rng: random.Random) -> Prepared:
    """Customers with tokens, an administrator, the checkout product, ids and words."""
    stack.clock.say(f"registering and logging in {customers} customers")
    shoppers = asyncio.run(register_customers(agora.base_url, customers))
    admin_email = f"bench-admin-{secrets.token_hex(4)}@agora.example"
    admin_password = secrets.token_urlsafe(18)
    stack.agora("create-admin", "--email", admin_email, "--password", admin_password, timeout=60)
    admin_token = login(agora.base_url, admin_email, admin_password)
    product_id, unit_price = create_checkout_product(agora.base_url, admin_token)
    ids = sample_product_ids(stack.db, 5000)
    terms = search_terms(stack.db, rng)
    stack.clock.say(
        f"checkout product {product_id}; {len(ids):,} ids for detail; "
        f"{len(terms)} search terms (e.g. {', '.join(terms[:4])})"
    )
    return Prepared(shoppers, admin_token, product_id, unit_price, ids, terms)
