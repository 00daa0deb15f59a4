"""The full-text index over IndexEntry's Python-made terms, in whatever form the database offers."""

from django.db import migrations

SQLITE_CREATE = [
    # External-content FTS5 table: the text lives once, in search_indexentry; triggers keep it in step.
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        title_terms, terms, content='search_indexentry', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TRIGGER search_fts_ai AFTER INSERT ON search_indexentry BEGIN
        INSERT INTO search_fts(rowid, title_terms, terms) VALUES (new.id, new.title_terms, new.terms);
    END""",
    """CREATE TRIGGER search_fts_ad AFTER DELETE ON search_indexentry BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_terms, terms)
        VALUES ('delete', old.id, old.title_terms, old.terms);
    END""",
    """CREATE TRIGGER search_fts_au AFTER UPDATE ON search_indexentry BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_terms, terms)
        VALUES ('delete', old.id, old.title_terms, old.terms);
        INSERT INTO search_fts(rowid, title_terms, terms) VALUES (new.id, new.title_terms, new.terms);
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_fts_au",
    "DROP TRIGGER IF EXISTS search_fts_ad",
    "DROP TRIGGER IF EXISTS search_fts_ai",
    "DROP TABLE IF EXISTS search_fts",
]
# 'simple' keeps each term as it is: the terms are already bigrams, characters and lowercase words.
POSTGRES_CREATE = [
    "CREATE INDEX search_indexentry_terms_fts ON search_indexentry USING gin (to_tsvector('simple', terms))",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS search_indexentry_terms_fts"]


def _run(schema_editor, statements_by_vendor):
    for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def create(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE})


def drop(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP})


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
