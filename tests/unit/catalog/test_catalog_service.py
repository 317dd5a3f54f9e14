"""CatalogService rules, built by the composition root on in-memory fakes: permissions,
visibility, versions, events."""

from __future__ import annotations

import pytest

from agora.bootstrap.commerce import build_catalog
from agora.catalog.domain import ProductFilter
from agora.catalog.drafts import CategoryDraft, ProductDraft, new_product
from agora.catalog.services import CatalogService
from agora.platform.access import Principal, Role
from agora.platform.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StaleVersionError,
    ValidationError,
)
from agora.platform.ids import new_id
from agora.platform.money import Money
from tests.fakes import CatalogStore, FakeCatalogUnitOfWork, RecordingAuditTrail, unit_settings

STAFF = Principal.for_user(new_id(), Role.STAFF)
CUSTOMER = Principal.for_user(new_id(), Role.CUSTOMER)


@pytest.fixture
def store() -> CatalogStore:
    return CatalogStore()


@pytest.fixture
def catalog(store: CatalogStore) -> CatalogService:
    return build_catalog(
        unit_settings(currency="EUR"), FakeCatalogUnitOfWork.factory(store), RecordingAuditTrail()
    )


def draft(**overrides: object) -> ProductDraft:
    values: dict[str, object] = {
        "sku": "LAMP-1",
        "name": "Desk Lamp",
        "price": Money(4999, "EUR"),
        "stock": 5,
        "is_published": True,
    }
    values.update(overrides)
    return ProductDraft(**values)  # type: ignore[arg-type]


async def test_customers_cannot_change_the_catalog(catalog: CatalogService) -> None:
    with pytest.raises(PermissionDeniedError):
        await catalog.create_product(CUSTOMER, draft())
    product = await catalog.create_product(STAFF, draft())
    for attempt in (
        catalog.update_product(CUSTOMER, product.id, 1, {"name": "Mine"}),
        catalog.delete_product(CUSTOMER, product.id),
        catalog.publish_product(CUSTOMER, product.id),
        catalog.adjust_stock(CUSTOMER, product.id, 1, "found one"),
        catalog.create_category(CUSTOMER, CategoryDraft(name="Mine")),
    ):
        with pytest.raises(PermissionDeniedError):
            await attempt


async def test_creating_a_product_records_an_event_in_the_same_commit(
    catalog: CatalogService, store: CatalogStore
) -> None:
    product = await catalog.create_product(STAFF, draft())
    assert [e.name for e in store.events] == ["catalog.ProductCreated"]
    assert store.events[0].aggregate_id == product.id


async def test_duplicates_are_refused(catalog: CatalogService) -> None:
    await catalog.create_product(STAFF, draft())
    with pytest.raises(AlreadyExistsError):
        await catalog.create_product(STAFF, draft(slug="other-slug"))


async def test_a_stale_version_is_a_conflict_and_changes_nothing(
    catalog: CatalogService, store: CatalogStore
) -> None:
    product = await catalog.create_product(STAFF, draft())
    await catalog.update_product(STAFF, product.id, 1, {"name": "Lamp v2"})
    with pytest.raises(StaleVersionError):
        await catalog.update_product(STAFF, product.id, 1, {"name": "Lamp v3"})
    assert store.products[product.id].name == "Lamp v2"


async def test_updates_are_validated(catalog: CatalogService) -> None:
    product = await catalog.create_product(STAFF, draft())
    for changes in ({"stock": -1}, {"slug": "Bad Slug"}, {"name": None}, {"colour": "red"}):
        with pytest.raises(ValidationError):
            await catalog.update_product(STAFF, product.id, 1, changes)
    with pytest.raises(ValidationError):
        await catalog.update_product(STAFF, product.id, 1, {"category_id": new_id()})


