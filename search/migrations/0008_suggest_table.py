"""PostgreSQL: `search_suggest`, a narrow copy of what two suggestion classes read — titles holding what is typed,
and titles whose pinyin starts with it (`embedded.SUGGESTION_CLASSES`) — and "did you mean"'s pinyin look-up, kept
by triggers on `search_indexentry`.

Each asks for the shortest titles that match. A common term or prefix (之, 第, "ci", "sc", "ciyun") is in tens of
thousands of titles. On `search_indexentry` (461 MB at 300,000 poems: excerpts, body vectors) every match cost a
table page (p95 120–250 ms), or PostgreSQL walked titles shortest first and checked each, which reads most of the
table when the matches are long titles (the library's "第…讲": 20 ms at 10,000 items). Here each row is one
document's ordering and audience columns and its title terms (`t…`) and pinyin terms (`p…`), each led by its
title's length (`t07故事`, `p07ciyun…` for a seven-character title, `25` for 25 and over). A query asks one group
of lengths at a time, shortest first, so the GIN index gives only the matches of those lengths, and it stops once it
has enough titles (`search_suggest_walk`, one round trip): a common term is answered from the short titles, a rare
one from a few small look-ups.

The triggers write a row when a document is written, rewrite it only when a column it copies changed, delete it
with the document, and empty the table when the index is truncated. The GIN index on the title terms alone (0007)
had served the title class: it goes. SQLite and other databases are left as they are: FTS5 answers there.
"""

from django.db import migrations

