"""A typed service registry: the composition root fills it, the edges look services up."""

from __future__ import annotations

from typing import Any, TypeVar, cast

T = TypeVar("T")


class ServiceRegistry:
    def __init__(self) -> None:
        self._services: dict[type[Any], Any] = {}

    def provide(self, kind: type[T], instance: T) -> None:
        self._services[kind] = instance

    def get(self, kind: type[T]) -> T:
        try:
            return cast(T, self._services[kind])
        except KeyError:
            raise LookupError(f"no {kind.__name__} was wired by the composition root") from None

    def find(self, kind: type[T]) -> T | None:
        return cast("T | None", self._services.get(kind))
