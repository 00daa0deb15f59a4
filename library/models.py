"""The library's content: items (hundreds of thousands of rows) are ordinary models, shown through one LibraryPage.

Every thing a member can find is a ``LibraryItem`` sharing one description. Serials are trees of items by ``parent``:
a video or audio series (role ``series``) holds episodes; a periodical or newspaper title (role ``series``) holds
issues (role ``issue``), and an issue holds articles (role ``article``). Page images of an issue are ``IssuePage``
rows; a newspaper page's clickable regions are ``ArticleArea`` rows pointing at article items.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from taggit.managers import TaggableManager
from taggit.models import ItemBase, TagBase
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.images import get_image_model_string
from wagtail.models import Page

from .catalogue.clc import clc_validate
from .catalogue.identifiers import validate_cn_serial, validate_isbn, validate_issn

LISTED = Q(parent__isnull=True)  # the rows browse lists show: standalone items, series and serial titles
CHILDREN = Q(parent__isnull=False)  # episodes, issues, articles


class LibraryTag(TagBase):
    """A free tag (自由标签), apart from Wagtail's page tags: the library's 300,000 rows keep their own table."""

    class Meta:
        verbose_name = _("标签")
        verbose_name_plural = _("标签")


class LibraryItemTag(ItemBase):
    tag = models.ForeignKey(LibraryTag, on_delete=models.CASCADE, related_name="tagged_items")
    content_object = models.ForeignKey("LibraryItem", on_delete=models.CASCADE, related_name="tagged_items")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content_object", "tag"], name="library_item_tag_unique")]


class LibraryItem(models.Model):
    class Kind(models.TextChoices):
        VIDEO = "video", _("视频")
        AUDIO = "audio", _("音频")
        ARTICLE = "article", _("图文")
        EBOOK = "ebook", _("电子书")
        PERIODICAL = "periodical", _("电子期刊")
        NEWSPAPER = "newspaper", _("电子报纸")

    class Role(models.TextChoices):
        ITEM = "item", _("单件")
        SERIES = "series", _("系列/刊名/报名")
        EPISODE = "episode", _("单集")
        ISSUE = "issue", _("期/日报")
        ARTICLE = "article", _("文章")

    class Access(models.TextChoices):
        PUBLIC = "public", _("公开")
        MEMBERS = "members", _("仅党员")
        UNIT = "unit", _("指定单位及下级")

    class Download(models.TextChoices):
        NONE = "none", _("不允许下载")
        READERS = "readers", _("能阅读的人都可下载")
        MEMBERS = "members", _("仅登录党员可下载")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, db_index=True)
    role = models.CharField(_("层级"), max_length=16, choices=Role.choices, default=Role.ITEM)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("所属系列/期"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        # No plain index: library_children (partial, children only) serves every lookup by parent. An index that
        # holds the NULLs would let SQLite read "parent IS NULL" (every browse list) as a selective equality and
        # sort the whole library instead of walking a list index in order (see Meta.indexes).
        db_index=False,
    )
    position = models.PositiveIntegerField(_("序号"), default=0, help_text=_("第几集、第几篇；同一上级内按它排序。"))
    number = models.CharField(_("期号/版次"), max_length=32, blank=True, help_text=_("如“2026年第3期”“第01版”。"))

    title = models.CharField(_("标题"), max_length=255)
    subtitle = models.CharField(_("副标题"), max_length=255, blank=True)
    summary = models.TextField(_("简介"), blank=True)
    body = RichTextField(_("正文"), blank=True)
    # A display copy of the credits ("曹雪芹 著；高鹗 续"), written by library_item_credits_set: lists and search read
    # it without a join. The credits table is what author pages and imports use.
    creators = models.CharField(_("作者"), max_length=255, blank=True)
    publisher = models.CharField(_("出版者"), max_length=128, blank=True)
    issued = models.DateField(_("出版日期"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("年份"), null=True, blank=True, db_index=True)
    language = models.CharField(_("语种"), max_length=16, default="zh", help_text=_("ISO 639 代码，如 zh、en、bo。"))
    isbn = models.CharField(_("ISBN"), max_length=13, blank=True, db_index=True, validators=[validate_isbn])
    issn = models.CharField(_("ISSN"), max_length=9, blank=True, validators=[validate_issn])
    cn_serial = models.CharField(_("国内统一刊号"), max_length=16, blank=True, validators=[validate_cn_serial])
    clc = models.CharField(
        _("中图法分类号"), max_length=32, blank=True, db_index=True, validators=[clc_validate], help_text=_("如 D261.4")
    )
    tags = TaggableManager(verbose_name=_("标签"), through=LibraryItemTag, blank=True)

    owning_unit = models.ForeignKey(
        "cms.OrgUnit", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="library_items"
    )
    access = models.CharField(_("阅读权限"), max_length=16, choices=Access.choices, default=Access.PUBLIC)
    access_unit = models.ForeignKey(
        "cms.OrgUnit",
        verbose_name=_("可阅读的单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("阅读权限为“指定单位及下级”时：这个单位和它下级单位的党员可以阅读。"),
    )
    download = models.CharField(_("下载权限"), max_length=16, choices=Download.choices, default=Download.NONE)
    rights_note = models.TextField(_("版权说明"), blank=True)

    cover = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("封面"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    media_asset = models.ForeignKey(
        "media_pipeline.MediaAsset",
        verbose_name=_("音视频或文档文件"),
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
        help_text=_("电子书或期刊的 PDF/EPUB。保存后自动生成目录、页面图和全文。"),
    )
    related_items = models.ManyToManyField("self", verbose_name=_("相关条目"), symmetrical=False, blank=True)

    published_at = models.DateTimeField(_("发布时间"), default=timezone.now, db_index=True)
    is_published = models.BooleanField(_("已发布"), default=True)
    read_count = models.PositiveIntegerField(_("阅读次数"), default=0)
    # Text taken from the item's files (PDF text layer, EPUB, caption transcripts) for search only: filled in the
    # background when a document or media asset is attached; never shown as is.
    fulltext = models.TextField(_("全文（检索用）"), blank=True, editable=False)
    fulltext_source = models.CharField(_("全文来源"), max_length=200, blank=True, editable=False)
    source = models.CharField(_("来源"), max_length=64, blank=True)
    external_id = models.CharField(_("外部编号"), max_length=128, blank=True)
    # Names of the fields an editor changed by hand; a re-import leaves them as the editor made them.
    edited_fields = models.JSONField(_("编辑改过的字段"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("馆藏条目")
        verbose_name_plural = _("馆藏条目")
        ordering = ["-published_at", "-id"]
        indexes = [
            # Browse lists (top-level rows only), each in a list's order so a page is the first rows of one index
            # range with no sort, on SQLite as on PostgreSQL: newest and most read, over all kinds, per kind, per
            # year and per owning unit (the equality filters); keyset pages continue the same range. A CLC filter is
            # a prefix (no equality), so every one of them ends with clc: a class filter skips the other rows inside
            # the index without reading the table (tests/library/test_list_plans.py proves the plans).
            models.Index(fields=["-published_at", "-id", "clc"], name="library_listed_published", condition=LISTED),
            models.Index(fields=["-read_count", "-id", "clc"], name="library_listed_read", condition=LISTED),
            models.Index(
                fields=["kind", "-published_at", "-id", "clc"], name="library_kind_published", condition=LISTED
            ),
            models.Index(fields=["kind", "-read_count", "-id", "clc"], name="library_kind_read", condition=LISTED),
            models.Index(
                fields=["kind", "year", "-published_at", "-id", "clc"], name="library_kind_year", condition=LISTED
            ),
            models.Index(
                fields=["year", "-published_at", "-id", "clc"], name="library_year_published", condition=LISTED
            ),
            models.Index(fields=["year", "-read_count", "-id", "clc"], name="library_year_read", condition=LISTED),
            models.Index(
                fields=["owning_unit", "-published_at", "-id", "clc"], name="library_unit_published", condition=LISTED
            ),
            models.Index(
                fields=["owning_unit", "-read_count", "-id", "clc"], name="library_unit_read", condition=LISTED
            ),
            # Browse counts (facets.facet_counts_refresh): every column they group and filter by, so each count
            # reads this index alone, never the table (under SQLite's write lock: 1.7 s at 300,000 items, not 4.5).
            models.Index(
                fields=["kind", "year", "access", "is_published", "clc", "owning_unit"],
                name="library_listed_facets",
                condition=LISTED,
            ),
            # Children of a series or issue in order; partial (children only) for the reason given at ``parent``.
            # "parent = x" and "parent IN (…)" imply "parent IS NOT NULL" on both databases, so lookups by parent,
            # cascading deletes and foreign key checks use it.
            models.Index(fields=["parent", "position", "id"], name="library_children", condition=CHILDREN),
            # The home page's newest newspaper and periodical issues by the issue's own date (selectors.latest_issues):
            # read in order from here, never sorted (an issue is always a child, so it fits the children's condition).
            models.Index(fields=["role", "-issued", "-id"], name="library_children_issued", condition=CHILDREN),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="library_item_unique_external_id",
            ),
            models.CheckConstraint(
                condition=~models.Q(access="unit") | models.Q(access_unit__isnull=False),
                name="library_item_unit_access_has_unit",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_listed(self) -> bool:
        return self.parent_id is None


class ItemCredit(models.Model):
    """A creator of an item with a role; author pages look items up by name here."""

    class Role(models.TextChoices):
        AUTHOR = "author", _("著")
        EDITOR = "editor", _("编")
        TRANSLATOR = "translator", _("译")
        ANNOTATOR = "annotator", _("注")
        CONTINUATOR = "continuator", _("续")
        NARRATOR = "narrator", _("播讲")
        PRESENTER = "presenter", _("主讲")
        DIRECTOR = "director", _("导演")
        ILLUSTRATOR = "illustrator", _("绘")
        OTHER = "other", _("其他")

    item = models.ForeignKey(LibraryItem, on_delete=models.CASCADE, related_name="credits")
    name = models.CharField(_("姓名"), max_length=100, db_index=True)
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.AUTHOR)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("责任者")
        verbose_name_plural = _("责任者")
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.name} {self.get_role_display()}"


class IssuePage(models.Model):
    """One page (版面) of a periodical or newspaper issue, as an image; newspapers mark article areas on it."""

    issue = models.ForeignKey(LibraryItem, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveSmallIntegerField(_("版次/页码"))
    name = models.CharField(_("版名"), max_length=64, blank=True, help_text=_("如“要闻”“理论”。"))
    image = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("版面图"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("版面文字"), blank=True)

    class Meta:
        verbose_name = _("版面")
        verbose_name_plural = _("版面")
        ordering = ["issue", "number"]
        constraints = [models.UniqueConstraint(fields=["issue", "number"], name="library_issue_page_unique")]

    def __str__(self):
        return f"{self.issue.title} 第{self.number}版 {self.name}".strip()


class ArticleArea(models.Model):
    """A clickable region of a page that opens an article: a polygon in fractions (0–1) of the page's width/height."""

    page = models.ForeignKey(IssuePage, on_delete=models.CASCADE, related_name="areas")
    article = models.ForeignKey(LibraryItem, on_delete=models.CASCADE, related_name="areas")
    # [[x, y], ...] with 0 ≤ x, y ≤ 1, at least three points; a rectangle is four.
    points = models.JSONField(_("区域顶点"))

    class Meta:
        verbose_name = _("文章区域")
        verbose_name_plural = _("文章区域")

    def __str__(self):
        return f"{self.page} → {self.article_id}"


