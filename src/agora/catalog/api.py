"""REST routes of the catalog context: parse, call a service, render. No SQL, no policy."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from agora.catalog.domain import ProductFilter, ProductSort
from agora.catalog.drafts import CategoryDraft, ProductDraft
from agora.catalog.schemas import (
    CategoryCreate,
    CategoryOut,
    CategoryTreeOut,
    CategoryUpdate,
    ProductCreate,
    ProductOut,
    ProductUpdate,
    StockAdjustment,
    category_tree_out,
    product_out,
)
from agora.catalog.services import CatalogService, parse_reference
from agora.http import envelope
from agora.http.dependencies import CurrentPrincipal, OptionalPrincipal, Page, use
from agora.http.schemas import Envelope, error_responses
from agora.platform.money import MAX_AMOUNT

# Two groups of routes, joined under the one "catalog" tag by ``router`` at the end.
products = APIRouter(prefix="/products")
categories = APIRouter(prefix="/categories")
Catalog = Annotated[CatalogService, Depends(use(CatalogService))]
# The identifier rule: a ``{..._id}`` segment is a UUID, and a malformed one is a 422; an
# ``{reference}`` segment takes an id or a slug, so anything that is neither is a 404.
Reference = Annotated[str, Path(description="The id (a UUID) or the slug.")]
IncludeUnpublished = Annotated[
    bool,
    Query(description="Staff only: also show unpublished products."),
]
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


@products.get(
    "",
    summary="List and search products",
    response_model=Envelope[list[ProductOut]],
    responses=error_responses(401, 403, 422),
)
async def list_products(
    *,
    catalog: Catalog,
    principal: OptionalPrincipal,
    page: Page,
    q: Annotated[str | None, Query(max_length=200, description="Full-text search")] = None,
    category: Annotated[
        str | None,
        Query(min_length=1, max_length=120, description="Category id or slug (with descendants)"),
    ] = None,
    min_price: Annotated[int | None, Query(ge=0, le=MAX_AMOUNT, description="Minor units")] = None,
    max_price: Annotated[int | None, Query(ge=0, le=MAX_AMOUNT, description="Minor units")] = None,
    in_stock: Annotated[bool | None, Query()] = None,
    sort: Annotated[
        ProductSort | None,
        Query(description="Default: relevance with q, newest otherwise"),
    ] = None,
    include_unpublished: IncludeUnpublished = False,
) -> Response:
    query = ProductFilter(
        q=q.strip() if q else None,
        category=parse_reference(category) if category else None,
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
        include_unpublished=include_unpublished,
        sort=sort,
    )
    result = await catalog.list_products(principal, query, page=page.page, page_size=page.page_size)
    return envelope.ok(
        [product_out(p) for p in result.items],
        pagination=envelope.pagination(result.page, result.page_size, result.total),
    )


@products.get(
    "/{reference}",
    summary="One product, by id or slug",
    response_model=Envelope[ProductOut],
    responses=error_responses(401, 403, 404),
)
async def get_product(
    reference: Reference,
    catalog: Catalog,
    principal: OptionalPrincipal,
    include_unpublished: IncludeUnpublished = False,
) -> Response:
    """The product with this id or slug; anything that is neither (a malformed id too) is a 404.

    Routes that take only an id (``/products/{product_id}``) answer a malformed one with 422.
    """
    product = await catalog.get_product(
        principal, reference[:200], include_unpublished=include_unpublished
    )
    return envelope.ok(product_out(product))


@products.post(
    "",
    summary="Create a product (staff)",
    status_code=201,
    response_model=Envelope[ProductOut],
    responses=WRITE_ERRORS,
)
async def create_product(
    body: ProductCreate, catalog: Catalog, principal: CurrentPrincipal
) -> Response:
    draft = ProductDraft(
        sku=body.sku,
        name=body.name,
        slug=body.slug,
        description=body.description,
        price=body.price.to_money(),
        stock=body.stock,
        category_id=body.category_id,
        is_published=body.is_published,
        attributes=body.attributes,
    )
    product = await catalog.create_product(principal, draft)
    return envelope.ok(product_out(product), status_code=201)


@products.patch(
    "/{product_id}",
    summary="Change a product (staff; send the version you read)",
    response_model=Envelope[ProductOut],
    responses=WRITE_ERRORS,
)
async def update_product(
    product_id: UUID, body: ProductUpdate, catalog: Catalog, principal: CurrentPrincipal
) -> Response:
    product = await catalog.update_product(principal, product_id, body.version, body.changes())
    return envelope.ok(product_out(product))


@products.post(
    "/{product_id}/publish",
    summary="Publish a product (staff)",
    response_model=Envelope[ProductOut],
    responses=WRITE_ERRORS,
)
async def publish_product(
    product_id: UUID, catalog: Catalog, principal: CurrentPrincipal
) -> Response:
    return envelope.ok(product_out(await catalog.publish_product(principal, product_id)))


@products.post(
    "/{product_id}/unpublish",
    summary="Withdraw a product from sale (staff)",
    response_model=Envelope[ProductOut],
    responses=WRITE_ERRORS,
)
async def unpublish_product(
    product_id: UUID, catalog: Catalog, principal: CurrentPrincipal
) -> Response:
    return envelope.ok(product_out(await catalog.unpublish_product(principal, product_id)))


@products.post(
    "/{product_id}/stock-adjustments",
    summary="Add or remove stock atomically (staff)",
    response_model=Envelope[ProductOut],
    responses=WRITE_ERRORS,
)
async def adjust_stock(
    product_id: UUID, body: StockAdjustment, catalog: Catalog, principal: CurrentPrincipal
) -> Response:
    product = await catalog.adjust_stock(principal, product_id, body.delta, body.reason)
    return envelope.ok(product_out(product))


@products.delete(
    "/{product_id}",
    summary="Delete a product (staff; soft: order history keeps it)",
    status_code=204,
    responses=error_responses(401, 403, 404, 409),
)
async def delete_product(
    product_id: UUID, catalog: Catalog, principal: CurrentPrincipal
) -> Response:
    await catalog.delete_product(principal, product_id)
    return Response(status_code=204)


@categories.get(
    "",
    summary="All categories, flat (with parent_id) or as a tree",
    response_model=Envelope[list[CategoryOut]] | Envelope[list[CategoryTreeOut]],
    responses=error_responses(422),
)
async def list_categories(
    catalog: Catalog,
    tree: Annotated[bool, Query(description="Nest children under their parents")] = False,
) -> Response:
    if tree:
        return envelope.ok([category_tree_out(node) for node in await catalog.category_tree()])
    return envelope.ok([CategoryOut.of(c) for c in await catalog.list_categories()])


@categories.get(
    "/{reference}",
    summary="One category, by id or slug",
    response_model=Envelope[CategoryOut],
    responses=error_responses(404),
)
async def get_category(reference: Reference, catalog: Catalog) -> Response:
    """The category with this id or slug; anything that is neither (a malformed id too) is a 404.

    Routes that take only an id (``/categories/{category_id}``) answer a malformed one with 422.
    """
    return envelope.ok(CategoryOut.of(await catalog.get_category(reference[:200])))


@categories.post(
    "",
    summary="Create a category (staff)",
    status_code=201,
    response_model=Envelope[CategoryOut],
    responses=WRITE_ERRORS,
)
async def create_category(
    body: CategoryCreate, catalog: Catalog, principal: CurrentPrincipal
) -> Response:
    draft = CategoryDraft(name=body.name, slug=body.slug, parent_id=body.parent_id)
    category = await catalog.create_category(principal, draft)
    return envelope.ok(CategoryOut.of(category), status_code=201)


@categories.patch(
    "/{category_id}",
    summary="Rename or move a category (staff; send the version you read)",
    response_model=Envelope[CategoryOut],
    responses=WRITE_ERRORS,
)
async def update_category(
    category_id: UUID, body: CategoryUpdate, catalog: Catalog, principal: CurrentPrincipal
) -> Response:
    category = await catalog.update_category(principal, category_id, body.version, body.changes())
    return envelope.ok(CategoryOut.of(category))


@categories.delete(
    "/{category_id}",
    summary="Delete an empty category (staff)",
    status_code=204,
    responses=error_responses(401, 403, 404, 409),
)
async def delete_category(
    category_id: UUID, catalog: Catalog, principal: CurrentPrincipal
) -> Response:
    await catalog.delete_category(principal, category_id)
    return Response(status_code=204)


router = APIRouter(tags=["catalog"])
router.include_router(products)
router.include_router(categories)
