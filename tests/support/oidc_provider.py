"""A small, standards-following OpenID Connect provider that the tests run on loopback.

It publishes a discovery document and a JWKS (an RSA key; an EC key after
``rotate_key``), "signs in" the configured ``TestUser`` at ``/authorize`` at once (no
login page), and at ``/token`` checks the client's credentials, the single-use code, the
redirect URI and the PKCE verifier against the challenge before it returns an ID token
carrying the nonce. Tests make it misbehave on demand through ``misbehave`` (a tampered
token, a wrong nonce or audience, a foreign key, an outage, ...).

It is served by uvicorn in a background thread on a free 127.0.0.1 port, so Agora talks
to it over real HTTP exactly as it would to a real provider.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "agora-shop"
CLIENT_SECRET = "agora-test-client-secret-0123456789"
CALLBACK_URL = "http://testserver/api/v1/auth/oidc/callback"

# What ``misbehave`` understands:
MISBEHAVIOURS = frozenset(
    {
        "impersonate",  # discovery names another issuer than the one asked
        "hmac_only",  # discovery advertises only HS256 for ID tokens
        "deny",  # /authorize answers error=access_denied
        "wrong_iss_param",  # the callback's RFC 9207 iss names another issuer
        "no_iss_param",  # the callback lacks iss although discovery promises it
        "tamper",  # the ID token's payload is changed after signing
        "wrong_nonce",
        "no_nonce",
        "wrong_audience",
        "extra_audience",  # aud lists another client too, without azp
        "wrong_azp",
        "wrong_issuer",
        "expired",
        "issued_in_future",
        "unknown_key",  # signed with a key the JWKS does not list
        "hs256",  # "signed" with HMAC and the client secret
        "alg_none",  # not signed at all
        "no_id_token",
        "token_error",  # /token answers 500
        "invalid_grant",  # /token refuses the code
        "email_in_userinfo_only",  # the ID token lacks email; /userinfo has it
        "userinfo_other_subject",  # /userinfo describes someone else
    }
)


@dataclass
class TestUser:
    __test__ = False  # not a test class, despite the name

    subject: str = field(default_factory=lambda: uuid.uuid4().hex)
    email: str | None = None
    email_verified: bool | str = True
    name: str | None = "Provider Person"


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    user: TestUser
    expires_at: float


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _s256(verifier: str) -> str:
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


class OidcTestProvider:
    def __init__(self, *, client_auth: str = "client_secret_basic") -> None:
        self.issuer = ""  # set once the server has a port
        self.client_auth = client_auth
        self.redirect_uris = {CALLBACK_URL}
        self._rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._keys: list[tuple[str, str, Any]] = [("rsa-1", "RS256", self._rsa)]
        self._stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._lock = threading.Lock()
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, TestUser] = {}
        self.user = TestUser()
        self.misbehave: set[str] = set()
        self.token_requests = 0
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/userinfo", self.userinfo),
            ]
        )

    def reset(self) -> None:
        self.user = TestUser()
        self.misbehave = set()
        self.token_requests = 0

    def rotate_key(self) -> None:
        """Start signing with a new EC key; the JWKS lists it (and, still, the old one)."""
        key = ec.generate_private_key(ec.SECP256R1())
        self._keys.insert(0, (f"ec-{len(self._keys) + 1}", "ES256", key))

    # -- endpoints ----------------------------------------------------------------------

    async def discovery(self, _request: Request) -> Response:
        algorithms = ["HS256"] if "hmac_only" in self.misbehave else ["RS256", "ES256", "HS256"]
        return JSONResponse(
            {
                "issuer": (
                    "https://accounts.example" if "impersonate" in self.misbehave else self.issuer
                ),
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                # HS256 is advertised on purpose: the client must still refuse it.
                "id_token_signing_alg_values_supported": algorithms,
                "token_endpoint_auth_methods_supported": [self.client_auth],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "email", "profile"],
                "authorization_response_iss_parameter_supported": True,
            }
        )

    async def jwks(self, _request: Request) -> Response:
        keys = []
        for kid, alg, private in self._keys:
            jwk = json.loads(jwt.get_algorithm_by_name(alg).to_jwk(private.public_key()))
            keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
        return JSONResponse({"keys": keys})

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        redirect_uri = q.get("redirect_uri", "")
        # Per RFC 6749 4.1.2.1: an unknown client or redirect URI is shown, never redirected to.
        if q.get("client_id") != CLIENT_ID or redirect_uri not in self.redirect_uris:
            return PlainTextResponse("unknown client or redirect_uri", status_code=400)
        back: dict[str, str] = {"state": q.get("state", "")}
        if "wrong_iss_param" in self.misbehave:
            back["iss"] = "https://impostor.example"
        elif "no_iss_param" not in self.misbehave:
            back["iss"] = self.issuer
        problem = None
        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            problem = "invalid_request"
        elif q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            problem = "invalid_request"  # this provider insists on PKCE
        elif "deny" in self.misbehave:
            problem = "access_denied"
        if problem is not None:
            back |= {"error": problem, "error_description": "The user said no."}
            return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(
                client_id=CLIENT_ID,
                redirect_uri=redirect_uri,
                challenge=q["code_challenge"],
                nonce=q.get("nonce"),
                user=self.user,
                expires_at=time.time() + 60,
            )
        back["code"] = code
        return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)

    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        if "token_error" in self.misbehave:
            return PlainTextResponse("upstream exploded", status_code=500)
        form = await request.form()
        if not self._client_authenticated(request, {k: str(v) for k, v in form.items()}):
            return _oauth_error("invalid_client", 401)
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type")
        with self._lock:
            grant = self._codes.pop(str(form.get("code", "")), None)  # single use
        if grant is None or grant.expires_at < time.time() or "invalid_grant" in self.misbehave:
            return _oauth_error("invalid_grant")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _oauth_error("invalid_grant", description="redirect_uri differs")
        if _s256(str(form.get("code_verifier", ""))) != grant.challenge:
            return _oauth_error("invalid_grant", description="PKCE verification failed")
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._access[access_token] = grant.user
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
        }
        if "no_id_token" not in self.misbehave:
            body["id_token"] = self._id_token(grant)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def userinfo(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            user = self._access.get(token)
        if user is None:
            return _oauth_error("invalid_token", 401)
        subject = "someone-else" if "userinfo_other_subject" in self.misbehave else user.subject
        claims: dict[str, Any] = {"sub": subject, "name": user.name}
        if user.email is not None:
            claims |= {"email": user.email, "email_verified": user.email_verified}
        return JSONResponse(claims)

    # -- internals ----------------------------------------------------------------------

    def _client_authenticated(self, request: Request, form: dict[str, str]) -> bool:
        if self.client_auth == "client_secret_basic":
            header = request.headers.get("authorization", "")
            if not header.startswith("Basic "):
                return False
            decoded = base64.b64decode(header[6:]).decode()
            client_id, _, secret = decoded.partition(":")
            given = (unquote_plus(client_id), unquote_plus(secret))
        else:
            given = (form.get("client_id", ""), form.get("client_secret", ""))
        return given == (CLIENT_ID, CLIENT_SECRET)

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        b = self.misbehave
        claims: dict[str, Any] = {
            "iss": f"{self.issuer}/elsewhere" if "wrong_issuer" in b else self.issuer,
            "sub": grant.user.subject,
            "aud": "another-client" if "wrong_audience" in b else grant.client_id,
            "iat": now + 3600 if "issued_in_future" in b else now,
            "exp": now - 600 if "expired" in b else now + 300,
            "auth_time": now,
        }
        if "extra_audience" in b:
            claims["aud"] = [grant.client_id, "another-client"]
        if "wrong_azp" in b:
            claims["azp"] = "another-client"
        if "no_nonce" not in b:
            claims["nonce"] = "not-the-nonce" if "wrong_nonce" in b else grant.nonce
        if grant.user.name is not None:
            claims["name"] = grant.user.name
        if grant.user.email is not None and "email_in_userinfo_only" not in b:
            claims |= {"email": grant.user.email, "email_verified": grant.user.email_verified}
        kid, alg, key = self._keys[0]
        if "alg_none" in b:
            header = _b64url(json.dumps({"alg": "none", "kid": kid}).encode())
            return f"{header}.{_b64url(json.dumps(claims).encode())}."
        if "hs256" in b:
            return jwt.encode(claims, CLIENT_SECRET, algorithm="HS256", headers={"kid": kid})
        if "unknown_key" in b:
            return jwt.encode(
                claims, self._stranger, algorithm="RS256", headers={"kid": "stranger"}
            )
        token = jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})
        if "tamper" in b:
            header, _payload, signature = token.split(".")
            forged = {**claims, "email": "attacker@example.com", "email_verified": True}
            return f"{header}.{_b64url(json.dumps(forged).encode())}.{signature}"
        return token


def _oauth_error(error: str, status: int = 400, description: str = "") -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@contextmanager
def serve_oidc_provider(provider: OidcTestProvider) -> Iterator[OidcTestProvider]:
    """Serve ``provider`` on a free loopback port for the duration of the block."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    provider.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        provider.app, log_level="warning", lifespan="off", ws="none", http="h11", loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test OpenID Connect provider did not start")
            time.sleep(0.02)
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def closed_port_url() -> str:
    """An http://127.0.0.1 URL nobody listens on: a provider that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def sign_in(
    client: httpx.AsyncClient,
    *,
    redirect_uri: str | None = None,
    rewrite_authorization: dict[str, str] | None = None,
) -> httpx.Response:
    """Walk the whole browser journey: Agora -> provider -> Agora's callback.

    ``rewrite_authorization`` replaces query parameters of the provider URL before the
    "browser" follows it (to play an attacker who swaps the PKCE challenge, say).
    """
    params = {} if redirect_uri is None else {"redirect_uri": redirect_uri}
    start = await client.get("/api/v1/auth/oidc/login", params=params)
    assert start.status_code == 302, start.text
    url = httpx.URL(start.headers["location"])
    if rewrite_authorization:
        url = url.copy_merge_params(rewrite_authorization)
    async with httpx.AsyncClient(timeout=10) as browser:
        at_provider = await browser.get(url)
    assert at_provider.status_code == 302, at_provider.text
    callback = at_provider.headers["location"]
    assert callback.startswith(CALLBACK_URL), callback
    return await client.get(callback)


async def callback_url_from_provider(client: httpx.AsyncClient) -> str:
    """Start a sign-in and let the provider answer, but do not call the callback yet."""
    start = await client.get("/api/v1/auth/oidc/login")
    assert start.status_code == 302, start.text
    async with httpx.AsyncClient(timeout=10) as browser:
        at_provider = await browser.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    return str(at_provider.headers["location"])
