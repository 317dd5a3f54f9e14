"""The stock audit after checkout load: every unit that left stock is held by an order."""

from __future__ import annotations

from typing import Any

import asyncpg

from database import BenchDatabase

# Orders in these states gave their stock back (or never kept it).
RELEASED_STATES = frozenset({"failed", "cancelled", "refunded", "payment_failed"})


def checkout_audit(db: BenchDatabase, product_id: str, stock_before: int) -> dict[str, Any]:
    """Compare the stock movement with the order lines for the checkout product."""
    try:
        stock_after = int(db.fetchval("SELECT stock FROM products WHERE id = $1::uuid", product_id))
        negative = int(db.fetchval("SELECT count(*) FROM products WHERE stock < 0"))
        rows = db.fetch(
            "SELECT o.status, count(*) AS orders, coalesce(sum(i.quantity), 0) AS units "
            "FROM orders o JOIN order_items i ON i.order_id = o.id "
            "WHERE i.product_id = $1::uuid GROUP BY o.status ORDER BY o.status",
            product_id,
        )
    except (asyncpg.PostgresError, TypeError) as exc:
        return {"verified": False, "problem": f"could not audit the stock: {exc}"}
    by_status = {
        row["status"]: {"orders": row["orders"], "units": int(row["units"])} for row in rows
    }
    units_held = sum(v["units"] for k, v in by_status.items() if k not in RELEASED_STATES)
    orders_held = sum(v["orders"] for k, v in by_status.items() if k not in RELEASED_STATES)
    stock_moved = stock_before - stock_after
    consistent = stock_moved == units_held and negative == 0 and stock_after >= 0
    return {
        "verified": True,
        "stock_before": stock_before,
        "stock_after": stock_after,
        "stock_moved": stock_moved,
        "orders_holding_stock": orders_held,
        "units_held_by_orders": units_held,
        "orders_by_status": by_status,
        "products_with_negative_stock": negative,
        # More units in orders than left stock: some were sold twice.
        "oversells": max(0, units_held - stock_moved) + negative,
        # Stock that left without an order holding it: a leak (not an oversell, still wrong).
        "units_unaccounted": max(0, stock_moved - units_held),
        "consistent": consistent,
    }
