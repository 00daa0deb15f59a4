"""Suggestion keys: one row per distinct title term and pinyin term of every embedded index entry, with what
suggestions filter and order on, so a short prefix (红, dt) is an index range instead of ranking every match
(PostgreSQL: p95 490 ms at 300,000 documents). Filled here from the terms the rows already store; afterwards
EmbeddedEngine.index keeps them current and deleting an entry deletes its keys.
"""

import django.db.models.deletion
from django.db import migrations, models


CHUNK = 2000


def fill(apps, schema_editor):
    from search.engines.embedded import newness, suggest_keys

    IndexEntry = apps.get_model("search", "IndexEntry")
    SuggestKey = apps.get_model("search", "SuggestKey")
    columns = ("id", "title_terms", "pinyin", "access", "access_unit_id", "title_length", "boost", "date")
    last = 0
    while True:
        rows = list(IndexEntry.objects.filter(id__gt=last).order_by("id").values_list(*columns)[:CHUNK])
        if not rows:
            return
        keys = [
            SuggestKey(
                key=key, entry_id=entry_id, in_title=in_title, in_pinyin=in_pinyin, access=access,
                access_unit_id=access_unit_id, title_length=title_length or 0, boost=boost, newness=newness(date),
            )
            for entry_id, title_terms, pinyin, access, access_unit_id, title_length, boost, date in rows
            for key, (in_title, in_pinyin) in suggest_keys(title_terms, pinyin).items()
        ]  # fmt: skip
        SuggestKey.objects.bulk_create(keys, batch_size=CHUNK)
        last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0005_exact_titles"),
    ]

    operations = [
        migrations.CreateModel(
            name="SuggestKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(db_index=True, max_length=64)),
                ("in_title", models.PositiveSmallIntegerField(default=0)),
                ("in_pinyin", models.PositiveSmallIntegerField(default=0)),
                ("access", models.CharField(max_length=16)),
                ("access_unit_id", models.BigIntegerField(blank=True, null=True)),
                ("title_length", models.PositiveSmallIntegerField(default=0)),
                ("boost", models.FloatField(default=1.0)),
                ("newness", models.FloatField(default=-1e18)),
                (
                    "entry",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="search.indexentry",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["key", "title_length", "-boost", "-newness", "entry"], name="search_suggestkey_order"
                    ),
                    models.Index(fields=["entry"], name="search_suggestkey_entry"),
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
