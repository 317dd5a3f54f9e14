"""Signing in with an OpenID Connect provider, end to end over real HTTP.

Agora runs in-process (the ``httpx`` client plays the browser on Agora's side); the
provider is the standards-following test provider served on loopback, which Agora
reaches over real HTTP for discovery, keys, the token exchange and UserInfo.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update

from agora.app import create_app
from agora.bootstrap import Container, build_container
from agora.identity.adapters.tables import users
from agora.identity.oidc.adapters.tables import oidc_login_states
from agora.identity.oidc.domain import digest
from agora.platform.clock import utcnow
from tests.conftest import make_test_settings
from tests.support.accounts import PASSWORD, register_customer, unique_email
from tests.support.mfa import enable_mfa
from tests.support.oidc_provider import (
    CALLBACK_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    OidcTestProvider,
    TestUser,
    callback_url_from_provider,
    closed_port_url,
    serve_oidc_provider,
    sign_in,
)

pytestmark = pytest.mark.anyio

PROVIDER = "/api/v1/auth/oidc"
LOGIN = "/api/v1/auth/oidc/login"
CALLBACK = "/api/v1/auth/oidc/callback"
PROFILE = "/api/v1/auth/profile"
RETURN_TO = "https://shop.example/signed-in"


def _oidc_settings(database_url: str, issuer: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "oidc_issuer": issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "oidc_provider_name": "Example ID",
        "oidc_allowed_redirect_uris": [RETURN_TO],
        "oidc_timeout_seconds": 5,
    }
    values.update(overrides)
    return make_test_settings(database_url, **values)


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[OidcTestProvider]:
    with serve_oidc_provider(OidcTestProvider()) as provider:
        yield provider


@pytest.fixture(scope="module")
async def oidc_container(
    database_url: str, migrated: str, oidc_provider: OidcTestProvider
) -> AsyncIterator[Container]:
    built = await build_container(_oidc_settings(database_url, oidc_provider.issuer))
    yield built
    await built.close()


@pytest.fixture(scope="module")
def oidc_app(oidc_container: Container) -> Any:
    return create_app(oidc_container.settings, container=oidc_container)


def _browser(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def browser(oidc_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh browser (its own cookie jar) on a shop with OpenID Connect login on."""
    async with _browser(oidc_app) as http:
        yield http


@pytest.fixture(autouse=True)
def provider(oidc_provider: OidcTestProvider) -> Iterator[OidcTestProvider]:
    oidc_provider.reset()
    yield oidc_provider
    oidc_provider.reset()


def _person(provider: OidcTestProvider, **fields: Any) -> TestUser:
    fields.setdefault("email", unique_email("oidc"))
    provider.user = TestUser(**fields)
    return provider.user


def _error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["success"] is False, body
    errors: dict[str, Any] = body["errors"]
    return errors


async def _profile(client: httpx.AsyncClient, access_token: str) -> dict[str, Any]:
    response = await client.get(PROFILE, headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def _password_login(client: httpx.AsyncClient, email: str) -> int:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return response.status_code


async def _mark_verified(container: Container, email: str) -> None:
    async with container.engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.email == email).values(email_verified_at=utcnow())
        )


# -- switched off ------------------------------------------------------------------------


