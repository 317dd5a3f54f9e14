"""The hash chain: how records are sealed and what the verifier catches."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from uuid import UUID, uuid4

import pytest

from agora.audit.domain import (
    GENESIS_HASH,
    Anchor,
    AuditEntry,
    AuditRecord,
    ChainHead,
    ChainVerifier,
    plain_details,
)
from agora.platform.errors import ValidationError

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def chain(count: int) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        entry = AuditEntry.create(
            "auth.login",
            occurred_at=T0 + timedelta(seconds=seq),
            actor_id=uuid4(),
            target_type="user",
            target_id=str(seq),
            outcome="failure" if seq % 2 else "success",
            ip="203.0.113.7",
            request_id=f"req-{seq}",
            details={"n": seq},
        )
        record = AuditRecord.chained(entry, uuid4(), seq, prev)
        records.append(record)
        prev = record.hash
    return records


def verify(records: list[AuditRecord], head: ChainHead, anchor: Anchor | None = None) -> str:
    verifier = ChainVerifier(anchor)
    verifier.feed(records[:2])  # fed in batches, as the service reads them
    if verifier.broken is None:
        verifier.feed(records[2:])
    report = verifier.finish(head)
    return "intact" if report.broken is None else report.broken.reason


def head_of(records: list[AuditRecord]) -> ChainHead:
    return ChainHead(records[-1].seq, records[-1].hash)


def test_the_hash_covers_every_field_and_the_previous_hash() -> None:
    first, second = chain(2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    body = json.loads(second.canonical())
    assert set(body) == {
        "id",
        "seq",
        "occurred_at",
        "actor_id",
        "action",
        "target_type",
        "target_id",
        "outcome",
        "ip",
        "request_id",
        "details",
        "prev_hash",
    }
    assert second.hash == hashlib.sha256(second.canonical()).hexdigest()
    for name, value in [
        ("outcome", "success" if second.outcome == "failure" else "failure"),
        ("ip", "198.51.100.1"),
        ("details", {"n": 99}),
        ("occurred_at", second.occurred_at + timedelta(microseconds=1)),
        ("prev_hash", "f" * 64),
    ]:
        assert replace(second, **{name: value}).computed_hash() != second.hash, name


def test_an_intact_chain_verifies_and_an_empty_one_too() -> None:
    records = chain(5)
    assert verify(records, head_of(records)) == "intact"
    assert verify([], ChainHead()) == "intact"


def test_an_edited_record_is_named() -> None:
    records = chain(5)
    records[2] = replace(records[2], outcome="success" if records[2].outcome != "success" else "x")
    assert verify(records, head_of(records)) == (
        "record 3 was altered: its contents no longer match its hash"
    )


def test_a_deleted_record_leaves_a_gap() -> None:
    records = chain(5)
    head = head_of(records)
    del records[1]
    assert verify(records, head) == "record 2 is missing: the chain jumps to record 3"
    del records[1]
    assert verify(records, head) == "records 2 to 3 are missing: the chain jumps to record 4"


def test_renumbering_after_a_deletion_still_breaks_the_links() -> None:
    records = chain(5)
    head = head_of(records)
    del records[1]
    records = [replace(r, seq=i) for i, r in enumerate(records, start=1)]
    assert verify(records, head).startswith("record 2 does not link to record 1")


def test_records_removed_from_the_end_disagree_with_the_head() -> None:
    records = chain(5)
    head = head_of(records)
    assert verify(records[:3], head) == (
        "records 4 to 5 are missing: the chain head says 5 records were appended"
    )
    assert verify(records[:4], head).startswith("record 5 is missing")


def test_a_record_appended_behind_the_applications_back_is_caught() -> None:
    records = chain(5)
    head = head_of(records)
    forged = AuditRecord.chained(
        AuditEntry.create("users.role_changed", occurred_at=T0), uuid4(), 6, records[-1].hash
    )
    assert "the chain head (record 5) does not match the last record (6)" in verify(
        [*records, forged], head
    )
    unlinked = replace(forged, prev_hash=GENESIS_HASH)
    unlinked = replace(unlinked, hash=unlinked.computed_hash())
    assert verify([*records, unlinked], head).startswith("record 6 does not link to record 5")


def test_an_anchor_catches_a_consistently_rewritten_chain() -> None:
    records = chain(5)
    anchor = Anchor(3, records[2].hash)
    # Rewrite record 2 and re-seal everything after it, head included.
    rewritten: list[AuditRecord] = [records[0]]
    for original in records[1:]:
        changed = replace(original, prev_hash=rewritten[-1].hash)
        if original.seq == 2:
            changed = replace(changed, details={"n": 0})
        rewritten.append(replace(changed, hash=changed.computed_hash()))
    assert verify(rewritten, head_of(rewritten)) == "intact"  # the chain alone cannot tell
    assert verify(rewritten, head_of(rewritten), anchor).startswith(
        "record 3 does not match the anchor"
    )
    assert verify(records, head_of(records), anchor) == "intact"
    assert verify(records[:2], ChainHead(2, records[1].hash), anchor) == (
        "the anchor's record 3 is not in the chain"
    )


def test_anchors_are_parsed_strictly() -> None:
    digest = "a" * 64
    assert Anchor.parse(f"12:{digest}") == Anchor(12, digest)
    for bad in ["", "12", f"0:{digest}", f"x:{digest}", "12:abc", f"12:{'A' * 64}"]:
        with pytest.raises(ValidationError):
            Anchor.parse(bad)


class Colour(Enum):
    RED = "red"


def test_details_are_reduced_to_values_every_database_reads_back_unchanged() -> None:
    user = UUID("01890000-0000-7000-8000-000000000001")
    plain = plain_details(
        {
            "user": user,
            "colour": Colour.RED,
            "ratio": 0.1,
            "big": 2**70,
            "when": T0,
            "nested": {"tags": ("a", "b"), "ok": True, "none": None},
            "nul": "a\x00b",
            "surrogate": "x\udcff",
            "long": "y" * 5000,
        }
    )
    assert plain == {
        "user": str(user),
        "colour": "red",
        "ratio": "0.1",
        "big": str(2**70),
        "when": "2026-11-22T08:00:00.000000+00:00",
        "nested": {"tags": ["a", "b"], "ok": True, "none": None},
        "nul": "a\ufffdb",
        "surrogate": "x?",
        "long": "y" * 500,
    }
    assert json.loads(json.dumps(plain)) == plain


def test_actions_must_be_dotted_lower_case_names() -> None:
    for bad in ["", "Auth.Login", "auth..login", "auth login", ".x", "a" * 65]:
        with pytest.raises(ValueError, match="audit action"):
            AuditEntry.create(bad, occurred_at=T0)
    entry = AuditEntry.create("catalog.product_deleted", occurred_at=T0, target_id="x" * 500)
    assert entry.target_id == "x" * 128
