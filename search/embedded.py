"""The embedded index: IndexEntry rows plus the database's own full-text index over Python-made terms.

SQLite uses the FTS5 table from migration 0002, PostgreSQL a GIN tsvector index; any other database
falls back to substring matching on the padded term lists (correct, but slow at scale).
"""

from django.db import connection

from search.analysis import index_terms, query_terms
from search.models import IndexEntry
from search.registry import SearchDocument
from search.results import Hit, SearchFilters, SearchResults
from search.snippets import highlight

# A title match outweighs a body match by this much.
TITLE_WEIGHT = 10.0
EXCERPT_CHARS = 4000
SNIPPET_CHARS = 120


def _padded(terms: list[str]) -> str:
    # Leading/trailing spaces let the generic fallback match whole terms with `contains`.
    return f" {' '.join(dict.fromkeys(terms))} "


def _entry_fields(document: SearchDocument) -> dict:
    heading = f"{document.title} {document.subtitle}"
    return {
        "kind": document.kind,
        "title": document.title[:255],
        "subtitle": document.subtitle[:255],
        "creators": document.creators[:255],
        "excerpt": document.body[:EXCERPT_CHARS],
        "url": document.url,
        "unit_id": document.unit_id,
        "access": document.access,
        "date": document.date,
        "facets": document.facets,
        "title_terms": _padded(index_terms(heading)),
        "terms": _padded(index_terms(f"{heading} {document.creators} {document.body}")),
    }


_UPDATED = [
    *("kind", "title", "subtitle", "creators", "excerpt", "url", "unit_id", "access", "date", "facets"),
    *("title_terms", "terms", "indexed_at"),
]


class EmbeddedEngine:
    name = "embedded"

    def ping(self) -> None:
        connection.ensure_connection()

    def ensure_index(self) -> None:
        """Nothing to do: migrations create the index."""

    def index(self, documents: list[SearchDocument]) -> None:
        # One upsert per batch; the FTS5 triggers (SQLite) fire on both the insert and the update path.
        rows = {
            document.doc_id: IndexEntry(doc_id=document.doc_id, **_entry_fields(document)) for document in documents
        }
        IndexEntry.objects.bulk_create(
            rows.values(), batch_size=500, update_conflicts=True, unique_fields=["doc_id"], update_fields=_UPDATED
        )

    def delete(self, doc_ids: list[str]) -> None:
        IndexEntry.objects.filter(doc_id__in=doc_ids).delete()

    def count(self) -> int:
        return IndexEntry.objects.count()

    def doc_ids(self) -> set[str]:
        return set(IndexEntry.objects.values_list("doc_id", flat=True))

    def search(self, query: str, *, filters: SearchFilters, page: int = 1, per_page: int = 20) -> SearchResults:
        terms = query_terms(query)
        results = SearchResults(hits=[], total=0, page=page, per_page=per_page, query=query, backend=self.name)
        if not terms:
            return results
        ranked, results.total = _ranked_ids(terms, filters, offset=(page - 1) * per_page, limit=per_page)
        entries = IndexEntry.objects.in_bulk([entry_id for entry_id, _ in ranked])
        results.hits = [_hit(entries[entry_id], score, query) for entry_id, score in ranked if entry_id in entries]
        return results


def _hit(entry: IndexEntry, score: float, query: str) -> Hit:
    source = entry.excerpt or entry.subtitle or entry.creators
    return Hit(
        doc_id=entry.doc_id,
        kind=entry.kind,
        title=entry.title,
        url=entry.url,
        snippet=highlight(source, query, width=SNIPPET_CHARS),
        score=score,
        date=entry.date,
        title_html=highlight(entry.title, query),
    )


def _filter_sql(filters: SearchFilters) -> tuple[str, list]:
    clauses, params = [f"e.access IN ({', '.join(['%s'] * len(filters.access))})"], list(filters.access)
    if filters.kind:
        clauses.append("e.kind = %s")
        params.append(filters.kind)
    if filters.unit_ids:
        clauses.append(f"e.unit_id IN ({', '.join(['%s'] * len(filters.unit_ids))})")
        params.extend(filters.unit_ids)
    return " AND ".join(clauses), params


def _ranked_ids(terms, filters, *, offset, limit) -> tuple[list[tuple[int, float]], int]:
    if not filters.access:
        return [], 0
    vendor_search = {"sqlite": _sqlite_ranked, "postgresql": _postgres_ranked}.get(connection.vendor, _generic_ranked)
    return vendor_search(terms, filters, offset=offset, limit=limit)


def _sqlite_ranked(terms, filters, *, offset, limit):
    # Each term quoted: FTS5 then reads it as a literal token, never as query syntax; juxtaposition is AND.
    match = " ".join('"{}"'.format(term.replace('"', '""')) for term in terms)
    where, params = _filter_sql(filters)
    base = f"FROM search_fts JOIN search_indexentry e ON e.id = search_fts.rowid WHERE search_fts MATCH %s AND {where}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) {base}", [match, *params])
        total = cursor.fetchone()[0]
        # bm25() is lower-is-better; negate it so every engine reports higher-is-better scores.
        cursor.execute(
            f"SELECT e.id, -bm25(search_fts, %s, 1.0) AS score {base} "
            "ORDER BY score DESC, e.date DESC LIMIT %s OFFSET %s",
            [TITLE_WEIGHT, match, *params, limit, offset],
        )
        return cursor.fetchall(), total


def _postgres_ranked(terms, filters, *, offset, limit):
    where, params = _filter_sql(filters)
    # The expression matches the GIN index from migration 0002; plainto_tsquery ANDs the terms.
    base = (
        "FROM search_indexentry e, plainto_tsquery('simple', %s) q "
        f"WHERE to_tsvector('simple', e.terms) @@ q AND {where}"
    )
    score = "ts_rank(to_tsvector('simple', e.title_terms), q) * %s + ts_rank(to_tsvector('simple', e.terms), q)"
    query_text = " ".join(terms)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) {base}", [query_text, *params])
        total = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT e.id, {score} AS score {base} ORDER BY score DESC, e.date DESC NULLS LAST LIMIT %s OFFSET %s",
            [TITLE_WEIGHT, query_text, *params, limit, offset],
        )
        return cursor.fetchall(), total


def _generic_ranked(terms, filters, *, offset, limit):
    entries = IndexEntry.objects.filter(access__in=filters.access)
    if filters.kind:
        entries = entries.filter(kind=filters.kind)
    if filters.unit_ids:
        entries = entries.filter(unit_id__in=filters.unit_ids)
    for term in terms:
        entries = entries.filter(terms__contains=f" {term} ")
    rows = list(entries.order_by("-date").values_list("id", "title_terms")[offset : offset + limit])
    ranked = [(entry_id, float(sum(f" {t} " in title_terms for t in terms))) for entry_id, title_terms in rows]
    return sorted(ranked, key=lambda row: -row[1]), entries.count()
