"""REST routes of the payments context: parse, call a service, render. No SQL, no policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import use
from agora.http.schemas import Envelope, error_responses
from agora.payments.schemas import WebhookReceipt
from agora.payments.services import PaymentService

router = APIRouter(prefix="/payments", tags=["payments"])
Payments = Annotated[PaymentService, Depends(use(PaymentService))]


@router.post(
    "/webhooks/test",
    summary="Notifications from the test payment provider (signed)",
    response_model=Envelope[WebhookReceipt],
    responses=error_responses(400, 401, 409),
)
async def test_provider_webhook(
    request: Request,
    payments: Payments,
    # Optional so that a missing signature is refused like a bad one (401), not as a 422.
    signature: Annotated[str | None, Header(alias="Agora-Signature", max_length=300)] = None,  # noqa: PT028 - a route, not a test
) -> Response:
    """Verify ``Agora-Signature`` (HMAC-SHA256 of ``"<t>.<body>"``, five-minute tolerance).

    A missing, bad or stale signature is 401, a body that is not an event is 400; an
    event delivered again is acknowledged and changes nothing.
    """
    event = await payments.apply_webhook(await request.body(), signature or "")
    return envelope.ok({"event_id": event.id, "type": event.type})
