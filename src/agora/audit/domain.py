"""Audit records and the hash chain that makes editing or removing one detectable (pure Python).

Each record's ``hash`` is SHA-256 over a canonical JSON serialisation of all its other
fields, ``prev_hash`` included; ``prev_hash`` is the hash of the record before it (the
first record chains from ``GENESIS_HASH``). Sequence numbers are contiguous from 1. So:

* an edited record no longer matches its own hash;
* a deleted record leaves a gap in ``seq`` and breaks the next record's ``prev_hash``;
* an inserted record cannot take a used ``seq`` and breaks the chain where it lands;
* records removed from the end disagree with the chain head, which stores the last
  ``seq`` and ``hash`` appended.

The chain is not keyed: someone able to rewrite the table *and* recompute every hash
after the change can forge a consistent chain. Anchors (a ``seq`` and ``hash`` copied
somewhere the database's users cannot write) close that gap; see ADR 0022.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from agora.platform.errors import ValidationError

GENESIS_HASH = "0" * 64

ACTION_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
MAX_ACTION = 64
MAX_TARGET_TYPE = 32
MAX_TARGET_ID = 128
MAX_OUTCOME = 16
MAX_IP = 45
MAX_REQUEST_ID = 128
# Details describe an action; they are not a place for payloads. Bounding them keeps a
# record (and a burst of failed logins) cheap to write.
MAX_DETAIL_STRING = 500
MAX_DETAIL_ITEMS = 50
MAX_DETAIL_DEPTH = 4

_ACTION = re.compile(ACTION_PATTERN)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What a caller asks to record; the service adds the chain position and hashes."""

    action: str
    occurred_at: datetime
    actor_id: UUID | None = None
    target_type: str | None = None
    target_id: str | None = None
    outcome: str = "success"
    ip: str | None = None
    request_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        action: str,
        *,
        occurred_at: datetime,
        actor_id: UUID | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        outcome: str = "success",
        ip: str | None = None,
        request_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Validate the action name and bound every free-text field.

        A malformed action is a programming error (actions are constants in code), so it
        raises ``ValueError``; everything else is clipped rather than refused, because a
        record that cannot be written is worse than a shortened one.
        """
        if len(action) > MAX_ACTION or not _ACTION.match(action):
            raise ValueError(f"audit action {action!r} is not a dotted lower-case name")
        return cls(
            action=action,
            occurred_at=occurred_at.astimezone(UTC),
            actor_id=actor_id,
            target_type=_clip(target_type, MAX_TARGET_TYPE),
            target_id=_clip(target_id, MAX_TARGET_ID),
            outcome=_clip(outcome, MAX_OUTCOME) or "success",
            ip=_clip(ip, MAX_IP),
            request_id=_clip(request_id, MAX_REQUEST_ID),
            details=plain_details(details or {}),
        )


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: UUID
    seq: int
    occurred_at: datetime
    actor_id: UUID | None
    action: str
    target_type: str | None
    target_id: str | None
    outcome: str
    ip: str | None
    request_id: str | None
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def chained(cls, entry: AuditEntry, record_id: UUID, seq: int, prev_hash: str) -> AuditRecord:
        """The record for ``entry`` at position ``seq``, after the record hashed ``prev_hash``."""
        unsealed = cls(
            id=record_id,
            seq=seq,
            occurred_at=entry.occurred_at,
            actor_id=entry.actor_id,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            outcome=entry.outcome,
            ip=entry.ip,
            request_id=entry.request_id,
            details=entry.details,
            prev_hash=prev_hash,
            hash="",
        )
        return replace(unsealed, hash=unsealed.computed_hash())

    def canonical(self) -> bytes:
        """Every field but ``hash``, as sorted, compact, ASCII-only JSON."""
        fields = {
            "id": str(self.id),
            "seq": self.seq,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": None if self.actor_id is None else str(self.actor_id),
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "outcome": self.outcome,
            "ip": self.ip,
            "request_id": self.request_id,
            "details": self.details,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(
            fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        ).encode("ascii")

    def computed_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last record appended: its ``seq`` (0 before the first) and ``hash``."""

    seq: int = 0
    hash: str = GENESIS_HASH


@dataclass(frozen=True, slots=True)
class Anchor:
    """A ``seq`` and ``hash`` kept outside the database, to be found again in the chain."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq_text, _, digest = text.partition(":")
        if not seq_text.isdigit() or int(seq_text) < 1 or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ValidationError(
                "An anchor is '<seq>:<sha-256 hex>', as printed by 'agora audit verify'.",
                field="anchor",
            )
        return cls(int(seq_text), digest)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place the chain stops being intact."""

    seq: int
    record_id: UUID | None
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    head: ChainHead
    last_seq: int
    last_hash: str
    broken: ChainBreak | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


