"""The OpenID Connect login service on the real database and a real provider over HTTP:
the audit trail it leaves, client_secret_post, and its repositories."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from functools import partial
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from agora.bootstrap import Container
from agora.identity.oidc.adapters.client import HttpOidcProvider
from agora.identity.oidc.adapters.sql import SqlOidcUnitOfWork
from agora.identity.oidc.domain import (
    LoginState,
    OidcEmailNotVerifiedError,
    OidcLink,
    OidcStateUsedError,
    digest,
)
from agora.identity.oidc.services import OidcLogin, OidcLoginService
from agora.platform.clock import utcnow
from agora.platform.errors import AlreadyExistsError
from agora.platform.ids import new_id
from tests.fakes import RecordingAuditTrail
from tests.support.accounts import PASSWORD, unique_email
from tests.support.oidc_provider import (
    CALLBACK_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    OidcTestProvider,
    TestUser,
    serve_oidc_provider,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def post_provider() -> Iterator[OidcTestProvider]:
    """A provider that only accepts client credentials in the form (client_secret_post)."""
    with serve_oidc_provider(OidcTestProvider(client_auth="client_secret_post")) as provider:
        yield provider


@pytest.fixture
def trail() -> RecordingAuditTrail:
    return RecordingAuditTrail()


@pytest.fixture
def service(
    container: Container, post_provider: OidcTestProvider, trail: RecordingAuditTrail
) -> OidcLoginService:
    identity = container.identity
    return OidcLoginService(
        uow=partial(SqlOidcUnitOfWork, container.engine),
        # One trail for both, as in production: the session's login record is the
        # sign-in service's, written in the session's transaction.
        sign_in=replace(identity.sign_in, audit=trail),
        hasher=identity.sign_in.hasher,
        provider=HttpOidcProvider(
            issuer=post_provider.issuer,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            scopes="openid email",
            timeout_seconds=5,
            allow_http=True,
        ),
        provider_name="Example ID",
        audit=trail,
    )


async def _sign_in(service: OidcLoginService) -> OidcLogin:
    started = await service.start(callback_url=CALLBACK_URL, return_to=None, browser_binding=None)
    async with httpx.AsyncClient(timeout=10) as browser:
        answer = await browser.get(started.authorization_url)
    query = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    login = await service.claim(state=query["state"], browser_binding=started.browser_binding)
    return await service.finish(
        login,
        code=query.get("code"),
        error=query.get("error"),
        error_description=None,
        issuer=query.get("iss"),
        user_agent="pytest",
        ip="127.0.0.1",
    )


async def test_a_new_account_is_audited_as_linked_and_logged_in(
    service: OidcLoginService, post_provider: OidcTestProvider, trail: RecordingAuditTrail
) -> None:
    post_provider.user = TestUser(email=unique_email("audit"))

    result = await _sign_in(service)

    assert result.outcome == "created"
    linked, login = trail.records
    assert linked.action == "identity.oidc_linked"
    assert linked.actor_id == result.user.id
    assert linked.details["new_account"] is True
    assert linked.details["subject"] == post_provider.user.subject
    assert login.action == "auth.login"
    assert login.outcome == "success"
    assert login.target_id == str(result.user.id)
    assert login.details == {"method": "oidc", "provider": "Example ID", "account": "created"}


async def test_a_refused_link_is_audited_as_a_failed_login(
    service: OidcLoginService,
    post_provider: OidcTestProvider,
    trail: RecordingAuditTrail,
    container: Container,
) -> None:
    email = unique_email("audit")
    await container.identity.registration.register(email, PASSWORD, "Local")
    post_provider.user = TestUser(email=email, email_verified=False)

    with pytest.raises(OidcEmailNotVerifiedError):
        await _sign_in(service)

    (failure,) = trail.records
    assert failure.action == "auth.login"
    assert failure.outcome == "failure"
    assert failure.details["reason"] == "OIDC_EMAIL_NOT_VERIFIED"
    assert failure.details["method"] == "oidc"


async def test_a_reused_state_is_audited_as_a_failed_login(
    service: OidcLoginService, post_provider: OidcTestProvider, trail: RecordingAuditTrail
) -> None:
    post_provider.user = TestUser(email=unique_email("audit"))
    started = await service.start(callback_url=CALLBACK_URL, return_to=None, browser_binding=None)
    state = parse_qs(urlsplit(started.authorization_url).query)["state"][0]
    await service.claim(state=state, browser_binding=started.browser_binding)

    with pytest.raises(OidcStateUsedError):
        await service.claim(state=state, browser_binding=started.browser_binding)

    assert [(r.action, r.outcome, r.details["reason"]) for r in trail.records] == [
        ("auth.login", "failure", "OIDC_STATE_USED")
    ]


# -- repositories -----------------------------------------------------------------------


def _state(expires_in: timedelta = timedelta(minutes=10)) -> LoginState:
    now = utcnow()
    return LoginState(
        id=new_id(),
        state_hash=digest(str(new_id())),
        browser_hash=digest("browser"),
        nonce="n",
        code_verifier="v" * 64,
        redirect_uri=CALLBACK_URL,
        return_to=None,
        created_at=now,
        expires_at=now + expires_in,
    )


async def test_a_provider_identity_links_to_one_account_only(container: Container) -> None:
    identity = container.identity
    one = await identity.registration.register(unique_email("repo"), PASSWORD, "One")
    two = await identity.registration.register(unique_email("repo"), PASSWORD, "Two")
    link = OidcLink(new_id(), one.id, "https://id.example", "subject-1", one.email, utcnow())
    async with SqlOidcUnitOfWork(container.engine) as uow:
        await uow.oidc_links.add(link)
        await uow.commit()

    with pytest.raises(AlreadyExistsError):
        async with SqlOidcUnitOfWork(container.engine) as uow:
            await uow.oidc_links.add(replace(link, id=new_id(), user_id=two.id))

    async with SqlOidcUnitOfWork(container.engine, read_only=True) as uow:
        assert await uow.oidc_links.get("https://id.example", "subject-1") == link
        assert await uow.oidc_links.get("https://other.example", "subject-1") is None


async def test_a_login_state_is_used_once_and_swept_after_expiry(container: Container) -> None:
    fresh, stale = _state(), _state(timedelta(seconds=-1))
    async with SqlOidcUnitOfWork(container.engine) as uow:
        await uow.oidc_states.add(fresh)
        await uow.oidc_states.add(stale)
        await uow.commit()

    async with SqlOidcUnitOfWork(container.engine) as uow:
        assert await uow.oidc_states.mark_used(fresh.id, utcnow()) is True
        assert await uow.oidc_states.mark_used(fresh.id, utcnow()) is False
        assert await uow.oidc_states.delete_expired(utcnow()) >= 1
        await uow.commit()

    async with SqlOidcUnitOfWork(container.engine, read_only=True) as uow:
        kept = await uow.oidc_states.get_by_hash(fresh.state_hash)
        assert kept is not None
        assert kept.was_used
        assert await uow.oidc_states.get_by_hash(stale.state_hash) is None
