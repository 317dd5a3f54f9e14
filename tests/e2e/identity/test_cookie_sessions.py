"""The browser cookie session: exact cookie attributes, CSRF for changes, logout.

These requests go over ``https://`` (still in process): browsers send ``Secure``
cookies, which every ``__Host-`` cookie is, only to secure origins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from agora.bootstrap import Container
from tests.support.accounts import PASSWORD, Account

pytestmark = pytest.mark.anyio

COOKIE_LOGIN = "/api/v1/auth/cookie-login"
COOKIE_LOGOUT = "/api/v1/auth/cookie-logout"
PROFILE = "/api/v1/auth/profile"
SESSIONS = "/api/v1/auth/sessions"
SESSION_COOKIE = "__Host-agora_session"
CSRF_COOKIE = "__Host-agora_csrf"


@pytest.fixture
async def browser(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


def _set_cookies(response: httpx.Response) -> dict[str, tuple[str, dict[str, str]]]:
    """Each Set-Cookie as name -> (value, {attribute (lower case): value})."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = first.partition("=")
        parsed = {}
        for attribute in attributes:
            key, _, val = attribute.partition("=")
            parsed[key.lower()] = val
        found[name] = (value.strip('"'), parsed)
    return found


async def _cookie_login(browser: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    response = await browser.post(COOKIE_LOGIN, json={"email": account.email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


# -- signing in ------------------------------------------------------------------------------


async def test_cookie_login_sets_exactly_the_secure_cookies_and_no_tokens(
    browser: httpx.AsyncClient, customer: Account
) -> None:
    response = await browser.post(
        COOKIE_LOGIN, json={"email": customer.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    data = response.json()["data"]
    assert set(data) == {"session_id", "csrf_token", "expires_at"}
    assert "access_token" not in response.text
    assert "refresh_token" not in response.text
    cookies = _set_cookies(response)
    assert set(cookies) == {SESSION_COOKIE, CSRF_COOKIE}
    session_value, session = cookies[SESSION_COOKIE]
    csrf_value, csrf = cookies[CSRF_COOKIE]
    # Browsers drop the cookies at the session's absolute end (30 days).
    for attributes in (session, csrf):
        lifetime = int(attributes.pop("max-age"))
        assert abs(lifetime - timedelta(days=30).total_seconds()) <= 5
    # __Host-: Secure, Path=/ and no Domain; no script may read the session cookie.
    assert session == {"httponly": "", "path": "/", "samesite": "lax", "secure": ""}
    # The page's scripts read the CSRF token; nothing else differs.
    assert csrf == {"path": "/", "samesite": "lax", "secure": ""}
    assert csrf_value == data["csrf_token"]
    assert len(session_value) >= 40
    assert session_value != csrf_value
    expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(seconds=10)


async def test_cookie_login_with_wrong_credentials_sets_no_cookie(
    browser: httpx.AsyncClient, customer: Account
) -> None:
    response = await browser.post(
        COOKIE_LOGIN, json={"email": customer.email, "password": PASSWORD + "x"}
    )
    assert response.status_code == 401
    assert response.json()["errors"]["code"] == "INVALID_CREDENTIALS"
    assert "set-cookie" not in response.headers


async def test_a_cross_site_form_cannot_log_a_browser_in(
    browser: httpx.AsyncClient, customer: Account
) -> None:
    """Login CSRF: an HTML form can only send form or text bodies, which are refused."""
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data"):
        response = await browser.post(
            COOKIE_LOGIN,
            content=f"email={customer.email}&password={PASSWORD}".encode(),
            headers={"content-type": content_type},
        )
        assert response.status_code == 415
        assert "set-cookie" not in response.headers


# -- using the session -----------------------------------------------------------------------


async def test_the_cookie_authenticates_reads_without_a_csrf_token(
    browser: httpx.AsyncClient, customer: Account
) -> None:
    await _cookie_login(browser, customer)
    response = await browser.get(PROFILE)
    assert response.status_code == 200
    assert response.json()["data"]["email"] == customer.email


async def test_changes_need_the_matching_csrf_token_and_change_nothing_without_it(
    browser: httpx.AsyncClient, customer: Account, other_customer: Account
) -> None:
    login = await _cookie_login(browser, customer)
    other_csrf = await _other_browsers_csrf(browser, other_customer)
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": other_csrf}):
        refused = await browser.patch(PROFILE, json={"name": "Forged Name"}, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["errors"]["code"] == "CSRF_FAILED"
    assert (await browser.get(PROFILE)).json()["data"]["name"] == customer.name
    accepted = await browser.patch(
        PROFILE, json={"name": "Chosen Name"}, headers={"X-CSRF-Token": login["csrf_token"]}
    )
    assert accepted.status_code == 200
    assert (await browser.get(PROFILE)).json()["data"]["name"] == "Chosen Name"


async def _other_browsers_csrf(browser: httpx.AsyncClient, account: Account) -> str:
    """Sign ``account`` in on a second browser; keep the first browser's cookies."""
    transport = browser._transport
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as other:
        return str((await _cookie_login(other, account))["csrf_token"])


async def test_bearer_requests_need_no_csrf_token_even_next_to_a_cookie(
    browser: httpx.AsyncClient, customer: Account, other_customer: Account
) -> None:
    await _cookie_login(browser, other_customer)
    response = await browser.patch(PROFILE, json={"name": "Bearer Name"}, headers=customer.headers)
    assert response.status_code == 200
    assert response.json()["data"]["email"] == customer.email  # the bearer token wins


async def test_the_cookie_session_is_listed_as_current_and_can_be_ended_elsewhere(
    browser: httpx.AsyncClient, client: httpx.AsyncClient, customer: Account
) -> None:
    login = await _cookie_login(browser, customer)
    listed = (await browser.get(SESSIONS)).json()["data"]
    cookie_session = next(s for s in listed if s["id"] == login["session_id"])
    assert cookie_session["kind"] == "cookie"
    assert cookie_session["current"] is True
    # Ended from the customer's other (bearer) session: the browser is signed out.
    ended = await client.delete(f"{SESSIONS}/{login['session_id']}", headers=customer.headers)
    assert ended.status_code == 204
    assert (await browser.get(PROFILE)).status_code == 401


async def test_a_cookie_is_not_a_refresh_token(
    browser: httpx.AsyncClient, client: httpx.AsyncClient, customer: Account
) -> None:
    await _cookie_login(browser, customer)
    value = browser.cookies[SESSION_COOKIE]
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": value})
    assert response.status_code == 401
    assert (await browser.get(PROFILE)).status_code == 200


async def test_a_stale_cookie_is_ignored_on_public_routes_and_refused_on_private_ones(
    browser: httpx.AsyncClient,
) -> None:
    browser.cookies.set(SESSION_COOKIE, "no-such-session", domain="testserver")
    assert (await browser.get("/api/v1/products")).status_code == 200
    response = await browser.get(PROFILE)
    assert response.status_code == 401


async def test_deactivation_ends_the_cookie_session(
    browser: httpx.AsyncClient, container: Container, customer: Account
) -> None:
    await _cookie_login(browser, customer)
    assert (await browser.get(PROFILE)).status_code == 200
    await container.identity.users.deactivate(customer.email)
    # Deactivation revokes in the database; every process learns it at its next poll.
    await container.identity.sessions.revocations.poll()
    assert (await browser.get(PROFILE)).status_code == 401


# -- signing out -----------------------------------------------------------------------------


async def test_cookie_logout_needs_the_csrf_token_then_clears_the_cookies(
    browser: httpx.AsyncClient, customer: Account
) -> None:
    login = await _cookie_login(browser, customer)
    refused = await browser.post(COOKIE_LOGOUT)
    assert refused.status_code == 403
    assert refused.json()["errors"]["code"] == "CSRF_FAILED"
    assert (await browser.get(PROFILE)).status_code == 200
    value = browser.cookies[SESSION_COOKIE]

    response = await browser.post(COOKIE_LOGOUT, headers={"X-CSRF-Token": login["csrf_token"]})
    assert response.status_code == 204
    cleared = _set_cookies(response)
    assert set(cleared) == {SESSION_COOKIE, CSRF_COOKIE}
    for _value, attributes in cleared.values():
        assert attributes["max-age"] == "0"
        assert "secure" in attributes
        assert attributes["path"] == "/"
    assert SESSION_COOKIE not in browser.cookies
    assert (await browser.get(PROFILE)).status_code == 401
    # The old value is dead on the server too, not only forgotten by this browser.
    browser.cookies.set(SESSION_COOKIE, value, domain="testserver")
    assert (await browser.get(PROFILE)).status_code == 401


async def test_cookie_logout_without_a_session_just_clears(browser: httpx.AsyncClient) -> None:
    response = await browser.post(COOKIE_LOGOUT)
    assert response.status_code == 204
    assert set(_set_cookies(response)) == {SESSION_COOKIE, CSRF_COOKIE}


async def test_logout_all_through_the_cookie_needs_csrf_and_clears_the_cookies(
    browser: httpx.AsyncClient, client: httpx.AsyncClient, customer: Account
) -> None:
    login = await _cookie_login(browser, customer)
    assert (await browser.post("/api/v1/auth/logout-all")).status_code == 403
    assert (await client.get(PROFILE, headers=customer.headers)).status_code == 200
    response = await browser.post(
        "/api/v1/auth/logout-all", headers={"X-CSRF-Token": login["csrf_token"]}
    )
    assert response.status_code == 204
    assert set(_set_cookies(response)) == {SESSION_COOKIE, CSRF_COOKIE}
    assert (await client.get(PROFILE, headers=customer.headers)).status_code == 401
