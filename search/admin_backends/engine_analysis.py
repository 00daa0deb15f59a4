"""Index settings giving modelsearch's Elasticsearch/OpenSearch mappings the CJK analysis of our own index
(search/bodies.py): full-width folding, lowercase, character bigrams, OpenCC traditional → simplified.

modelsearch maps search fields with the index's default analyzer and autocomplete fields with
`edgengram_analyzer` (searched with `standard`): we define those names, so its mappings need no change.
"""

from functools import cache

T2S = "lighthouse_t2s"
CHARS_AND_BIGRAMS = "lighthouse_chars_and_bigrams"


def _analyzer(*filters: str) -> dict:
    return {"type": "custom", "tokenizer": "standard", "char_filter": [T2S], "filter": ["cjk_width", *filters]}


@cache
def index_settings() -> dict:
    """INDEX_SETTINGS for modelsearch: text is stored as characters and bigrams, a query is read as bigrams
    (a lone character stays one), so 党史 matches only where 党史 is written, and 党 still finds it."""
    from search.analysis import t2s_mapping

    bigrams = _analyzer("lowercase", "cjk_bigram")
    return {
        "settings": {
            "analysis": {
                "char_filter": {T2S: {"type": "mapping", "mappings": [f"{t}=>{s}" for t, s in t2s_mapping().items()]}},
                "filter": {CHARS_AND_BIGRAMS: {"type": "cjk_bigram", "output_unigrams": True}},
                "analyzer": {
                    "default": _analyzer("lowercase", CHARS_AND_BIGRAMS),
                    "default_search": bigrams,
                    "standard": bigrams,  # the search analyzer modelsearch names for autocomplete fields
                    # Prefixes of words ("ligh" → lighthouse) and every character and bigram of Chinese.
                    "edgengram_analyzer": _analyzer("asciifolding", "lowercase", CHARS_AND_BIGRAMS, "edgengram"),
                },
            }
        }
    }
