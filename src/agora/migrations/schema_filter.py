"""What schema comparison ignores: search structures the catalog migration manages by hand.

Kept apart from ``env.py`` so tests can compare the migrated schema with the metadata.
"""

from __future__ import annotations


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # Search structures (FTS5 shadow tables, tsvector columns) are managed by hand in
    # the catalog migration and are not part of the SQLAlchemy metadata.
    if (
        type_ == "table"
        and name
        and (name.startswith("products_fts") or name.startswith("alembic"))
    ):
        return False
    if type_ == "column" and name == "search_vector":
        return False
    return not (type_ == "index" and name and name.startswith("ix_products_search"))
