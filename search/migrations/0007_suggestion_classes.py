"""PostgreSQL: the indexes suggestions walk, class by class (`embedded.SUGGESTION_CLASSES`).

- `title_key` with `varchar_pattern_ops`: `title_key LIKE '红楼%'` (a title starting with what is typed) is a range
  of this btree whatever the database's collation.
- `(left(title_key, 1), length(title))` and `(left(title_key, 2), length(title))`: the titles starting with one or
  two characters, shortest first. A common start (次 begins 13,000 of 300,000 poems, 次韵 11,000) is walked in order
  and the walk stops at the limit, where the range above would read every such row from the table before sorting.
- A GIN index on the title terms alone, `to_tsvector('simple', title_terms)`: `title_vector` (0004) also holds the
  pinyin terms, so a Latin prefix such as "ji" or "wag" matched there every row with a pinyin term starting with it
  (a third of all titles for "ji") before the weight was checked row by row; here it finds only title words.

Suggestions used to rank every title or pinyin match (ts_rank) before keeping ten: p95 264–553 ms at 300,000
documents. By class, each an ordered scan with a limit, they stop as soon as ten titles are found. A write adds three
btree keys and a few GIN keys (the cost to the drain is in docs/search.md). SQLite is left as it is: FTS5 answers each
class there.
"""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS search_indexentry_title_key_prefix ON search_indexentry (title_key varchar_pattern_ops)",
    """CREATE INDEX IF NOT EXISTS search_indexentry_title_start ON search_indexentry
        ((left(title_key, 1)), (length(title)))""",
    """CREATE INDEX IF NOT EXISTS search_indexentry_title_start_2 ON search_indexentry
        ((left(title_key, 2)), (length(title)))""",
    """CREATE INDEX IF NOT EXISTS search_indexentry_title_terms_vector ON search_indexentry
        USING gin (to_tsvector('simple', title_terms))""",
]
BACKWARD = [
    "DROP INDEX IF EXISTS search_indexentry_title_terms_vector",
    "DROP INDEX IF EXISTS search_indexentry_title_start_2",
    "DROP INDEX IF EXISTS search_indexentry_title_start",
    "DROP INDEX IF EXISTS search_indexentry_title_key_prefix",
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
    dependencies = [("search", "0006_title_length_order")]

    operations = [migrations.RunPython(forward, backward)]
