"""Import batches that can resume: chunk progress, the process holding a running batch under a lease, how to read
the file again, and the "中断" state. Batches running at upgrade get the lease the old rule gave them (15 minutes
after their last progress, 24 hours for one still queued), so none is taken for dead early."""

from datetime import timedelta

from django.db import migrations, models


def leases_for_running_batches(apps, schema_editor):
    ImportBatch = apps.get_model("library", "ImportBatch")
    for batch in ImportBatch.objects.filter(state="running", finished_at__isnull=False):
        wait = timedelta(hours=24) if batch.total == 0 else timedelta(minutes=15)
        ImportBatch.objects.filter(pk=batch.pk).update(lease_expires_at=batch.finished_at + wait)


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0005_fulltext"),
    ]

    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="lease_owner",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="run_options",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="step_lines",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="steps_done",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="importbatch",
            name="state",
            field=models.CharField(
                choices=[("running", "导入中"), ("done", "已完成"), ("failed", "失败"), ("interrupted", "中断")],
                default="running",
                max_length=16,
                verbose_name="状态",
            ),
        ),
        migrations.RunPython(leases_for_running_batches, migrations.RunPython.noop),
    ]
