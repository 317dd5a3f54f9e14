"""Search queries are built from plain words only, so no input is engine syntax."""

from __future__ import annotations

from agora.catalog.adapters.search import postgres_tsquery, sqlite_fts_query
from agora.catalog.domain import search_terms


def test_fts5_query_quotes_every_word_as_a_prefix_token() -> None:
    terms = search_terms('lamp" OR NEAR(x, y) *')
    assert sqlite_fts_query(terms) == '"lamp"* "or"* "near"* "x"* "y"*'


def test_tsquery_joins_quoted_prefix_words_with_and() -> None:
    assert postgres_tsquery(search_terms("red: shirt's & !blue")) == (
        "'red':* & 'shirt':* & 's':* & 'blue':*"
    )