async def test_unpublished_products_are_hidden_unless_staff_ask(catalog: CatalogService) -> None:
    product = await catalog.create_product(STAFF, draft(is_published=False))
    for principal in (None, CUSTOMER, STAFF):
        with pytest.raises(NotFoundError):
            await catalog.get_product(principal, product.id)
    with pytest.raises(PermissionDeniedError):
        await catalog.get_product(CUSTOMER, product.id, include_unpublished=True)
    with pytest.raises(AuthenticationError):
        await catalog.get_product(None, product.id, include_unpublished=True)
    seen = await catalog.get_product(STAFF, product.slug, include_unpublished=True)
    assert seen.id == product.id
    assert await catalog.products_for_sale([product.id]) == {}


async def test_products_for_sale_only_returns_live_published_products(
    catalog: CatalogService,
) -> None:
    on_sale = await catalog.create_product(STAFF, draft())
    deleted = await catalog.create_product(STAFF, draft(sku="B", slug="b"))
    await catalog.delete_product(STAFF, deleted.id)
    found = await catalog.products_for_sale([on_sale.id, deleted.id, new_id()])
    assert list(found) == [on_sale.id]
    assert found[on_sale.id].price == Money(4999, "EUR")


async def test_stock_adjustments_never_go_below_zero(catalog: CatalogService) -> None:
    product = await catalog.create_product(STAFF, draft(stock=2))
    assert (await catalog.adjust_stock(STAFF, product.id, -2, "sold in shop")).stock == 0
    with pytest.raises(ConflictError):
        await catalog.adjust_stock(STAFF, product.id, -1, "oops")
    with pytest.raises(ValidationError):
        await catalog.adjust_stock(STAFF, product.id, 0, "nothing")
    with pytest.raises(NotFoundError):
        await catalog.adjust_stock(STAFF, new_id(), 1, "ghost")


async def test_min_price_above_max_price_is_invalid(catalog: CatalogService) -> None:
    with pytest.raises(ValidationError):
        await catalog.list_products(None, ProductFilter(min_price=10, max_price=5))


async def test_categories_in_use_cannot_be_deleted_and_cannot_form_cycles(
    catalog: CatalogService,
) -> None:
    top = await catalog.create_category(STAFF, CategoryDraft(name="Home"))
    child = await catalog.create_category(STAFF, CategoryDraft(name="Kitchen", parent_id=top.id))
    with pytest.raises(ConflictError):
        await catalog.delete_category(STAFF, top.id)
    await catalog.create_product(STAFF, draft(category_id=child.id))
    with pytest.raises(ConflictError):
        await catalog.delete_category(STAFF, child.id)
    with pytest.raises(ValidationError):
        await catalog.update_category(STAFF, top.id, 1, {"parent_id": child.id})
    with pytest.raises(ValidationError):
        await catalog.create_category(STAFF, CategoryDraft(name="Orphan", parent_id=new_id()))
    tree = await catalog.category_tree()
    assert [n.category.slug for n in tree] == ["home"]
    assert [n.category.slug for n in tree[0].children] == ["kitchen"]


async def test_prices_are_only_in_the_shops_currency_however_products_arrive(
    catalog: CatalogService, store: CatalogStore
) -> None:
    for currency in ("USD", "XYZ"):
        with pytest.raises(ValidationError) as caught:
            await catalog.create_product(STAFF, draft(price=Money(100, currency)))
        assert caught.value.details["allowed"] == ["EUR"]
    assert store.products == {}
    product = await catalog.create_product(STAFF, draft())
    with pytest.raises(ValidationError):
        await catalog.update_product(STAFF, product.id, 1, {"price": Money(100, "USD")})
    assert store.products[product.id].price == Money(4999, "EUR")
    foreign = new_product(ProductDraft(sku="IMP-1", name="Imported", price=Money(1, "USD")), "USD")
    with pytest.raises(ValidationError):  # seeding and imports obey the same rule
        await catalog.import_catalog(STAFF, [], [foreign])
    assert foreign.id not in store.products


def test_a_catalog_needs_a_real_shop_currency() -> None:
    # The service's own guard, behind the settings' (which refuse AGORA_CURRENCY=XYZ first).
    with pytest.raises(ValidationError):
        CatalogService(FakeCatalogUnitOfWork.factory(CatalogStore()), currency="XYZ")
