"""Proof of play (``PlayRecord``): a plain table on SQLite, a table partitioned by day on PostgreSQL
(screens/plays/partitions.py says how its partitions are made and dropped)."""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone


def create_table(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.create_model(apps.get_model("screens", "PlayRecord"))
        return
    from screens.models import SCHEDULE_TIME_ZONE
    from screens.plays.partitions import CREATE_PARENT, partitions_ensure

    schema_editor.execute(CREATE_PARENT)
    partitions_ensure(today=timezone.now().astimezone(SCHEDULE_TIME_ZONE).date(), using=schema_editor.connection)


def drop_table(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS screens_playrecord CASCADE")


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0009_notices"),
        ("screens", "0002_stored_manifests_emergencies"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PlayRecord",
                    fields=[
                        ("id", models.UUIDField(editable=False, primary_key=True, serialize=False)),
                        ("channel_id", models.IntegerField(null=True)),
                        ("entry_id", models.IntegerField(null=True)),
                        ("asset", models.CharField(blank=True, max_length=200)),
                        ("started_at", models.DateTimeField()),
                        ("seconds", models.FloatField()),
                        ("manifest_version", models.CharField(blank=True, max_length=64)),
                        ("received_at", models.DateTimeField()),
                        ("clock_suspect", models.BooleanField(default=False)),
                        (
                            "device",
                            models.ForeignKey(
                                db_constraint=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="screens.device",
                            ),
                        ),
                        (
                            "unit",
                            models.ForeignKey(
                                db_constraint=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="cms.orgunit",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "播放记录",
                        "verbose_name_plural": "播放记录",
                        "indexes": [models.Index(fields=["unit", "started_at"], name="screens_play_unit_day")],
                    },
                ),
            ],
        ),
        # After the state: the function finds the model (SQLite) or writes the partitioned table (PostgreSQL).
        migrations.RunPython(create_table, drop_table),
    ]
