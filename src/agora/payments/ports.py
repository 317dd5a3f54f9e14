"""Ports of the payments context: the provider and the payment records."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.payments.domain import GatewayResult, Payment, WebhookEvent
from agora.platform.money import Money
from agora.platform.unit_of_work import UnitOfWork, UnitOfWorkFactory


class PaymentGateway(Protocol):
    """A payment provider. Cards are tokenised in the browser: only tokens reach us."""

    @property
    def name(self) -> str: ...

    def check_token(self, token: str) -> None:
        """Raise ``ValidationError`` when the provider would never accept ``token``."""
        ...

    async def authorize(self, amount: Money, token: str, idempotency_key: str) -> GatewayResult:
        """Reserve ``amount`` on the card; a retry with the same key repeats the answer."""
        ...

    async def capture(self, reference: str) -> GatewayResult: ...

    async def lookup(self, idempotency_key: str) -> GatewayResult | None:
        """What the provider holds for the charge sent with ``idempotency_key`` (authorized,
        captured or declined, with its reference); None when it never received it."""
        ...

    async def refund(self, reference: str, amount: Money) -> GatewayResult: ...

    def verify_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        """Return the event, or raise ``AuthenticationError`` for a bad signature."""
        ...


class PaymentRepository(Protocol):
    async def add(self, payment: Payment) -> None: ...

    async def active_for_order(self, order_id: UUID) -> Payment | None:
        """The pending, authorized or captured payment of an order, if any."""
        ...

    async def latest_for_order(self, order_id: UUID) -> Payment | None: ...

    async def by_reference(self, provider: str, reference: str) -> Payment | None: ...

    async def unsettled(self, updated_before: datetime, limit: int) -> list[Payment]:
        """Payments still pending or authorized, last changed before ``updated_before``,
        oldest first."""
        ...

    async def save(self, payment: Payment, expected_version: int) -> bool:
        """Write ``payment`` if its stored version is still ``expected_version``."""
        ...

    async def remember_webhook(self, event_id: str, event_type: str) -> bool:
        """Record a processed webhook event; False when it was seen before."""
        ...


class PaymentsUnitOfWork(UnitOfWork, Protocol):
    @property
    def payments(self) -> PaymentRepository: ...


PaymentsUnitOfWorkFactory = UnitOfWorkFactory[PaymentsUnitOfWork]
