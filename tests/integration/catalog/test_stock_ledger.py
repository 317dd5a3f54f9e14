"""The stock ledger sells stock atomically and never oversells, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from agora.bootstrap import Container
from agora.catalog.adapters.stock import SqlStockLedger
from agora.catalog.adapters.tables import products
from agora.catalog.services import CatalogService
from agora.platform.access import Principal
from agora.platform.errors import NotFoundError, OutOfStockError, ValidationError
from agora.platform.ids import new_id
from agora.platform.money import Money

from .conftest import make_product


async def _stock_and_version(container: Container, product_id: object) -> tuple[int, int]:
    async with container.engine.connect() as conn:
        row = (
            await conn.execute(
                select(products.c.stock, products.c.version).where(products.c.id == product_id)
            )
        ).one()
    return row.stock, row.version


async def test_reserve_takes_stock_and_snapshots_the_product(
    container: Container, catalog: CatalogService, staff_principal: Principal
) -> None:
    product = await make_product(catalog, staff_principal, price=Money(2500, "EUR"), stock=5)
    async with container.engine.begin() as conn:
        reservation = await SqlStockLedger(conn).reserve(product.id, 2)
    assert reservation.id == product.id
    assert reservation.sku == product.sku
    assert reservation.name == product.name
    assert reservation.price == Money(2500, "EUR")
    # Stock moved; the version (which guards staff edits) did not.
    assert await _stock_and_version(container, product.id) == (3, product.version)


async def test_reserving_more_than_available_changes_nothing(
    container: Container, catalog: CatalogService, staff_principal: Principal
) -> None:
    product = await make_product(catalog, staff_principal, stock=2)
    async with container.engine.begin() as conn:
        with pytest.raises(OutOfStockError) as caught:
            await SqlStockLedger(conn).reserve(product.id, 3)
    assert caught.value.details == {
        "product_id": str(product.id),
        "requested": 3,
        "available": 2,
    }
    assert (await _stock_and_version(container, product.id))[0] == 2


async def test_unpublished_deleted_and_unknown_products_cannot_be_reserved(
    container: Container, catalog: CatalogService, staff_principal: Principal
) -> None:
    draft = await make_product(catalog, staff_principal, is_published=False)
    deleted = await make_product(catalog, staff_principal)
    await catalog.delete_product(staff_principal, deleted.id)
    for product_id in (draft.id, deleted.id, new_id()):
        async with container.engine.begin() as conn:
            with pytest.raises(NotFoundError) as caught:
                await SqlStockLedger(conn).reserve(product_id, 1)
        assert caught.value.details == {"product_id": str(product_id)}
    assert (await _stock_and_version(container, draft.id))[0] == 10


async def test_a_quantity_below_one_is_refused(
    container: Container, catalog: CatalogService, staff_principal: Principal
) -> None:
    product = await make_product(catalog, staff_principal)
    async with container.engine.begin() as conn:
        for quantity in (0, -1):
            with pytest.raises(ValidationError):
                await SqlStockLedger(conn).reserve(product.id, quantity)


async def test_release_gives_stock_back(
    container: Container, catalog: CatalogService, staff_principal: Principal
) -> None:
    product = await make_product(catalog, staff_principal, stock=4)
    async with container.engine.begin() as conn:
        ledger = SqlStockLedger(conn)
        await ledger.reserve(product.id, 4)
        await ledger.release(product.id, 3)
    assert (await _stock_and_version(container, product.id))[0] == 3


async def test_a_rolled_back_reservation_leaves_stock_untouched(
    container: Container, catalog: CatalogService, staff_principal: Principal
) -> None:
    product = await make_product(catalog, staff_principal, stock=4)
    async with container.engine.connect() as conn:
        await conn.begin()
        await SqlStockLedger(conn).reserve(product.id, 4)
        await conn.rollback()
    assert (await _stock_and_version(container, product.id))[0] == 4


async def test_fifty_concurrent_reservations_never_oversell(
    container: Container, catalog: CatalogService, staff_principal: Principal
) -> None:
    product = await make_product(catalog, staff_principal, stock=10)

    async def buy_one() -> bool:
        # Each buyer has its own connection and transaction, as concurrent checkouts do.
        async with container.engine.connect() as conn:
            await conn.begin()
            try:
                await SqlStockLedger(conn).reserve(product.id, 1)
            except OutOfStockError:
                await conn.rollback()
                return False
            await conn.commit()
            return True

    outcomes = await asyncio.gather(*(buy_one() for _ in range(50)))
    assert outcomes.count(True) == 10
    assert (await _stock_and_version(container, product.id))[0] == 0
