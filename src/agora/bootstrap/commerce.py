"""The commerce contexts' wiring: catalog, payments, ordering."""

from __future__ import annotations

from typing import assert_never

from agora.bootstrap.container import Container


def wire_catalog(c: Container) -> None:
    """Catalog: categories, products, search, stock.

    Ordering reserves stock with ``SqlStockLedger(connection)`` on its own unit of
    work's connection and reads prices through ``CatalogService.products_for_sale`` (and
    ``products_by_id``, for carts that still hold products no longer for sale).
    """
    from agora.catalog.adapters.sql import SqlCatalogUnitOfWork, TotalCache
    from agora.catalog.services import CatalogService
    from agora.platform.audit import AuditTrail

    engine = c.engine
    totals = TotalCache()

    def catalog_unit_of_work(*, read_only: bool = False) -> SqlCatalogUnitOfWork:
        return SqlCatalogUnitOfWork(engine, read_only=read_only, totals=totals)

    audit = c.registry.get(AuditTrail)  # type: ignore[type-abstract]
    c.registry.provide(
        CatalogService,
        CatalogService(catalog_unit_of_work, audit, currency=c.settings.currency),
    )


def wire_payments(c: Container) -> None:
    """Payments: the provider port and the payment records."""
    from agora.payments.adapters.sql import SqlPaymentsUnitOfWork
    from agora.payments.adapters.test_cards import TestCardGateway
    from agora.payments.services import PaymentService
    from agora.platform.audit import AuditTrail

    # AGORA_PAYMENTS_PROVIDER names the adapter; "test" is the only one so far.
    match c.settings.effective_payments_provider:
        case "test":
            gateway = TestCardGateway(c.settings.payment_webhook_secret.get_secret_value())
        case unknown:
            assert_never(unknown)
    engine = c.engine

    def unit_of_work(*, read_only: bool = False) -> SqlPaymentsUnitOfWork:
        return SqlPaymentsUnitOfWork(engine, read_only=read_only)

    audit = c.registry.get(AuditTrail)  # type: ignore[type-abstract]
    c.registry.provide(PaymentService, PaymentService(unit_of_work, gateway, audit))


def wire_ordering(c: Container) -> None:
    """Ordering: carts, checkout saga, orders."""
    from agora.catalog.adapters.stock import SqlStockLedger
    from agora.catalog.services import CatalogService
    from agora.ordering.adapters.sql import SqlOrderingUnitOfWork
    from agora.ordering.carts import CartService
    from agora.ordering.services import OrderService
    from agora.payments.services import PaymentService
    from agora.platform.audit import AuditTrail

    engine = c.engine

    def uow(*, read_only: bool = False) -> SqlOrderingUnitOfWork:
        return SqlOrderingUnitOfWork(engine, SqlStockLedger, read_only=read_only)

    from agora.identity.accounts.services import AccountService

    catalog = c.registry.get(CatalogService)
    payments = c.registry.get(PaymentService)
    accounts = c.registry.get(AccountService)
    verified_email_required_by = accounts if c.settings.checkout_requires_verified_email else None
    c.registry.provide(CartService, CartService(uow, catalog, c.settings.currency))
    audit = c.registry.get(AuditTrail)  # type: ignore[type-abstract]
    c.registry.provide(
        OrderService,
        OrderService(
            uow,
            catalog,
            payments,
            audit,
            verified_email_required_by=verified_email_required_by,
            currency=c.settings.currency,
        ),
    )