FORWARD = [
    # A first version of this migration (commit f99ba10, never released) made `search_pinyin`: gone if present.
    "DROP TRIGGER IF EXISTS search_pinyin_truncated ON search_indexentry",
    "DROP TRIGGER IF EXISTS search_pinyin_deleted ON search_indexentry",
    "DROP TRIGGER IF EXISTS search_pinyin_updated ON search_indexentry",
    "DROP TRIGGER IF EXISTS search_pinyin_inserted ON search_indexentry",
    "DROP FUNCTION IF EXISTS search_pinyin_empty(), search_pinyin_forget(), search_pinyin_write()",
    "DROP FUNCTION IF EXISTS search_pinyin_terms(text, text)",
    "DROP TABLE IF EXISTS search_pinyin",
    """CREATE TABLE IF NOT EXISTS search_suggest (
        entry_id bigint PRIMARY KEY,
        title_length smallint NOT NULL,
        boost double precision NOT NULL,
        date timestamp with time zone NULL,
        access varchar(16) NOT NULL,
        access_unit_id bigint NULL,
        title_key varchar(255) NULL,
        terms tsvector NOT NULL
    )""",
    # The title terms (`t`) and the pinyin terms of the title and creators (`p`), each led by the title's length.
    """CREATE OR REPLACE FUNCTION search_suggest_terms(title text, title_terms text, pinyin text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT array_to_tsvector(array_agg(kind || lpad(least(length(title), 25)::text, 2, '0') || term))
        FROM (
            SELECT 't' AS kind, term FROM unnest(string_to_array(btrim(title_terms), ' ')) AS term
            UNION ALL
            SELECT 'p', term FROM unnest(string_to_array(btrim(pinyin), ' ')) AS term
        ) terms WHERE term <> ''
    $$""",
    # The walk, one round trip: for each tsquery in turn (a group of title lengths), the matching rows (less those
    # whose title key is LIKE `not_starting`) in suggestions' order, until `want + skip` rows; returns those after
    # `skip`, numbered. The index is always taken:
    # on a small table PostgreSQL would read every row for each group instead (1–2 ms each at 10,000 rows).
    """CREATE OR REPLACE FUNCTION search_suggest_walk(
        queries text[], not_starting text, levels text[], all_units boolean, unit_ids bigint[], want integer,
        skip integer
    ) RETURNS TABLE (found_id bigint, ord integer) LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
    DECLARE
        query text;
        ids bigint[];
        got integer := 0;
    BEGIN
        FOREACH query IN ARRAY queries LOOP
            ids := ARRAY(
                SELECT s.entry_id FROM search_suggest s
                WHERE s.terms @@ query::tsquery
                  AND (s.access = ANY(levels)
                       OR (s.access = 'unit' AND (all_units OR s.access_unit_id = ANY(unit_ids))))
                  AND (not_starting IS NULL OR coalesce(s.title_key, '') NOT LIKE not_starting)
                ORDER BY s.title_length, s.boost DESC, s.date DESC NULLS LAST, s.entry_id
                LIMIT want + skip - got
            );
            FOR position IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
                got := got + 1;
                IF got > skip THEN
                    found_id := ids[position];
                    ord := got;
                    RETURN NEXT;
                END IF;
            END LOOP;
            EXIT WHEN got >= want + skip;
        END LOOP;
    END $$""",
    """CREATE OR REPLACE FUNCTION search_suggest_write() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        spelled tsvector := search_suggest_terms(NEW.title, NEW.title_terms, NEW.pinyin);
    BEGIN
        IF spelled IS NULL THEN
            DELETE FROM search_suggest WHERE entry_id = NEW.id;
        ELSE
            INSERT INTO search_suggest (entry_id, title_length, boost, date, access, access_unit_id, title_key, terms)
            VALUES (
                NEW.id, length(NEW.title), NEW.boost, NEW.date, NEW.access, NEW.access_unit_id, NEW.title_key, spelled
            )
            ON CONFLICT (entry_id) DO UPDATE SET
                title_length = excluded.title_length, boost = excluded.boost, date = excluded.date,
                access = excluded.access, access_unit_id = excluded.access_unit_id, title_key = excluded.title_key,
                terms = excluded.terms;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION search_suggest_forget() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM search_suggest WHERE entry_id = OLD.id;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION search_suggest_empty() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE search_suggest;
        RETURN NULL;
    END $$""",
    # CREATE OR REPLACE TRIGGER: PostgreSQL 14 and later, as Django 5.2 requires.
    """CREATE OR REPLACE TRIGGER search_suggest_inserted AFTER INSERT ON search_indexentry
        FOR EACH ROW EXECUTE FUNCTION search_suggest_write()""",
    # The drain and a rebuild write every document again, most of them unchanged.
    """CREATE OR REPLACE TRIGGER search_suggest_updated AFTER UPDATE ON search_indexentry FOR EACH ROW
        WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.title_terms IS DISTINCT FROM NEW.title_terms
              OR OLD.pinyin IS DISTINCT FROM NEW.pinyin OR OLD.title_key IS DISTINCT FROM NEW.title_key
              OR OLD.boost IS DISTINCT FROM NEW.boost OR OLD.date IS DISTINCT FROM NEW.date
              OR OLD.access IS DISTINCT FROM NEW.access OR OLD.access_unit_id IS DISTINCT FROM NEW.access_unit_id)
        EXECUTE FUNCTION search_suggest_write()""",
    """CREATE OR REPLACE TRIGGER search_suggest_deleted AFTER DELETE ON search_indexentry
        FOR EACH ROW EXECUTE FUNCTION search_suggest_forget()""",
    """CREATE OR REPLACE TRIGGER search_suggest_truncated AFTER TRUNCATE ON search_indexentry
        FOR EACH STATEMENT EXECUTE FUNCTION search_suggest_empty()""",
    # Filled before its index is made: one index build instead of a GIN insert per row.
    """INSERT INTO search_suggest (entry_id, title_length, boost, date, access, access_unit_id, title_key, terms)
        SELECT * FROM (
            SELECT id, length(title), boost, date, access, access_unit_id, title_key,
                search_suggest_terms(title, title_terms, pinyin) AS terms
            FROM search_indexentry
        ) copied WHERE terms IS NOT NULL
        ON CONFLICT (entry_id) DO NOTHING""",
    # Without GIN's pending list: every look-up would scan what the drain added since the last clean-up (up to
    # 4 MB, about 1 ms per look-up at 10,000 rows); writes pay a little more instead.
    "CREATE INDEX IF NOT EXISTS search_suggest_terms_gin ON search_suggest USING gin (terms) WITH (fastupdate = off)",
    "ANALYZE search_suggest",
    "DROP INDEX IF EXISTS search_indexentry_title_terms_vector",
]
BACKWARD = [
    """CREATE INDEX IF NOT EXISTS search_indexentry_title_terms_vector ON search_indexentry
        USING gin (to_tsvector('simple', title_terms))""",
    "DROP TRIGGER IF EXISTS search_suggest_truncated ON search_indexentry",
    "DROP TRIGGER IF EXISTS search_suggest_deleted ON search_indexentry",
    "DROP TRIGGER IF EXISTS search_suggest_updated ON search_indexentry",
    "DROP TRIGGER IF EXISTS search_suggest_inserted ON search_indexentry",
    "DROP FUNCTION IF EXISTS search_suggest_empty()",
    "DROP FUNCTION IF EXISTS search_suggest_forget()",
    "DROP FUNCTION IF EXISTS search_suggest_write()",
    "DROP FUNCTION IF EXISTS search_suggest_terms(text, text, text)",
    "DROP FUNCTION IF EXISTS search_suggest_walk(text[], text, text[], boolean, bigint[], integer, integer)",
    "DROP TABLE IF EXISTS search_suggest",
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
