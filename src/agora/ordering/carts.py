"""Cart use cases: the customer's cart, priced live from the catalog.

Every command that grows the cart prices the cart it would leave behind before its
unit of work commits, so a refused command (a quantity whose total passes the largest
amount, a product in another currency) changes nothing. Reading never fails on what
happened to the catalog since: lines that cannot be bought are shown with their issue
(see ``agora.ordering.pricing``) and left out of the total.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from agora.ordering.domain import MAX_QUANTITY, Cart, check_quantity
from agora.ordering.ports import OrderingUnitOfWorkFactory, ProductCatalog
from agora.ordering.pricing import LineIssue, PricedCart, price_cart, require_sellable
from agora.platform.access import Principal
from agora.platform.clock import utcnow
from agora.platform.errors import NotFoundError, ValidationError
from agora.platform.money import MAX_AMOUNT


class CartService:
    def __init__(
        self, uow: OrderingUnitOfWorkFactory, catalog: ProductCatalog, currency: str
    ) -> None:
        self._uow = uow
        self._catalog = catalog
        self._currency = currency

    async def view(self, principal: Principal) -> PricedCart:
        return await self._price(await self._cart(principal))

    async def _cart(self, principal: Principal) -> Cart:
        async with self._uow(read_only=True) as uow:
            return await uow.carts.get(principal.user_id)

    async def add_item(self, principal: Principal, product_id: UUID, quantity: int) -> PricedCart:
        check_quantity(quantity)
        # Read and price first: the catalog read takes a connection of its own, which must
        # not be awaited while this request holds the write transaction (on SQLite, the
        # database's write lock).
        cart = await self._cart(principal)
        cart.add(product_id, quantity)  # line-count and quantity rules on what we read
        products = await self._catalog.products_by_id([*cart.lines, product_id])
        require_sellable(product_id, products.get(product_id), self._currency, field="product_id")
        async with self._uow() as uow:
            added = await uow.carts.add_quantity(
                principal.user_id, product_id, quantity, MAX_QUANTITY
            )
            if added is None:  # a concurrent add got there first; the sum is too big
                raise ValidationError(
                    f"A cart line holds at most {MAX_QUANTITY} units.", field="quantity"
                )
            priced = price_cart(
                cart.with_quantity(product_id, added).lines, products, self._currency
            )
            self._refuse_out_of_range(priced)
            await uow.commit()
        return priced

    async def set_quantity(
        self, principal: Principal, product_id: UUID, quantity: int
    ) -> PricedCart:
        check_quantity(quantity)
        cart = await self._cart(principal)
        if product_id not in cart.lines:
            raise NotFoundError("This product is not in the cart.", product_id=str(product_id))
        grows = quantity > cart.lines[product_id]
        cart = cart.with_quantity(product_id, quantity)
        priced = price_cart(
            cart.lines, await self._catalog.products_by_id(list(cart.lines)), self._currency
        )
        if grows:  # lowering a quantity is always allowed: it can only mend a cart
            self._refuse_out_of_range(priced)
        async with self._uow() as uow:
            # Still in the cart? (Removed meanwhile, the upsert below would bring it back.)
            if product_id not in (await uow.carts.get(principal.user_id)).lines:
                raise NotFoundError("This product is not in the cart.", product_id=str(product_id))
            await uow.carts.set_quantity(principal.user_id, product_id, quantity)
            await uow.commit()
        return priced

    async def remove_item(self, principal: Principal, product_id: UUID) -> PricedCart:
        # Removing and clearing only shrink the cart: pricing what is left cannot be
        # refused, so it happens after the commit, outside the write transaction.
        async with self._uow() as uow:
            if not await uow.carts.remove(principal.user_id, [product_id]):
                raise NotFoundError("This product is not in the cart.", product_id=str(product_id))
            cart = await uow.carts.get(principal.user_id)
            await uow.commit()
        return await self._price(cart)

    async def clear(self, principal: Principal) -> PricedCart:
        async with self._uow() as uow:
            await uow.carts.clear(principal.user_id)
            await uow.commit()
        return await self._price(Cart(principal.user_id))

    async def purge_abandoned(self, untouched_for: timedelta) -> str:
        """Delete carts nobody changed for ``untouched_for`` (a scheduled job; idempotent)."""
        async with self._uow() as uow:
            removed = await uow.carts.delete_untouched_since(utcnow() - untouched_for)
            await uow.commit()
        return f"{removed} lines of abandoned carts removed"

    @staticmethod
    def _refuse_out_of_range(priced: PricedCart) -> None:
        if priced.has(LineIssue.AMOUNT_OUT_OF_RANGE):
            raise ValidationError(
                "Money amount is out of range: with this quantity the cart's total would "
                f"pass the largest amount a cart can hold ({MAX_AMOUNT} minor units).",
                field="quantity",
                max_amount=MAX_AMOUNT,
                lines=[
                    str(line.product_id)
                    for line in priced.items
                    if line.issue is LineIssue.AMOUNT_OUT_OF_RANGE
                ],
            )

    async def _price(self, cart: Cart) -> PricedCart:
        products = await self._catalog.products_by_id(list(cart.lines)) if cart.lines else {}
        return price_cart(cart.lines, products, self._currency)
