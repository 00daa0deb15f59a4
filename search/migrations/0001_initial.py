from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="IndexEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("doc_id", models.CharField(max_length=128, unique=True, verbose_name="文档编号")),
                ("kind", models.CharField(db_index=True, max_length=32, verbose_name="类型")),
                ("title", models.CharField(max_length=255, verbose_name="标题")),
                ("subtitle", models.CharField(blank=True, max_length=255, verbose_name="副标题")),
                ("creators", models.CharField(blank=True, max_length=255, verbose_name="作者")),
                ("excerpt", models.TextField(blank=True, help_text="用于生成搜索摘要的正文开头。", verbose_name="摘录")),
                ("url", models.CharField(max_length=500, verbose_name="链接")),
                ("unit_id", models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name="所属单位")),
                ("access", models.CharField(db_index=True, max_length=16, verbose_name="访问权限")),
                ("date", models.DateTimeField(blank=True, null=True, verbose_name="日期")),
                ("facets", models.JSONField(blank=True, default=dict, verbose_name="分面")),
                ("title_terms", models.TextField(blank=True)),
                ("terms", models.TextField(blank=True)),
                ("indexed_at", models.DateTimeField(auto_now=True)),
            ],
            options={"verbose_name": "搜索索引条目", "verbose_name_plural": "搜索索引条目"},
        ),
        migrations.CreateModel(
            name="OutboxEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("doc_id", models.CharField(db_index=True, max_length=128, verbose_name="文档编号")),
                (
                    "op",
                    models.CharField(
                        choices=[("upsert", "更新"), ("delete", "删除")], max_length=8, verbose_name="操作"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                ("attempts", models.PositiveIntegerField(default=0, verbose_name="尝试次数")),
                ("last_error", models.TextField(blank=True, verbose_name="最近错误")),
                ("next_attempt_at", models.DateTimeField(blank=True, db_index=True, null=True, verbose_name="下次尝试")),
            ],
            options={"verbose_name": "搜索待同步变更", "verbose_name_plural": "搜索待同步变更", "ordering": ["id"]},
        ),
    ]
