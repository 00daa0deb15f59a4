"""The editor's item form: the whole shared description, the serial tree, access and rights, credits as one line,
plus the media file to upload (with its captions and public-screen options).

One form per content kind (``KIND_FIELDS``): a newspaper issue shows no video upload or public-screen options, an
e-book no ISSN; for video and audio the upload comes first; the levels offered are the kind's. A field a kind does
not show is left as it is on save (a form without a field never writes it). The unit pickers show the editor's
part of the organisation tree, indented (``units``).

It also carries the version the item was opened at (admin.services.library_item_claim_version refuses a stale
save), strips control and bidirectional-override characters from text (text.cleaning.clean_text), and answers a
malformed rich-text body with an error on the field instead of a 500.
"""

import functools
import re

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from cms.selectors import units_managed_by
from library.catalogue.clc import CLC_CHOICES, clc_validate
from library.catalogue.identifiers import cn_serial_normalise, isbn_normalise, issn_normalise
from library.models import LibraryItem
from library.text.cleaning import clean_text
from media_pipeline.services import upload_take
from media_pipeline.widgets import ResumableFileInput

from .choosers import parent_chooser_widget
from .credits import credits_format, credits_parse
from .selectors import PARENT_ROLES, child_role, item_version, items_choosable_by, parents_managed_by
from .units import owning_units_for, tree_field

MEDIA_KINDS = {LibraryItem.Kind.VIDEO, LibraryItem.Kind.AUDIO}
CHILD_ROLES = {LibraryItem.Role.EPISODE, LibraryItem.Role.ISSUE, LibraryItem.Role.ARTICLE}
# Form fields that are not the item's own: they never go into edited_fields.
# Fields an editor may leave empty: the model's default applies (single item, position 0, Chinese, no download).
DEFAULTED_FIELDS = ("role", "position", "language", "download")
PASTED_LENGTHS = {"isbn": 32, "issn": 24, "cn_serial": 32, "clc": 64}
NOT_ITEM_FIELDS = {"upload", "upload_id", "captions", "public_screens", "portrait_fill", "focal_x", "version"}
Kind, Role = LibraryItem.Kind, LibraryItem.Role
# Fields only some kinds show; every other field is on every kind's form.
MEDIA_FIELDS = ("upload", "upload_id", "captions")
SCREEN_FIELDS = ("public_screens", "portrait_fill", "focal_x")
KIND_FIELDS = {
    **dict.fromkeys(MEDIA_FIELDS, frozenset({Kind.VIDEO, Kind.AUDIO})),
    **dict.fromkeys(SCREEN_FIELDS, frozenset({Kind.VIDEO})),
    "document": {Kind.EBOOK, Kind.ARTICLE, Kind.PERIODICAL, Kind.NEWSPAPER},
    "isbn": {Kind.EBOOK, Kind.AUDIO},
    "issn": {Kind.PERIODICAL, Kind.NEWSPAPER},
    "cn_serial": {Kind.PERIODICAL, Kind.NEWSPAPER},
    "number": {Kind.PERIODICAL, Kind.NEWSPAPER},
}
# The levels each kind has (admin.selectors.CHILD_ROLE: episodes under a series; issues under a title, articles
# under an issue); an item keeps the level it has even where its kind does not list it.
KIND_ROLES = {
    Kind.VIDEO: (Role.ITEM, Role.SERIES, Role.EPISODE),
    Kind.AUDIO: (Role.ITEM, Role.SERIES, Role.EPISODE),
    Kind.PERIODICAL: (Role.SERIES, Role.ISSUE, Role.ARTICLE, Role.ITEM),
    Kind.NEWSPAPER: (Role.SERIES, Role.ISSUE, Role.ARTICLE, Role.ITEM),
    Kind.EBOOK: (Role.ITEM,),
    Kind.ARTICLE: (Role.ITEM,),
}
# What Draftail's converter raises on a body that is not its JSON (broken, wrong types, nested past the stack).
RICH_TEXT_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError)


