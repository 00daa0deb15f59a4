"""The SQLite (FTS5) flavour: FTS5's unicode61 tokenizer splits on spaces, so each stored term is one token."""

from modelsearch.backends.database.sqlite.sqlite import (
    ObjectIndexer,
    SQLiteAutocompleteQueryCompiler,
    SQLiteIndex,
    SQLiteSearchBackend,
    SQLiteSearchQueryCompiler,
)

from .entries import TermsIndexMixin, TermsQueryMixin
from .terms import flatten, terms_text


class TermsObjectIndexer(ObjectIndexer):
    def prepare_value(self, value):
        return terms_text(flatten(value))


class TermsSQLiteIndex(TermsIndexMixin, SQLiteIndex):
    indexer_class = TermsObjectIndexer

    def entry_values(self, indexer) -> dict:
        return {"title": indexer.title, "autocomplete": indexer.autocomplete, "body": indexer.body}


class TermsSQLiteSearchQueryCompiler(TermsQueryMixin, SQLiteSearchQueryCompiler):
    pass


class TermsSQLiteAutocompleteQueryCompiler(TermsQueryMixin, SQLiteAutocompleteQueryCompiler):
    pass


class ChineseSQLiteSearchBackend(SQLiteSearchBackend):
    index_class = TermsSQLiteIndex
    query_compiler_class = TermsSQLiteSearchQueryCompiler
    autocomplete_query_compiler_class = TermsSQLiteAutocompleteQueryCompiler
