"""The PostgreSQL flavour: tsvectors of our terms under the `simple` configuration (no stemming, no stop
words), so a stored term and a query term are compared as they are, as on SQLite."""

from modelsearch.backends.database.postgres.postgres import (
    ObjectIndexer,
    PostgresAutocompleteQueryCompiler,
    PostgresIndex,
    PostgresSearchBackend,
    PostgresSearchQueryCompiler,
)

from .entries import TermsIndexMixin, TermsQueryMixin
from .terms import terms_text


class TermsObjectIndexer(ObjectIndexer):
    def as_vector(self, texts, for_autocomplete=False):
        # Only the tsvectors change: title_text/body_text stay plain for modelsearch's trigram (fuzzy) search.
        return super().as_vector([(terms_text(text), weight) for text, weight in texts], for_autocomplete)


class TermsPostgresIndex(TermsIndexMixin, PostgresIndex):
    indexer_class = TermsObjectIndexer

    def entry_values(self, indexer) -> dict:
        return {
            "title": indexer.title,
            "autocomplete": indexer.autocomplete,
            "body": indexer.body,
            "title_text": indexer.title_text,
            "body_text": indexer.body_text,
        }


class IndexVectorsMixin:
    def get_search_vectors(self, search_query):
        # `fields=` would make modelsearch build tsvectors from the raw columns, which hold no terms: search
        # the stored entry instead (all of its fields).
        return self.get_index_vectors(search_query)


class TermsPostgresSearchQueryCompiler(TermsQueryMixin, IndexVectorsMixin, PostgresSearchQueryCompiler):
    pass


class TermsPostgresAutocompleteQueryCompiler(TermsQueryMixin, IndexVectorsMixin, PostgresAutocompleteQueryCompiler):
    pass


class ChinesePostgresSearchBackend(PostgresSearchBackend):
    index_class = TermsPostgresIndex
    query_compiler_class = TermsPostgresSearchQueryCompiler
    autocomplete_query_compiler_class = TermsPostgresAutocompleteQueryCompiler

    def __init__(self, params):
        super().__init__(params)
        self.config = params.get("SEARCH_CONFIG") or "simple"
        self.autocomplete_config = self.config