async def test_without_a_provider_every_route_is_404_with_a_clear_code(
    client: httpx.AsyncClient,
) -> None:
    for path in (PROVIDER, LOGIN, f"{CALLBACK}?code=abc&state=def"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert _error(response)["code"] == "OIDC_NOT_CONFIGURED"


# -- the happy paths ---------------------------------------------------------------------


async def test_the_provider_is_described_for_front_ends(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    response = await browser.get(PROVIDER)

    assert response.status_code == 200
    assert response.json()["data"] == {
        "name": "Example ID",
        "issuer": provider.issuer,
        "login_url": LOGIN,
    }


async def test_login_sends_the_browser_to_the_provider_with_pkce_state_and_nonce(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    first = await browser.get(LOGIN)
    second = await browser.get(LOGIN)

    assert first.status_code == 302
    assert first.headers["cache-control"] == "no-store"
    url = urlsplit(first.headers["location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK_URL
    assert query["scope"] == "openid email profile"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43
    assert len(query["nonce"]) >= 43
    again = {k: v[0] for k, v in parse_qs(urlsplit(second.headers["location"]).query).items()}
    assert {again["state"], again["nonce"], again["code_challenge"]}.isdisjoint(
        {query["state"], query["nonce"], query["code_challenge"]}
    )
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "max-age=600" in cookie


async def test_first_sign_in_opens_a_customer_account_with_the_verified_email(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    person = _person(provider, name="Grace Hopper")

    response = await sign_in(browser)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    data = response.json()["data"]
    assert data["account"] == "created"
    assert data["token_type"] == "bearer"
    profile = await _profile(browser, data["access_token"])
    assert profile["id"] == data["user_id"]
    assert profile["email"] == person.email
    assert profile["name"] == "Grace Hopper"
    assert profile["role"] == "customer"
    assert profile["email_verified"] is True
    # A real session: the refresh token rotates like any other.
    refreshed = await browser.post(
        "/api/v1/auth/refresh", json={"refresh_token": data["refresh_token"]}
    )
    assert refreshed.status_code == 200


async def test_a_returning_sign_in_finds_the_same_account_by_subject(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    person = _person(provider)
    first = (await sign_in(browser)).json()["data"]
    original_email = person.email
    person.email = unique_email("changed")  # the provider's address changed since

    second = await sign_in(browser)

    assert second.status_code == 200, second.text
    data = second.json()["data"]
    assert data["account"] == "existing"
    assert data["user_id"] == first["user_id"]
    assert (await _profile(browser, data["access_token"]))["email"] == original_email


async def test_the_name_falls_back_to_the_email_when_the_provider_gives_none(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    person = _person(provider, name=None)

    data = (await sign_in(browser)).json()["data"]

    profile = await _profile(browser, data["access_token"])
    assert profile["name"] == person.email.split("@")[0]


async def test_an_email_only_in_userinfo_is_used(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    person = _person(provider)
    provider.misbehave = {"email_in_userinfo_only"}

    response = await sign_in(browser)

    assert response.status_code == 200, response.text
    profile = await _profile(browser, response.json()["data"]["access_token"])
    assert profile["email"] == person.email
    assert profile["email_verified"] is True


async def test_an_unverified_email_opens_an_unverified_account(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    _person(provider, email_verified=False)

    response = await sign_in(browser)

    assert response.status_code == 200, response.text
    assert response.json()["data"]["account"] == "created"
    profile = await _profile(browser, response.json()["data"]["access_token"])
    assert profile["email_verified"] is False


async def test_a_missing_email_is_refused_when_no_account_is_linked(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    _person(provider, email=None)

    response = await sign_in(browser)

    assert response.status_code == 401
    assert _error(response)["code"] == "OIDC_EMAIL_MISSING"


# -- linking to an existing account -------------------------------------------------------


async def test_a_verified_email_links_the_existing_account_which_keeps_its_password(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    provider: OidcTestProvider,
    oidc_container: Container,
) -> None:
    account = await register_customer(client)
    await _mark_verified(oidc_container, account.email)
    _person(provider, email=account.email.upper(), email_verified=True)

    response = await sign_in(browser)

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["account"] == "linked"
    assert data["user_id"] == str(account.id)
    assert await _password_login(client, account.email) == 200
    kept = await client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert kept.status_code == 200
    again = await sign_in(browser)
    assert again.json()["data"] == {**again.json()["data"], "account": "existing"}
    assert again.json()["data"]["user_id"] == str(account.id)


async def test_linking_an_account_whose_email_was_never_verified_locks_out_its_registrant(
    browser: httpx.AsyncClient, client: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    # Someone registered the address first, without proving it is theirs.
    squatter = await register_customer(client)
    _person(provider, email=squatter.email, email_verified=True)

    response = await sign_in(browser)

    assert response.status_code == 200, response.text
    assert response.json()["data"]["account"] == "linked"
    assert await _password_login(client, squatter.email) == 401
    stale = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": squatter.refresh_token}
    )
    assert stale.status_code == 401
    profile = await _profile(browser, response.json()["data"]["access_token"])
    assert profile["email_verified"] is True


@pytest.mark.parametrize("claim", [False, "false", "1", None])
async def test_an_unverified_email_never_links_an_existing_account(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    provider: OidcTestProvider,
    claim: object,
) -> None:
    account = await register_customer(client)
    _person(provider, email=account.email, email_verified=claim)

    response = await sign_in(browser)
    again = await sign_in(browser)

    assert response.status_code == 409
    assert _error(response)["code"] == "OIDC_EMAIL_NOT_VERIFIED"
    assert again.status_code == 409  # nothing was linked the first time either
    assert await _password_login(client, account.email) == 200


async def test_a_deactivated_account_cannot_sign_in_with_the_provider(
    browser: httpx.AsyncClient, provider: OidcTestProvider, oidc_container: Container
) -> None:
    person = _person(provider)
    assert (await sign_in(browser)).status_code == 200
    await oidc_container.identity.users.deactivate(str(person.email))

    response = await sign_in(browser)

    assert response.status_code == 403
    assert _error(response)["code"] == "ACCOUNT_DEACTIVATED"


async def test_a_deactivated_local_account_is_not_linked(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    provider: OidcTestProvider,
    oidc_container: Container,
) -> None:
    account = await register_customer(client)
    await oidc_container.identity.users.deactivate(account.email)
    _person(provider, email=account.email, email_verified=True)

    response = await sign_in(browser)

    assert response.status_code == 403
    assert _error(response)["code"] == "ACCOUNT_DEACTIVATED"


async def test_two_first_sign_ins_at_once_end_in_one_account(
    oidc_app: Any, provider: OidcTestProvider
) -> None:
    _person(provider)
    async with _browser(oidc_app) as one, _browser(oidc_app) as two:
        first, second = await asyncio.gather(sign_in(one), sign_in(two))

    assert first.status_code == second.status_code == 200, (first.text, second.text)
    a, b = first.json()["data"], second.json()["data"]
    assert a["user_id"] == b["user_id"]
    assert {a["account"], b["account"]} == {"created", "existing"}


# -- state: single use, short-lived, this browser only -----------------------------------


@pytest.mark.parametrize("query", ["code=abc&state=forged", "code=abc", ""])
async def test_an_unknown_or_missing_state_is_refused(
    browser: httpx.AsyncClient, query: str
) -> None:
    response = await browser.get(f"{CALLBACK}?{query}")

    assert response.status_code == 401
    assert _error(response)["code"] == "OIDC_STATE_INVALID"


async def test_a_state_works_once(browser: httpx.AsyncClient, provider: OidcTestProvider) -> None:
    _person(provider)
    callback = await callback_url_from_provider(browser)

    first = await browser.get(callback)
    replay = await browser.get(callback)

    assert first.status_code == 200, first.text
    assert replay.status_code == 401
    assert _error(replay)["code"] == "OIDC_STATE_USED"


async def test_the_same_callback_raced_concurrently_signs_in_once(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    _person(provider)
    callback = await callback_url_from_provider(browser)

    responses = await asyncio.gather(*(browser.get(callback) for _ in range(5)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 401, 401, 401, 401], [r.text for r in responses]
    assert {_error(r)["code"] for r in responses if r.status_code == 401} == {"OIDC_STATE_USED"}
    assert provider.token_requests == 1


async def test_an_expired_state_is_refused_before_the_code_is_redeemed(
    browser: httpx.AsyncClient, provider: OidcTestProvider, oidc_container: Container
) -> None:
    _person(provider)
    callback = await callback_url_from_provider(browser)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    async with oidc_container.engine.begin() as conn:
        await conn.execute(
            update(oidc_login_states)
            .where(oidc_login_states.c.state_hash == digest(state))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    response = await browser.get(callback)

    assert response.status_code == 401
    assert _error(response)["code"] == "OIDC_STATE_EXPIRED"
    assert provider.token_requests == 0


async def test_a_callback_opened_in_another_browser_is_refused_and_not_used_up(
    browser: httpx.AsyncClient, oidc_app: Any, provider: OidcTestProvider
) -> None:
    # Login CSRF: an attacker's finished sign-in, replayed in the victim's browser.
    _person(provider)
    callback = await callback_url_from_provider(browser)

    async with _browser(oidc_app) as victim:
        response = await victim.get(callback)

    assert response.status_code == 401
    assert _error(response)["code"] == "OIDC_BROWSER_MISMATCH"
    assert provider.token_requests == 0
    assert (await browser.get(callback)).status_code == 200


# -- what the provider says, checked -------------------------------------------------------


@pytest.mark.parametrize(
    ("misbehaviour", "reason"),
    [
        ("tamper", "signature"),
        ("wrong_nonce", "nonce"),
        ("no_nonce", "nonce"),
        ("wrong_audience", "audience"),
        ("extra_audience", "azp"),
        ("wrong_azp", "azp"),
        ("wrong_issuer", "issuer"),
        ("expired", "expired"),
        ("issued_in_future", "issued_at"),
        ("unknown_key", "unknown_key"),
        ("hs256", "algorithm"),
        ("alg_none", "algorithm"),
        ("no_id_token", "missing"),
    ],
)
async def test_a_defective_id_token_signs_nobody_in(
    browser: httpx.AsyncClient,
    provider: OidcTestProvider,
    oidc_container: Container,
    misbehaviour: str,
    reason: str,
) -> None:
    person = _person(provider)
    provider.misbehave = {misbehaviour}

    response = await sign_in(browser)

    assert response.status_code == 401, response.text
    error = _error(response)
    assert error["code"] == "OIDC_ID_TOKEN_INVALID"
    assert error["details"]["reason"] == reason
    identity = oidc_container.identity
    assert await identity.registration.find_by_email(str(person.email)) is None
    assert await identity.registration.find_by_email("attacker@example.com") is None


async def test_userinfo_about_someone_else_is_refused(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    _person(provider)
    provider.misbehave = {"email_in_userinfo_only", "userinfo_other_subject"}

    response = await sign_in(browser)

    assert response.status_code == 401
    assert _error(response)["details"]["reason"] == "userinfo_subject"


async def test_a_rotated_provider_key_is_fetched_and_trusted(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    _person(provider)
    assert (await sign_in(browser)).status_code == 200  # the current keys are cached

    provider.rotate_key()  # from now on signed with a new EC key (ES256)
    _person(provider)
    response = await sign_in(browser)

    assert response.status_code == 200, response.text


async def test_a_swapped_pkce_challenge_makes_the_provider_refuse_the_code(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    # An attacker's code (bound to the attacker's challenge) cannot be redeemed with ours.
    _person(provider)

    response = await sign_in(browser, rewrite_authorization={"code_challenge": "A" * 43})

    assert response.status_code == 401
    error = _error(response)
    assert error["code"] == "OIDC_CODE_REJECTED"
    assert error["details"]["provider_error"] == "invalid_grant"


async def test_the_user_declining_at_the_provider_is_reported(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    provider.misbehave = {"deny"}

    response = await sign_in(browser)

    assert response.status_code == 401
    error = _error(response)
    assert error["code"] == "OIDC_PROVIDER_ERROR"
    assert error["details"]["provider_error"] == "access_denied"
    assert provider.token_requests == 0


@pytest.mark.parametrize("misbehaviour", ["wrong_iss_param", "no_iss_param"])
async def test_a_callback_naming_another_issuer_is_refused(
    browser: httpx.AsyncClient, provider: OidcTestProvider, misbehaviour: str
) -> None:
    _person(provider)
    provider.misbehave = {misbehaviour}

    response = await sign_in(browser)

    assert response.status_code == 401
    assert _error(response)["code"] == "OIDC_ISSUER_MISMATCH"
    assert provider.token_requests == 0


# -- the provider failing --------------------------------------------------------------------


async def test_a_failing_token_endpoint_is_503(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    _person(provider)
    provider.misbehave = {"token_error"}

    response = await sign_in(browser)

    assert response.status_code == 503
    assert response.headers["retry-after"]
    error = _error(response)
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["details"]["dependency"] == "oidc_provider"


async def test_an_unreachable_provider_is_503_at_login_and_nothing_is_kept(
    database_url: str, migrated: str
) -> None:
    container = await build_container(_oidc_settings(database_url, closed_port_url()))
    try:
        async with _browser(create_app(container.settings, container=container)) as http:
            response = await http.get(LOGIN)
    finally:
        await container.close()

    assert response.status_code == 503
    assert _error(response)["details"] == {"dependency": "oidc_provider", "reason": "unreachable"}
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("misbehaviour", "reason"), [("impersonate", "issuer_mismatch"), ("hmac_only", "algorithms")]
)
async def test_provider_metadata_that_cannot_be_trusted_is_503(
    database_url: str,
    migrated: str,
    provider: OidcTestProvider,
    misbehaviour: str,
    reason: str,
) -> None:
    provider.misbehave = {misbehaviour}
    container = await build_container(_oidc_settings(database_url, provider.issuer))
    try:
        async with _browser(create_app(container.settings, container=container)) as http:
            response = await http.get(LOGIN)
    finally:
        await container.close()

    assert response.status_code == 503
    assert _error(response)["details"] == {"dependency": "oidc_provider", "reason": reason}


async def test_wrong_client_credentials_are_503_not_the_users_fault(
    database_url: str, migrated: str, provider: OidcTestProvider
) -> None:
    _person(provider)
    settings = _oidc_settings(database_url, provider.issuer, oidc_client_secret="not-the-secret")
    container = await build_container(settings)
    try:
        async with _browser(create_app(container.settings, container=container)) as http:
            response = await sign_in(http)
    finally:
        await container.close()

    assert response.status_code == 503
    assert _error(response)["details"]["reason"] == "client_rejected"


# -- back to the front end ---------------------------------------------------------------------


def _fragment(response: httpx.Response) -> dict[str, str]:
    location = response.headers["location"]
    assert location.startswith(RETURN_TO + "#"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


async def test_an_allowed_redirect_uri_gets_the_tokens_in_the_fragment(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    person = _person(provider)

    response = await sign_in(browser, redirect_uri=RETURN_TO)

    assert response.status_code == 302
    assert response.headers["cache-control"] == "no-store"
    tokens = _fragment(response)
    assert tokens["token_type"] == "bearer"
    assert tokens["account"] == "created"
    assert (await _profile(browser, tokens["access_token"]))["email"] == person.email


async def test_a_failure_after_an_allowed_redirect_goes_back_with_the_error(
    browser: httpx.AsyncClient, provider: OidcTestProvider
) -> None:
    provider.misbehave = {"deny"}

    response = await sign_in(browser, redirect_uri=RETURN_TO)

    assert response.status_code == 302
    error = _fragment(response)
    assert error["error"] == "OIDC_PROVIDER_ERROR"
    assert "access_token" not in error


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/steal",
        RETURN_TO + "/../../evil",
        RETURN_TO + "?next=https://evil.example",
        "//evil.example",
        RETURN_TO.upper(),
    ],
)
async def test_any_other_redirect_uri_is_refused_before_leaving(
    browser: httpx.AsyncClient, provider: OidcTestProvider, target: str
) -> None:
    response = await browser.get(LOGIN, params={"redirect_uri": target})

    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "OIDC_REDIRECT_NOT_ALLOWED"
    assert error["details"] == {"field": "redirect_uri"}


async def test_an_account_with_mfa_still_needs_its_second_factor_after_the_provider(
    browser: httpx.AsyncClient,
    client: httpx.AsyncClient,
    provider: OidcTestProvider,
    oidc_container: Container,
) -> None:
    account = await register_customer(client)
    await _mark_verified(oidc_container, account.email)
    mfa = await enable_mfa(client, account)
    _person(provider, email=account.email, email_verified=True)

    response = await sign_in(browser)

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["mfa_required"] is True
    assert "access_token" not in data
    assert "refresh_token" not in data
    completed = await client.post(
        "/api/v1/auth/login/mfa",
        json={"mfa_token": data["mfa_token"], "code": mfa.app.code(steps_ahead=1)},
    )
    assert completed.status_code == 200, completed.text
    profile = await _profile(client, completed.json()["data"]["access_token"])
    assert profile["id"] == str(account.id)
