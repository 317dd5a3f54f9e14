"""The development mailbox: what a developer reads at /dev/mailbox, and never in production."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest

from agora.app import create_app
from agora.bootstrap import build_container
from tests.conftest import make_test_settings
from tests.support.accounts import Account
from tests.support.mailbox import last_mail
from tests.support.production import PRODUCTION

pytestmark = pytest.mark.anyio
AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app_client(migrated: str) -> AppClient:
    """A client of the app built with other settings, on the same database."""

    @asynccontextmanager
    async def open_client(**overrides: object) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_test_settings(migrated, **overrides)
        container = await build_container(settings)
        transport = httpx.ASGITransport(
            app=create_app(settings, container=container), raise_app_exceptions=False
        )
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http
        finally:
            await container.close()

    return open_client


async def test_the_mailbox_lists_messages_with_their_links(
    client: httpx.AsyncClient, customer: Account
) -> None:
    message = await last_mail(client, customer.email)
    page = await client.get("/dev/mailbox")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text
    link = message["links"][0]
    assert f'<a href="{link}">' in page.text
    assert customer.email in page.text
    assert set(message) == {"id", "sent_at", "from", "to", "subject", "text", "links"}


async def test_production_has_no_mailbox(app_client: AppClient) -> None:
    async with app_client(**PRODUCTION) as production:
        for path in ("/dev/mailbox", "/dev/mailbox.json"):
            response = await production.get(path)
            assert response.status_code == 404, path
            assert response.json()["errors"]["code"] == "NOT_FOUND"
        # The pages the emailed links open are part of the product, in production too.
        assert (await production.get("/verify-email")).status_code == 200
        assert (await production.get("/reset-password")).status_code == 200


async def test_with_smtp_outside_production_the_mailbox_says_where_mail_goes(
    app_client: AppClient,
) -> None:
    async with app_client(mail_backend="smtp") as development:
        page = await development.get("/dev/mailbox")
        assert page.status_code == 200
        assert "Mail goes out through SMTP" in page.text
        listing = await development.get("/dev/mailbox.json")
        assert listing.json()["data"] == []


async def test_the_mailbox_is_not_part_of_the_api_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith("/dev")]
    assert "/api/v1/auth/verify-email" in paths
    assert "/verify-email" not in paths
