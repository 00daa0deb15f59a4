"""Exact titles and deterministic ties: `title_key` (the folded title an exact query equals, indexed) and
`title_length` (shorter titles win ties).

Both are nullable, so SQLite adds them with ALTER TABLE instead of rebuilding the table (which would drop the FTS5
triggers). On SQLite the covering index of 0004 is made again with `title_length`, so ranking still reads no row.
Existing rows get both at the next `search_rebuild`; until then they rank as before, after exact titles.
"""

from django.db import migrations, models

_COLUMNS = "id, access, access_unit_id, kind, subject, year, unit_id, unit_path, boost, date"
SQLITE_FORWARD = [
    "DROP INDEX IF EXISTS search_indexentry_filters",
    f"CREATE INDEX search_indexentry_filters ON search_indexentry ({_COLUMNS}, title_length)",
]
SQLITE_BACKWARD = [
    "DROP INDEX IF EXISTS search_indexentry_filters",
    f"CREATE INDEX search_indexentry_filters ON search_indexentry ({_COLUMNS})",
]


def _run(schema_editor, statements):
    if schema_editor.connection.vendor == "sqlite":
        for statement in statements:
            schema_editor.execute(statement)


def forward(apps, schema_editor):
    _run(schema_editor, SQLITE_FORWARD)


def backward(apps, schema_editor):
    _run(schema_editor, SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("search", "0004_fts_pinyin")]

    operations = [
        migrations.AddField(
            model_name="indexentry",
            name="title_key",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.AddField(
            model_name="indexentry",
            name="title_length",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="indexentry",
            index=models.Index(fields=["title_key"], name="search_indexentry_title_key"),
        ),
        migrations.RunPython(forward, backward),
    ]
