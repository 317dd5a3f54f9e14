"""The event catalogue: every event name, its payload schema per version, and a summary.

Each context declares the events it publishes as ``EventType`` values (in its
``events`` module); the composition root gathers them into one ``EventCatalogue``. The
relay validates every payload against it before publishing, the consumer side again
before a handler sees it, and the AsyncAPI document is generated from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from agora.platform.events.model import DomainEvent, EventMessage

P = TypeVar("P", bound=BaseModel)


class EventPayload(BaseModel):
    """Base of every payload schema: unknown fields are an error, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EventSchemaError(ValueError):
    """A payload that does not match its event's schema, or an event nobody declared."""


@dataclass(frozen=True, slots=True)
class EventType(Generic[P]):
    name: str
    schema: type[P]
    summary: str
    version: int = 1

    @property
    def context(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)


class EventCatalogue:
    def __init__(self, types: Iterable[EventType[Any]]) -> None:
        self._types: dict[tuple[str, int], EventType[Any]] = {}
        for event_type in types:
            if event_type.key in self._types:
                raise ValueError(f"event {event_type.name} v{event_type.version} declared twice")
            self._types[event_type.key] = event_type

    def __iter__(self) -> Iterator[EventType[Any]]:
        return iter(sorted(self._types.values(), key=lambda t: t.key))

    def __contains__(self, name: str) -> bool:
        return any(key[0] == name for key in self._types)

    def names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self._types)

    def get(self, name: str, version: int) -> EventType[Any]:
        try:
            return self._types[(name, version)]
        except KeyError:
            raise EventSchemaError(f"{name} v{version} is not in the event catalogue") from None

    def parse(self, name: str, version: int, payload: dict[str, Any]) -> BaseModel:
        """The typed payload; ``EventSchemaError`` naming each offending field otherwise."""
        schema: type[BaseModel] = self.get(name, version).schema
        try:
            parsed: BaseModel = schema.model_validate(payload)
            return parsed
        except PydanticValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or 'payload'}: {error['msg']}"
                for error in exc.errors()
            )
            raise EventSchemaError(f"{name} v{version} payload is invalid: {problems}") from None

    def check(self, event: DomainEvent | EventMessage) -> None:
        self.parse(event.name, event.version, event.payload)