class MalformedRichTextGuard:
    """Mixed into the body's editor widget: a posted body the converter cannot read becomes an empty value and a
    flag the form turns into a field error, instead of an exception (a 500) while the form reads its data."""

    malformed = False

    def value_from_datadict(self, data, files, name):
        try:
            value = super().value_from_datadict(data, files, name)
        except RICH_TEXT_ERRORS:
            self.malformed = True
            return ""
        self.malformed = False
        return value


@functools.cache
def _guarded_widget_class(widget_class: type) -> type:
    return type(f"Guarded{widget_class.__name__}", (MalformedRichTextGuard, widget_class), {})


class ClcInput(forms.TextInput):
    """Free entry (finer codes such as D261.4 are fine) with the scheme's classes offered as suggestions."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = {**(attrs or {}), "list": "clc-choices"}
        options = format_html_join("", '<option value="{}">{}</option>', CLC_CHOICES)
        return format_html(
            '{}<datalist id="clc-choices">{}</datalist>', super().render(name, value, attrs, renderer), options
        )


def _item_ids(value) -> list[str]:
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,，、]+", value) if part]
    return [str(getattr(v, "pk", v)) for v in value or ()]


class ItemIdsInput(forms.TextInput):
    """Item numbers separated by commas, with the chosen items' titles listed under the box (one query)."""

    def format_value(self, value):
        return ", ".join(_item_ids(value)) or None

    def render(self, name, value, attrs=None, renderer=None):
        ids = [int(pk) for pk in _item_ids(value) if pk.isdigit()]
        # Only titles the editor may choose: a posted id of another unit's closed item must not echo its title.
        choosable = self.choices.queryset if getattr(self, "choices", None) is not None else LibraryItem.objects.none()
        titles = choosable.filter(pk__in=ids).values_list("pk", "title") if ids else []
        listed = format_html_join("", "<li>{}：{}</li>", titles)
        return format_html('{}<ul class="help">{}</ul>', super().render(name, value, attrs, renderer), listed)


class ItemIdsField(forms.ModelMultipleChoiceField):
    widget = ItemIdsInput

    def clean(self, value):
        parts = _item_ids(value)
        if any(not part.isdigit() for part in parts):
            raise forms.ValidationError(_("请填写条目编号，用逗号分隔。"))
        return super().clean(parts)

    def has_changed(self, initial, data):
        return set(_item_ids(initial)) != set(_item_ids(data))


