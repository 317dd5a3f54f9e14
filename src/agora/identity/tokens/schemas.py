"""The JWKS document: the public keys that verify access tokens."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class JsonWebKey(BaseModel):
    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str
    y: str
    kid: str
    alg: Literal["ES256"]
    use: Literal["sig"]


class JwksOut(BaseModel):
    """RFC 7517 JSON Web Key Set: the public keys that verify Agora's access tokens."""

    keys: list[JsonWebKey]
