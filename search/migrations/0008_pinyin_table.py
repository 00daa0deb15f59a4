"""PostgreSQL: `search_pinyin`, a narrow copy of what suggestions' pinyin class and "did you mean"'s pinyin look-up
read (`embedded.PINYIN_LENGTH_GROUPS`), kept by triggers on `search_indexentry`.

Both ask for the shortest titles with a pinyin term starting with what is typed. A common prefix ("ci", "sc",
"ciyun") has a pinyin term in tens of thousands of titles, and on `search_indexentry` (461 MB at 300,000 poems:
excerpts, body vectors) every one of them cost a table page: p95 120–130 ms. Here each row is one document's
ordering and audience columns and its pinyin terms, each term led by its title's length (`07ciyun…` for a
seven-character title, `25` for 25 and over). A query asks one group of lengths at a time, shortest first, so the
GIN index gives only the matches of those lengths, and it stops once it has enough titles: a common prefix is
answered from the short titles, a rare one from a few small look-ups.

The triggers write a row when a document is written, rewrite it only when a column it copies changed, delete it
with the document (or when it has no pinyin left), and empty the table when the index is truncated. SQLite and
other databases are left as they are: FTS5 answers the same question there.
"""

from django.db import migrations

FORWARD = [
    """CREATE TABLE IF NOT EXISTS search_pinyin (
        entry_id bigint PRIMARY KEY,
        title_length smallint NOT NULL,
        boost double precision NOT NULL,
        date timestamp with time zone NULL,
        access varchar(16) NOT NULL,
        access_unit_id bigint NULL,
        terms tsvector NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS search_pinyin_terms ON search_pinyin USING gin (terms)",
    # The pinyin terms of a title and its creators (`pinyin`, space separated), each led by the title's length.
    """CREATE OR REPLACE FUNCTION search_pinyin_terms(title text, pinyin text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT array_to_tsvector(array_agg(lpad(least(length(title), 25)::text, 2, '0') || term))
        FROM unnest(string_to_array(btrim(pinyin), ' ')) AS term WHERE term <> ''
    $$""",
    """CREATE OR REPLACE FUNCTION search_pinyin_write() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        spelled tsvector := search_pinyin_terms(NEW.title, NEW.pinyin);
    BEGIN
        IF spelled IS NULL THEN
            DELETE FROM search_pinyin WHERE entry_id = NEW.id;
        ELSE
            INSERT INTO search_pinyin (entry_id, title_length, boost, date, access, access_unit_id, terms)
            VALUES (NEW.id, length(NEW.title), NEW.boost, NEW.date, NEW.access, NEW.access_unit_id, spelled)
            ON CONFLICT (entry_id) DO UPDATE SET
                title_length = excluded.title_length, boost = excluded.boost, date = excluded.date,
                access = excluded.access, access_unit_id = excluded.access_unit_id, terms = excluded.terms;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION search_pinyin_forget() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM search_pinyin WHERE entry_id = OLD.id;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION search_pinyin_empty() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE search_pinyin;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE TRIGGER search_pinyin_inserted AFTER INSERT ON search_indexentry
        FOR EACH ROW EXECUTE FUNCTION search_pinyin_write()""",
    # The drain and a rebuild write every document again, most of them unchanged.
    """CREATE OR REPLACE TRIGGER search_pinyin_updated AFTER UPDATE ON search_indexentry FOR EACH ROW
        WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.pinyin IS DISTINCT FROM NEW.pinyin
              OR OLD.boost IS DISTINCT FROM NEW.boost OR OLD.date IS DISTINCT FROM NEW.date
              OR OLD.access IS DISTINCT FROM NEW.access OR OLD.access_unit_id IS DISTINCT FROM NEW.access_unit_id)
        EXECUTE FUNCTION search_pinyin_write()""",
    """CREATE OR REPLACE TRIGGER search_pinyin_deleted AFTER DELETE ON search_indexentry
        FOR EACH ROW EXECUTE FUNCTION search_pinyin_forget()""",
    """CREATE OR REPLACE TRIGGER search_pinyin_truncated AFTER TRUNCATE ON search_indexentry
        FOR EACH STATEMENT EXECUTE FUNCTION search_pinyin_empty()""",
    """INSERT INTO search_pinyin (entry_id, title_length, boost, date, access, access_unit_id, terms)
        SELECT id, length(title), boost, date, access, access_unit_id, search_pinyin_terms(title, pinyin)
        FROM search_indexentry WHERE search_pinyin_terms(title, pinyin) IS NOT NULL
        ON CONFLICT (entry_id) DO NOTHING""",
    "ANALYZE search_pinyin",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS search_pinyin_truncated ON search_indexentry",
    "DROP TRIGGER IF EXISTS search_pinyin_deleted ON search_indexentry",
    "DROP TRIGGER IF EXISTS search_pinyin_updated ON search_indexentry",
    "DROP TRIGGER IF EXISTS search_pinyin_inserted ON search_indexentry",
    "DROP FUNCTION IF EXISTS search_pinyin_empty()",
    "DROP FUNCTION IF EXISTS search_pinyin_forget()",
    "DROP FUNCTION IF EXISTS search_pinyin_write()",
    "DROP FUNCTION IF EXISTS search_pinyin_terms(text, text)",
    "DROP TABLE IF EXISTS search_pinyin",
]


def _run(schema_editor, statements: list[str]) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in statements:
            schema_editor.execute(statement)


def forward(apps, schema_editor):
    _run(schema_editor, FORWARD)


def backward(apps, schema_editor):
    _run(schema_editor, BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("search", "0007_suggestion_classes")]

    operations = [migrations.RunPython(forward, backward)]
