"""Request bodies for Elasticsearch and OpenSearch, written with elasticsearch-dsl and rendered as data.

Both engines get the same bodies; only the client that sends them differs (see cluster.py). The query text
reaches the engine only inside match/term/prefix queries (never query_string), so `title:*` or `AND (` are
plain text.
"""

from functools import cache

from elasticsearch_dsl import SF, Index, Mapping, Q, Search, analyzer, char_filter, token_filter
from elasticsearch_dsl import field as dsl_field
from elasticsearch_dsl.query import Query

from search.engines.analysis import ParsedQuery, document_boost, is_cjk, pinyin_terms, title_key, words
from search.engines.results import FACET_SIZES, RESULT_WINDOW, Audience, SearchRequest
from search.registry import SearchDocument

TEXT_FIELDS = {"title": 3, "subtitle": 2, "creators": 2, "body": 1}
# Pinyin matches count like a subtitle match (see the contract).
PINYIN_BOOST = 2
# Synonym rewrites rank a little below the query as typed.
SYNONYM_BOOST = 0.8
# Words in their order (an exact title) rank above the same bigrams scattered about.
PHRASE_BOOST = 2
# A title that equals the query (after folding: `title_key`) ranks above every title that only contains it: this
# is added to the score, far above what field matches, freshness and boost make (a few hundred at most), yet small
# enough that float32 scores keep the fractions that order the rest.
EXACT_TITLE_SCORE = 10_000
# Relevance ties (equal scores) go to the shorter title, the more popular document, then the doc_id, the order the
# embedded index gives (embedded.RELEVANCE_ORDER). `unmapped_type` keeps an index made before `title_length`
# existed answering until its rebuild.
RELEVANCE_SORT = (
    "_score",
    {"title_length": {"order": "asc", "missing": "_last", "unmapped_type": "integer"}},
    {"boost": {"order": "desc", "missing": "_last"}},
    {"doc_id": {"order": "asc"}},
)
FRAGMENT_CHARS = 120
HIGHLIGHT_TAGS = {"pre_tags": ["<mark>"], "post_tags": ["</mark>"]}
# The pinyin field stores prefixes of each term up to this length; longer queries are cut to it.
PINYIN_MAX_GRAM = 40
# Freshness: score × (1 + FRESHNESS × f(age)), f = 1 today and 0.5 at FRESHNESS_SCALE.
FRESHNESS = 0.2
FRESHNESS_SCALE = "365d"
# Deleted documents keep a tombstone this long, so a stale (lower-versioned) write cannot bring them back.
GC_DELETES = "1h"
# Every facet dimension → the field its terms aggregation counts.
FACET_FIELDS = {"kind": "kind", "subject": "subject", "year": "year", "unit": "unit_id", "access": "access"}


@cache
def cjk_analyzers():
    """(bigrams, unigrams): the analyzers of our text fields, also given to Wagtail's admin index
    (admin_backends/engine_analysis.py). Both fold full-width text, lowercase and read traditional characters as
    simplified (`lighthouse_t2s`)."""
    from search.engines.analysis import t2s_mapping

    # The same traditional → simplified table the embedded index uses; a char filter keeps offsets, so
    # highlights still show the text as written.
    t2s = char_filter("lighthouse_t2s", type="mapping", mappings=[f"{t}=>{s}" for t, s in t2s_mapping().items()])
    common = {"tokenizer": "standard", "char_filter": [t2s]}
    bigrams = analyzer("lighthouse_cjk", filter=["cjk_width", "lowercase", "cjk_bigram"], **common)
    # Every character on its own, for one-character queries (cjk_bigram keeps only isolated characters).
    unigrams = analyzer("lighthouse_cjk_unigram", filter=["cjk_width", "lowercase"], **common)
    return bigrams, unigrams


def _pinyin_analyzer():
    # Stored as every prefix (2..40 letters) of each pinyin term; the query is one whole term, so a match is
    # a prefix match without a prefix query.
    edges = token_filter("lighthouse_pinyin_edges", type="edge_ngram", min_gram=2, max_gram=PINYIN_MAX_GRAM)
    return analyzer("lighthouse_pinyin", tokenizer="whitespace", filter=["lowercase", edges])


