"""The editor's item form: the model's fields plus the media file to upload."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from cms.selectors import units_managed_by
from media_pipeline.upload_widget import ResumableFileInput
from media_pipeline.uploads import upload_take

from .models import LibraryItem

MEDIA_KINDS = {LibraryItem.Kind.VIDEO, LibraryItem.Kind.AUDIO}


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

    class Meta:
        model = LibraryItem
        fields = [
            "kind",
            "title",
            "subtitle",
            "summary",
            "body",
            "creators",
            "owning_unit",
            "access",
            "cover",
            "document",
            "published_at",
            "is_published",
        ]

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        if for_user is not None:
            # Editors file items only under their own part of the organisation tree.
            self.fields["owning_unit"].queryset = units_managed_by(for_user).order_by("path")
        asset = self.instance.media_asset if self.instance.media_asset_id else None
        if asset is not None:
            self.initial.setdefault("public_screens", "screens" in asset.options.get("groups", []))
            self.initial.setdefault("portrait_fill", asset.options.get("portrait_fill", "blur"))
            self.initial.setdefault("focal_x", round(float(asset.options.get("focal_x", 0.5)) * 100))

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

    def clean(self):
        cleaned = super().clean()
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
