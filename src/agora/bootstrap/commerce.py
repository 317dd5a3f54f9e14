"""The commerce contexts' wiring: catalog, payments, ordering (carts, checkout, orders).

Each context has a small builder that takes its adapters and the other contexts'
services it leans on through its ports, so a test can build one on fakes;
``build_commerce`` builds all three on ``CommerceAdapters``, which
``bootstrap.production`` picks from the settings. Ordering reads prices through the
catalog (its ``ProductCatalog`` port), takes payments through ``PaymentService`` and,
when checkout requires a verified email, asks identity's ``AccountService``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from agora.catalog.ports import CatalogUnitOfWorkFactory
from agora.catalog.services import CatalogService
from agora.ordering.carts import CartService
from agora.ordering.expiry import PendingPaymentExpiry
from agora.ordering.ports import (
    CustomerAccounts,
    OrderingUnitOfWorkFactory,
    PaymentProcessor,
    ProductCatalog,
)
from agora.ordering.services import OrderService
from agora.payments.ports import PaymentGateway, PaymentsUnitOfWorkFactory
from agora.payments.services import PaymentService
from agora.platform.audit import AuditTrail
from agora.platform.settings import Settings


@dataclass(frozen=True)
class CommerceAdapters:
    catalog_uow: CatalogUnitOfWorkFactory
    payments_uow: PaymentsUnitOfWorkFactory
    gateway: PaymentGateway  # the payment provider
    # Ordering's unit of work reserves stock on its own connection (catalog's ledger).
    ordering_uow: OrderingUnitOfWorkFactory


@dataclass(frozen=True)
class Commerce:
    catalog: CatalogService
    payments: PaymentService
    carts: CartService
    orders: OrderService
    # The scheduled job's side of ordering: orders left waiting for their payment.
    expiry: PendingPaymentExpiry


def build_catalog(
    settings: Settings, uow: CatalogUnitOfWorkFactory, audit: AuditTrail
) -> CatalogService:
    return CatalogService(uow, audit, currency=settings.currency)


def build_payments(
    uow: PaymentsUnitOfWorkFactory, gateway: PaymentGateway, audit: AuditTrail
) -> PaymentService:
    return PaymentService(uow, gateway, audit)


def build_ordering(
    settings: Settings,
    uow: OrderingUnitOfWorkFactory,
    *,
    catalog: ProductCatalog,
    payments: PaymentProcessor,
    accounts: CustomerAccounts,
    audit: AuditTrail,
) -> tuple[CartService, OrderService]:
    verified_email_required_by = accounts if settings.checkout_requires_verified_email else None
    orders = OrderService(
        uow,
        catalog,
        payments,
        audit,
        verified_email_required_by=verified_email_required_by,
        currency=settings.currency,
    )
    return CartService(uow, catalog, settings.currency), orders


def build_commerce(
    settings: Settings,
    adapters: CommerceAdapters,
    *,
    audit: AuditTrail,
    accounts: CustomerAccounts,
) -> Commerce:
    catalog = build_catalog(settings, adapters.catalog_uow, audit)
    payments = build_payments(adapters.payments_uow, adapters.gateway, audit)
    carts, orders = build_ordering(
        settings,
        adapters.ordering_uow,
        catalog=catalog,
        payments=payments,
        accounts=accounts,
        audit=audit,
    )
    expiry = PendingPaymentExpiry(
        adapters.ordering_uow,
        payments,
        timedelta(minutes=settings.pending_payment_timeout_minutes),
    )
    return Commerce(catalog, payments, carts, orders, expiry)
