"""Catalog writes on the real database: versions, duplicates, events, products for sale."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from agora.bootstrap import Container
from agora.catalog.services import CatalogService
from agora.platform.access import Principal
from agora.platform.db.tables import outbox_events
from agora.platform.errors import AlreadyExistsError, StaleVersionError
from agora.platform.ids import new_id
from agora.platform.money import Money

from .conftest import make_product


async def test_two_concurrent_edits_of_the_same_version_let_exactly_one_win(
    catalog: CatalogService, staff_principal: Principal
) -> None:
    product = await make_product(catalog, staff_principal)
    results = await asyncio.gather(
        catalog.update_product(staff_principal, product.id, 1, {"name": "First"}),
        catalog.update_product(staff_principal, product.id, 1, {"name": "Second"}),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, StaleVersionError)]
    assert (len(winners), len(losers)) == (1, 1)
    stored = await catalog.get_product(staff_principal, product.id)
    assert (stored.name, stored.version) == (winners[0].name, 2)


async def test_duplicate_sku_is_refused_and_nothing_is_written(
    catalog: CatalogService, staff_principal: Principal
) -> None:
    product = await make_product(catalog, staff_principal)
    with pytest.raises(AlreadyExistsError) as caught:
        await make_product(catalog, staff_principal, sku=product.sku)
    assert caught.value.details == {"field": "sku"}
    other = await make_product(catalog, staff_principal)
    with pytest.raises(AlreadyExistsError) as renamed:
        await catalog.update_product(staff_principal, other.id, 1, {"slug": product.slug})
    assert renamed.value.details == {"field": "slug"}
    assert (await catalog.get_product(None, other.id)).slug == other.slug


async def test_changes_write_their_events_to_the_outbox_in_the_same_transaction(
    container: Container, catalog: CatalogService, staff_principal: Principal
) -> None:
    product = await make_product(catalog, staff_principal)
    await catalog.adjust_stock(staff_principal, product.id, 5, "delivery")
    await catalog.delete_product(staff_principal, product.id)
    async with container.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(outbox_events.c.name, outbox_events.c.payload)
                .where(outbox_events.c.aggregate_id == product.id)
                .order_by(outbox_events.c.occurred_at)
            )
        ).all()
    assert [r.name for r in rows] == [
        "catalog.ProductCreated",
        "catalog.StockAdjusted",
        "catalog.ProductDeleted",
    ]
    assert rows[1].payload["delta"] == 5
    assert rows[1].payload["stock"] == 15


async def test_products_for_sale_returns_published_live_products_with_prices(
    catalog: CatalogService, staff_principal: Principal
) -> None:
    on_sale = await make_product(catalog, staff_principal, price=Money(1234, "EUR"))
    hidden = await make_product(catalog, staff_principal, is_published=False)
    found = await catalog.products_for_sale([on_sale.id, hidden.id, new_id()])
    assert list(found) == [on_sale.id]
    product = found[on_sale.id]
    assert (product.sku, product.slug, product.name) == (on_sale.sku, on_sale.slug, on_sale.name)
    assert (product.price, product.stock) == (Money(1234, "EUR"), 10)
    assert await catalog.products_for_sale([]) == {}
