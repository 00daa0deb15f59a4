"""The embedded search index and the durable outbox that keeps every index in step with the database."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IndexEntry(models.Model):
    """One searchable document in the embedded index (the default, and the fallback when an engine is down).

    `title_terms` and `terms` hold the Python-made terms (see analysis); a full-text index over them is
    created by migration 0002 for SQLite (FTS5) or PostgreSQL (tsvector).
    """

    doc_id = models.CharField(_("文档编号"), max_length=128, unique=True)
    kind = models.CharField(_("类型"), max_length=32, db_index=True)
    title = models.CharField(_("标题"), max_length=255)
    subtitle = models.CharField(_("副标题"), max_length=255, blank=True)
    creators = models.CharField(_("作者"), max_length=255, blank=True)
    excerpt = models.TextField(_("摘录"), blank=True, help_text=_("用于生成搜索摘要的正文开头。"))
    url = models.CharField(_("链接"), max_length=500)
    unit_id = models.BigIntegerField(_("所属单位"), null=True, blank=True, db_index=True)
    access = models.CharField(_("访问权限"), max_length=16, db_index=True)
    date = models.DateTimeField(_("日期"), null=True, blank=True)
    facets = models.JSONField(_("分面"), default=dict, blank=True)
    title_terms = models.TextField(blank=True)
    terms = models.TextField(blank=True)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("搜索索引条目")
        verbose_name_plural = _("搜索索引条目")

    def __str__(self):
        return self.doc_id


class OutboxEntry(models.Model):
    """A change not yet applied to every search index; written in the same transaction as the change."""

    class Op(models.TextChoices):
        UPSERT = "upsert", _("更新")
        DELETE = "delete", _("删除")

    doc_id = models.CharField(_("文档编号"), max_length=128, db_index=True)
    op = models.CharField(_("操作"), max_length=8, choices=Op.choices)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("搜索待同步变更")
        verbose_name_plural = _("搜索待同步变更")
        ordering = ["id"]

    def __str__(self):
        return f"{self.op} {self.doc_id}"
