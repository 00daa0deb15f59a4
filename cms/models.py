"""Organisation tree, members, media models and the site-wide page types."""

import os
import secrets

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.documents.models import AbstractDocument, Document
from wagtail.fields import RichTextField
from wagtail.images import get_image_model_string
from wagtail.images.models import AbstractImage, AbstractRendition, Image
from wagtail.models import Page
from wagtail.search import index


class OrgUnit(MP_Node):
    """One unit of the organisation: province → city → county/district → township/street → branch."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        COUNTY = "county", _("县（市、区）")
        TOWNSHIP = "township", _("乡镇（街道）")
        BRANCH = "branch", _("党支部")

    name = models.CharField(_("名称"), max_length=100)
    code = models.SlugField(_("代码"), max_length=64, unique=True)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    section_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("栏目页"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("本单位编辑可以编辑的页面子树的根。"),
    )
    collection = models.ForeignKey(
        "wagtailcore.Collection",
        verbose_name=_("素材集"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Members in this unit and every unit below it now (their open unit-history rows), kept by
    # cms.roster.importer.place_in_unit as people join, move and leave: reports divide by it without counting.
    member_count = models.PositiveIntegerField(_("党员人数"), default=0, editable=False)

    node_order_by = ["code"]

    class Meta:
        verbose_name = _("组织单位")
        verbose_name_plural = _("组织单位")

    def __str__(self):
        return self.name


phone_validator = RegexValidator(r"^1\d{10}$", _("请输入 11 位手机号码。"))


class Member(AbstractUser):
    """A member of the organisation; editors and administrators are members with roles."""

    real_name = models.CharField(_("真实姓名"), max_length=64, blank=True)
    phone = models.CharField(
        _("手机号码"), max_length=11, blank=True, null=True, unique=True, validators=[phone_validator]
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )

    class PartyRole(models.TextChoices):
        MEMBER = "member", _("党员")
        SECRETARY = "secretary", _("支部书记")
        COMMITTEE = "committee", _("支委委员")

    party_role = models.CharField(_("党内身份"), max_length=16, choices=PartyRole.choices, default=PartyRole.MEMBER)
    joined_party_on = models.DateField(_("入党日期"), null=True, blank=True)
    # The resident ID number never sits in the database in clear (cms/roster/keys.py): sealed with AES-GCM, found
    # by a keyed hash, shown masked. Set only through cms.services.roster_import.
    id_number_sealed = models.BinaryField(null=True, editable=False)
    id_number_digest = models.CharField(max_length=64, null=True, unique=True, editable=False)  # noqa: DJ001 — many without one
    id_number_masked = models.CharField(_("身份证号"), max_length=18, blank=True, editable=False)

    class Meta:
        verbose_name = _("党员用户")
        verbose_name_plural = _("党员用户")

    def get_full_name(self):
        return self.real_name or super().get_full_name() or self.username


class BranchMembership(models.Model):
    """Which unit a member belonged to from one day up to (not including) another: a move closes one row and
    opens the next, so each branch's reports for the months before and after a move count the right people."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="unit_history")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="memberships")
    started_on = models.DateField(_("起始日期"))
    ended_on = models.DateField(_("截止日期"), null=True, blank=True, help_text=_("不含当天；空表示至今。"))

    class Meta:
        verbose_name = _("组织关系")
        verbose_name_plural = _("组织关系")
        indexes = [
            models.Index(fields=["unit", "started_on"], name="cms_membership_unit"),
            models.Index(fields=["member", "started_on"], name="cms_membership_member"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=models.Q(ended_on__isnull=True), name="cms_membership_one_open"
            ),
        ]

    def __str__(self):
        return f"{self.member} · {self.unit} · {self.started_on}–{self.ended_on or ''}"


