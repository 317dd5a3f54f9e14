"""Integer types for request schemas, bounded by the columns the values end up in.

An integer the column cannot hold never reaches the database: it is a 422 at the edge
(PostgreSQL refuses anything past 2**31 - 1 in an ``INTEGER`` column, the drivers
anything past 2**63 - 1, and either one would otherwise surface as a 500). Every
integer in a request body, query or path uses one of these aliases, with tighter
business bounds added on top where the domain has them, e.g.
``Annotated[Int32, Field(ge=1, le=99)]``. A test walks the OpenAPI document so that
a new field cannot forget.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from agora.platform.money import MAX_AMOUNT

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
"""Anything stored in (or compared with) an ``INTEGER`` column: counts, stock, positions."""

Version = Annotated[
    int, Field(ge=1, le=INT32_MAX, description="The version last read; a stale one is a 409.")
]
"""An optimistic-concurrency version (an ``INTEGER`` column on every aggregate)."""

Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="Integer minor units (cents).")]
"""A money amount in minor units: ``MAX_AMOUNT`` sits far inside its ``BIGINT`` column."""
