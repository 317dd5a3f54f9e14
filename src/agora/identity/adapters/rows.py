"""Rows to records and back, for the dataclasses whose fields are named like their columns.

Enums are stored by their value and read back into their type, ids are read back as
plain ``uuid.UUID``; a field stored any other way is given explicitly at the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints
from uuid import UUID

from sqlalchemy import Row

from agora.platform.db.schema import plain_uuid

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


def record_of(kind: type[R], row: Row[Any] | Mapping[str, Any], **given: Any) -> R:
    """A ``kind`` read from the columns named like its fields; ``given`` fields as they are."""
    columns = row._mapping if isinstance(row, Row) else row
    values = dict(given)
    for name, enum in _enums(kind).items():
        if name not in values:
            values[name] = enum(columns[name])
    for field in fields(kind):
        if field.name not in values and field.name in columns:
            value = columns[field.name]
            values[field.name] = plain_uuid(value) if isinstance(value, UUID) else value
    return kind(**values)


def values_of(record: DataclassInstance, **columns: Any) -> dict[str, Any]:
    """The record's fields as column values (enums by their value); ``columns`` override."""
    values = {field.name: getattr(record, field.name) for field in fields(record)}
    values = {k: v.value if isinstance(v, Enum) else v for k, v in values.items()}
    return values | columns


@cache
def _enums(kind: type[Any]) -> dict[str, type[Enum]]:
    hints = get_type_hints(kind)
    return {
        name: hint
        for name, hint in hints.items()
        if isinstance(hint, type) and issubclass(hint, Enum)
    }
