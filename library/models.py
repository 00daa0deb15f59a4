"""Library items are ordinary models (hundreds of thousands of rows), shown through one LibraryPage."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.models import Page


class LibraryItem(models.Model):
    class Kind(models.TextChoices):
        VIDEO = "video", _("视频")
        AUDIO = "audio", _("音频")
        ARTICLE = "article", _("图文")
        EBOOK = "ebook", _("电子书")
        PERIODICAL = "periodical", _("电子期刊")
        NEWSPAPER = "newspaper", _("电子报纸")

    class Access(models.TextChoices):
        PUBLIC = "public", _("公开")
        MEMBERS = "members", _("仅党员")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, db_index=True)
    title = models.CharField(_("标题"), max_length=255)
    subtitle = models.CharField(_("副标题"), max_length=255, blank=True)
    summary = models.TextField(_("简介"), blank=True)
    body = models.TextField(_("正文"), blank=True)
    creators = models.CharField(_("作者"), max_length=255, blank=True)
    owning_unit = models.ForeignKey(
        "cms.OrgUnit", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="library_items"
    )
    access = models.CharField(_("访问权限"), max_length=16, choices=Access.choices, default=Access.PUBLIC)
    cover = models.ForeignKey(
        "cms.LighthouseImage",
        verbose_name=_("封面"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    media_asset = models.ForeignKey(
        "media_pipeline.MediaAsset",
        verbose_name=_("音视频文件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    document = models.ForeignKey(
        "cms.LighthouseDocument",
        verbose_name=_("文档"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now, db_index=True)
    is_published = models.BooleanField(_("已发布"), default=True)
    source = models.CharField(_("来源"), max_length=64, blank=True)
    external_id = models.CharField(_("外部编号"), max_length=128, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("馆藏条目")
        verbose_name_plural = _("馆藏条目")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["kind", "-published_at", "-id"], name="library_kind_published")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="library_item_unique_external_id",
            )
        ]

    def __str__(self):
        return self.title


class LibraryPage(RoutablePageMixin, Page):
    """The place in the site tree where the library lives: a list, and each item below it."""

    max_count = 1
    subpage_types = []
    parent_page_types = ["cms.HomePage"]

    class Meta:
        verbose_name = _("数字图书馆")

    @path("")
    def index_route(self, request):
        from library.views import item_list

        return item_list(request, page=self)

    @path("item/<int:item_id>/")
    def item_route(self, request, item_id):
        from library.views import item_detail

        return item_detail(request, page=self, item_id=item_id)
