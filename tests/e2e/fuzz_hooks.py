"""Schemathesis hooks: inputs its generators rarely or never produce, mixed into every run.

Loaded by the contract test through ``SCHEMATHESIS_HOOKS``. Each generated case may get
one hostile value in place of one of its own: integers past 32 and 64 bits, NUL and
other control characters, lone surrogates (JSON bodies), and path segments that are not
UTF-8 once percent-decoded. The platform must answer each with a 4xx, never a 500.
Drawn through Hypothesis strategies, so the run stays reproducible from its seed.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.core.parameters import EncodedPath

HUGE_INTEGERS = st.sampled_from([2**31, 2**63, 2**64, -(2**63) - 1])
# Text that HTTP can carry in a path or query (percent-encoded as UTF-8 by the client).
CONTROL_TEXT = st.sampled_from(["\x00", "a\x00b", "\x01\x08\x1b\x7f", "tab\tnew\nline\r"])
# JSON can also spell lone surrogates, which no UTF-8 column or driver accepts.
BODY_TEXT = st.one_of(CONTROL_TEXT, st.sampled_from(["\ud800", "x\udfffy"]))
# Already percent-encoded: bytes that are not UTF-8 (0xFF; a surrogate's UTF-8 form).
# ``EncodedPath`` tells Schemathesis to send them as they are, not to quote them again.
NOT_UTF8_SEGMENTS = st.sampled_from(["%FF", "a%C3%28", "%ED%A0%80"]).map(EncodedPath)


def _leaves(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*at, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, (*at, index))]
    return [at]


def _get(value: Any, at: tuple[Any, ...]) -> Any:
    for step in at:
        value = value[step]
    return value


def _replaced(value: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    head, rest = at[0], at[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replaced(value[head], rest, new)
    return copy


def _one_hostile(value: Any, text: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``value`` itself, or ``value`` with one leaf replaced by a hostile value of its kind."""
    leaves = _leaves(value)
    if not isinstance(value, dict | list) or not leaves or leaves == [()]:
        return st.just(value)

    def hostile(at: tuple[Any, ...]) -> st.SearchStrategy[Any]:
        old = _get(value, at)
        kind = HUGE_INTEGERS if isinstance(old, int) and not isinstance(old, bool) else text
        return kind.map(lambda new: _replaced(value, at, new))

    return st.one_of(st.just(value), st.sampled_from(leaves).flatmap(hostile))


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    return _one_hostile(body, BODY_TEXT)


@schemathesis.hook
def flatmap_query(context: Any, query: Any) -> st.SearchStrategy[Any]:
    return _one_hostile(query, st.one_of(CONTROL_TEXT, HUGE_INTEGERS.map(str)))


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
    return _one_hostile(path_parameters, st.one_of(CONTROL_TEXT, NOT_UTF8_SEGMENTS))
