"""The demo catalog is realistic and the same for the same seed."""

from __future__ import annotations

from agora.catalog.demo import DEPARTMENTS, demo_categories, demo_products
from agora.catalog.domain import validate_slug


def _fingerprint(seed: int) -> list[tuple[object, ...]]:
    categories = demo_categories()
    return [
        (p.sku, p.slug, p.name, p.description, p.price, p.stock, p.is_published, p.attributes)
        for p in demo_products(categories, 200, seed=seed)
    ]


def test_the_same_seed_gives_the_same_catalog_and_another_seed_another() -> None:
    assert _fingerprint(7) == _fingerprint(7)
    assert _fingerprint(7) != _fingerprint(8)


def test_the_tree_has_departments_with_three_to_five_aisles() -> None:
    categories = demo_categories()
    tops = [c for c in categories if c.parent_id is None]
    assert len(tops) == len(DEPARTMENTS) == 6
    for top in tops:
        assert 3 <= sum(1 for c in categories if c.parent_id == top.id) <= 5
    assert len({c.slug for c in categories}) == len(categories)


def test_products_are_plausible_unique_and_spread_over_aisles() -> None:
    categories = demo_categories()
    aisles = {c.id for c in categories if c.parent_id is not None}
    products = list(demo_products(categories, 500, seed=1))
    assert len({p.sku for p in products}) == len({p.slug for p in products}) == 500
    assert {p.category_id for p in products} == aisles
    for product in products:
        validate_slug(product.slug)
        assert product.price.currency == "EUR"
        assert product.price.amount % 100 == 99
        assert product.stock >= 0
        assert len(product.description) > 60
        assert "brand" in product.attributes
    assert any(p.stock == 0 for p in products)
    assert sum(p.is_published for p in products) > 450
    assert products[0].created_at < products[-1].created_at


def test_existing_categories_keep_their_ids() -> None:
    first = demo_categories()
    again = demo_categories({c.slug: c for c in first})
    assert [c.id for c in again] == [c.id for c in first]
