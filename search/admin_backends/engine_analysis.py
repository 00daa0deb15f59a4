"""Index settings giving modelsearch's Elasticsearch/OpenSearch mappings the CJK analysis of our own index
(search/engines/bodies.py): full-width folding, lowercase, character bigrams, OpenCC traditional → simplified.

modelsearch maps search fields with the index's default analyzer and autocomplete fields with
`edgengram_analyzer` (searched with `standard`): we define those names, so its mappings need no change. The
traditional → simplified char filter and the bigram analyzer are bodies' own definitions, not copies.
"""

from functools import cache

CHARS_AND_BIGRAMS = "lighthouse_chars_and_bigrams"


@cache
def index_settings() -> dict:
    """INDEX_SETTINGS for modelsearch: text is stored as characters and bigrams, a query is read as bigrams
    (a lone character stays one), so 党史 matches only where 党史 is written, and 党 still finds it."""
    from search.engines.bodies import cjk_analyzers

    bigram_analyzer, _unigrams = cjk_analyzers()
    shared = bigram_analyzer.get_analysis_definition()  # the t2s char filter, by the name the analyzer uses
    bigrams = bigram_analyzer.get_definition()  # standard tokenizer, t2s, cjk_width, lowercase, cjk_bigram
    folding = bigrams["filter"][: bigrams["filter"].index("cjk_bigram")]  # cjk_width, lowercase

    def analyzer(*filters: str) -> dict:
        return {**bigrams, "filter": [*filters]}

    return {
        "settings": {
            "analysis": {
                "char_filter": shared["char_filter"],
                "filter": {CHARS_AND_BIGRAMS: {"type": "cjk_bigram", "output_unigrams": True}},
                "analyzer": {
                    "default": analyzer(*folding, CHARS_AND_BIGRAMS),
                    "default_search": bigrams,
                    "standard": bigrams,  # the search analyzer modelsearch names for autocomplete fields
                    # Prefixes of words ("ligh" → lighthouse) and every character and bigram of Chinese.
                    "edgengram_analyzer": analyzer(
                        "cjk_width", "asciifolding", "lowercase", CHARS_AND_BIGRAMS, "edgengram"
                    ),
                },
            }
        }
    }
