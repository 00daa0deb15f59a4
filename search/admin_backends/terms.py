"""Text and queries as the terms the database backends store and match (see search.engines.analysis)."""

from django.utils.encoding import force_str
from modelsearch.query import And, Boost, MatchAll, Not, Or, Phrase, PlainText, SearchQuery

from search.engines.analysis import index_terms, parse_query

# Like our own embedded index: enough for any title and the start of a long body, and it keeps a
# PostgreSQL tsvector far below its 1 MB limit.
MAX_INDEXED_CHARS = 20_000
MATCH_NOTHING = Not(MatchAll())


def flatten(value) -> str:
    """A field's value as one text (lists and dicts joined, as modelsearch does)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(flatten(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(flatten(item) for item in value.values())
    return force_str(value)


def terms_text(text: str) -> str:
    """The index terms of a text, space-separated: the database's own tokenizer then sees each one whole."""
    return " ".join(index_terms((text or "")[:MAX_INDEXED_CHARS]))


def word_terms(text: str) -> list[str]:
    """The terms a piece of a query needs: bigrams of a Chinese run (a lone character stays one), words whole."""
    parsed = parse_query(text)
    return parsed.terms(parsed.alternatives[0]) if parsed.alternatives else []


def _plain_text(query: PlainText) -> SearchQuery | None:
    if query.operator == "and":
        terms = word_terms(query.query_string)
        return PlainText(" ".join(terms), operator="and", boost=query.boost) if terms else None
    # "or": any word of the query, each word by all of its terms.
    words = [terms for terms in map(word_terms, query.query_string.split()) if terms]
    return _combine(Or, [PlainText(" ".join(terms), operator="and", boost=query.boost) for terms in words])


def _combine(kind, subqueries: list) -> SearchQuery | None:
    subqueries = [subquery for subquery in subqueries if subquery is not None]
    if not subqueries:
        return None
    return subqueries[0] if len(subqueries) == 1 else kind(subqueries)


def _rewrite(query: SearchQuery) -> SearchQuery | None:
    if isinstance(query, PlainText):
        return _plain_text(query)
    if isinstance(query, Phrase):
        # Terms are stored characters first, then bigrams, so word order cannot be checked; all the terms is
        # the nearest match (and for one Chinese run, its bigrams are the phrase).
        return _plain_text(PlainText(query.query_string, operator="and"))
    if isinstance(query, (And, Or)):
        return _combine(type(query), [_rewrite(subquery) for subquery in query.subqueries])
    if isinstance(query, Not):
        subquery = _rewrite(query.subquery)
        return Not(subquery) if subquery is not None else None
    if isinstance(query, Boost):
        subquery = _rewrite(query.subquery)
        return Boost(subquery, query.boost) if subquery is not None else None
    return query  # MatchAll, and Fuzzy (PostgreSQL's trigram search on the plain text)


def terms_query(query: SearchQuery) -> SearchQuery:
    """A modelsearch query rewritten to our terms; a query with none (only punctuation or emoji) matches nothing."""
    rewritten = _rewrite(query)
    return MATCH_NOTHING if rewritten is None else rewritten
