"""Full-text search clauses for the product list, one flavour per database.

Both flavours build their query only from ``search_terms`` (plain words), so quotes,
operators and other syntax in user input never reach the search engine's parser.

- PostgreSQL: the generated ``search_vector`` (``english`` configuration: stemming, so
  "boots" finds "boot") matched by a prefix ``to_tsquery`` and ranked by
  ``ts_rank``; when that finds little, a second pass adds names that are
  trigram-similar to the query (``pg_trgm`` word similarity), for typos.
- SQLite: the ``products_fts`` FTS5 table, prefix terms, ranked by ``bm25`` with name
  and SKU weighted ten times the description.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause, bindparam, func, literal_column, or_, table

from agora.catalog.adapters.tables import products

# A fuzzy pass runs when the exact pass finds fewer matches than this.
FUZZY_BELOW = 3
# pg_trgm's default word-similarity threshold (0.6) misses one-letter typos in short words.
WORD_SIMILARITY_THRESHOLD = 0.5

_search_vector: ColumnElement[Any] = literal_column("products.search_vector")
_fts = table("products_fts")
_fts_rowid: ColumnElement[Any] = literal_column("products_fts.rowid")
_fts_table: ColumnElement[Any] = literal_column("products_fts")


@dataclass(frozen=True, slots=True)
class TextSearch:
    """What a text query adds to the product list query."""

    source: FromClause
    condition: ColumnElement[bool]
    # Best match first when used in ORDER BY in this order.
    order_by: tuple[ColumnElement[Any], ...]


def postgres_tsquery(terms: list[str]) -> str:
    # Each term is \w+ only, quoted anyway; ":*" makes every word a prefix.
    return " & ".join(f"'{term}':*" for term in terms)


def _exact_sku(raw: str) -> ColumnElement[bool]:
    # Text parsers split SKUs oddly ("AB-12E4" reads as a number); an exact SKU, as staff
    # paste it, is found through the unique index and ranked first.
    return products.c.sku == bindparam("exact_sku", raw.strip()[:64])


def postgres_search(terms: list[str], raw: str, *, fuzzy: bool) -> TextSearch:
    tsquery = func.to_tsquery(
        literal_column("'english'::regconfig"), bindparam("tsquery", postgres_tsquery(terms))
    )
    exact = _exact_sku(raw)
    matches = _search_vector.op("@@")(tsquery)
    rank = func.ts_rank(_search_vector, tsquery)
    if not fuzzy:
        return TextSearch(products, or_(exact, matches), (exact.desc(), rank.desc()))
    text: ColumnElement[str] = bindparam("fuzzy_text", " ".join(terms))
    similar = text.op("<%")(products.c.name)
    return TextSearch(
        products,
        or_(exact, matches, similar),
        (
            exact.desc(),
            matches.desc(),
            rank.desc(),
            func.word_similarity(text, products.c.name).desc(),
        ),
    )


def sqlite_fts_query(terms: list[str]) -> str:
    # FTS5 strings in double quotes are literal tokens; "*" after one is a prefix query.
    return " ".join(f'"{term}"*' for term in terms)


def sqlite_search(terms: list[str]) -> TextSearch:
    source = products.join(_fts, _fts_rowid == literal_column("products.rowid"))
    matches = _fts_table.op("MATCH")(bindparam("fts_query", sqlite_fts_query(terms)))
    rank = func.bm25(
        _fts_table, literal_column("10.0"), literal_column("10.0"), literal_column("1.0")
    )
    return TextSearch(source, matches, (rank.asc(),))