class ItemList(ClusterableModel):
    """A collection (专题) or an editor-curated list such as “本月推荐”, in the editor's order."""

    class Kind(models.TextChoices):
        COLLECTION = "collection", _("专题合集")
        CURATED = "curated", _("编辑推荐")

    title = models.CharField(_("名称"), max_length=128)
    slug = models.SlugField(_("网址名"), max_length=64, unique=True, allow_unicode=False)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.CURATED)
    summary = models.TextField(_("简介"), blank=True)
    cover = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("封面"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owning_unit = models.ForeignKey(
        "cms.OrgUnit", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="library_lists"
    )
    starts_on = models.DateField(_("开始展示"), null=True, blank=True)
    ends_on = models.DateField(_("结束展示"), null=True, blank=True)
    is_published = models.BooleanField(_("已发布"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("专题与推荐")
        verbose_name_plural = _("专题与推荐")
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return self.title


class ItemListEntry(models.Model):
    sort_order_field = "sort_order"  # Wagtail's InlinePanel orders entries by it
    list = ParentalKey(ItemList, on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey(LibraryItem, verbose_name=_("条目"), on_delete=models.CASCADE, related_name="+")
    note = models.CharField(_("推荐语"), max_length=255, blank=True)
    sort_order = models.IntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("条目")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return f"{self.list_id}: {self.item_id}"


class FacetCount(models.Model):
    """How many listed items each browse filter value has, per kind and audience: browse pages read counts from here
    instead of counting the table (rebuilt by facet_counts_refresh in the background after changes)."""

    class Audience(models.TextChoices):
        PUBLIC = "public", _("公开")
        MEMBERS = "members", _("党员")

    kind = models.CharField(max_length=16, blank=True)  # "" = all kinds
    dimension = models.CharField(max_length=16)  # kind, clc, year, unit, tag
    value = models.CharField(max_length=64)
    audience = models.CharField(max_length=16, choices=Audience.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "dimension", "value", "audience"], name="library_facet_unique")
        ]

    def __str__(self):
        return f"{self.kind}/{self.dimension}={self.value} ({self.audience}): {self.count}"


class Favourite(models.Model):
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="library_favourites")
    item = models.ForeignKey(LibraryItem, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("收藏")
        verbose_name_plural = _("收藏")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["member", "item"], name="library_favourite_unique")]

    def __str__(self):
        return f"{self.member_id} ♥ {self.item_id}"


