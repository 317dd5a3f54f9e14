"""Catalog tables: categories, products, and their full-text search structures.

Search is kept in the same transaction as the product by the database itself:
- PostgreSQL: a generated ``search_vector`` tsvector column (``english`` configuration,
  so "boots" finds "boot"; name and SKU weighted A, description B) with a GIN index,
  and ``pg_trgm`` with a GIN trigram index on the name for typo tolerance.
- SQLite: an FTS5 external-content table ``products_fts`` over name, SKU and
  description, kept in step by triggers. It addresses products by their implicit
  ``rowid``; after a ``VACUUM`` (which may renumber rowids of tables without an
  INTEGER PRIMARY KEY) run ``INSERT INTO products_fts(products_fts) VALUES('rebuild')``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from agora.platform.db.schema import JsonDocument, Timestamp

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PG_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """
    ALTER TABLE products ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A')
        || setweight(to_tsvector('simple'::regconfig, coalesce(sku, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')
    ) STORED
    """,
    "CREATE INDEX ix_products_search_vector ON products USING gin (search_vector)",
    "CREATE INDEX ix_products_search_name_trgm ON products USING gin (name gin_trgm_ops)",
]

SQLITE_SEARCH = [
    """
    CREATE VIRTUAL TABLE products_fts USING fts5(
        name, sku, description,
        content='products', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    )
    """,
    """
    CREATE TRIGGER products_fts_after_insert AFTER INSERT ON products BEGIN
        INSERT INTO products_fts(rowid, name, sku, description)
        VALUES (new.rowid, new.name, new.sku, new.description);
    END
    """,
    """
    CREATE TRIGGER products_fts_after_delete AFTER DELETE ON products BEGIN
        INSERT INTO products_fts(products_fts, rowid, name, sku, description)
        VALUES ('delete', old.rowid, old.name, old.sku, old.description);
    END
    """,
    # Only text changes touch the index: stock movements at checkout stay cheap.
    """
    CREATE TRIGGER products_fts_after_update AFTER UPDATE OF name, sku, description
    ON products BEGIN
        INSERT INTO products_fts(products_fts, rowid, name, sku, description)
        VALUES ('delete', old.rowid, old.name, old.sku, old.description);
        INSERT INTO products_fts(rowid, name, sku, description)
        VALUES (new.rowid, new.name, new.sku, new.description);
    END
    """,
]


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted_at", Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["categories.id"], name=op.f("fk_categories_parent_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    op.create_index("ix_categories_parent_id", "categories", ["parent_id"])
    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column("stock", sa.Integer(), server_default="0", nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("is_published", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("attributes", JsonDocument, nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.Column("updated_at", Timestamp(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("deleted_at", Timestamp(), nullable=True),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_products_stock_non_negative")),
        sa.CheckConstraint("price_amount >= 0", name=op.f("ck_products_price_non_negative")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_products_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
        sa.UniqueConstraint("slug", name=op.f("uq_products_slug")),
    )
    op.create_index("ix_products_category_id", "products", ["category_id"])
    op.create_index("ix_products_created_at", "products", ["created_at"])
    op.create_index("ix_products_price_amount", "products", ["price_amount"])
    op.create_index("ix_products_name", "products", ["name"])
    statements = PG_SEARCH if op.get_bind().dialect.name == "postgresql" else SQLITE_SEARCH
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_products_search_name_trgm")
        op.execute("DROP INDEX IF EXISTS ix_products_search_vector")
    else:
        for trigger in ("after_insert", "after_delete", "after_update"):
            op.execute(f"DROP TRIGGER IF EXISTS products_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS products_fts")
    op.drop_index("ix_products_name", table_name="products")
    op.drop_index("ix_products_price_amount", table_name="products")
    op.drop_index("ix_products_created_at", table_name="products")
    op.drop_index("ix_products_category_id", table_name="products")
    op.drop_table("products")
    op.drop_index("ix_categories_parent_id", table_name="categories")
    op.drop_table("categories")
