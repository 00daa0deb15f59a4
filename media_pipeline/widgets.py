"""The file input of the item form, enhanced into a resumable (tus) upload when JavaScript runs.

Without JavaScript — or before the tus endpoint is mounted — it is the plain file input it always was.
With it, the file goes up in chunks to ``media_uploads:collection`` and only the finished upload's id is
posted, in the hidden field named ``<this field's name>_id`` (the form declares it).
"""

from django import forms
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

CHUNK_BYTES = 50 * 1024 * 1024  # a dropped connection costs at most one chunk; proxies see bounded bodies


class ResumableFileInput(forms.ClearableFileInput):
    template_name = "media_pipeline/widgets/resumable_upload.html"

    class Media:
        css = {"all": ["media_pipeline/upload.css"]}
        # tus-js-client from npm, served from node_modules (see STATICFILES_DIRS).
        js = ["vendor/tus-js-client/tus.min.js", "media_pipeline/upload.js"]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        base_id = context["widget"]["attrs"].get("id") or name
        context["widget"].update(
            status_id=f"{base_id}-upload-status",
            messages_id=f"{base_id}-upload-messages",
            endpoint=_endpoint(),
            upload_id_name=f"{name}_id",
            max_bytes=settings.MEDIA_UPLOAD_MAX_BYTES,
            chunk_bytes=CHUNK_BYTES,
            messages=_messages(),
        )
        return context


def _messages() -> dict[str, str]:
    # Rendered per request (json_script), so the page's language applies; {percent} and {reason} are filled in JS.
    return {
        "progress": _("已上传 {percent}%"),
        "paused": _("已暂停，已上传 {percent}%"),
        "retrying": _("网络中断，正在重试……"),
        "done": _("上传完成，保存后开始转码"),
        "ready": _("文件已上传完成，保存即可"),
        "failed": _("上传失败：{reason}。可以点“继续上传”重试"),
        "tooBig": _("文件太大，超过允许的最大大小"),
        "cancelled": _("已取消上传"),
        "busy": _("文件仍在上传，上传完成后将自动保存"),
    }


def _endpoint() -> str:
    try:
        return reverse("media_uploads:collection")
    except NoReverseMatch:
        return ""  # not mounted: the JavaScript leaves the plain file input alone