def _facet_templates() -> list[dict]:
    # Extra facet values (tags, role, …) are exact keywords whatever their JSON type, so a number in one
    # document and a word in another never make a write fail on a mapping conflict.
    return [
        {f"facets_{kind}": {"path_match": "facets.*", "match_mapping_type": kind, "mapping": {"type": "keyword"}}}
        for kind in ("string", "long", "double", "boolean")
    ]


def _mapping() -> Mapping:
    bigrams, unigrams = cjk_analyzers()
    mapping = Mapping()
    for name in TEXT_FIELDS:
        # Bodies (whole extracted texts) keep offsets: highlighting then reads them from the index instead of
        # re-analysing the text, which the engines refuse beyond 1,000,000 characters.
        options = {"index_options": "offsets"} if name == "body" else {}
        subfields = {"uni": dsl_field.Text(analyzer=unigrams, **options)}
        if name == "title":
            # Exact titles, so suggestions can show each title once (collapse).
            subfields["keyword"] = dsl_field.Keyword(ignore_above=512)
        mapping.field(name, dsl_field.Text(analyzer=bigrams, fields=subfields, **options))
    # The folded title (analysis.title_key) an exact query equals, and its length for breaking ties.
    mapping.field("title_key", dsl_field.Keyword(ignore_above=1024))
    mapping.field("title_length", dsl_field.Integer())
    # Words segmented in Python (rjieba) from title and subtitle: a precision bonus for whole-word matches.
    mapping.field("words", dsl_field.Text(analyzer="whitespace"))
    mapping.field("pinyin", dsl_field.Text(analyzer=_pinyin_analyzer(), search_analyzer="whitespace"))
    for name in ("doc_id", "kind", "access", "subject", "unit_path"):
        mapping.field(name, dsl_field.Keyword())
    mapping.field("year", dsl_field.Integer())
    mapping.field("unit_id", dsl_field.Long())
    mapping.field("access_unit_id", dsl_field.Long())
    mapping.field("boost", dsl_field.Float())
    mapping.field("date", dsl_field.Date())
    mapping.field("url", dsl_field.Keyword(index=False))
    mapping.field("facets", dsl_field.Object(dynamic=True))
    mapping.meta("dynamic_templates", _facet_templates())
    mapping.meta("date_detection", False)
    mapping.meta("numeric_detection", False)
    return mapping


# While a rebuild fills a new index nobody searches it yet: no periodic refresh, no replica to copy every document
# to (the bulk load costs the node about half); switch_alias gives it both back (BUILT_SETTINGS) before it goes live.
BUILDING_SETTINGS = {"refresh_interval": "-1", "number_of_replicas": 0}


def built_settings(*, replicas: int) -> dict:
    """What an index built without refreshes and replicas gets back before it goes live (null: the default 1 s)."""
    return {"index": {"refresh_interval": None, "number_of_replicas": replicas}}


def index_body(
    name: str, *, aliases: list[str] = (), shards: int = 1, replicas: int = 1, building: bool = False
) -> dict:
    """Settings, analysis and mappings for a new physical index (optionally already behind `aliases`); `building`:
    for a rebuild's bulk load (BUILDING_SETTINGS)."""
    index = Index(name)
    index.settings(
        number_of_shards=shards,
        number_of_replicas=0 if building else replicas,
        **({"refresh_interval": BUILDING_SETTINGS["refresh_interval"]} if building else {}),
        max_result_window=RESULT_WINDOW,
        gc_deletes=GC_DELETES,
    )
    index.mapping(_mapping())
    body = index.to_dict()
    if aliases:
        body["aliases"] = {alias: {} for alias in aliases}
    return body


def document_source(document: SearchDocument) -> dict:
    return {
        "doc_id": document.doc_id,
        "kind": document.kind,
        "title": document.title,
        "subtitle": document.subtitle,
        "body": document.body,
        "creators": document.creators,
        "title_key": title_key(document.title),
        "title_length": len(document.title),
        "words": " ".join(words(f"{document.title} {document.subtitle}")),
        "pinyin": " ".join(pinyin_terms(f"{document.title} {document.creators}")),
        "unit_id": document.unit_id,
        "unit_path": document.unit_path or None,
        "access": document.access,
        "access_unit_id": document.access_unit_id,
        "subject": document.subject or None,
        "year": document.year,
        "boost": document_boost(document.boost),
        "date": document.date.isoformat() if document.date else None,
        "url": document.url,
        "facets": document.facets,
    }


# --- Matching


