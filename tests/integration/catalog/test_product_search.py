"""Product listing and full-text search on the real database (FTS5 or tsvector + pg_trgm)."""

from __future__ import annotations

import pytest

from agora.catalog.domain import ProductFilter, ProductSort
from agora.catalog.drafts import CategoryDraft
from agora.catalog.services import CatalogService
from agora.platform.access import Principal
from agora.platform.errors import AuthenticationError
from agora.platform.money import Money

from .conftest import make_product, token


async def _ids(catalog: CatalogService, **query: object) -> list[object]:
    page = await catalog.list_products(None, ProductFilter(**query), page_size=100)  # type: ignore[arg-type]
    return [p.id for p in page.items]


async def test_a_name_match_ranks_above_a_description_match(
    catalog: CatalogService, staff_principal: Principal
) -> None:
    word = token()
    in_description = await make_product(
        catalog, staff_principal, name="Plain mug", description=f"Pairs well with a {word}."
    )
    in_name = await make_product(catalog, staff_principal, name=f"Ceramic {word} set")
    assert await _ids(catalog, q=word) == [in_name.id, in_description.id]


async def test_search_matches_sku_and_word_prefixes(
    catalog: CatalogService, staff_principal: Principal
) -> None:
    word = token()
    product = await make_product(catalog, staff_principal, name=f"Lantern {word}")
    assert await _ids(catalog, q=word[:7]) == [product.id]
    assert await _ids(catalog, q=product.sku) == [product.id]
    awkward = await make_product(catalog, staff_principal, sku=f"AB-12E4-{word}")
    assert (await _ids(catalog, q=awkward.sku))[0] == awkward.id  # an exact SKU ranks first
    assert await _ids(catalog, q=f"lantern {word}") == [product.id]


async def test_search_follows_name_changes_in_the_same_transaction(
    catalog: CatalogService, staff_principal: Principal
) -> None:
    old, new = token(), token()
    product = await make_product(catalog, staff_principal, name=f"Kettle {old}")
    await catalog.update_product(staff_principal, product.id, 1, {"name": f"Kettle {new}"})
    assert await _ids(catalog, q=new) == [product.id]
    assert await _ids(catalog, q=old) == []


async def test_search_hides_unpublished_and_deleted_products(
    catalog: CatalogService, staff_principal: Principal
) -> None:
    word = token()
    draft = await make_product(catalog, staff_principal, name=f"Draft {word}", is_published=False)
    deleted = await make_product(catalog, staff_principal, name=f"Gone {word}")
    await catalog.delete_product(staff_principal, deleted.id)
    assert await _ids(catalog, q=word) == []
    with pytest.raises(AuthenticationError):
        await _ids(catalog, q=word, include_unpublished=True)
    staff_view = await catalog.list_products(
        staff_principal, ProductFilter(q=word, include_unpublished=True)
    )
    assert [p.id for p in staff_view.items] == [draft.id]


HOSTILE = ['"', "*", "NEAR(", "'", "%", "\\", "a OR b", "-x", "foo:*", "&|!", "()", "😀", "a" * 200]


async def test_hostile_queries_are_safe(catalog: CatalogService) -> None:
    for hostile in HOSTILE:
        page = await catalog.list_products(None, ProductFilter(q=hostile))
        assert page.total >= 0, hostile


async def test_punctuation_only_query_is_no_filter(catalog: CatalogService) -> None:
    unfiltered = await catalog.list_products(None, ProductFilter())
    punctuation = await catalog.list_products(None, ProductFilter(q='"*()'))
    assert punctuation.total == unfiltered.total


async def test_a_typo_still_finds_the_product_on_postgres(
    catalog: CatalogService, staff_principal: Principal, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("typo tolerance uses pg_trgm; FTS5 offers prefixes only")
    word = "blorptangle" + token()[1:5]
    product = await make_product(catalog, staff_principal, name=f"Travel {word}")
    typo = word[:4] + word[5:]  # one letter dropped
    assert product.id in await _ids(catalog, q=typo)


async def test_category_filter_includes_descendants_by_id_or_slug(
    catalog: CatalogService, staff_principal: Principal
) -> None:
    word = token()
    top = await catalog.create_category(staff_principal, CategoryDraft(name=f"Top {word}"))
    child = await catalog.create_category(
        staff_principal, CategoryDraft(name=f"Child {word}", parent_id=top.id)
    )
    other = await catalog.create_category(staff_principal, CategoryDraft(name=f"Other {word}"))
    in_top = await make_product(catalog, staff_principal, category_id=top.id)
    in_child = await make_product(catalog, staff_principal, category_id=child.id)
    await make_product(catalog, staff_principal, category_id=other.id)
    expected = {in_top.id, in_child.id}
    assert set(await _ids(catalog, category=top.id)) == expected
    assert set(await _ids(catalog, category=top.slug)) == expected
    assert await _ids(catalog, category=child.id) == [in_child.id]
    assert await _ids(catalog, category="no-such-category") == []


async def test_price_stock_filters_and_sorts(
    catalog: CatalogService, staff_principal: Principal
) -> None:
    word = token()
    cheap = await make_product(
        catalog, staff_principal, name=f"B {word}", price=Money(500, "EUR"), stock=0
    )
    mid = await make_product(catalog, staff_principal, name=f"C {word}", price=Money(1500, "EUR"))
    dear = await make_product(catalog, staff_principal, name=f"A {word}", price=Money(9000, "EUR"))
    assert await _ids(catalog, q=word, sort=ProductSort.PRICE_ASC) == [cheap.id, mid.id, dear.id]
    assert await _ids(catalog, q=word, sort=ProductSort.PRICE_DESC) == [dear.id, mid.id, cheap.id]
    assert await _ids(catalog, q=word, sort=ProductSort.NAME_ASC) == [dear.id, cheap.id, mid.id]
    assert await _ids(catalog, q=word, sort=ProductSort.NAME_DESC) == [mid.id, cheap.id, dear.id]
    assert await _ids(catalog, q=word, sort=ProductSort.NEWEST) == [dear.id, mid.id, cheap.id]
    assert set(await _ids(catalog, q=word, min_price=1000, max_price=9000)) == {dear.id, mid.id}
    assert await _ids(catalog, q=word, min_price=501, max_price=1500) == [mid.id]
    assert set(await _ids(catalog, q=word, in_stock=True)) == {mid.id, dear.id}
    assert await _ids(catalog, q=word, in_stock=False) == [cheap.id]


async def test_pages_split_the_result_and_count_the_total(
    catalog: CatalogService, staff_principal: Principal
) -> None:
    word = token()
    made = [await make_product(catalog, staff_principal, name=f"P{i} {word}") for i in range(5)]
    query = ProductFilter(q=word, sort=ProductSort.NEWEST)
    first = await catalog.list_products(None, query, page=1, page_size=2)
    third = await catalog.list_products(None, query, page=3, page_size=2)
    beyond = await catalog.list_products(None, query, page=4, page_size=2)
    assert (first.total, third.total, beyond.total) == (5, 5, 5)
    assert [p.id for p in first.items] == [made[4].id, made[3].id]
    assert [p.id for p in third.items] == [made[0].id]
    assert beyond.items == []
