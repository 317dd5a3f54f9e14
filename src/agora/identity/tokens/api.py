"""The public signing keys that verify access tokens (JWKS), at ``/.well-known/jwks.json``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import use
from agora.http.schemas import error_responses
from agora.identity.tokens.schemas import JwksOut
from agora.identity.tokens.services import SigningKeyService

well_known = APIRouter(tags=["auth"])
Keys = Annotated[SigningKeyService, Depends(use(SigningKeyService))]


@well_known.get(
    "/.well-known/jwks.json",
    response_model=JwksOut,
    responses=error_responses(503),
    summary="The public keys that verify access tokens (JWKS)",
    description="A plain RFC 7517 key set (no envelope): the active key and retired keys "
    "whose tokens may still be alive. Match a token's `kid` header to a key.",
)
async def jwks(keys: Keys) -> Response:
    document = await keys.jwks()
    return Response(
        envelope.dumps(document),
        media_type="application/json",
        headers={"Cache-Control": f"public, max-age={keys.jwks_max_age}"},
    )
