"""The tus 1.0.0 server (core + creation, termination, expiration) for resumable master uploads from the admin.

No maintained Django tus server exists (django-tus 0.5.0 targets Django ≤ 3.1, keeps state in the cache and has
no notion of an owner), so this is the thin HTTP glue over ``resumable.py``. CSRF protection stays on: the
admin page's client sends the token as ``X-CSRFToken``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views import View

from ..models import Upload
from . import resumable

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"

# Each refusal of the service layer and the status tus clients expect for it.
ERROR_STATUS = {
    resumable.OffsetMismatch: 409,
    resumable.UploadTooLarge: 413,
    resumable.UploadLocked: 423,
    resumable.UploadInterrupted: 400,
}


def _response(status: int, message: str = "", **headers: str) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"  # offsets change with every chunk: never cache a HEAD
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _upload_headers(upload: Upload) -> dict[str, str]:
    return {
        "Upload_Offset": str(upload.offset),
        "Upload_Length": str(upload.length),
        "Upload_Expires": http_date(upload.expires_at.timestamp()),
    }


def _int_header(request: HttpRequest, name: str) -> int | None:
    value = request.headers.get(name, "")
    return int(value) if value.isdigit() else None


class TusView(View):
    """Shared checks: protocol version and an admin user, in that order; OPTIONS needs neither."""

    def dispatch(self, request, *args, **kwargs):
        if request.method == "OPTIONS":
            return super().dispatch(request, *args, **kwargs)
        if request.headers.get("Tus-Resumable") != TUS_VERSION:
            return _response(412, _("不支持的上传协议版本"), Tus_Version=TUS_VERSION)
        if not resumable.user_may_upload(user=request.user):
            return _response(403, _("请先登录管理后台"))
        return super().dispatch(request, *args, **kwargs)

    def options(self, request, *args, **kwargs):
        return _response(
            204,
            Tus_Version=TUS_VERSION,
            Tus_Extension=TUS_EXTENSIONS,
            Tus_Max_Size=str(settings.MEDIA_UPLOAD_MAX_BYTES),
        )


class UploadCollectionView(TusView):
    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        length = _int_header(request, "Upload-Length")
        if length is None:
            return _response(400, _("缺少文件大小（Upload-Length）"))
        try:
            metadata = resumable.parse_metadata(request.headers.get("Upload-Metadata", ""))
            upload = resumable.upload_create(owner=request.user, length=length, metadata=metadata)
        except resumable.UploadTooLarge as exc:
            return _response(413, str(exc))
        except ValidationError as exc:
            return _response(400, " ".join(exc.messages))
        location = request.build_absolute_uri(reverse("media_uploads:resource", args=[upload.pk]))
        return _response(201, Location=location, **_upload_headers(upload))


class UploadResourceView(TusView):
    http_method_names = ["head", "patch", "delete", "options"]

    def dispatch(self, request, *args, upload_id, **kwargs):
        self.upload_id = upload_id
        return super().dispatch(request, *args, **kwargs)

    def _own_upload(self) -> Upload | None:
        # Someone else's upload is a plain 404: no hint that it exists.
        return resumable.upload_for_user(upload_id=self.upload_id, user=self.request.user)

    def head(self, request, *args, **kwargs):
        upload = self._own_upload()
        if upload is None:
            return _response(404)
        return _response(200, **_upload_headers(upload))

    def patch(self, request, *args, **kwargs):
        upload = self._own_upload()
        if upload is None:
            return _response(404, _("找不到上传的文件，可能已过期，请重新上传"))
        if request.content_type != OFFSET_CONTENT_TYPE:
            return _response(415, _("上传数据类型不正确"))
        offset = _int_header(request, "Upload-Offset")
        if offset is None:
            return _response(400, _("缺少上传位置（Upload-Offset）"))
        try:
            upload = resumable.upload_append(
                upload=upload, offset=offset, body=request, content_length=_int_header(request, "Content-Length")
            )
        except resumable.UploadError as exc:
            upload.refresh_from_db()
            return _response(ERROR_STATUS.get(type(exc), 400), str(exc), **_upload_headers(upload))
        return _response(204, **_upload_headers(upload))

    def delete(self, request, *args, **kwargs):
        upload = self._own_upload()
        if upload is None:
            return _response(404)
        resumable.upload_terminate(upload=upload)
        return _response(204)
