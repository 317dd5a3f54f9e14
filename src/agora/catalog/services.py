"""Catalog use cases: managing products and categories, and reading them as a shopper.

Permissions are checked here, not in routes: staff (``CATALOG_WRITE``) change the
catalog; unpublished and deleted products do not exist for anyone else.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from agora.catalog.domain import (
    Category,
    CategoryNode,
    Product,
    ProductFilter,
    build_tree,
    category_event,
    descendants,
    product_event,
    validate_name,
    validate_price,
    validate_slug,
    validate_stock,
)
from agora.catalog.drafts import (
    CATEGORY_FIELDS,
    CategoryDraft,
    ProductDraft,
    changed_product,
    new_category,
    new_product,
)
from agora.catalog.ports import CatalogUnitOfWork, CatalogUnitOfWorkFactory
from agora.platform.access import Permission, Principal, require_principal
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.clock import utcnow
from agora.platform.errors import ConflictError, NotFoundError, ValidationError
from agora.platform.money import validate_currency

MAX_STOCK_DELTA = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ProductPage:
    items: list[Product]
    total: int
    page: int
    page_size: int


def parse_reference(reference: str | UUID) -> UUID | str:
    """An id-or-slug path parameter: a UUID if it parses as one, otherwise a slug."""
    if isinstance(reference, UUID):
        return reference
    try:
        return UUID(reference)
    except ValueError:
        return reference


class CatalogService:
    def __init__(
        self,
        unit_of_work: CatalogUnitOfWorkFactory,
        audit: AuditTrail | None = None,
        *,
        currency: str,
    ) -> None:
        self._uow = unit_of_work
        self._audit: AuditTrail = audit or NullAuditTrail()
        # The shop's one currency: every price is in it (``validate_price``).
        self._currency = validate_currency(currency)

    # -- shopper-facing reads -------------------------------------------------------

    async def list_products(
        self,
        principal: Principal | None,
        query: ProductFilter,
        *,
        page: int = 1,
        page_size: int = 20,
    ) -> ProductPage:
        if query.include_unpublished:
            require_principal(principal).require(Permission.CATALOG_READ_UNPUBLISHED)
        if (
            query.min_price is not None
            and query.max_price is not None
            and query.min_price > query.max_price
        ):
            raise ValidationError("min_price is above max_price.", field="min_price")
        async with self._uow(read_only=True) as uow:
            items, total = await uow.products.search(
                query, offset=(page - 1) * page_size, limit=page_size
            )
        return ProductPage(items, total, page, page_size)

    async def get_product(
        self,
        principal: Principal | None,
        reference: str | UUID,
        *,
        include_unpublished: bool = False,
    ) -> Product:
        if include_unpublished:
            require_principal(principal).require(Permission.CATALOG_READ_UNPUBLISHED)
        async with self._uow(read_only=True) as uow:
            product = await self._find(uow, reference)
        if product is None or product.deleted_at is not None:
            raise NotFoundError("Product not found.")
        if not product.is_published and not include_unpublished:
            raise NotFoundError("Product not found.")
        return product

    async def products_for_sale(self, ids: Collection[UUID]) -> dict[UUID, Product]:
        """Published, live products among ``ids`` (missing ones are simply absent)."""
        async with self._uow(read_only=True) as uow:
            found = await uow.products.get_many(set(ids))
        return {p.id: p for p in found if p.is_visible}

    async def products_by_id(self, ids: Collection[UUID]) -> dict[UUID, Product]:
        """Every stored product among ``ids``, unpublished and deleted ones included.

        For carts, which keep showing (and flagging) lines whose product left the shelf.
        """
        async with self._uow(read_only=True) as uow:
            found = await uow.products.get_many(set(ids))
        return {p.id: p for p in found}

    async def has_products(self) -> bool:
        async with self._uow(read_only=True) as uow:
            return await uow.products.exists()

    # -- staff: products ------------------------------------------------------------

    async def create_product(self, principal: Principal, draft: ProductDraft) -> Product:
        principal.require(Permission.CATALOG_WRITE)
        product = new_product(draft, self._currency)
        async with self._uow() as uow:
            await self._check_category(uow, product.category_id)
            await uow.products.add(product)
            uow.record(product_event("ProductCreated", product))
            await uow.commit()
        return product

    async def update_product(
        self,
        principal: Principal,
        product_id: UUID,
        version: int,
        changes: Mapping[str, Any],
    ) -> Product:
        """Apply ``changes`` if the product is still at ``version`` (else 409).

        Setting ``stock`` here is an absolute stock-take; relative movements go through
        ``adjust_stock`` so they never overwrite concurrent sales.
        """
        principal.require(Permission.CATALOG_WRITE)
        async with self._uow() as uow:
            product = await self._live(uow, product_id)
            changed = changed_product(product, changes, self._currency)
            if "category_id" in changes:
                await self._check_category(uow, changed.category_id)
            saved = await uow.products.update(changed, version)
            uow.record(product_event("ProductUpdated", saved, fields=sorted(changes)))
            await uow.commit()
        return saved

    async def publish_product(self, principal: Principal, product_id: UUID) -> Product:
        return await self._set_published(principal, product_id, published=True)

    async def unpublish_product(self, principal: Principal, product_id: UUID) -> Product:
        return await self._set_published(principal, product_id, published=False)

    async def _set_published(
        self, principal: Principal, product_id: UUID, *, published: bool
    ) -> Product:
        principal.require(Permission.CATALOG_WRITE)
        async with self._uow() as uow:
            product = await self._live(uow, product_id, for_update=True)
            if product.is_published == published:
                return product
            saved = await uow.products.update(
                replace(product, is_published=published, updated_at=utcnow()), product.version
            )
            name = "ProductPublished" if published else "ProductUnpublished"
            uow.record(product_event(name, saved))
            await uow.commit()
        return saved

    async def delete_product(self, principal: Principal, product_id: UUID) -> None:
        """Soft delete: the row stays for order history, the product leaves the catalog.

        Its SKU and slug stay taken, so old links and order lines never point at a
        different product.
        """
        principal.require(Permission.CATALOG_WRITE)
        async with self._uow() as uow:
            product = await self._live(uow, product_id, for_update=True)
            now = utcnow()
            saved = await uow.products.update(
                replace(product, deleted_at=now, updated_at=now), product.version
            )
            uow.record(product_event("ProductDeleted", saved))
            await self._audit_deleted(
                principal, "product", saved.id, sku=saved.sku, name=saved.name
            )
            await uow.commit()

    async def adjust_stock(
        self, principal: Principal, product_id: UUID, delta: int, reason: str
    ) -> Product:
        """Add (or remove, with a negative delta) stock atomically; never below zero."""
        principal.require(Permission.CATALOG_WRITE)
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
            raise ValidationError("delta is a non-zero whole number.", field="delta")
        if abs(delta) > MAX_STOCK_DELTA:
            raise ValidationError("delta is out of range.", field="delta")
        reason = reason.strip()
        if not reason or len(reason) > 200:
            raise ValidationError("A reason is 1 to 200 characters.", field="reason")
        async with self._uow() as uow:
            adjusted = await uow.products.adjust_stock(product_id, delta, utcnow())
            if adjusted is None:
                product = await self._live(uow, product_id)
                raise ConflictError(
                    "Stock cannot go below zero.",
                    product_id=str(product_id),
                    stock=product.stock,
                    delta=delta,
                )
            validate_stock(adjusted.stock)
            uow.record(product_event("StockAdjusted", adjusted, delta=delta, reason=reason))
            await uow.commit()
        return adjusted

    async def import_catalog(
        self,
        principal: Principal,
        categories: Sequence[CategoryDraft | Category],
        products: Sequence[Product],
    ) -> None:
        """Bulk-load categories and products (demo data, imports) in one transaction.

        Products must come from ``new_product``; no per-product events are written, so a
        100,000-product load does not flood the outbox.
        """
        principal.require(Permission.CATALOG_WRITE)
        for product in products:
            validate_price(product.price, self._currency)
        ready = [c if isinstance(c, Category) else new_category(c) for c in categories]
        async with self._uow() as uow:
            await uow.categories.add_many(ready)
            await uow.products.add_many(products)
            await uow.commit()

    # -- categories -----------------------------------------------------------------

    async def list_categories(self) -> list[Category]:
        async with self._uow(read_only=True) as uow:
            return await uow.categories.list_all()

    async def category_tree(self) -> list[CategoryNode]:
        return build_tree(await self.list_categories())

    async def get_category(self, reference: str | UUID) -> Category:
        parsed = parse_reference(reference)
        async with self._uow(read_only=True) as uow:
            if isinstance(parsed, UUID):
                category = await uow.categories.get(parsed)
            else:
                category = await uow.categories.get_by_slug(parsed)
        if category is None or category.deleted_at is not None:
            raise NotFoundError("Category not found.")
        return category

    async def create_category(self, principal: Principal, draft: CategoryDraft) -> Category:
        principal.require(Permission.CATALOG_WRITE)
        category = new_category(draft)
        async with self._uow() as uow:
            await self._check_parent(uow, category.parent_id)
            await uow.categories.add(category)
            uow.record(category_event("CategoryCreated", category))
            await uow.commit()
        return category

    async def update_category(
        self,
        principal: Principal,
        category_id: UUID,
        version: int,
        changes: Mapping[str, Any],
    ) -> Category:
        principal.require(Permission.CATALOG_WRITE)
        unknown = set(changes) - CATEGORY_FIELDS
        if unknown:
            raise ValidationError("Unknown fields.", fields=sorted(unknown))
        values: dict[str, Any] = {}
        if "name" in changes:
            values["name"] = validate_name(changes["name"] or "")
        if "slug" in changes:
            values["slug"] = validate_slug(changes["slug"] or "")
        async with self._uow() as uow:
            category = await self._live_category(uow, category_id)
            if "parent_id" in changes:
                parent_id = changes["parent_id"]
                await self._check_parent(uow, parent_id)
                if parent_id is not None and parent_id in descendants(
                    await uow.categories.list_all(), category_id
                ):
                    raise ValidationError(
                        "A category cannot be moved under itself or its descendants.",
                        field="parent_id",
                    )
                values["parent_id"] = parent_id
            saved = await uow.categories.update(
                replace(category, **values, updated_at=utcnow()), version
            )
            uow.record(category_event("CategoryUpdated", saved))
            await uow.commit()
        return saved

    async def delete_category(self, principal: Principal, category_id: UUID) -> None:
        """Soft delete, refused while the category still has subcategories or products."""
        principal.require(Permission.CATALOG_WRITE)
        async with self._uow() as uow:
            category = await self._live_category(uow, category_id)
            if await uow.categories.has_children(category_id):
                raise ConflictError("The category still has subcategories.", reason="children")
            if await uow.products.count_in_category(category_id):
                raise ConflictError("The category still has products.", reason="products")
            now = utcnow()
            saved = await uow.categories.update(
                replace(category, deleted_at=now, updated_at=now), category.version
            )
            uow.record(category_event("CategoryDeleted", saved))
            await self._audit_deleted(
                principal, "category", saved.id, slug=saved.slug, name=saved.name
            )
            await uow.commit()

    async def _audit_deleted(
        self, principal: Principal, kind: str, target_id: UUID, **details: str
    ) -> None:
        """The audit record of a staff deletion, ``catalog.<kind>_deleted``, written in the
        deletion's unit of work."""
        await self._audit.record(
            f"catalog.{kind}_deleted",
            actor_id=principal.user_id,
            target_type=kind,
            target_id=str(target_id),
            details=details,
        )

    # -- shared lookups -------------------------------------------------------------

    @staticmethod
    async def _find(uow: CatalogUnitOfWork, reference: str | UUID) -> Product | None:
        parsed = parse_reference(reference)
        if isinstance(parsed, UUID):
            return await uow.products.get(parsed)
        return await uow.products.get_by_slug(parsed)

    @staticmethod
    async def _live(
        uow: CatalogUnitOfWork, product_id: UUID, *, for_update: bool = False
    ) -> Product:
        product = await uow.products.get(product_id, for_update=for_update)
        if product is None or product.deleted_at is not None:
            raise NotFoundError("Product not found.", product_id=str(product_id))
        return product

    @staticmethod
    async def _live_category(uow: CatalogUnitOfWork, category_id: UUID) -> Category:
        category = await uow.categories.get(category_id)
        if category is None or category.deleted_at is not None:
            raise NotFoundError("Category not found.", category_id=str(category_id))
        return category

    @staticmethod
    async def _check_category(uow: CatalogUnitOfWork, category_id: UUID | None) -> None:
        if category_id is None:
            return
        category = await uow.categories.get(category_id)
        if category is None or category.deleted_at is not None:
            raise ValidationError("No such category.", field="category_id")

    @staticmethod
    async def _check_parent(uow: CatalogUnitOfWork, parent_id: UUID | None) -> None:
        if parent_id is None:
            return
        parent = await uow.categories.get(parent_id)
        if parent is None or parent.deleted_at is not None:
            raise ValidationError("No such parent category.", field="parent_id")
