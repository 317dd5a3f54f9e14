"""Pydantic shapes of the envelope, for the OpenAPI document and for typed routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from agora.platform.money import MAX_AMOUNT, Money

T = TypeVar("T")


class PaginationMeta(BaseModel):
    page: int
    page_size: int
    total: int
    pages: int


class Meta(BaseModel):
    request_id: str | None
    timestamp: datetime
    version: str
    pagination: PaginationMeta | None = None


class Envelope(BaseModel, Generic[T]):
    success: Literal[True]
    data: T
    meta: Meta


class ErrorDetail(BaseModel):
    code: str = Field(examples=["VALIDATION_ERROR"])
    message: str
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    success: Literal[False]
    errors: ErrorDetail
    meta: Meta


class RequestModel(BaseModel):
    """The base of every request body: a field the API does not know is a 422, never
    silently dropped (a misspelt ``quantitiy`` must not turn into the default)."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    """A response shape whose every field is the same-named attribute of what it shows."""

    @classmethod
    def of(cls, source: object) -> dict[str, object]:
        """The response body as a plain dict (serialised directly by the envelope)."""
        return {name: getattr(source, name) for name in cls.model_fields}


class MoneyIn(RequestModel):
    amount: int = Field(ge=0, le=MAX_AMOUNT, description="Integer minor units (cents).")
    currency: str = Field(pattern="^[A-Z]{3}$", examples=["EUR"])

    def to_money(self) -> Money:
        return Money(self.amount, self.currency)


class MoneyOut(BaseModel):
    amount: int = Field(description="Integer minor units (cents).")
    currency: str = Field(examples=["EUR"])

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(amount=money.amount, currency=money.currency)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer with."""
    return {status: {"model": ErrorEnvelope} for status in statuses}