class ItemProgress(models.Model):
    """Where a member is in an item (across devices) and how long they have really studied it.

    ``position`` is seconds for video/audio and the page number for PDFs and page images; ``locator`` holds a
    reader's own place mark (an EPUB CFI). ``study_seconds`` grows only from heartbeats of active playback or
    reading, each capped by the time since the previous one."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="library_progress")
    item = models.ForeignKey(LibraryItem, on_delete=models.CASCADE, related_name="+")
    position = models.FloatField(_("位置"), default=0)
    locator = models.CharField(_("阅读位置"), max_length=512, blank=True)
    fraction = models.FloatField(_("进度"), default=0)  # 0–1
    completed = models.BooleanField(_("已学完"), default=False)
    study_seconds = models.PositiveIntegerField(_("学习时长（秒）"), default=0)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    first_opened_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("学习进度")
        verbose_name_plural = _("学习进度")
        indexes = [models.Index(fields=["member", "-updated_at"], name="library_progress_recent")]
        constraints = [models.UniqueConstraint(fields=["member", "item"], name="library_progress_unique")]

    def __str__(self):
        return f"{self.member_id} @ {self.item_id}: {self.position}"


class StudyDay(models.Model):
    """Study seconds per member, item and day: what course and unit reports add up."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Honest study time is the member's, not the item's: deleting an item must not take study hours away.
    item = models.ForeignKey(LibraryItem, null=True, on_delete=models.SET_NULL, related_name="+")
    day = models.DateField()
    seconds = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "item", "day"], name="library_study_day_unique")]

    def __str__(self):
        return f"{self.member_id} {self.item_id} {self.day}: {self.seconds}s"