class ChainVerifier:
    """Walks records in ``seq`` order, batch by batch, and stops at the first break."""

    def __init__(self, anchor: Anchor | None = None) -> None:
        self.anchor = anchor
        self.checked = 0
        self.last_seq = 0
        self.last_hash = GENESIS_HASH
        self.broken: ChainBreak | None = None
        self._anchor_seen = False

    def feed(self, records: Iterable[AuditRecord]) -> bool:
        """Check the next records; False once the chain is broken (stop reading then)."""
        for record in records:
            expected = self.last_seq + 1
            if record.seq != expected:
                self.broken = _gap(expected, record)
                return False
            if record.prev_hash != self.last_hash:
                self.broken = ChainBreak(
                    record.seq,
                    record.id,
                    f"record {record.seq} does not link to record {self.last_seq}: "
                    "a record before it was removed, replaced or inserted",
                )
                return False
            if record.computed_hash() != record.hash:
                self.broken = ChainBreak(
                    record.seq,
                    record.id,
                    f"record {record.seq} was altered: its contents no longer match its hash",
                )
                return False
            if self.anchor is not None and record.seq == self.anchor.seq:
                self._anchor_seen = True
                if record.hash != self.anchor.hash:
                    self.broken = ChainBreak(
                        record.seq,
                        record.id,
                        f"record {record.seq} does not match the anchor: the chain up to it "
                        "was rewritten",
                    )
                    return False
            self.checked += 1
            self.last_seq = record.seq
            self.last_hash = record.hash
        return True

    def finish(self, head: ChainHead) -> ChainReport:
        if self.broken is None:
            self.broken = self._check_end(head)
        return ChainReport(self.checked, head, self.last_seq, self.last_hash, self.broken)

    def _check_end(self, head: ChainHead) -> ChainBreak | None:
        if head.seq > self.last_seq:
            return ChainBreak(
                self.last_seq + 1,
                None,
                f"{_missing(self.last_seq + 1, head.seq)}: the chain head says {head.seq} "
                "records were appended",
            )
        if head.seq < self.last_seq or head.hash != self.last_hash:
            return ChainBreak(
                self.last_seq,
                None,
                f"the chain head (record {head.seq}) does not match the last record "
                f"({self.last_seq}): records were added or the head was changed outside "
                "the application",
            )
        if self.anchor is not None and not self._anchor_seen:
            return ChainBreak(
                self.anchor.seq,
                None,
                f"the anchor's record {self.anchor.seq} is not in the chain",
            )
        return None


def _gap(expected: int, record: AuditRecord) -> ChainBreak:
    if record.seq > expected:
        return ChainBreak(
            expected,
            None,
            f"{_missing(expected, record.seq - 1)}: the chain jumps to record {record.seq}",
        )
    return ChainBreak(
        record.seq, record.id, f"record {record.seq} is out of order after {expected - 1}"
    )


def _missing(first: int, last: int) -> str:
    if first == last:
        return f"record {first} is missing"
    return f"records {first} to {last} are missing"


def plain_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe details that read back from either database exactly as they were hashed.

    Only strings, integers, booleans, None, lists and string-keyed objects survive as
    such; anything else (UUIDs, enums, datetimes, floats) becomes a string, so JSON and
    JSONB round trips cannot change a value and with it the record's hash.
    """
    plain = _plain(dict(details), 0)
    assert isinstance(plain, dict)
    return plain


def _plain(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and not isinstance(value, Enum):
        # Beyond 64 bits some JSON decoders (orjson) refuse to read the number back.
        return value if -(2**63) <= value < 2**63 else str(value)
    if isinstance(value, str):
        return _clean(value)[:MAX_DETAIL_STRING]
    if isinstance(value, Enum):
        return _clean(str(value.value))[:MAX_DETAIL_STRING]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if depth < MAX_DETAIL_DEPTH and isinstance(value, Mapping):
        items = list(value.items())[:MAX_DETAIL_ITEMS]
        return {_clean(str(k))[:MAX_DETAIL_STRING]: _plain(v, depth + 1) for k, v in items}
    if depth < MAX_DETAIL_DEPTH and isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, depth + 1) for v in list(value)[:MAX_DETAIL_ITEMS]]
    return _clean(str(value))[:MAX_DETAIL_STRING]


def _clip(value: str | None, limit: int) -> str | None:
    return None if value is None else _clean(value)[:limit]


def _clean(text: str) -> str:
    # PostgreSQL text and JSONB refuse NUL, and lone surrogates cannot be encoded at all.
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True, slots=True)
class AuditQuery:
    actor_id: UUID | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
