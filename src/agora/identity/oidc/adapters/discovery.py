"""The provider's discovery document (OpenID Connect Discovery 1.0), checked before use."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agora.identity.oidc.domain import OidcProviderUnavailableError
from agora.platform.logging import get_logger

log = get_logger("agora.identity.oidc")

# Asymmetric JWS algorithms only: with HMAC the client secret would be the key, and
# anyone holding it (every instance, every log that leaks it) could mint ID tokens.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    algorithms: frozenset[str]
    client_auth: str  # "client_secret_basic" or "client_secret_post"
    issuer_in_response: bool


def parse_metadata(
    document: Mapping[str, Any], *, issuer: str, schemes: tuple[str, ...]
) -> ProviderMetadata:
    """The provider's metadata, if the document is complete, names ``issuer`` and keeps
    to ``schemes`` and asymmetric algorithms; ``OidcProviderUnavailableError`` if not."""
    for name in _REQUIRED_METADATA:
        if not isinstance(document.get(name), str) or not document[name]:
            log.warning("oidc_discovery_incomplete", missing=name)
            raise OidcProviderUnavailableError("discovery")
    if document["issuer"] != issuer:
        # OpenID Connect Discovery 4.3: the document must name exactly this issuer.
        log.warning("oidc_issuer_mismatch", configured=issuer, published=document["issuer"])
        raise OidcProviderUnavailableError("issuer_mismatch")
    endpoints = [document[name] for name in _REQUIRED_METADATA[1:]]
    userinfo = document.get("userinfo_endpoint")
    if isinstance(userinfo, str) and userinfo:
        endpoints.append(userinfo)
    else:
        userinfo = None
    for endpoint in endpoints:
        if urllib.parse.urlsplit(endpoint).scheme not in schemes:
            log.warning("oidc_endpoint_scheme_refused", endpoint=endpoint)
            raise OidcProviderUnavailableError("discovery")
    advertised = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = frozenset(a for a in advertised if a in ASYMMETRIC_ALGORITHMS)
    if not algorithms:
        log.warning("oidc_no_asymmetric_algorithm", advertised=advertised)
        raise OidcProviderUnavailableError("algorithms")
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" in methods:
        client_auth = "client_secret_basic"
    elif "client_secret_post" in methods:
        client_auth = "client_secret_post"
    else:
        log.warning("oidc_no_client_auth_method", advertised=methods)
        raise OidcProviderUnavailableError("client_auth")
    return ProviderMetadata(
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=userinfo,
        algorithms=algorithms,
        client_auth=client_auth,
        issuer_in_response=document.get("authorization_response_iss_parameter_supported") is True,
    )
