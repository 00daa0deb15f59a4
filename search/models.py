"""The embedded search index, the durable outbox, and what editors manage: synonyms, promotions, query stats."""

import re

from django.db import models
from django.utils.translation import gettext_lazy as _


class IndexEntry(models.Model):
    """One searchable document in the embedded index (the default, and the fallback when an engine is down).

    `title_terms`, `terms` and `pinyin` hold the Python-made terms (see analysis); a full-text index over them
    is created by the migrations for SQLite (FTS5) or PostgreSQL (tsvector).
    """

    doc_id = models.CharField(_("文档编号"), max_length=128, unique=True)
    kind = models.CharField(_("类型"), max_length=32, db_index=True)
    title = models.CharField(_("标题"), max_length=255)
    subtitle = models.CharField(_("副标题"), max_length=255, blank=True)
    creators = models.CharField(_("作者"), max_length=255, blank=True)
    excerpt = models.TextField(_("摘录"), blank=True, help_text=_("用于生成搜索摘要的正文开头。"))
    url = models.CharField(_("链接"), max_length=500)
    unit_id = models.BigIntegerField(_("所属单位"), null=True, blank=True, db_index=True)
    unit_path = models.CharField(_("所属单位路径"), max_length=255, blank=True, db_index=True)
    access = models.CharField(_("访问权限"), max_length=16, db_index=True)
    access_unit_id = models.BigIntegerField(_("开放给单位"), null=True, blank=True)
    subject = models.CharField(_("主题"), max_length=100, blank=True, db_index=True)
    year = models.PositiveIntegerField(_("年份"), null=True, blank=True, db_index=True)
    boost = models.FloatField(_("权重"), default=1.0)
    date = models.DateTimeField(_("日期"), null=True, blank=True)
    facets = models.JSONField(_("分面"), default=dict, blank=True)
    title_terms = models.TextField(blank=True)
    terms = models.TextField(blank=True)
    pinyin = models.TextField(blank=True)
    # The folded title an exact query equals (analysis.title_key) and the title's length, for ranking exact titles
    # first and breaking ties. Nullable so that adding them never rebuilds the table (SQLite would lose the FTS5
    # triggers); rows written before migration 0005 get them at the next rebuild.
    title_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 — see above
    title_length = models.PositiveSmallIntegerField(null=True, blank=True)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["title_key"], name="search_indexentry_title_key")]
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


# Editors separate synonyms with commas (either width), the enumeration comma, semicolons or new lines.
_SYNONYM_SEPARATORS = re.compile(r"[,，、;；\n]+")


class Synonym(models.Model):
    """A group of words that find each other (党史 ↔ 中国共产党历史); applied when a query is read, so a change
    works at once, with no re-indexing."""

    terms = models.CharField(
        _("同义词"),
        max_length=500,
        help_text=_("用逗号分隔，例如：党史，中国共产党历史。搜索其中任何一个词，都会找到含有其他词的内容。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")
        ordering = ["terms"]

    def __str__(self):
        return self.terms

    def term_list(self) -> list[str]:
        """The group's words as written, stripped, without empties or repeats."""
        return list(dict.fromkeys(term.strip() for term in _SYNONYM_SEPARATORS.split(self.terms) if term.strip()))


class Promotion(models.Model):
    """An editor's chosen result shown first for a query (访问权限 still applies: nobody sees what they may not)."""

    query = models.CharField(_("搜索词"), max_length=100, db_index=True, help_text=_("保存时会统一为简体、小写。"))
    doc_id = models.CharField(_("推荐内容"), max_length=128)
    sort_order = models.PositiveIntegerField(_("顺序"), default=0)
    starts_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    ends_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("推荐结果")
        verbose_name_plural = _("推荐结果")
        ordering = ["query", "sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["query", "doc_id"], name="search_promotion_unique")]

    def __str__(self):
        # Named by the promoted document's title, as editors chose it (lists annotate it: promotions_with_titles).
        title = getattr(self, "document_title", None)
        if title is None:
            title = IndexEntry.objects.filter(doc_id=self.doc_id).values_list("title", flat=True).first()
        return f"{self.query} → {title or _('（已不在索引中）')}"


class QueryStat(models.Model):
    """How often a (normalized) query was searched on one day, and how often it found nothing."""

    query = models.CharField(_("搜索词"), max_length=100)
    day = models.DateField(_("日期"))
    searches = models.PositiveIntegerField(_("搜索次数"), default=0)
    no_results = models.PositiveIntegerField(_("无结果次数"), default=0)
    last_total = models.PositiveIntegerField(_("最近结果数"), default=0)

    class Meta:
        verbose_name = _("搜索统计")
        verbose_name_plural = _("搜索统计")
        constraints = [models.UniqueConstraint(fields=["query", "day"], name="search_querystat_unique")]
        indexes = [models.Index(fields=["day", "query"])]

    def __str__(self):
        return f"{self.day} {self.query}"
