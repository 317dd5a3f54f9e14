"""Catalog domain rules: slugs, SKUs, prices, stock, attributes, the tree and sorting."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from agora.catalog.domain import (
    Category,
    ProductFilter,
    ProductSort,
    build_tree,
    descendants,
    search_terms,
    slug_or_generated,
    slugify,
    validate_attributes,
    validate_name,
    validate_sku,
    validate_slug,
    validate_stock,
)
from agora.catalog.drafts import ProductDraft, new_product
from agora.catalog.services import parse_reference
from agora.platform.errors import ValidationError
from agora.platform.ids import new_id
from agora.platform.money import Money

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_slugify_makes_lower_case_ascii_words_joined_by_hyphens() -> None:
    assert slugify("Crème Brûlée!") == "creme-brulee"
    assert slugify("  Home & Garden -- 2026 ") == "home-garden-2026"
    assert slugify('27" Monitor') == "27-monitor"
    assert slugify("!!!") == ""
    assert len(slugify("word " * 100)) <= 120
    assert not slugify("word " * 100).endswith("-")


def test_valid_slugs_are_lower_case_letters_digits_and_single_hyphens() -> None:
    for good in ("a", "red-shirt", "27-monitor", "x1-y2-z3"):
        assert validate_slug(good) == good
    for bad in ("", "Red", "red_shirt", "red--shirt", "-red", "red-", "r é", "a" * 121):
        with pytest.raises(ValidationError):
            validate_slug(bad)


def test_a_missing_slug_is_generated_from_the_name_and_a_given_one_is_checked() -> None:
    assert slug_or_generated(None, "Blue Kettle") == "blue-kettle"
    assert slug_or_generated("my-kettle", "Blue Kettle") == "my-kettle"
    with pytest.raises(ValidationError) as caught:
        slug_or_generated(None, "???")
    assert caught.value.details == {"field": "slug"}
    with pytest.raises(ValidationError):
        slug_or_generated("Not OK", "Blue Kettle")


def test_skus_and_names_are_bounded_and_trimmed() -> None:
    assert validate_sku(" AB-12.x_3 ") == "AB-12.x_3"
    for bad in ("", "has space", "-leading", "a" * 65, "semi;colon"):
        with pytest.raises(ValidationError):
            validate_sku(bad)
    assert validate_name("  Lamp ") == "Lamp"
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(ValidationError):
            validate_name(bad)


def test_stock_is_a_whole_number_that_is_never_negative() -> None:
    assert validate_stock(0) == 0
    for bad in (-1, True, 1.0, 1_000_000_001):
        with pytest.raises(ValidationError):
            validate_stock(bad)  # type: ignore[arg-type]


def test_attributes_are_flat_scalars_or_lists_of_scalars() -> None:
    fine = {"colour": "red", "sizes": ["S", "M"], "weight_g": 350, "vegan": True, "note": None}
    assert validate_attributes(fine) == fine
    for bad in (
        {"nested": {"a": 1}},
        {"": "empty key"},
        {"long": "x" * 501},
        {f"k{i}": i for i in range(51)},
    ):
        with pytest.raises(ValidationError):
            validate_attributes(bad)


def test_a_new_product_is_validated_and_gets_a_slug_and_version_one() -> None:
    product = new_product(
        ProductDraft(sku="LAMP-1", name=" Desk Lamp ", price=Money(4999, "EUR"), stock=3), "EUR"
    )
    assert (product.name, product.slug, product.version) == ("Desk Lamp", "desk-lamp", 1)
    assert product.in_stock
    assert not product.is_visible  # drafts start unpublished
    with pytest.raises(ValidationError):
        new_product(ProductDraft(sku="X", name="X", price=Money(-1, "EUR")), "EUR")
    with pytest.raises(ValidationError):
        new_product(ProductDraft(sku="X", name="X", price=Money(1, "EUR"), stock=-5), "EUR")


def test_relevance_is_the_default_only_when_there_is_a_query() -> None:
    assert ProductFilter().effective_sort is ProductSort.NEWEST
    assert ProductFilter(q="lamp").effective_sort is ProductSort.RELEVANCE
    assert ProductFilter(sort=ProductSort.RELEVANCE).effective_sort is ProductSort.NEWEST
    assert ProductFilter(q="x", sort=ProductSort.PRICE_ASC).effective_sort is ProductSort.PRICE_ASC


def test_search_terms_keep_words_and_drop_every_operator() -> None:
    assert search_terms('"red" NEAR(shirt* OR -blue) \'%\\') == [
        "red", "near", "shirt", "or", "blue",
    ]  # fmt: skip
    assert search_terms("") == []
    assert search_terms(None) == []
    assert search_terms("\"*()'%\\") == []
    assert search_terms("Crème brûlée") == ["crème", "brûlée"]
    assert len(search_terms("w " * 100)) == 12


def _category(name: str, parent: Category | None = None) -> Category:
    return Category(new_id(), slugify(name), name, parent.id if parent else None, NOW, NOW)


def test_the_tree_nests_children_and_descendants_are_found_at_any_depth() -> None:
    home = _category("Home")
    kitchen = _category("Kitchen", home)
    pans = _category("Pans", kitchen)
    toys = _category("Toys")
    tree = build_tree([home, kitchen, pans, toys])
    assert [n.category.name for n in tree] == ["Home", "Toys"]
    assert tree[0].children[0].children[0].category is pans
    assert descendants([home, kitchen, pans, toys], home.id) == {home.id, kitchen.id, pans.id}
    assert descendants([home, kitchen, pans, toys], toys.id) == {toys.id}


def test_a_reference_is_an_id_when_it_parses_as_one_and_a_slug_otherwise() -> None:
    ident = new_id()
    assert parse_reference(str(ident)) == ident
    assert isinstance(parse_reference(str(ident)), UUID)
    assert parse_reference("blue-kettle") == "blue-kettle"