def _fields(names, suffix: str = "") -> list[str]:
    return [f"{name}{suffix}^{TEXT_FIELDS[name]}" for name in names]


def _lone_character(run: str) -> bool:
    return len(run) == 1 and is_cjk(run)


def _run_query(run: str, names=tuple(TEXT_FIELDS)) -> Query:
    """One run of the query (a Chinese run or a word): all of its terms, in any of the fields."""
    fields = _fields(names, ".uni" if _lone_character(run) else "")
    must = Q("multi_match", query=run, fields=fields, type="cross_fields", operator="and")
    phrase = Q("multi_match", query=run, fields=fields, type="phrase", boost=PHRASE_BOOST)
    return Q("bool", must=[must], should=[phrase])


def _alternative_query(runs: tuple[str, ...], *, boost: float) -> Query:
    """Every run of one alternative must match; whole words of the title/subtitle add precision."""
    should = []
    segmented = " ".join(words(" ".join(runs)))
    if segmented:
        should.append(Q("match", words={"query": segmented}))
    return Q("bool", must=[_run_query(run) for run in runs], should=should, boost=boost)


def _pinyin(parsed_pinyin: str) -> str:
    return parsed_pinyin[:PINYIN_MAX_GRAM]


def _pinyin_query(pinyin: str, *, boost: float = PINYIN_BOOST) -> Query:
    return Q("match", pinyin={"query": _pinyin(pinyin), "boost": boost})


def _alternative_boost(parsed: ParsedQuery, position: int) -> float:
    """1 for the query as typed; a rewrite gets SYNONYM_BOOST scaled by how many terms it has against the
    query's (a score sums over terms, so a long rewrite such as 中国共产党历史 for 党史 would otherwise
    outrank the word the member typed)."""
    if position == 0:
        return 1.0
    typed, rewrite = len(parsed.terms(parsed.alternatives[0])), len(parsed.terms(parsed.alternatives[position]))
    return round(SYNONYM_BOOST * typed / max(rewrite, 1), 4)


def matching_query(parsed: ParsedQuery) -> Query | None:
    """Any alternative (the query first, then synonym rewrites), or the pinyin; None when nothing to match."""
    should = [
        _alternative_query(runs, boost=_alternative_boost(parsed, position))
        for position, runs in enumerate(parsed.alternatives)
    ]
    if parsed.pinyin:
        should.append(_pinyin_query(parsed.pinyin))
    return Q("bool", should=should, minimum_should_match=1) if should else None


# --- Filters


def audience_filter(audience: Audience) -> Query | None:
    """What `audience` may see (Audience.allows); None when it may see nothing."""
    should = []
    if audience.levels:
        should.append(Q("terms", access=list(audience.levels)))
    if audience.all_units:
        should.append(Q("term", access="unit"))
    elif audience.unit_ids:
        should.append(Q("bool", filter=[Q("term", access="unit"), Q("terms", access_unit_id=list(audience.unit_ids))]))
    return Q("bool", should=should, minimum_should_match=1) if should else None


def chosen_filters(request: SearchRequest) -> list[Query]:
    clauses = []
    for name in ("kind", "subject", "access"):
        if getattr(request, name):
            clauses.append(Q("term", **{name: getattr(request, name)}))
    if request.year is not None:
        clauses.append(Q("term", year=request.year))
    if request.unit_path:
        # The owning unit and everything below it (materialised paths share the parent's prefix).
        clauses.append(Q("prefix", unit_path=request.unit_path))
    if request.unit_id is not None:
        # Exactly this owning unit (what a "unit" facet value counts).
        clauses.append(Q("term", unit_id=request.unit_id))
    return clauses


# --- Searches


def _ranked(query: Query) -> Query:
    """score × boost × (1 + FRESHNESS × decay(age)); an undated document keeps its score."""
    freshness = SF(
        "gauss",
        date={"origin": "now", "scale": FRESHNESS_SCALE, "decay": 0.5},
        weight=FRESHNESS,
        filter=Q("exists", field="date"),
    )
    fresh = Q(
        "function_score",
        query=query,
        functions=[SF({"weight": 1}), freshness],
        score_mode="sum",
        boost_mode="multiply",
    )
    boost = SF("field_value_factor", field="boost", missing=1)
    return Q("function_score", query=fresh, functions=[boost], boost_mode="multiply")