class LibraryItemForm(WagtailAdminModelForm):
    upload = forms.FileField(
        label=_("音视频文件"),
        required=False,
        help_text=_("视频或音频的原始文件。保存后在后台转码，完成后即可播放；可以随时上传新文件替换。"),
        error_messages={"empty": _("上传的文件是空的（0 字节），请重新选择文件。")},
        # JavaScript turns it into a resumable upload that posts only the finished upload's id (upload_id).
        widget=ResumableFileInput(attrs={"accept": "video/*,audio/*"}),
    )
    upload_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    captions = forms.FileField(
        label=_("字幕文件"),
        required=False,
        help_text=_(
            "SRT 或 WebVTT 字幕（UTF-8 或 GBK 编码均可）。手机和电脑播放时可打开字幕，公共屏幕版本会把字幕压在画面上。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".srt,.vtt,text/vtt"}),
    )
    public_screens = forms.BooleanField(
        label=_("制作公共屏幕版本"),
        required=False,
        help_text=_("为地铁、公交、大厅屏幕制作无声循环视频（横屏、竖屏、旋转竖屏各一份）。"),
    )
    portrait_fill = forms.ChoiceField(
        label=_("竖屏画面"),
        choices=[("blur", _("完整画面，上下为模糊背景")), ("crop", _("按焦点裁切，画面铺满"))],
        initial="blur",
        required=False,
    )
    focal_x = forms.IntegerField(
        label=_("裁切焦点（从左到右的百分比）"),
        min_value=0,
        max_value=100,
        initial=50,
        required=False,
        help_text=_("按焦点裁切时，画面中最重要的位置：0 为最左，50 为正中，100 为最右。"),
    )

    credits = forms.CharField(
        label=_("作者"),
        required=False,
        max_length=1000,
        help_text=_(
            "每位一项：姓名:责任方式，用“；”隔开，如“曹雪芹:著；高鹗:编”。责任方式可用：著、编、译、注、播讲、主讲、导演、绘、其他；不写则为“著”。"
        ),
    )
    version = forms.CharField(required=False, widget=forms.HiddenInput)
    related_items = ItemIdsField(
        label=_("相关条目"),
        queryset=LibraryItem.objects.none(),
        required=False,
        help_text=_("填写相关条目的编号（在条目列表或选择器中可见），用逗号分隔。"),
    )

    class Meta:
        model = LibraryItem
        fields = [
            "kind",
            "role",
            "parent",
            "position",
            "number",
            "title",
            "subtitle",
            "summary",
            "body",
            "publisher",
            "issued",
            "language",
            "isbn",
            "issn",
            "cn_serial",
            "clc",
            "tags",
            "owning_unit",
            "access",
            "access_unit",
            "download",
            "rights_note",
            "cover",
            "document",
            "related_items",
            "published_at",
            "is_published",
        ]
        widgets = {"clc": ClcInput}

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        self.fields["parent"].widget = parent_chooser_widget()
        body = self.fields["body"].widget
        body.__class__ = _guarded_widget_class(type(body))
        for name in DEFAULTED_FIELDS:
            self.fields[name].required = False
        for name, length in PASTED_LENGTHS.items():
            # Pasted identifiers carry labels, dashes and spaces ("ISBN 978-7-…"); the stored form is shorter.
            field = self.fields[name]
            field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
            field.max_length, field.widget.attrs["maxlength"] = length, str(length)
        if for_user is not None:
            # Editors file items only under their own part of the organisation tree, and open them only to it.
            owning = owning_units_for(for_user, keep_id=self.instance.owning_unit_id)
            self.fields["owning_unit"] = tree_field(self.fields["owning_unit"], owning)
            self.fields["access_unit"] = tree_field(
                self.fields["access_unit"], units_managed_by(for_user).order_by("path")
            )
            self.fields["parent"].queryset = parents_managed_by(for_user)
            self.fields["related_items"].queryset = items_choosable_by(for_user)
            self._limit_to_choosable(for_user)
        if self.instance.pk:
            self.initial.setdefault("credits", credits_format(self.instance.credits.all()))
            self.initial.setdefault("version", item_version(self.instance))
        self.kind = self._kind()
        if self.kind is not None:
            self._shape_for_kind(self.kind)
        asset = self.instance.media_asset if self.instance.media_asset_id else None
        if asset is not None:
            self.initial.setdefault("public_screens", "screens" in asset.options.get("groups", []))
            self.initial.setdefault("portrait_fill", asset.options.get("portrait_fill", "blur"))
            self.initial.setdefault("focal_x", round(float(asset.options.get("focal_x", 0.5)) * 100))

    def _kind(self) -> str | None:
        """The kind this form is for: as posted, else as asked for (?kind=, a parent's), else the item's."""
        kind = self.data.get(self.add_prefix("kind")) if self.is_bound else None
        kind = kind or self.initial.get("kind") or (self.instance.kind if self.instance.pk else None)
        return kind if kind in Kind.values else None

    def _shape_for_kind(self, kind: str) -> None:
        """This kind's fields, in this kind's order, and its levels. A new item's kind was chosen before the form
        (ItemCreateView's kind page): it travels hidden, and the page names it."""
        for name, kinds in KIND_FIELDS.items():
            if kind not in kinds and name in self.fields:
                del self.fields[name]
        role = self.fields["role"]
        allowed = set(KIND_ROLES[kind]) | ({self.instance.role} if self.instance.pk else set())
        role.choices = [(value, label) for value, label in role.choices if value in allowed or value == ""]
        if not self.instance.pk:
            self.fields["kind"].widget = forms.HiddenInput()
        if kind in MEDIA_KINDS:  # the file first: an editor starts the (long) upload, then describes it
            first = [name for name in ("kind", *MEDIA_FIELDS) if name in self.fields]
            self.fields = {name: self.fields[name] for name in first} | {
                name: field for name, field in self.fields.items() if name not in first
            }

    def _limit_to_choosable(self, user):
        """Covers and documents from the collections the editor may choose from (Wagtail's own rule), plus what the
        item already has: posting another unit's protected e-book onto one's own public item is refused."""
        # Imported here: Wagtail warns when its permission policies load before the apps are ready.
        from wagtail.documents import get_document_model
        from wagtail.images import get_image_model
        from wagtail.permissions import policy_registry

        for name, model in (("document", get_document_model()), ("cover", get_image_model())):
            policy = policy_registry.get_by_type(model)
            current = getattr(self.instance, f"{name}_id", None)
            allowed = policy.instances_user_has_any_permission_for(user, ["choose"]).values("pk")
            field = self.fields[name]
            field.queryset = field.queryset.filter(Q(pk__in=allowed) | Q(pk=current))

    def media_options(self) -> dict:
        """The asset options these fields stand for (media_pipeline reads them; see analysis.groups_for)."""
        data = self.cleaned_data
        return {
            "groups": ["screens"] if data.get("public_screens") else [],
            "portrait_fill": data.get("portrait_fill") or "blur",
            "focal_x": (data["focal_x"] if data.get("focal_x") is not None else 50) / 100,
        }

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload is None:
            return None
        if upload.size > settings.MEDIA_UPLOAD_MAX_BYTES:
            limit = filesizeformat(settings.MEDIA_UPLOAD_MAX_BYTES)
            raise forms.ValidationError(_("文件太大，最大允许 %(limit)s。") % {"limit": limit})
        return upload

    def clean_body(self):
        if self.fields["body"].widget.malformed:
            raise forms.ValidationError(_("正文格式不正确，无法读取。请在编辑器中重新输入正文后再保存。"))
        return self.cleaned_data.get("body")

    def clean_title(self):
        title = self._clean_text("title")
        if not title:
            raise forms.ValidationError(_("请填写标题（不能只有空格或不可见字符）。"))
        return title

    def clean_subtitle(self):
        return self._clean_text("subtitle")

    def clean_number(self):
        return self._clean_text("number")

    def clean_summary(self):
        return self._clean_text("summary")

    def clean_publisher(self):
        return self._clean_text("publisher")

    def clean_rights_note(self):
        return self._clean_text("rights_note")

    def _clean_text(self, name):
        return clean_text(self.cleaned_data.get(name) or "").strip()

    def reshow_at_version(self, version: str) -> None:
        """After an edit conflict: the editor's values stay as posted, the version becomes the item's current one,
        so saving again is a deliberate overwrite and not a repeat of the same refusal."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = version

    def clean_isbn(self):
        return self._identifier("isbn", isbn_normalise)

    def clean_issn(self):
        return self._identifier("issn", issn_normalise)

    def clean_cn_serial(self):
        return self._identifier("cn_serial", cn_serial_normalise)

    def clean_clc(self):
        return self._identifier("clc", clc_validate)

    def _identifier(self, name, normalise):
        value = (self.cleaned_data.get(name) or "").strip()
        return normalise(value) if value else ""

    def clean_credits(self):
        return credits_parse(clean_text(self.cleaned_data.get("credits") or ""))

    def credits_list(self) -> list[tuple[str, str]] | None:
        """The credits to store, or None when the editor left them as they were (imported rows stay untouched)."""
        return self.cleaned_data["credits"] if "credits" in self.changed_data or not self.instance.pk else None

    def edited_fields(self) -> list[str]:
        return [name for name in self.changed_data if name not in NOT_ITEM_FIELDS]

    def clean(self):
        cleaned = super().clean()
        for name in DEFAULTED_FIELDS:
            if cleaned.get(name) in (None, "") and name not in self.errors:
                cleaned[name] = LibraryItem._meta.get_field(name).get_default()
        self._check_access(cleaned)
        self._check_tree(cleaned)
        self._take_resumable_upload(cleaned)
        if cleaned.get("upload") and cleaned.get("kind") not in MEDIA_KINDS:
            self.add_error("upload", _("只有“视频”或“音频”类型的条目可以上传音视频文件。"))
        if cleaned.get("captions") and not (cleaned.get("upload") or self.instance.media_asset_id):
            self.add_error("captions", _("请先上传视频，再添加字幕。"))
        self._check_shared_media(cleaned)
        return cleaned

    took_resumable_upload = False

    def _take_resumable_upload(self, cleaned):
        # A file posted the plain way wins; otherwise the finished resumable upload becomes the upload.
        upload_id = cleaned.get("upload_id")
        if not upload_id or cleaned.get("upload"):
            return
        try:
            cleaned["upload"] = upload_take(upload_id=upload_id, user=self.for_user)
            self.took_resumable_upload = True
        except forms.ValidationError as exc:
            self.add_error("upload", exc)

    def _check_shared_media(self, cleaned):
        """The same file uploaded for items of several units is one asset: its captions and screen choices
        are theirs together, so only an editor of every unit using it may change them."""
        asset = self.instance.media_asset if self.instance.media_asset_id else None
        if asset is None or cleaned.get("upload") or self.for_user is None:
            return
        changed = cleaned.get("captions") or (
            cleaned.get("kind") == "video" and {**asset.options, **self.media_options()} != asset.options
        )
        others = LibraryItem.objects.filter(media_asset=asset).exclude(pk=self.instance.pk)
        if changed and others.exclude(owning_unit__in=units_managed_by(self.for_user)).exists():
            self.add_error(
                None, _("这个音视频文件也用于其他单位的条目，字幕和公共屏幕选项需由管理这些单位的编辑修改。")
            )

    def _check_access(self, cleaned):
        if cleaned.get("access") == LibraryItem.Access.UNIT:
            if not cleaned.get("access_unit") and "access_unit" not in self.errors:
                self.add_error("access_unit", _("阅读权限为“指定单位及下级”时，请选择可阅读的单位。"))
        else:
            cleaned["access_unit"] = None

    def _check_tree(self, cleaned):
        """A child sits under a parent of its own kind and the right level: episodes under a series, issues under a
        periodical or newspaper title, articles under an issue; standalone items and series have no parent."""
        role, parent, kind = cleaned.get("role"), cleaned.get("parent"), cleaned.get("kind")
        if role in CHILD_ROLES and parent is None and "parent" not in self.errors:
            self.add_error("parent", _("单集、期和文章需要选择所属的系列或期。"))
        if parent is None:
            return
        if role not in CHILD_ROLES:
            self.add_error("parent", _("单件和系列不能放在其他条目下面；请把层级改为单集、期或文章。"))
        elif parent.kind != kind:
            self.add_error(
                "parent", _("所属系列/期的类型（%(kind)s）与本条目不同。") % {"kind": parent.get_kind_display()}
            )
        elif parent.role not in PARENT_ROLES or child_role(parent) != role:
            self.add_error(
                "parent",
                _("“%(parent)s”下面不能放“%(role)s”。")
                % {"parent": parent, "role": dict(LibraryItem.Role.choices)[role]},
            )
        elif self.instance.pk and parent.pk == self.instance.pk:
            self.add_error("parent", _("条目不能放在自己下面。"))
