"""The platform as a newcomer runs it: the real CLI, a real server, real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.e2e.served import Served, agora, base_env, serve
from tests.support.production import production_env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("served")
    env = base_env(f"sqlite+aiosqlite:///{workdir / 'agora.db'}")
    migrated = agora("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    with serve(env, workdir / "server.log") as running:
        yield running


def test_served_platform_answers_health_and_docs_over_http(served: Served) -> None:
    ready = httpx.get(f"{served.base_url}/health/ready", timeout=10)
    assert ready.status_code == 200
    assert ready.json()["data"]["checks"]["database"]["status"] == "ok"
    spec = httpx.get(f"{served.base_url}/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.1")
    assert httpx.get(f"{served.base_url}/docs", timeout=10).status_code == 200


def test_malformed_json_over_http_is_a_400_envelope(served: Served) -> None:
    response = httpx.post(
        f"{served.base_url}/api/v1/auth/login",
        content=b'{"email": ',
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["errors"]["code"] == "MALFORMED_JSON"


def test_production_refuses_to_start_with_the_default_secret(tmp_path: Path) -> None:
    env = base_env(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", AGORA_ENVIRONMENT="production")
    result = agora("serve", env=env, timeout=60)
    assert result.returncode == 2
    assert "AGORA_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_on_the_test_provider_says_so_at_start_and_in_readiness(
    tmp_path: Path,
) -> None:
    env = base_env(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", **production_env())
    assert agora("migrate", env=env).returncode == 0
    log_path = tmp_path / "server.log"
    with serve(env, log_path) as running:
        ready = httpx.get(f"{running.base_url}/health/ready", timeout=10).json()["data"]
    assert [w["code"] for w in ready["warnings"]] == ["TEST_PAYMENTS_PROVIDER"]
    logged = [orjson.loads(line) for line in log_path.read_text().splitlines() if line[:1] == "{"]
    announced = [e for e in logged if e.get("event") == "development_part_in_production"]
    assert [(e["level"], e["code"]) for e in announced] == [("error", "TEST_PAYMENTS_PROVIDER")]


def test_production_refuses_to_serve_with_reload(tmp_path: Path) -> None:
    env = base_env(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", **production_env())
    result = agora("serve", "--reload", env=env, timeout=60)
    assert result.returncode == 2
    assert "--reload" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A served platform set up the way ``make run`` does: migrate, seed, serve."""
    workdir = tmp_path_factory.mktemp("shop")
    env = base_env(f"sqlite+aiosqlite:///{workdir / 'shop.db'}")
    for command in (("migrate",), ("seed", "--products", "40", "--if-empty")):
        result = agora(*command, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    again = agora("seed", "--products", "40", "--if-empty", env=env)
    assert again.returncode == 0
    with serve(env, workdir / "server.log") as running:
        yield running


def test_a_newcomer_can_browse_search_buy_and_see_the_order(shop: Served) -> None:
    with httpx.Client(base_url=shop.base_url, timeout=30) as http:
        products = http.get("/api/v1/products", params={"page_size": 100}).json()
        assert products["meta"]["pagination"]["total"] >= 30
        in_stock = [p for p in products["data"] if p["stock"] >= 2]
        product = in_stock[0]
        word = product["name"].split()[0]
        found = http.get("/api/v1/products", params={"q": word}).json()["data"]
        assert product["id"] in {p["id"] for p in found}

        login = http.post(
            "/api/v1/auth/login",
            json={"email": "demo@agora.example", "password": "market-basket-2026"},
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}

        added = http.post(
            "/api/v1/cart/items",
            json={"product_id": product["id"], "quantity": 2},
            headers=headers,
        )
        assert added.status_code in (200, 201), added.text
        cart = http.get("/api/v1/cart", headers=headers).json()["data"]
        assert cart["total"]["amount"] == 2 * product["price"]["amount"]

        order = http.post(
            "/api/v1/orders",
            json={"payment_token": "tok_success"},
            headers={**headers, "Idempotency-Key": "journey-1"},
        )
        assert order.status_code == 201, order.text
        placed = order.json()["data"]
        assert placed["status"] == "paid"
        assert placed["total"] == cart["total"]

        mine = http.get("/api/v1/orders", headers=headers).json()["data"]
        assert placed["id"] in {o["id"] for o in mine}
        assert http.get("/api/v1/cart", headers=headers).json()["data"]["items"] == []
        after = http.get(f"/api/v1/products/{product['id']}").json()["data"]
        assert after["stock"] == product["stock"] - 2


def test_migrate_creates_the_database_folder_on_a_fresh_checkout(tmp_path: Path) -> None:
    database = tmp_path / "not-yet" / "there" / "agora.db"
    result = agora("migrate", env=base_env(f"sqlite+aiosqlite:///{database}"))
    assert result.returncode == 0, result.stderr
    assert database.exists()