def _highlighted(search: Search) -> Search:
    search = search.highlight_options(encoder="html", **HIGHLIGHT_TAGS)
    search = search.highlight("title", "title.uni", "subtitle", "subtitle.uni", number_of_fragments=0)
    return search.highlight(
        "body", "body.uni", fragment_size=FRAGMENT_CHARS, number_of_fragments=1, no_match_size=FRAGMENT_CHARS
    )


def _with_facets(search: Search) -> Search:
    for dimension, field_name in FACET_FIELDS.items():
        search.aggs.bucket(dimension, "terms", field=field_name, size=FACET_SIZES[dimension])
    return search


def exact_title_query(parsed: ParsedQuery) -> Query | None:
    """EXACT_TITLE_SCORE for a document whose title equals an alternative of the query (after folding)."""
    keys = list(parsed.title_keys)
    if not keys:
        return None
    return Q("constant_score", filter=Q("terms", title_key=keys), boost=EXACT_TITLE_SCORE)


def _with_exact_titles(ranked: Query, parsed: ParsedQuery) -> Query:
    """The ranked query, plus EXACT_TITLE_SCORE (outside the freshness and boost factors) for an exact title."""
    exact = exact_title_query(parsed)
    return Q("bool", must=[ranked], should=[exact]) if exact is not None else ranked


def search_body(parsed: ParsedQuery, request: SearchRequest) -> dict | None:
    """One page of a search, or None when nothing can match (an empty query, an audience that sees nothing).

    A page past the result window (page × per_page > RESULT_WINDOW, the rule of every engine) asks for no hits
    (size 0) but still for the true total and facets.
    """
    matching, audience = matching_query(parsed), audience_filter(request.audience)
    if matching is None or audience is None:
        return None
    query = Q("bool", must=[matching], filter=[audience, *chosen_filters(request)])
    ranked = _with_exact_titles(_ranked(query), parsed)
    search = Search().query(ranked).source(excludes=["body", "words", "pinyin", "facets", "title_key"])
    search = _highlighted(search.extra(track_total_hits=True))
    if request.sort == "newest":
        search = search.sort({"date": {"order": "desc", "missing": "_last"}}, "_score").extra(track_scores=True)
    else:
        search = search.sort(*RELEVANCE_SORT)
    if request.facets:
        search = _with_facets(search)
    start = (request.page - 1) * request.per_page
    if request.page * request.per_page > RESULT_WINDOW:
        return search[0:0].to_dict()
    return search[start : start + request.per_page].to_dict()


def _title_query(runs: tuple[str, ...]) -> Query:
    """The title holds every run; the last word may be a prefix (the member is still typing it)."""
    must = [_run_query(run, names=("title",)) for run in runs[:-1]]
    last = runs[-1]
    if not is_cjk(last):
        must.append(Q("bool", should=[_run_query(last, names=("title",)), Q("prefix", **{"title.uni": last})]))
    else:
        must.append(_run_query(last, names=("title",)))
    return Q("bool", must=must)


def suggest_body(parsed: ParsedQuery, audience: Audience, *, limit: int) -> dict | None:
    """Titles matching the query as typed (or its pinyin): best title matches, then boost, then newest;
    each title once."""
    should = [_title_query(parsed.alternatives[0])] if parsed.alternatives else []
    if parsed.pinyin:
        should.append(_pinyin_query(parsed.pinyin))
    visible = audience_filter(audience)
    if not should or visible is None:
        return None
    search = Search().query(Q("bool", should=should, minimum_should_match=1, filter=[visible]))
    search = search.source(["title", "url"]).extra(collapse={"field": "title.keyword"}, track_total_hits=False)
    search = search.sort("_score", {"boost": {"order": "desc"}}, {"date": {"order": "desc", "missing": "_last"}})
    return search[0:limit].to_dict()


def pinyin_titles_body(pinyin: str, audience: Audience, *, limit: int) -> dict | None:
    """Title and creators of documents whose pinyin terms (of title and creators) start with `pinyin`, each title
    once (the caller puts short titles first)."""
    visible = audience_filter(audience)
    if not pinyin or visible is None:
        return None
    search = Search().query(Q("bool", must=[_pinyin_query(pinyin, boost=1)], filter=[visible]))
    search = search.source(["title", "creators"]).extra(collapse={"field": "title.keyword"}, track_total_hits=False)
    return search[0:limit].to_dict()
