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


def record_of(kind: type[R], row: Row[Any] | Mapping[Any, Any], **given: Any) -> R:
    """A ``kind`` read from the columns named like its fields; ``given`` fields as they are."""
    columns = row._mapping if isinstance(row, Row) else row
    for name, enum in _fields(kind):
        if name in given or name not in columns:
            continue
        value = columns[name]
        if enum is not None:
            value = enum(value)
        elif isinstance(value, UUID):
            value = plain_uuid(value)
        given[name] = value
    return kind(**given)


def values_of(record: DataclassInstance, **columns: Any) -> dict[str, Any]:
    """The record's fields as column values (enums by their value); ``columns`` override."""
    values = {field.name: getattr(record, field.name) for field in fields(record)}
    values = {k: v.value if isinstance(v, Enum) else v for k, v in values.items()}
    return values | columns


@cache
def _fields(kind: type[Any]) -> tuple[tuple[str, type[Enum] | None], ...]:
    """Each field's name, with its enum type when it is annotated with exactly one."""
    hints = get_type_hints(kind)
    return tuple(
        (field.name, hint if isinstance(hint, type) and issubclass(hint, Enum) else None)
        for field in fields(kind)
        for hint in (hints[field.name],)
    )
