"""The embedded index: IndexEntry rows plus the database's own full-text index over Python-made terms.

The database never analyses Chinese: `analysis` turns text into characters, bigrams, words and pinyin terms,
and the database only matches those tokens. SQLite matches them with the FTS5 table `search_fts` (migration
0004), PostgreSQL with GIN-indexed stored tsvectors (`body_vector` of every term, `title_vector` of title terms
and pinyin); any other database falls back to substring matching on the padded term lists (correct, but slow).

Every SQL statement counts, ranks or groups inside the database: only the ids of one page come back to Python.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from search.engines.analysis import (
    ParsedQuery,
    document_boost,
    index_terms,
    is_cjk,
    pinyin_match,
    pinyin_terms,
    title_key,
)
from search.engines.results import (
    FACET_SIZES,
    RESULT_WINDOW,
    Audience,
    FacetValue,
    Hit,
    SearchRequest,
    SearchResults,
    Suggestion,
)
from search.engines.snippets import highlight
from search.models import IndexEntry
from search.registry import SearchDocument

# Field weights: a title match counts this many body matches, a pinyin match (title and creators) like a subtitle.
TITLE_WEIGHT = 10.0
PINYIN_WEIGHT = 2.0
# An exact phrase in the title outranks the same bigrams scattered; the query as typed a little outranks its
# synonym rewrites.
EXACT_TITLE_BONUS = 1.5
FIRST_ALTERNATIVE_BONUS = 1.2
# Freshness: × (1 + FRESHNESS × f), f = 1 today and 1/2 after FRESHNESS_HALF_DAYS.
FRESHNESS = 0.2
FRESHNESS_HALF_DAYS = 365.0
# The embedded index takes this much of a body into its terms (engines take all of it).
BODY_TERM_CHARS = 20_000
EXCERPT_CHARS = 4000
SNIPPET_CHARS = 120
_FACET_COLUMNS = {"kind": "kind", "subject": "subject", "year": "year", "unit": "unit_id", "access": "access"}
_TEXT_COLUMNS = {"kind", "subject", "access"}
_T = IndexEntry._meta.db_table
# A suggestion statement: (row count, offset) → (SQL, parameters) of that slice of (title, url, creators) rows.
Statement = Callable[[int, int], tuple[str, list]]


# --- Rows


def _clean(text: str | None, limit: int | None = None) -> str:
    # PostgreSQL refuses NUL in text, and extracted PDF text sometimes has one.
    return (text or "").replace("\x00", "")[:limit]


def _padded(terms: list[str], *, unique: bool = True) -> str:
    # Leading/trailing spaces let the generic fallback match whole terms with `contains`. Titles keep every
    # term in order, so an exact phrase is a run of neighbouring bigrams; bodies keep each term once (size).
    kept = dict.fromkeys(terms) if unique else terms
    return f" {' '.join(kept)} "


def _year(value) -> int | None:
    return value if isinstance(value, int) and 0 <= value <= 9999 else None


def _entry(document: SearchDocument) -> IndexEntry:
    title, subtitle, creators = _clean(document.title), _clean(document.subtitle), _clean(document.creators)
    body = _clean(document.body)
    return IndexEntry(
        doc_id=document.doc_id,
        kind=_clean(document.kind, 32),
        title=title[:255],
        subtitle=subtitle[:255],
        creators=creators[:255],
        excerpt=body[:EXCERPT_CHARS],
        url=_clean(document.url, 500),
        unit_id=document.unit_id,
        unit_path=_clean(document.unit_path, 255),
        access=_clean(document.access, 16),
        access_unit_id=document.access_unit_id,
        subject=_clean(document.subject, 100),
        year=_year(document.year),
        boost=document_boost(document.boost),
        date=document.date,
        facets=document.facets or {},
        title_terms=_padded(index_terms(title), unique=False),
        terms=_padded(index_terms(f"{title} {subtitle} {creators} {body[:BODY_TERM_CHARS]}")),
        pinyin=_padded(pinyin_terms(f"{title} {creators}")),
        title_key=title_key(title),
        title_length=len(title[:255]),
    )


_UPDATED = [
    *("kind", "title", "subtitle", "creators", "excerpt", "url", "unit_id", "unit_path", "access"),
    *("access_unit_id", "subject", "year", "boost", "date", "facets", "title_terms", "terms", "pinyin", "title_key"),
    *("title_length", "indexed_at"),
]


def _upsert_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in ("doc_id", *_UPDATED))
    marks = ", ".join(["%s"] * (1 + len(_UPDATED)))
    updates = ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in _UPDATED)
    return (
        f"INSERT INTO {quote(_T)} ({columns}) VALUES ({marks}) ON CONFLICT ({quote('doc_id')}) DO UPDATE SET {updates}"
    )


# Fields whose Python value the database driver cannot take as it is (dates as the backend stores them, JSON).
_PREPARED = {"date", "facets", "indexed_at"}


def _upsert(entries: list[IndexEntry]) -> None:
    """Insert or replace rows by doc_id in one executemany: what bulk_create(update_conflicts=True) writes,
    without preparing every value through its field (only dates and JSON need it)."""
    now = timezone.now()
    fields = [IndexEntry._meta.get_field(name) for name in ("doc_id", *_UPDATED)]
    params = []
    for entry in entries:
        entry.indexed_at = now
        params.append(
            [
                field.get_db_prep_save(getattr(entry, field.attname), connection)
                if field.name in _PREPARED
                else getattr(entry, field.attname)
                for field in fields
            ]
        )
    with connection.cursor() as cursor:
        cursor.executemany(_upsert_sql(), params)


# --- What a query asks of the index, before it is written in one database's syntax


@dataclass(frozen=True)
class _Ask:
    """`alternatives`: per alternative, the terms that must all be found and an optional prefix word (the word
    being typed); `phrases`: per alternative, each run's terms in order (an exact phrase is those terms side by
    side in the title); `pinyin`: a prefix of a pinyin term, or ""; `title_only`: suggestions match titles only;
    `keys`: the titles (`analysis.title_key`) the query equals exactly, ranked above titles that only contain it."""

    alternatives: tuple[tuple[tuple[str, ...], str], ...]
    phrases: tuple[tuple[tuple[str, ...], ...], ...]
    pinyin: str = ""
    title_only: bool = False
    keys: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.alternatives and not self.pinyin

    def first(self) -> "_Ask":
        return _Ask(self.alternatives[:1], self.phrases[:1], title_only=self.title_only)


def _ask(parsed: ParsedQuery) -> _Ask:
    alternatives = tuple((tuple(parsed.terms(runs)), "") for runs in parsed.alternatives)
    phrases = tuple(tuple(tuple(parsed.terms((run,))) for run in runs) for runs in parsed.alternatives)
    return _Ask(alternatives, phrases, parsed.pinyin, keys=parsed.title_keys)


def _suggest_ask(parsed: ParsedQuery) -> _Ask:
    """The first alternative on titles, its last run a prefix when it is a word rather than Chinese (still being
    typed: "pyth", "caf", "Пуш")."""
    if not parsed.alternatives:
        return _Ask((), (), parsed.pinyin, title_only=True)
    runs = parsed.alternatives[0]
    prefix = "" if is_cjk(runs[-1]) else runs[-1]
    terms = tuple(term for term in parsed.terms(runs[:-1] if prefix else runs) if term != prefix)
    phrases = (tuple(tuple(parsed.terms((run,))) for run in runs),)
    return _Ask(((terms, prefix),), phrases, parsed.pinyin, title_only=True, keys=parsed.title_keys[:1])


# --- SQLite FTS5


def _fts_term(term: str, *, prefix: bool = False) -> str:
    # Quoted, a term is always a literal token, never FTS5 syntax (AND, NEAR, *, column filters…).
    return '"' + term.replace('"', '""') + '"' + ("*" if prefix else "")


def _fts_all(terms: tuple[str, ...], prefix: str) -> str:
    parts = [_fts_term(term) for term in terms] + ([_fts_term(prefix, prefix=True)] if prefix else [])
    return "(" + " ".join(parts) + ")"


def _fts_expression(ask: _Ask) -> str:
    columns = "title_terms" if ask.title_only else "{title_terms terms}"
    parts = []
    alternatives = [_fts_all(terms, prefix) for terms, prefix in ask.alternatives if terms or prefix]
    if alternatives:
        parts.append(f"{columns} : ({' OR '.join(alternatives)})")
    if ask.pinyin:
        parts.append(f"pinyin : {_fts_term(ask.pinyin, prefix=True)}")
    return " OR ".join(parts)


def _fts_phrases(ask: _Ask) -> str:
    phrases = [
        "(" + " ".join(" + ".join(map(_fts_term, run)) for run in runs if run) + ")"
        for runs in ask.phrases
        if any(runs)
    ]
    return f"title_terms : ({' OR '.join(phrases)})" if phrases else ""


class _Sqlite:
    # The covering index (migration 0004) holds every column filters, facets and ranking read, so a match
    # costs one small index lookup instead of a read of a row long with terms and excerpt.
    source = f"search_fts JOIN {_T} INDEXED BY search_indexentry_filters ON {_T}.id = search_fts.rowid"
    title_source = f"search_fts JOIN {_T} ON {_T}.id = search_fts.rowid"

    def match(self, ask: _Ask) -> tuple[str, list]:
        return "search_fts MATCH %s", [_fts_expression(ask)]

    def rank(self, ask: _Ask) -> tuple[str, list]:
        # bm25() is lower-is-better; negated, every engine reports higher-is-better scores.
        body = 0.0 if ask.title_only else 1.0
        return f"(-bm25(search_fts, {TITLE_WEIGHT}, {body}, {PINYIN_WEIGHT}))", []

    def exact(self, ask: _Ask) -> tuple[str, list]:
        expression = _fts_phrases(ask)
        if not expression:
            return "0", []
        return f"{_T}.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH %s)", [expression]

    def also(self, ask: _Ask) -> tuple[str, list]:
        return f"{_T}.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH %s)", [_fts_expression(ask)]

    def title_statements(self, ask: _Ask, audience: Audience, where: tuple[str, list]) -> list[Statement]:
        """The title classes of SUGGESTION_CLASSES as statements, each found through FTS5's title terms; `where`:
        the audience's condition, compiled."""
        key = _typed_key(ask)
        held = _fts_expression(_Ask(ask.alternatives, (), title_only=True)) if key else ""
        if not held:
            return []
        like, starts = _like_prefix(key), f"coalesce({_T}.title_key, '') LIKE %s ESCAPE '\\'"
        classes = [
            (f"search_fts MATCH %s AND {_T}.title_key = %s", [held, key]),
            (f"search_fts MATCH %s AND {starts} AND {_T}.title_key <> %s", [held, like, key]),
            (f"search_fts MATCH %s AND NOT ({starts})", [held, like]),
        ]
        return [_class_statement(self.title_source, clause, params, where) for clause, params in classes]

    def pinyin_statements(self, pinyin: str, audience: Audience, where: tuple[str, list]) -> list[Statement]:
        """The pinyin class: titles whose pinyin (or their creators') has a term starting with `pinyin`."""
        spelled = _fts_expression(_Ask((), (), pinyin, title_only=True))
        return [_class_statement(self.title_source, "search_fts MATCH %s", [spelled], where)]

    def age_days(self, now: datetime) -> tuple[str, list]:
        # Django stores SQLite datetimes as UTC text, which julianday() reads.
        return f"MAX(0.0, julianday(%s) - julianday({_T}.date))", [now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")]


# --- PostgreSQL full-text search ('simple' keeps each Python-made term as it is)


def _pg_term(term: str, *, prefix: bool = False, weight: str = "") -> str:
    # Quoted and escaped, a term is always one lexeme, never tsquery syntax (&, |, !, <->, :*).
    label = ("*" if prefix else "") + weight
    quoted = "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
    return f"{quoted}:{label}" if label else quoted


def _pg_text(ask: _Ask, weight: str = "", *, lead: str = "") -> str:
    """The alternatives as a tsquery; `lead` goes before each term (`search_suggest`'s "t07")."""
    alternatives = []
    for terms, prefix in ask.alternatives:
        parts = [_pg_term(lead + term, weight=weight) for term in terms]
        parts += [_pg_term(lead + prefix, prefix=True, weight=weight)] if prefix else []
        if parts:
            alternatives.append("(" + " & ".join(parts) + ")")
    return " | ".join(alternatives)


def _pg_pinyin(ask: _Ask) -> str:
    # Weight B marks the pinyin terms in title_vector, so a word in a title never matches as pinyin.
    return _pg_term(ask.pinyin, prefix=True, weight="B") if ask.pinyin else ""


def _pg_either(*parts: str) -> str:
    return " | ".join(f"({part})" for part in parts if part)


def _pg_phrases(ask: _Ask) -> str:
    phrases = [
        "("
        + " & ".join("(" + " <-> ".join(_pg_term(term, weight="A") for term in run) + ")" for run in runs if run)
        + ")"
        for runs in ask.phrases
        if any(runs)
    ]
    return " | ".join(phrases)


# Stored generated columns with GIN indexes (migration 0004): every term, and title terms (weight A) with pinyin (B).
_BODY_VECTOR = f"{_T}.body_vector"
_TITLE_VECTOR = f"{_T}.title_vector"


class _Postgres:
    source = title_source = _T

    def match(self, ask: _Ask) -> tuple[str, list]:
        if ask.title_only:
            return f"{_TITLE_VECTOR} @@ to_tsquery('simple', %s)", [_pg_either(_pg_text(ask, "A"), _pg_pinyin(ask))]
        clauses, params = [], []
        if text := _pg_text(ask):
            clauses.append(f"{_BODY_VECTOR} @@ to_tsquery('simple', %s)")
            params.append(text)
        if pinyin := _pg_pinyin(ask):
            clauses.append(f"{_TITLE_VECTOR} @@ to_tsquery('simple', %s)")
            params.append(pinyin)
        return "(" + " OR ".join(clauses) + ")", params

    def rank(self, ask: _Ask) -> tuple[str, list]:
        # Only the small title vector is ranked (weights {D, C, B, A}: pinyin 0.2, title 1): the body terms are
        # stored once each, so their rank would be the same for every match. The scale puts one title term
        # near TITLE_WEIGHT body matches.
        base = 0.0 if ask.title_only else 1.0
        query = _pg_either(_pg_text(ask), _pg_pinyin(ask))
        return f"({base} + 150.0 * ts_rank('{{0, 0, 0.2, 1}}', {_TITLE_VECTOR}, to_tsquery('simple', %s)))", [query]

    def exact(self, ask: _Ask) -> tuple[str, list]:
        phrases = _pg_phrases(ask)
        return (f"{_TITLE_VECTOR} @@ to_tsquery('simple', %s)", [phrases]) if phrases else ("FALSE", [])

    def also(self, ask: _Ask) -> tuple[str, list]:
        clause, params = self.match(ask)
        return f"{_T}.id IN (SELECT {_T}.id FROM {_T} WHERE {clause})", params

    def title_statements(self, ask: _Ask, audience: Audience, where: tuple[str, list]) -> list[Statement]:
        """The title classes of SUGGESTION_CLASSES as statements PostgreSQL can walk in order and stop at the
        limit: title_key's indexes (0005, 0007) find the exact title and the titles starting with what is typed; the
        titles holding the terms are read from `search_suggest` (0008), one group of title lengths at a time."""
        key = _typed_key(ask)
        statements = []
        if key:
            held = _pg_text(ask, "A")
            in_title = f"{_TITLE_VECTOR} @@ to_tsquery('simple', %s)"
            # A common start (次: 13,000 of 300,000 titles, 次韵 11,000) is walked shortest first on the index of
            # its first one or two characters, and the walk stops at the limit. The title-terms check is written so
            # that no index can take it (IS TRUE): it holds for nearly every such row, and PostgreSQL, taking it and
            # the prefix as independent, would otherwise collect every row that starts so before sorting.
            head = key[:2]
            starts, starts_params = f"left({_T}.title_key, {len(head)}) = %s", [head]
            if len(key) > len(head):
                starts, starts_params = f"{starts} AND {_T}.title_key LIKE %s", [head, _like_prefix(key)]
            classes = [
                (f"{_T}.title_key = %s AND ({in_title}) IS TRUE", [key, held]),
                (f"{starts} AND {_T}.title_key <> %s AND ({in_title}) IS TRUE", [*starts_params, key, held]),
            ]
            statements += [_class_statement(_T, clause, params, where) for clause, params in classes]
            # Titles holding the terms, but not starting with them (those are the two classes above). A title holding
            # a term is about as long as the term: much shorter lengths are not asked (a quarter, as folding can
            # lengthen a title: NFKC makes ㍿ 株式会社).
            longest = max(len(term) for terms, prefix in ask.alternatives for term in (*terms, prefix))

            def held_by(length: int) -> str:
                return _pg_text(ask, lead=f"t{length:02d}") if length >= min(longest // 4, 25) else ""

            statements += _narrow_statements(held_by, audience, where, not_starting=_like_prefix(key))
        return statements

    def pinyin_statements(self, pinyin: str, audience: Audience, where: tuple[str, list]) -> list[Statement]:
        """The pinyin class, read from `search_suggest` (migration 0008)."""
        return _narrow_statements(lambda length: _pg_term(f"p{length:02d}{pinyin}", prefix=True), audience, where)

    def age_days(self, now: datetime) -> tuple[str, list]:
        return f"GREATEST(0.0, EXTRACT(EPOCH FROM (%s - {_T}.date)) / 86400.0)", [now]


# --- Filters (written once as ORM conditions, compiled into each statement)


def _visible_q(audience: Audience) -> Q:
    """Audience.allows, as a condition: an open level, or a unit document opened to one of the member's units."""
    unit = Q(access="unit") if audience.all_units else Q(access="unit", access_unit_id__in=list(audience.unit_ids))
    return Q(access__in=list(audience.levels)) | unit


def _chosen_q(request: SearchRequest) -> Q:
    chosen = Q()
    for field in ("kind", "subject", "access"):
        if getattr(request, field):
            chosen &= Q(**{field: str(getattr(request, field))})
    if request.year is not None and request.year != "":
        year = _year(_int_or_none(request.year))
        chosen &= Q(year=year) if year is not None else Q(pk__in=[])
    if request.unit_path:
        chosen &= Q(unit_path__startswith=str(request.unit_path))
    if request.unit_id is not None and request.unit_id != "":
        # Exactly this owning unit; an id no column can hold matches nothing (never an overflow).
        unit_id = _int_or_none(request.unit_id)
        chosen &= Q(unit_id=unit_id) if unit_id is not None and abs(unit_id) < 2**63 else Q(pk__in=[])
    return chosen


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _where_sql(condition: Q) -> tuple[str, list] | None:
    """The condition as SQL on the index table, or None when nothing can match."""
    query = IndexEntry.objects.filter(condition).query
    compiler = query.get_compiler(connection=connection)
    try:
        sql, params = compiler.compile(query.where)
    except EmptyResultSet:
        return None
    except FullResultSet:
        return "1=1", []
    return (sql or "1=1"), list(params)


# --- Statements


def _dialect():
    return {"sqlite": _Sqlite, "postgresql": _Postgres}.get(connection.vendor, lambda: None)()


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _score_sql(dialect, ask: _Ask, now: datetime) -> tuple[str, list]:
    """rank × boost × freshness × exact-title bonus (× first-alternative bonus when synonyms added some)."""
    rank, params = dialect.rank(ask)
    exact, exact_params = dialect.exact(ask)
    sql = f"{rank} * (CASE WHEN {exact} THEN {EXACT_TITLE_BONUS} ELSE 1.0 END)"
    params += exact_params
    if len(ask.alternatives) > 1:
        weights, weight_params = _alternative_weights(dialect, ask)
        sql += f" * {weights}"
        params += weight_params
    age, age_params = dialect.age_days(now)
    sql += (
        f" * {_T}.boost * (CASE WHEN {_T}.date IS NULL THEN 1.0 "
        f"ELSE 1.0 + {FRESHNESS} * {FRESHNESS_HALF_DAYS} / ({FRESHNESS_HALF_DAYS} + {age}) END)"
    )
    return sql, params + age_params


def _alternative_weights(dialect, ask: _Ask) -> tuple[str, list]:
    """With synonym rewrites: the rank divided by the number of terms of the alternative a document matches (a
    long synonym has many bigrams, each adding to the rank), and the query as typed a little above the rest."""
    cases, params = [], []
    for position, (terms, prefix) in enumerate(ask.alternatives):
        found, found_params = dialect.also(_Ask(((terms, prefix),), (), title_only=ask.title_only))
        weight = (FIRST_ALTERNATIVE_BONUS if position == 0 else 1.0) / max(1, len(terms) + bool(prefix))
        cases.append(f"WHEN {found} THEN {weight}")
        params += found_params
    return f"(CASE {' '.join(cases)} ELSE 1.0 END)", params


def _from_where(dialect, ask: _Ask, where: tuple[str, list]) -> tuple[str, list]:
    match, params = dialect.match(ask)
    return f"FROM {dialect.source} WHERE {match} AND ({where[0]})", params + where[1]


def _count(dialect, ask: _Ask, where) -> int:
    body, params = _from_where(dialect, ask, where)
    return _fetch(f"SELECT count(*) {body}", params)[0][0]


def _exact_sql(ask: _Ask) -> tuple[str, list]:
    """1 for a document whose title equals the query (after folding), else 0: one probe of the title_key index,
    whatever the number of matches."""
    if not ask.keys:
        return "0", []
    marks = ", ".join(["%s"] * len(ask.keys))
    found = f"SELECT exact_entry.id FROM {_T} exact_entry WHERE exact_entry.title_key IN ({marks})"
    return f"(CASE WHEN {_T}.id IN ({found}) THEN 1 ELSE 0 END)", list(ask.keys)


# Relevance: an exact title first, then the score; exact ties go to the shorter title, the more popular
# document, then the lower id, so the same query always gives the same order.
RELEVANCE_ORDER = "exact DESC, score DESC, title_length ASC NULLS LAST, boost DESC, id ASC"
NEWEST_ORDER = "date_order DESC NULLS LAST, score DESC, id DESC"


def _ranked(dialect, ask: _Ask, where, *, sort: str, offset: int, limit: int) -> list[tuple[int, float]]:
    score, score_params = _score_sql(dialect, ask, timezone.now())
    exact, exact_params = _exact_sql(ask)
    body, params = _from_where(dialect, ask, where)
    order = NEWEST_ORDER if sort == "newest" else RELEVANCE_ORDER
    inner = (
        f"SELECT {_T}.id AS id, {score} AS score, {exact} AS exact, {_T}.title_length AS title_length, "
        f"{_T}.boost AS boost, {_T}.date AS date_order {body}"
    )
    sql = f"SELECT id, score FROM ({inner}) ranked ORDER BY {order} LIMIT %s OFFSET %s"
    return [(row[0], float(row[1])) for row in _fetch(sql, score_params + exact_params + params + [limit, offset])]


def _counted(dialect, ask: _Ask, where) -> tuple[int, dict[str, list[FacetValue]]]:
    """The total and every facet in one statement: the matches are found once (a CTE used several times is
    materialized by both databases) and grouped per dimension; only (dimension, value, count) rows come back."""
    body, params = _from_where(dialect, ask, where)
    columns = ", ".join(f"{_T}.{column} AS {column}" for column in _FACET_COLUMNS.values())
    groups = ["SELECT 'total', NULL, count(*) FROM matched"]
    for dimension, column in _FACET_COLUMNS.items():
        present = f"{column} IS NOT NULL" + (f" AND {column} <> ''" if dimension in _TEXT_COLUMNS else "")
        groups.append(
            f"SELECT '{dimension}', CAST({column} AS TEXT), count(*) FROM matched WHERE {present} GROUP BY {column}"
        )
    rows = _fetch(f"WITH matched AS (SELECT {columns} {body}) " + " UNION ALL ".join(groups), params)
    total, facets = 0, {dimension: [] for dimension in _FACET_COLUMNS}
    for dimension, value, count in rows:
        if dimension == "total":
            total = count
        else:
            facets[dimension].append(FacetValue(value=str(value), count=count))
    return total, {dimension: _top(values, FACET_SIZES[dimension]) for dimension, values in facets.items()}


def _top(values: list[FacetValue], size: int) -> list[FacetValue]:
    return sorted(values, key=lambda value: (-value.count, value.value))[:size]


# --- Any other database: the same answers from substring matches on the padded terms (slow, correct)


def _generic_match(ask: _Ask, *, title_column: bool = False) -> Q:
    column = "title_terms" if ask.title_only or title_column else "terms"
    condition = Q(pk__in=[])
    for terms, prefix in ask.alternatives:
        if terms or prefix:
            need = Q()
            for term in terms:
                need &= Q(**{f"{column}__contains": f" {term} "})
            if prefix:
                need &= Q(**{f"{column}__contains": f" {prefix}"})
            condition |= need
    if ask.pinyin:
        condition |= Q(pinyin__contains=f" {ask.pinyin}")
    return condition


def _generic_exact(ask: _Ask) -> Q:
    condition = Q(pk__in=[])
    for runs in ask.phrases:
        if any(runs):
            need = Q()
            for run in runs:
                need &= Q(title_terms__contains=f" {' '.join(run)} ")
            condition |= need
    return condition


def _generic_score(row: dict, ask: _Ask, now: datetime) -> float:
    score = (0.0 if ask.title_only else 1.0) + TITLE_WEIGHT * row["title_hit"] + PINYIN_WEIGHT * row["pinyin_hit"]
    score *= EXACT_TITLE_BONUS if row["exact_hit"] else 1.0
    score *= FIRST_ALTERNATIVE_BONUS if len(ask.alternatives) > 1 and row["first_hit"] else 1.0
    return score * row["boost"] * _freshness(row["date"], now)


def _freshness(date: datetime | None, now: datetime) -> float:
    if date is None:
        return 1.0
    age = max(0.0, (now - date).total_seconds() / 86400)
    return 1.0 + FRESHNESS * FRESHNESS_HALF_DAYS / (FRESHNESS_HALF_DAYS + age)


def _generic_rows(ask: _Ask, condition: Q):
    from django.db.models import BooleanField, Case, Value, When

    def flag(hit: Q):
        return Case(When(hit, then=Value(True)), default=Value(False), output_field=BooleanField())

    text = _Ask(ask.alternatives, ask.phrases)
    return (
        IndexEntry.objects.filter(condition, _generic_match(ask))
        .annotate(
            title_hit=flag(_generic_match(text, title_column=True)),
            pinyin_hit=flag(_generic_match(_Ask((), (), ask.pinyin)) if ask.pinyin else Q(pk__in=[])),
            exact_hit=flag(_generic_exact(ask)),
            first_hit=flag(_generic_match(ask.first())),
            exact_title=flag(Q(title_key__in=list(ask.keys)) if ask.keys else Q(pk__in=[])),
        )
        .values("id", "title", "boost", "date", "title_hit", "pinyin_hit", "exact_hit", "first_hit", "exact_title")
    )


def _generic_ranked(ask: _Ask, condition: Q, *, sort: str, offset: int, limit: int) -> list[tuple[int, float]]:
    now = timezone.now()
    rows = [(row, _generic_score(row, ask, now)) for row in _generic_rows(ask, condition)]
    undated = datetime.min.replace(tzinfo=UTC)
    if sort == "newest":
        rows.sort(key=lambda pair: (pair[0]["date"] or undated, pair[1], pair[0]["id"]), reverse=True)
    else:
        rows.sort(key=lambda pair: _relevance_key(*pair))
    return [(row["id"], score) for row, score in rows[offset : offset + limit]]


def _relevance_key(row: dict, score: float) -> tuple:
    # RELEVANCE_ORDER in Python (a title of unknown length, indexed before migration 0005, goes last).
    return (not row["exact_title"], -score, len(row["title"]), -row["boost"], row["id"])


def _generic_facet(ask: _Ask, condition: Q, dimension: str) -> list[FacetValue]:
    from django.db.models import Count

    column = _FACET_COLUMNS[dimension]
    entries = IndexEntry.objects.filter(condition, _generic_match(ask)).exclude(**{f"{column}__isnull": True})
    if dimension in _TEXT_COLUMNS:
        entries = entries.exclude(**{column: ""})
    rows = entries.values(column).annotate(n=Count("id")).order_by("-n", column)[: FACET_SIZES[dimension]]
    return [FacetValue(value=str(row[column]), count=row["n"]) for row in rows]


# --- Suggestions: titles by how they match what is typed, each class walked in order


# Best first: the title is what was typed; it starts with it; it holds every term (the word being typed as a
# prefix); only its pinyin (or its creators') starts with it. Within a class: shorter title, more popular, newer,
# lower id. Together the classes are exactly the title-or-pinyin match suggestions always had; ranked this way,
# each class is an ordered scan the database can stop at the limit, instead of ranking every match (ts_rank).
SUGGESTION_CLASSES = ("exact", "prefix", "title", "pinyin")
SUGGESTION_ORDER = f"length({_T}.title) ASC, {_T}.boost DESC, {_T}.date DESC NULLS LAST, {_T}.id ASC"
# PostgreSQL reads the title and pinyin classes from `search_suggest` (migration 0008) by these groups of title
# lengths, shortest first (25 stands for 25 and over, as there): a common term or prefix is answered from the first
# groups, whose matches are few.
LENGTH_GROUPS = (
    (0, 1, 2),
    *((length,) for length in range(3, 9)),
    (9, 10),
    (11, 12),
    tuple(range(13, 17)),
    tuple(range(17, 26)),
)


def _class_statement(source: str, clause: str, params: list, where: tuple[str, list]) -> Statement:
    """One suggestion class on the index table: (title, url, creators) in SUGGESTION_ORDER, a slice at a time."""
    sql = (
        f"SELECT {_T}.title, {_T}.url, {_T}.creators FROM {source} WHERE {clause} AND ({where[0]}) "
        f"ORDER BY {SUGGESTION_ORDER} LIMIT %s OFFSET %s"
    )
    return lambda count, offset: (sql, [*params, *where[1], count, offset])


def _narrow_statements(
    query_for, audience: Audience, where: tuple[str, list], *, not_starting: str | None = None
) -> list[Statement]:
    """The statement reading `search_suggest` (migration 0008) one LENGTH_GROUPS group at a time, shortest titles
    first, in one round trip (`search_suggest_walk`): `query_for(length)` is the tsquery for titles of one length
    ("" for none); rows whose title key is LIKE `not_starting` are passed over. The GIN index hands over only the
    matches of each group's lengths, so a common term is answered from the short titles; only the rows kept are
    read from the index table, and checked against the audience there too."""
    queries = []
    for lengths in LENGTH_GROUPS:
        asked = [f"({query})" for length in lengths if (query := query_for(length))]
        if asked:
            queries.append(" | ".join(asked))
    if not queries:  # nothing to look for (no term survived the analysis)
        return []
    walk = "search_suggest_walk(%s::text[], %s, %s::text[], %s, %s::bigint[], %s, %s)"
    sql = (
        f"SELECT {_T}.title, {_T}.url, {_T}.creators FROM {walk} walk JOIN {_T} ON {_T}.id = walk.found_id "
        f"WHERE {where[0]} ORDER BY walk.ord"
    )
    head = [queries, not_starting, list(audience.levels), audience.all_units, list(audience.unit_ids)]
    return [lambda count, offset: (sql, [*head, count, offset, *where[1]])]


def _typed_key(ask: _Ask) -> str:
    """What is typed as a title key (`analysis.title_key`), or "" when only pinyin was typed."""
    return ask.keys[0] if ask.keys and ask.alternatives else ""


def _like_prefix(key: str) -> str:
    """A LIKE pattern for titles starting with `key` (backslash escapes: PostgreSQL's default, SQLite's ESCAPE)."""
    return key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _suggested(ask: _Ask, audience: Audience, *, limit: int) -> list[tuple[str, str, str]]:
    """(title, url, creators) of up to `limit` suggestions, each title once, in SUGGESTION_CLASSES order."""
    dialect = _dialect()
    if dialect is None:
        return _generic_suggested(ask, _visible_q(audience), limit=limit)
    where = _where_sql(_visible_q(audience))
    if where is None:
        return []
    statements = dialect.title_statements(ask, audience, where)
    if ask.pinyin:
        statements += dialect.pinyin_statements(ask.pinyin, audience, where)
    return _distinct(statements, limit=limit, key=lambda row: row[0])


def _distinct(statements: list[Statement], *, limit: int, key) -> list[tuple[str, str, str]]:
    """The rows of `statements`, asked in turn, each `key(row)` once, until `limit` are found: 4 × `limit` rows of
    each, and when those held too few, 12 × more at once (many episodes may share one title; asked a page at a
    time, each page would walk the rows before it again)."""
    found: dict = {}
    for statement in statements:
        for count, offset in ((limit * 4, 0), (limit * 12, limit * 4)):
            rows = _fetch(*statement(count, offset))
            for row in rows:
                found.setdefault(key(row), row)
            if len(found) >= limit or len(rows) < count:
                break
        if len(found) >= limit:
            break
    return list(found.values())[:limit]


def _generic_suggested(ask: _Ask, condition: Q, *, limit: int, key=lambda row: row[0]) -> list[tuple[str, str, str]]:
    """`_suggested` on any other database: every match read and put in SUGGESTION_CLASSES order here."""
    typed, undated = _typed_key(ask), datetime.min.replace(tzinfo=UTC)
    rows = _generic_rows(ask, condition).values(
        "id", "title", "url", "creators", "boost", "date", "title_key", "title_hit"
    )

    def order(row) -> tuple:
        title_key = row["title_key"] or ""
        if typed and row["title_hit"]:
            kind = 0 if title_key == typed else 1 if title_key.startswith(typed) else 2
        else:
            kind = 3
        return (kind, len(row["title"]), -row["boost"], -(row["date"] or undated).timestamp(), row["id"])

    found: dict = {}
    for row in sorted(rows, key=order):
        spelled = (row["title"], row["url"], row["creators"])
        found.setdefault(key(spelled), spelled)
    return list(found.values())[:limit]


# --- The engine


def _in_window(request: SearchRequest) -> bool:
    """Whether this page may have hits: the engines' rule (RESULT_WINDOW), so both answer a deep page alike."""
    return max(1, request.page) * request.per_page <= RESULT_WINDOW


class EmbeddedEngine:
    name = "embedded"
    label = "内置索引"

    def ping(self) -> None:
        connection.ensure_connection()

    def ensure_index(self) -> None:
        """Nothing to do: migrations create the index."""

    def index(self, documents: list[SearchDocument], *, version: int | None = None, index: str | None = None) -> None:
        """Add or replace documents (`version` and `index` are for the engines; the database is always current)."""
        # One upsert statement run for the whole batch; the FTS5 triggers (SQLite) fire on both the insert and the
        # update path.
        rows = {document.doc_id: _entry(document) for document in documents}
        if rows:
            _upsert(list(rows.values()))

    def delete(self, doc_ids: list[str], *, version: int | None = None) -> None:
        IndexEntry.objects.filter(doc_id__in=list(doc_ids)).delete()

    def count(self) -> int:
        return IndexEntry.objects.count()

    def doc_ids(self) -> set[str]:
        return set(IndexEntry.objects.values_list("doc_id", flat=True))

    def search(self, parsed: ParsedQuery, request: SearchRequest) -> SearchResults:
        results = SearchResults(
            hits=[], total=0, page=request.page, per_page=request.per_page, query=parsed.text, backend=self.name
        )
        ask, condition = _ask(parsed), _visible_q(request.audience) & _chosen_q(request)
        if ask.empty:
            return results
        offset = (max(1, request.page) - 1) * request.per_page
        dialect = _dialect()
        if dialect is None:
            return self._generic_search(parsed, ask, condition, request, results, offset)
        where = _where_sql(condition)
        if where is None:
            return results
        if request.facets:
            results.total, results.facets = _counted(dialect, ask, where)
        else:
            results.total = _count(dialect, ask, where)
        if results.total > offset and _in_window(request):
            ranked = _ranked(dialect, ask, where, sort=request.sort, offset=offset, limit=request.per_page)
            results.hits = _hits(ranked, parsed)
        return results

    def _generic_search(self, parsed, ask, condition, request, results, offset) -> SearchResults:
        results.total = IndexEntry.objects.filter(condition, _generic_match(ask)).count()
        if results.total > offset and _in_window(request):
            ranked = _generic_ranked(ask, condition, sort=request.sort, offset=offset, limit=request.per_page)
            results.hits = _hits(ranked, parsed)
        if request.facets:
            results.facets = {dimension: _generic_facet(ask, condition, dimension) for dimension in _FACET_COLUMNS}
        return results

    def suggest(self, parsed: ParsedQuery, audience: Audience, *, limit: int) -> list[Suggestion]:
        """Titles (not bodies) matching what is typed so far, or whose pinyin starts with it; each title once, in
        SUGGESTION_CLASSES order (the title itself, titles starting with it, titles holding it, pinyin)."""
        ask = _suggest_ask(parsed)
        if ask.empty or limit < 1:
            return []
        rows = _suggested(ask, audience, limit=limit)
        return [Suggestion(text=title, url=url) for title, url, _creators in rows]

    def pinyin_titles(self, pinyin: str, audience: Audience, *, limit: int) -> list[str]:
        """For "did you mean": "title creators" of each visible document with a pinyin term (of its title or
        creators) starting with `pinyin`, in suggestions' order (short titles first); the caller looks for the
        words that sound like the query in either (曹雪琴 → the creator 曹雪芹)."""
        if not pinyin or limit < 1:
            return []
        dialect = _dialect()
        if dialect is None:
            ask = _Ask((), (), pinyin, title_only=True)
            rows = _generic_suggested(ask, _visible_q(audience), limit=limit, key=_title_and_creators)
        else:
            where = _where_sql(_visible_q(audience))
            statements = dialect.pinyin_statements(pinyin, audience, where) if where else []
            rows = _distinct(statements, limit=limit, key=_title_and_creators)
        return [_title_and_creators(row) for row in rows]


def _title_and_creators(row: tuple[str, str, str]) -> str:
    return f"{row[0]} {row[2]}".strip()


def _hits(ranked: list[tuple[int, float]], parsed: ParsedQuery) -> list[Hit]:
    entries = IndexEntry.objects.in_bulk([entry_id for entry_id, _score in ranked])
    return [_hit(entries[entry_id], score, parsed) for entry_id, score in ranked if entry_id in entries]


def _hit(entry: IndexEntry, score: float, parsed: ParsedQuery) -> Hit:
    # A pinyin query marks the title words it spells (dengta → 灯塔), wherever they appear.
    spelled = pinyin_match(entry.title, parsed.pinyin) if parsed.pinyin else ""
    also = [spelled] if spelled else []
    return Hit(
        doc_id=entry.doc_id,
        kind=entry.kind,
        title=entry.title,
        url=entry.url,
        snippet=highlight(entry.excerpt or entry.subtitle or entry.creators, parsed, width=SNIPPET_CHARS, also=also),
        score=score,
        date=entry.date,
        title_html=highlight(entry.title, parsed, also=also),
    )
