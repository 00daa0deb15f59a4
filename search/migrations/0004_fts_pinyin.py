"""The full-text index also covers pinyin.

SQLite: FTS5 cannot add a column, so the table and its triggers are made again with a `pinyin` column and
refilled from the rows ('rebuild'); a covering index serves the filters. PostgreSQL: stored generated tsvector
columns, each GIN-indexed: `body_vector` (every term; replaces 0002's expression index) and `title_vector`
(title terms weight A, pinyin terms weight B: small, so ranking reads it cheaply, and it serves title-only and
pinyin-prefix matches). Django does not know these columns; the database fills them on every write.

Existing rows get their pinyin terms at the next `search_rebuild` (the FTS5 table is refilled here).
"""

from django.db import migrations


def _sqlite_fts(columns: list[str]) -> list[str]:
    """The external-content FTS5 table over these IndexEntry columns and the triggers that keep it in step."""
    names = ", ".join(columns)
    new = ", ".join(f"new.{column}" for column in columns)
    old = ", ".join(f"old.{column}" for column in columns)
    return [
        f"""CREATE VIRTUAL TABLE search_fts USING fts5(
            {names}, content='search_indexentry', content_rowid='id',
            tokenize='unicode61 remove_diacritics 0')""",
        f"""CREATE TRIGGER search_fts_ai AFTER INSERT ON search_indexentry BEGIN
            INSERT INTO search_fts(rowid, {names}) VALUES (new.id, {new});
        END""",
        f"""CREATE TRIGGER search_fts_ad AFTER DELETE ON search_indexentry BEGIN
            INSERT INTO search_fts(search_fts, rowid, {names}) VALUES ('delete', old.id, {old});
        END""",
        f"""CREATE TRIGGER search_fts_au AFTER UPDATE ON search_indexentry BEGIN
            INSERT INTO search_fts(search_fts, rowid, {names}) VALUES ('delete', old.id, {old});
            INSERT INTO search_fts(rowid, {names}) VALUES (new.id, {new});
        END""",
        "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
    ]


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_fts_au",
    "DROP TRIGGER IF EXISTS search_fts_ad",
    "DROP TRIGGER IF EXISTS search_fts_ai",
    "DROP TABLE IF EXISTS search_fts",
]
# Every column that filters, facets and ranking read, so each match costs one small index lookup instead of a
# read of a row made long by its terms and excerpt (about 3× faster for a query matching thousands).
SQLITE_COVERING = """CREATE INDEX search_indexentry_filters ON search_indexentry
    (id, access, access_unit_id, kind, subject, year, unit_id, unit_path, boost, date)"""
SQLITE_FORWARD = [*SQLITE_DROP, *_sqlite_fts(["title_terms", "terms", "pinyin"]), SQLITE_COVERING]
SQLITE_BACKWARD = [
    "DROP INDEX IF EXISTS search_indexentry_filters",
    *SQLITE_DROP,
    *_sqlite_fts(["title_terms", "terms"]),
]

POSTGRES_FORWARD = [
    # Stored vectors: a recheck (weighted or prefix queries, lossy bitmaps) or a scan reads them instead of
    # analysing the terms text again for every row.
    """ALTER TABLE search_indexentry ADD COLUMN body_vector tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED""",
    "CREATE INDEX search_indexentry_body_vector ON search_indexentry USING gin (body_vector)",
    "DROP INDEX IF EXISTS search_indexentry_terms_fts",
    """ALTER TABLE search_indexentry ADD COLUMN title_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title_terms), 'A') || setweight(to_tsvector('simple', pinyin), 'B')
    ) STORED""",
    "CREATE INDEX search_indexentry_title_vector ON search_indexentry USING gin (title_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_indexentry_title_vector",
    "ALTER TABLE search_indexentry DROP COLUMN IF EXISTS title_vector",
    """CREATE INDEX IF NOT EXISTS search_indexentry_terms_fts ON search_indexentry
        USING gin (to_tsvector('simple', terms))""",
    "DROP INDEX IF EXISTS search_indexentry_body_vector",
    "ALTER TABLE search_indexentry DROP COLUMN IF EXISTS body_vector",
]


def _run(schema_editor, statements_by_vendor):
    for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def forward(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD})


def backward(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [("search", "0003_fields_editors")]

    operations = [migrations.RunPython(forward, backward)]
