"""The embedded default (no SEARCH_URL): modelsearch's database backend, storing and matching our terms.

`BACKEND: "search.admin_backends.database"`; modelsearch looks up `SearchBackend` here, as in its own module.
"""

from django.db import connection


def SearchBackend(params):  # the name modelsearch looks up in a backend module
    """The Chinese-aware flavour for the database in use; modelsearch's own where there is none (MySQL, or a
    SQLite without FTS5), which then searches as stock Wagtail does."""
    if connection.vendor == "postgresql":
        from .postgres import ChinesePostgresSearchBackend

        return ChinesePostgresSearchBackend(params)
    from modelsearch.backends.database import SearchBackend as stock_backend

    backend = stock_backend(params)  # it decides whether SQLite has FTS5 and its table
    if connection.vendor == "sqlite" and type(backend).__name__ == "SQLiteSearchBackend":
        from .sqlite import ChineseSQLiteSearchBackend

        return ChineseSQLiteSearchBackend(params)
    return backend
