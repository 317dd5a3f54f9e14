"""Test support for the accounts side: factories and fixtures.

Every account is fresh (random email), so tests never share users. ``register_customer``
goes through the API end to end; ``create_account`` creates the user with the service
(as the CLI does, the only way to get staff or admins) and logs in through the API.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.bootstrap import Container
from agora.identity.adapters.sql import SqlIdentityUnitOfWork
from agora.identity.domain import User
from agora.platform.access import Role
from agora.platform.clock import utcnow
from agora.platform.ids import new_id

PASSWORD = "violet-anchor-museum-tide-42"


@dataclass(frozen=True)
class Account:
    id: UUID
    email: str
    password: str
    name: str
    role: Role
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def user_row(email: str | None = None, prefix: str = "repo") -> User:
    """A customer as a repository stores it, for tests below the services."""
    now = utcnow()
    return User(
        id=new_id(),
        email=email or unique_email(prefix),
        name="Repo User",
        password_hash="$argon2id$placeholder",
        role=Role.CUSTOMER,
        is_active=True,
        email_verified_at=None,
        created_at=now,
        updated_at=now,
    )


async def stored_user(engine: AsyncEngine, prefix: str = "repo") -> User:
    """``user_row`` written to the database, for repositories that refer to a user."""
    user = user_row(prefix=prefix)
    async with SqlIdentityUnitOfWork(engine) as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


async def login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, object]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()["data"]
    return data


async def register_customer(
    client: httpx.AsyncClient, *, email: str | None = None, name: str = "Test Customer"
) -> Account:
    """Sign up and log in through the API, exactly as a shopper would."""
    email = email or unique_email("customer")
    response = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name}
    )
    assert response.status_code == 201, response.text
    user = response.json()["data"]
    tokens = await login(client, email, PASSWORD)
    return Account(
        id=UUID(user["id"]),
        email=user["email"],
        password=PASSWORD,
        name=user["name"],
        role=Role(user["role"]),
        access_token=str(tokens["access_token"]),
        refresh_token=str(tokens["refresh_token"]),
    )


async def create_account(
    container: Container, client: httpx.AsyncClient, role: Role, *, name: str | None = None
) -> Account:
    """Create a user of any role through the service, then log in through the API."""
    service = container.identity
    name = name or f"Test {role.value.title()}"
    user = await service.registration.create_user(
        email=unique_email(role.value), password=PASSWORD, name=name, role=role
    )
    tokens = await login(client, user.email, PASSWORD)
    return Account(
        id=user.id,
        email=user.email,
        password=PASSWORD,
        name=user.name,
        role=user.role,
        access_token=str(tokens["access_token"]),
        refresh_token=str(tokens["refresh_token"]),
    )


@pytest.fixture
async def customer(client: httpx.AsyncClient) -> Account:
    return await register_customer(client)


@pytest.fixture
async def other_customer(client: httpx.AsyncClient) -> Account:
    return await register_customer(client, name="Other Customer")


@pytest.fixture
async def staff(container: Container, client: httpx.AsyncClient) -> Account:
    return await create_account(container, client, Role.STAFF)


@pytest.fixture
async def admin(container: Container, client: httpx.AsyncClient) -> Account:
    return await create_account(container, client, Role.ADMIN)
