"""Identifiers are UUIDv7: unique and ordered by creation time."""

from __future__ import annotations

import time

from agora.platform.ids import new_id


def test_ids_are_version_7_and_rfc_variant() -> None:
    value = new_id()
    assert value.version == 7
    assert value.variant == "specified in RFC 4122"


def test_ids_sort_by_creation_time_and_never_repeat() -> None:
    first = [new_id() for _ in range(1000)]
    time.sleep(0.002)
    later = new_id()
    assert len(set(first)) == 1000
    assert all(earlier < later for earlier in first)
