"""``/.well-known/jwks.json``: the public keys an outside service verifies tokens with."""

from __future__ import annotations

import httpx
import jwt
import pytest

from agora.platform.settings import Settings
from tests.support.accounts import Account

pytestmark = pytest.mark.anyio
JWKS = "/.well-known/jwks.json"


async def test_the_jwks_is_a_plain_cacheable_key_set_of_public_keys(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get(JWKS)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == (
        f"public, max-age={settings.signing_key_refresh_seconds}"
    )
    body = response.json()
    assert set(body) == {"keys"}  # RFC 7517, not the API envelope
    assert body["keys"]
    for key in body["keys"]:
        assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
        assert "d" not in key


async def test_an_outside_verifier_checks_a_token_with_the_published_key(
    client: httpx.AsyncClient, settings: Settings, customer: Account
) -> None:
    keys = (await client.get(JWKS)).json()["keys"]
    header = jwt.get_unverified_header(customer.access_token)
    assert header["alg"] == "ES256"
    [published] = [k for k in keys if k["kid"] == header["kid"]]
    claims = jwt.decode(
        customer.access_token,
        jwt.PyJWK(published).key,
        algorithms=["ES256"],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    assert claims["sub"] == str(customer.id)


async def test_the_jwks_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"][JWKS]["get"]
    assert "200" in operation["responses"]
    assert {"/api/v1/auth/sessions", "/api/v1/auth/logout-all", "/api/v1/auth/cookie-login"} <= set(
        spec["paths"]
    )