class RosterImport(models.Model):
    """One roster file as imported (or refused): who, when, which file, and its row report (masked numbers only)."""

    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        Member, verbose_name=_("导入人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(max_length=64)
    applied = models.BooleanField(_("已导入"), default=False)
    counts = models.JSONField(_("统计"), default=dict)
    report = models.JSONField(_("逐行报告"), default=list)

    class Meta:
        verbose_name = _("花名册导入")
        verbose_name_plural = _("花名册导入")
        ordering = ["-created_at"]

    def __str__(self):
        return self.filename


class RosterUpload(models.Model):
    """A roster file between its check and its import: sealed like the ID numbers in it (cms/roster/keys.py),
    imported exactly as checked (its checksum), deleted once imported and after an hour in any case."""

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    sealed = models.BinaryField()

    def __str__(self):
        return self.filename


class Notice(models.Model):
    """A message in a member's in-site inbox (消息): a new course, a reminder, results released. ``key`` makes
    sending idempotent: the same notice is never delivered twice to one member, however often a task reruns."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="notices")
    key = models.CharField(max_length=100)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        constraints = [models.UniqueConstraint(fields=["member", "key"], name="cms_notice_once")]
        indexes = [models.Index(fields=["member", "read_at", "-created_at"], name="cms_notice_inbox")]

    def __str__(self):
        return self.title


class LighthouseImage(AbstractImage):
    caption = models.CharField(_("说明"), max_length=255, blank=True)
    admin_form_fields = Image.admin_form_fields + ("caption",)

    def get_upload_to(self, filename):
        """Wagtail's name with 64 random bits in it (``cover-3f9a…c1.jpg``), so its renditions carry them too.

        Images are the one kind of stored file served without a signature (pages cache them for weak networks),
        and a cover belongs to its item, which may be members-only: an unguessable name is what keeps such a
        cover from being found by spelling out an upload's name (docs/security.md)."""
        stem, extension = os.path.splitext(super().get_upload_to(filename))
        return f"{stem[:60]}-{secrets.token_hex(8)}{extension}"

    class Meta(AbstractImage.Meta):
        verbose_name = _("图片")
        verbose_name_plural = _("图片")
        # Local disk asks, per image request, whether the file is a page of a closed issue (library.access).
        indexes = [models.Index(fields=["file"], name="cms_image_file")]


class LighthouseRendition(AbstractRendition):
    image = models.ForeignKey(LighthouseImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)
        indexes = [models.Index(fields=["file"], name="cms_rendition_file")]


class LighthouseDocument(AbstractDocument):
    """A document; an e-book is a document (EPUB or PDF) that the library describes."""

    description = models.TextField(_("简介"), blank=True)
    admin_form_fields = Document.admin_form_fields + ("description",)

    class Meta(AbstractDocument.Meta):
        verbose_name = _("文档")
        verbose_name_plural = _("文档")


class HomePage(Page):
    """The province's front page. Its sections come from the apps (this app knows none of them): each registers a
    ``construct_home_page`` hook, ``fn(request, sections)``, that appends dicts with an ``order`` (smaller first), a
    ``template`` to include and what that template reads; the courses' current course and the library's rows today."""

    intro = RichTextField(_("导语"), blank=True)
    content_panels = Page.content_panels + [FieldPanel("intro")]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        sections = []
        for construct in hooks.get_hooks("construct_home_page"):
            construct(request, sections)
        context["home_sections"] = sorted(sections, key=lambda section: section["order"])
        return context

    subpage_types = [
        "cms.SectionPage",
        "cms.StandardPage",
        "cms.EducationBasePage",
        "library.LibraryPage",
        "courses.CourseIndexPage",
    ]
    max_count = 1

    class Meta:
        verbose_name = _("首页")
        verbose_name_plural = _("首页")


class SectionPage(Page):
    """A city's or county's own part of the site; its editors work below it."""

    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("组织单位"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    intro = RichTextField(_("导语"), blank=True)
    content_panels = Page.content_panels + [FieldPanel("org_unit"), FieldPanel("intro")]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    subpage_types = ["cms.SectionPage", "cms.StandardPage", "cms.EducationBasePage"]

    class Meta:
        verbose_name = _("栏目页")
        verbose_name_plural = _("栏目页")


class StandardPage(Page):
    body = RichTextField(_("正文"), blank=True)
    content_panels = Page.content_panels + [FieldPanel("body")]
    subpage_types = ["cms.StandardPage"]
    # The admin's page search looks in the text too (through search.admin_backends, which finds Chinese).
    search_fields = Page.search_fields + [index.SearchField("body")]

    class Meta:
        verbose_name = _("普通页面")
        verbose_name_plural = _("普通页面")


class EducationBasePage(Page):
    """A historic site used for education (教育基地)."""

    address = models.CharField(_("地址"), max_length=255, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    opening_hours = models.CharField(_("开放时间"), max_length=255, blank=True)
    body = RichTextField(_("介绍"), blank=True)
    image = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("图片"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    content_panels = Page.content_panels + [
        FieldPanel("address"),
        FieldPanel("latitude"),
        FieldPanel("longitude"),
        FieldPanel("opening_hours"),
        FieldPanel("image"),
        FieldPanel("body"),
    ]
    subpage_types = []
    search_fields = Page.search_fields + [index.SearchField("address"), index.SearchField("body")]

    class Meta:
        verbose_name = _("教育基地")
        verbose_name_plural = _("教育基地")


class UnitRole(models.Model):
    """Ties a Django group to one organisation unit and a role; permissions come from the group."""

    class Role(models.TextChoices):
        MEMBER = "member", _("党员")
        SECRETARY = "secretary", _("支部书记")
        EDITOR = "editor", _("编辑")
        ADMINISTRATOR = "administrator", _("管理员")

    group = models.OneToOneField("auth.Group", on_delete=models.CASCADE, related_name="unit_role")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("单位角色")
        verbose_name_plural = _("单位角色")
        constraints = [models.UniqueConstraint(fields=["unit", "role"], name="cms_unitrole_unique_unit_role")]

    def __str__(self):
        return f"{self.unit.name}·{self.get_role_display()}"
