"""Request bodies for Elasticsearch and OpenSearch, written with elasticsearch-dsl and rendered as data.

Both engines get the same bodies; only the client that sends them differs (see cluster.py).
"""

from elasticsearch_dsl import Index, Mapping, Q, Search, analyzer, char_filter
from elasticsearch_dsl import field as dsl_field

from search.analysis import normalize, query_fragments
from search.registry import SearchDocument
from search.results import SearchFilters

TEXT_FIELDS = {"title": 3, "subtitle": 2, "creators": 2, "body": 1}
FRAGMENT_CHARS = 120
HIGHLIGHT_TAGS = {"pre_tags": ["<mark>"], "post_tags": ["</mark>"]}


def _analyzers():
    from search.analysis import t2s_mapping

    # The same traditional → simplified table the embedded index uses; a char filter keeps offsets, so
    # highlights still show the text as written.
    t2s = char_filter("lighthouse_t2s", type="mapping", mappings=[f"{t}=>{s}" for t, s in t2s_mapping().items()])
    common = {"tokenizer": "standard", "char_filter": [t2s]}
    bigrams = analyzer("lighthouse_cjk", filter=["cjk_width", "lowercase", "cjk_bigram"], **common)
    # Every character on its own, for one-character queries (cjk_bigram keeps only isolated characters).
    unigrams = analyzer("lighthouse_cjk_unigram", filter=["cjk_width", "lowercase"], **common)
    return bigrams, unigrams


def _mapping() -> Mapping:
    bigrams, unigrams = _analyzers()
    mapping = Mapping()
    for name in TEXT_FIELDS:
        mapping.field(name, dsl_field.Text(analyzer=bigrams, fields={"uni": dsl_field.Text(analyzer=unigrams)}))
    for name in ("doc_id", "kind", "access"):
        mapping.field(name, dsl_field.Keyword())
    mapping.field("unit_id", dsl_field.Long())
    mapping.field("date", dsl_field.Date())
    mapping.field("url", dsl_field.Keyword(index=False))
    mapping.field("facets", dsl_field.Object(dynamic=True))
    # Facet values (subjects, tags, …) are exact keywords, whatever their name.
    mapping.meta(
        "dynamic_templates",
        [{"facets": {"path_match": "facets.*", "match_mapping_type": "string", "mapping": {"type": "keyword"}}}],
    )
    return mapping


def index_body(name: str, *, alias: str | None = None) -> dict:
    """Settings, analysis and mappings for a new physical index (optionally already behind `alias`)."""
    index = Index(name)
    index.settings(number_of_shards=1, max_result_window=10_000)
    index.mapping(_mapping())
    body = index.to_dict()
    if alias:
        body["aliases"] = {alias: {}}
    return body


def document_source(document: SearchDocument) -> dict:
    return {
        "doc_id": document.doc_id,
        "kind": document.kind,
        "title": document.title,
        "subtitle": document.subtitle,
        "body": document.body,
        "creators": document.creators,
        "unit_id": document.unit_id,
        "access": document.access,
        "date": document.date.isoformat() if document.date else None,
        "url": document.url,
        "facets": document.facets,
    }


def _fields(suffix: str = "") -> list[str]:
    return [f"{name}{suffix}^{boost}" for name, boost in TEXT_FIELDS.items()]


def _run_query(run: str) -> Q:
    """One run of the query (a Chinese run or a word): all of its terms, in any field."""
    lone_character = len(run) == 1 and not run.isascii()
    fields = _fields(".uni" if lone_character else "")
    must = Q("multi_match", query=run, fields=fields, type="cross_fields", operator="and")
    # Words in their order (an exact title) rank above the same bigrams scattered about.
    phrase = Q("multi_match", query=run, fields=fields, type="phrase", boost=2)
    return Q("bool", must=[must], should=[phrase])


def _filters(filters: SearchFilters) -> list[Q]:
    clauses = [Q("terms", access=list(filters.access))]
    if filters.kind:
        clauses.append(Q("term", kind=filters.kind))
    if filters.unit_ids:
        clauses.append(Q("terms", unit_id=list(filters.unit_ids)))
    return clauses


def search_body(query: str, *, filters: SearchFilters, page: int, per_page: int) -> dict:
    """A query: every run of the (normalized) query must match; title counts most; filters never score."""
    runs = query_fragments(normalize(query))
    search = Search().query(Q("bool", must=[_run_query(run) for run in runs], filter=_filters(filters)))
    search = search.source(excludes=["body"]).extra(track_total_hits=True)
    search = search.highlight_options(encoder="html", **HIGHLIGHT_TAGS)
    search = search.highlight("title", "title.uni", number_of_fragments=0)
    search = search.highlight(
        "body", "body.uni", fragment_size=FRAGMENT_CHARS, number_of_fragments=1, no_match_size=FRAGMENT_CHARS
    )
    start = (page - 1) * per_page
    return search[start : start + per_page].to_dict()