class ImportBatch(models.Model):
    """One bulk import: what was read, what went in, and a row-level report of what was rejected and why."""

    class State(models.TextChoices):
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        INTERRUPTED = "interrupted", _("中断")  # its process died: the committed chunks stay, the rest can resume

    source = models.CharField(_("来源"), max_length=64)
    file_name = models.CharField(_("文件"), max_length=255)
    file_format = models.CharField(_("格式"), max_length=16)  # csv, json, marc
    encoding = models.CharField(_("编码"), max_length=32, blank=True)
    dry_run = models.BooleanField(_("试运行"), default=False)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.RUNNING)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("未变"), default=0)
    rejected = models.PositiveIntegerField(_("拒绝"), default=0)
    # [{"row": 12, "external_id": "...", "errors": {"isbn": ["..."]}}, ...]
    report = models.JSONField(_("拒绝明细"), default=list, blank=True)
    error = models.TextField(_("错误"), blank=True)
    owning_unit = models.ForeignKey("cms.OrgUnit", on_delete=models.PROTECT, related_name="+")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Resuming (library.imports.importer): chunks committed so far (the file's early rejections count as the first), the
    # lines committed one by one inside the next chunk, the process holding the batch and until when, and how to
    # read the file again ({"path", "sha256", "encoding", "files_root", "s3_prefix", "origin"}; server paths, never
    # shown to editors).
    steps_done = models.PositiveIntegerField(default=0)
    step_lines = models.JSONField(default=list, blank=True)
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    run_options = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.file_name} ({self.get_state_display()})"


class LibraryPage(RoutablePageMixin, Page):
    """The place in the site tree where the library lives: browse lists, items, author pages and curated lists."""

    max_count = 1
    subpage_types = []
    parent_page_types = ["cms.HomePage"]

    class Meta:
        verbose_name = _("数字图书馆")

    @path("")
    def index_route(self, request):
        from library.site.browse import item_list

        return item_list(request, page=self)

    @path("item/<int:item_id>/")
    def item_route(self, request, item_id):
        from library.site.item import item_detail

        return item_detail(request, page=self, item_id=item_id)

    @path("creator/<str:name>/")
    def creator_route(self, request, name):
        from library.site.browse import creator_items

        return creator_items(request, page=self, name=name)

    @path("list/<slug:slug>/")
    def list_route(self, request, slug):
        from library.site.browse import item_list_detail

        return item_list_detail(request, page=self, slug=slug)

    @path("me/")
    def me_route(self, request):
        from library.site.my_library import my_library

        return my_library(request, page=self)
