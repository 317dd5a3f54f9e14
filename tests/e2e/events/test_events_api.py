"""The events operations API: who may read and act, dead letters listed, replayed and
purged through it, audited with the staff user as actor, bad input answered with 422.

The app under test runs the container's services with a backbone that also carries a
probe consumer of the test's own, so its dead letters are the test's alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from agora.app import create_app
from agora.bootstrap import Container
from agora.bootstrap.events import Events, build_events
from agora.platform.access import Role
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.events import DomainEvent
from agora.platform.events.consumers import Consumer, Consumers, Received
from agora.platform.events.operations import CLI
from tests.conftest import make_test_settings
from tests.support.accounts import Account, create_account, register_customer

API = "/api/v1/events"
EVENT = "identity.UserRegistered"
DOMAIN = "@probe.example.com"


class Probe:
    def __init__(self) -> None:
        self.name = f"test.api-{uuid4().hex[:8]}"
        self.handled: list[str] = []
        self.failing = True

    def consumer(self) -> Consumer:
        return Consumer(self.name, frozenset({EVENT}), self.handle, "API probe")

    async def handle(self, event: Received[Any]) -> None:
        if not event.payload.email.endswith(DOMAIN):
            return  # an account a test signed in with: not the probe's business
        if self.failing:
            raise RuntimeError(f"no mailbox for {event.payload.email}")
        self.handled.append(event.payload.email)


@pytest.fixture
async def probe(container: Container) -> Probe:
    await container.events.backbone.drain()  # the suite's earlier events go first
    return Probe()


@pytest.fixture
def events(container: Container, probe: Probe) -> Events:
    return build_events(
        make_test_settings(container.settings.database_url, events_max_attempts=1),
        container.engine,
        Consumers([*container.events.consumers, probe.consumer()]),
        audit=container.infrastructure.audit,
    )


@pytest.fixture
async def api(container: Container, events: Events) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container.settings, container=dataclasses.replace(container, events=events))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def admin(container: Container, api: httpx.AsyncClient) -> Account:
    return await create_account(container, api, Role.ADMIN)


@pytest.fixture
async def staff(container: Container, api: httpx.AsyncClient) -> Account:
    return await create_account(container, api, Role.STAFF)


async def dead_letters_of(container: Container, events: Events, *emails: str) -> list[UUID]:
    async with SqlUnitOfWork(container.engine) as uow:
        for email in emails:
            user = uuid4()
            uow.record(
                DomainEvent(EVENT, user, {"user_id": str(user), "email": email, "role": "customer"})
            )
        await uow.commit()
    await events.operations.drain(CLI, 10)
    letters, _ = await events.operations.dead_letters(CLI, consumer=events_probe(events))
    return [letter.event_id for letter in letters]


def events_probe(events: Events) -> str:
    return next(c.name for c in events.consumers if c.name.startswith("test.api-"))


ROUTES = [
    ("GET", "/status", None),
    ("GET", "/dead-letters", None),
    ("POST", "/dead-letters/replay", {"all": True}),
    ("POST", "/dead-letters/purge", {"all": True}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_anonymous_callers_are_401(
    api: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    response = await api.request(method, API + path, json=body)
    assert response.status_code == 401
    assert response.json()["success"] is False


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_customers_are_403(api: httpx.AsyncClient, method: str, path: str, body: Any) -> None:
    customer = await register_customer(api)
    response = await api.request(method, API + path, json=body, headers=customer.headers)
    assert response.status_code == 403
    assert response.json()["errors"]["code"] == "FORBIDDEN"


async def test_staff_read_but_cannot_replay_or_purge(
    api: httpx.AsyncClient, staff: Account, probe: Probe
) -> None:
    assert (await api.get(f"{API}/status", headers=staff.headers)).status_code == 200
    listed = await api.get(f"{API}/dead-letters", headers=staff.headers)
    assert listed.status_code == 200
    for path in ("/dead-letters/replay", "/dead-letters/purge"):
        refused = await api.post(API + path, json={"all": True}, headers=staff.headers)
        assert refused.status_code == 403
        assert refused.json()["errors"]["details"] == {"required": "events:manage"}


async def test_status_shows_the_backlog_and_each_consumers_dead_letters(
    api: httpx.AsyncClient, admin: Account, container: Container, events: Events, probe: Probe
) -> None:
    await dead_letters_of(container, events, "status@probe.example.com")

    response = await api.get(f"{API}/status", headers=admin.headers)

    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {
        "unpublished",
        "oldest_unpublished_age_seconds",
        "dead_letters",
        "consumers",
    }
    mine = next(c for c in data["consumers"] if c["consumer"] == probe.name)
    assert mine == {
        "consumer": probe.name,
        "pending": 0,
        "oldest_pending_age_seconds": None,
        "retrying": 0,
        "dead": 1,
        "handled": 1,  # the admin's own registration, which it passes over
    }
    assert data["dead_letters"] >= 1
    assert any(c["consumer"] == "ordering.refund-due" for c in data["consumers"])


async def test_dead_letters_are_paged_and_filtered_by_consumer(
    api: httpx.AsyncClient, admin: Account, container: Container, events: Events, probe: Probe
) -> None:
    ids = await dead_letters_of(container, events, "a@probe.example.com", "b@probe.example.com")
    params = {"consumer": probe.name, "page_size": 1}

    first = await api.get(f"{API}/dead-letters", params=params, headers=admin.headers)
    second = await api.get(
        f"{API}/dead-letters", params={**params, "page": 2}, headers=admin.headers
    )

    assert first.status_code == second.status_code == 200
    assert first.json()["meta"]["pagination"] == {"page": 1, "page_size": 1, "total": 2, "pages": 2}
    seen = [first.json()["data"][0], second.json()["data"][0]]
    assert {UUID(letter["event_id"]) for letter in seen} == set(ids)
    assert {letter["consumer"] for letter in seen} == {probe.name}
    assert all("no mailbox for" in letter["last_error"] for letter in seen)
    assert sorted(letter["payload"]["email"] for letter in seen) == [
        "a@probe.example.com",
        "b@probe.example.com",
    ]


async def test_a_replay_by_id_is_handled_once_and_audited_with_the_admin(
    api: httpx.AsyncClient, admin: Account, container: Container, events: Events, probe: Probe
) -> None:
    (event_id,) = await dead_letters_of(container, events, "replay@probe.example.com")
    probe.failing = False  # the fix is out
    unknown = uuid4()

    response = await api.post(
        f"{API}/dead-letters/replay",
        json={"ids": [str(event_id), str(unknown)]},
        headers=admin.headers,
    )
    await events.operations.drain(CLI, 10)
    await events.operations.drain(CLI, 10)

    assert response.status_code == 200
    assert response.json()["data"] == {"replayed": 1, "missing": [str(unknown)]}
    assert probe.handled == ["replay@probe.example.com"]
    trail = await api.get(
        "/api/v1/audit-events",
        params={"action": "events.dead_letters.replay", "actor": str(admin.id)},
        headers=admin.headers,
    )
    (record,) = trail.json()["data"]
    assert record["details"]["ids"] == [str(event_id), str(unknown)]
    assert record["details"]["count"] == 1
    assert record["details"]["actor"] == "api"


async def test_purge_of_one_consumer_drops_its_letters_and_is_audited(
    api: httpx.AsyncClient, admin: Account, container: Container, events: Events, probe: Probe
) -> None:
    await dead_letters_of(container, events, "gone1@probe.example.com", "gone2@probe.example.com")

    recent = await api.post(
        f"{API}/dead-letters/purge",
        json={"all": True, "consumer": probe.name, "older_than_days": 7},
        headers=admin.headers,
    )
    purged = await api.post(
        f"{API}/dead-letters/purge",
        json={"all": True, "consumer": probe.name},
        headers=admin.headers,
    )

    assert recent.json()["data"] == {"purged": 0, "missing": []}
    assert purged.json()["data"] == {"purged": 2, "missing": []}
    listed = await api.get(
        f"{API}/dead-letters", params={"consumer": probe.name}, headers=admin.headers
    )
    assert listed.json()["data"] == []
    trail = await api.get(
        "/api/v1/audit-events",
        params={"action": "events.dead_letters.purge", "actor": str(admin.id)},
        headers=admin.headers,
    )
    assert [r["details"]["count"] for r in trail.json()["data"]] == [2, 0]  # newest first
    assert trail.json()["data"][0]["target_id"] == probe.name


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/dead-letters/replay", {}),
        ("/dead-letters/replay", {"ids": []}),
        ("/dead-letters/replay", {"ids": ["not-a-uuid"]}),
        ("/dead-letters/replay", {"ids": [str(uuid4())], "all": True}),
        ("/dead-letters/replay", {"all": True, "olderThan": 3}),
        ("/dead-letters/replay", {"all": True, "older_than_days": 3}),
        ("/dead-letters/replay", {"all": True, "consumer": "no.such-consumer"}),
        ("/dead-letters/replay", {"ids": [str(uuid4())] * 501}),
        ("/dead-letters/purge", {"all": True, "older_than_days": -1}),
        ("/dead-letters/purge", {"all": "yes please"}),
        ("/dead-letters/purge", []),
    ],
)
async def test_bad_bodies_are_422_in_the_error_envelope(
    api: httpx.AsyncClient, admin: Account, path: str, body: Any
) -> None:
    response = await api.post(API + path, json=body, headers=admin.headers)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["success"] is False
    assert payload["errors"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    "params", [{"consumer": "no.such-consumer"}, {"page_size": 0}, {"page": 0}, {"consumer": ""}]
)
async def test_bad_list_queries_are_422(
    api: httpx.AsyncClient, admin: Account, params: dict[str, Any]
) -> None:
    response = await api.get(f"{API}/dead-letters", params=params, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"]["code"] == "VALIDATION_ERROR"
