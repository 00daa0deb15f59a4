"""Resumable (tus 1.0.0) uploads of masters: create, append chunks, terminate, take the finished file, expire.

The bytes live under ``MEDIA_WORK_DIR/uploads/<id>``, never in public media, until the item form takes the
finished file and hands it to ``media_asset_create`` (which moves it on local storage, streams it to S3).
The database row's ``offset`` is the truth: it only moves after the bytes are fsynced, and the next chunk
first truncates the file back to it, so a crash between writing and recording never leaves stray bytes.
"""

import base64
import binascii
import contextlib
import fcntl
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import UnreadablePostError
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Upload

logger = logging.getLogger(__name__)

UPLOAD_EXPIRY = timedelta(hours=24)  # an upload untouched this long is abandoned
READ_BYTES = 1024 * 1024  # request body is copied to disk in pieces this big: memory stays flat
UPLOADS_FOLDER = "uploads"


class UploadError(Exception):
    """Base of the refusals below; the message is for the editor (Chinese)."""


class UploadTooLarge(UploadError):
    pass


class OffsetMismatch(UploadError):
    pass


class UploadLocked(UploadError):
    """Another request is writing this upload right now."""


class UploadInterrupted(UploadError):
    """The client went away mid-chunk: what arrived is kept and the offset says how much."""


# --- Paths ---------------------------------------------------------------------------------------------


def uploads_dir() -> Path:
    return Path(settings.MEDIA_WORK_DIR) / UPLOADS_FOLDER


def upload_path(upload: Upload) -> Path:
    return uploads_dir() / str(upload.pk)


# --- Reads ---------------------------------------------------------------------------------------------


def upload_for_user(*, upload_id, user) -> Upload | None:
    """The user's own, unexpired upload, or None: another person's upload is not even said to exist."""
    if not user_may_upload(user=user):
        return None
    return Upload.objects.filter(pk=upload_id, owner=user, expires_at__gt=timezone.now()).first()


def user_may_upload(*, user) -> bool:
    # Masters come in through the admin only: the same test Wagtail applies to every admin page.
    return bool(user and user.is_authenticated and user.is_active and user.has_perm("wagtailadmin.access_admin"))


def parse_metadata(header: str) -> dict[str, str]:
    """tus Upload-Metadata: comma-separated ``key base64(value)`` pairs; a key may come without a value."""
    metadata = {}
    for pair in filter(None, (part.strip() for part in header.split(","))):
        key, _sep, encoded = pair.partition(" ")
        try:
            metadata[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValidationError(_("上传信息格式不正确")) from exc
    return metadata


# --- Writes --------------------------------------------------------------------------------------------


def upload_create(*, owner, length: int, metadata: dict[str, str] | None = None) -> Upload:
    """Register a new upload of ``length`` bytes and create its empty file."""
    limit = settings.MEDIA_UPLOAD_MAX_BYTES
    if length > limit:
        raise UploadTooLarge(_("文件超过允许的最大大小（%(limit)d 字节）") % {"limit": limit})
    if length <= 0:
        raise ValidationError(_("文件为空，请重新选择"))
    metadata = metadata or {}
    upload = Upload.objects.create(
        owner=owner,
        length=length,
        filename=os.path.basename(metadata.get("filename", "").replace("\\", "/"))[:255],
        filetype=metadata.get("filetype", "")[:255],
        expires_at=timezone.now() + UPLOAD_EXPIRY,
    )
    path = upload_path(upload)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    upload_schedule_expiry(upload_id=upload.pk, at=upload.expires_at)
    return upload


def upload_schedule_expiry(*, upload_id, at: datetime) -> None:
    """Have a light worker look at this upload once it could have expired (no watchdog process needed)."""
    from ..steps.profiles import QUEUE_LIGHT
    from ..tasks import upload_expire_task

    task = upload_expire_task.using(queue_name=QUEUE_LIGHT, run_after=at + timedelta(minutes=1))
    transaction.on_commit(lambda: task.enqueue(str(upload_id)), robust=True)


def upload_expire_check(*, upload_id) -> None:
    """Delete every abandoned upload; while this one is still alive (appended to since), look again later."""
    upload_expire_stale()
    alive = Upload.objects.filter(pk=upload_id).values_list("expires_at", flat=True).first()
    if alive is not None:
        upload_schedule_expiry(upload_id=upload_id, at=alive)


def upload_append(*, upload: Upload, offset: int, body, content_length: int | None) -> Upload:
    """Write one PATCH body at ``offset``; on a dropped connection keep what arrived, then raise."""
    if offset != upload.offset:
        raise OffsetMismatch(_("上传位置不一致：服务器已有 %(have)d 字节") % {"have": upload.offset})
    remaining = upload.length - upload.offset
    if content_length is not None and content_length > remaining:
        raise UploadTooLarge(_("数据超出了声明的文件大小"))
    with _locked_file(upload) as fd:
        # The file may hold bytes written before a crash that the row never recorded: drop them.
        os.ftruncate(fd, upload.offset)
        os.lseek(fd, upload.offset, os.SEEK_SET)
        written, interrupted = _copy_body(body, fd, limit=remaining)
        # A body shorter than announced is a dropped connection too (some servers just stop the stream).
        interrupted = interrupted or (content_length is not None and written < content_length)
        os.fsync(fd)  # the offset we record next must never run ahead of what is on disk
        return _record_progress(upload, written, interrupted)


def _copy_body(body, fd: int, *, limit: int) -> tuple[int, bool]:
    written = 0
    try:
        while chunk := body.read(READ_BYTES):
            if written + len(chunk) > limit:
                raise UploadTooLarge(_("数据超出了声明的文件大小"))
            os.write(fd, chunk)
            written += len(chunk)
    except (UnreadablePostError, OSError):
        return written, True
    return written, False


def _record_progress(upload: Upload, written: int, interrupted: bool) -> Upload:
    now = timezone.now()
    upload.offset += written
    # Sliding expiry: a slow link may take longer than a day in total, but not a day between chunks.
    upload.expires_at = now + UPLOAD_EXPIRY
    if upload.is_complete:
        upload.completed_at = now
    upload.save(update_fields=["offset", "expires_at", "completed_at"])
    if interrupted:
        raise UploadInterrupted(_("连接中断，已保存 %(offset)d 字节，可以继续上传") % {"offset": upload.offset})
    return upload


@contextlib.contextmanager
def _locked_file(upload: Upload):
    fd = os.open(upload_path(upload), os.O_WRONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UploadLocked(_("该文件正在上传中，请稍后再试")) from exc
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def upload_terminate(*, upload: Upload) -> None:
    """tus Termination: the editor cancelled; the bytes and the row go."""
    path = upload_path(upload)
    upload.delete()
    path.unlink(missing_ok=True)


def upload_expire_stale(*, now: datetime | None = None) -> int:
    """Delete abandoned uploads (rows past expiry, with their files) and files no row knows; return the count.

    Each upload schedules a check for when it could expire (``upload_expire_check``); ``media_watchdog`` runs
    it by hand. Multi-gigabyte partial files must not pile up.
    """
    now = now or timezone.now()
    removed = 0
    for upload in Upload.objects.filter(expires_at__lte=now):
        upload_terminate(upload=upload)
        removed += 1
    removed += _remove_orphan_files(now)
    return removed


def _remove_orphan_files(now: datetime) -> int:
    # A row deleted with its owner (CASCADE) leaves its file behind; only old files, never one being created.
    folder, removed = uploads_dir(), 0
    if not folder.is_dir():
        return 0
    known = {str(pk) for pk in Upload.objects.values_list("pk", flat=True)}
    cutoff = (now - UPLOAD_EXPIRY).timestamp()
    for path in folder.iterdir():
        if path.is_file() and path.name not in known and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# --- Handing the finished file to the pipeline ----------------------------------------------------------


class CompletedUpload(UploadedFile):
    """A finished upload as an uploaded file.

    ``temporary_file_path`` makes FileSystemStorage *move* it into media (no copy of gigabytes);
    any other storage (S3) reads it as a stream.
    """

    def __init__(self, *, path: Path, name: str, content_type: str, size: int):
        super().__init__(path.open("rb"), name=name, content_type=content_type or None, size=size)
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


def upload_take(*, upload_id, user) -> CompletedUpload:
    """The user's finished upload as a file for ``media_asset_create``; a partial one is refused."""
    upload = upload_for_user(upload_id=upload_id, user=user)
    if upload is None:
        raise ValidationError(_("找不到上传的文件，可能已过期，请重新上传"))
    if not upload.is_complete:
        raise ValidationError(_("文件尚未上传完成"))
    path = upload_path(upload)
    if not path.is_file():
        # Local storage moved it into media when an earlier save took it.
        raise ValidationError(_("这个上传已经保存过了，请重新上传"))
    return CompletedUpload(
        path=path, name=upload.filename or str(upload.pk), content_type=upload.filetype, size=upload.length
    )


def upload_asset_create(*, upload_id, user):
    """Take a finished upload and make it a MediaAsset (for callers other than the item form); the row then goes."""
    from ..services import media_asset_create  # services imports much of the pipeline; keep this module light

    file = upload_take(upload_id=upload_id, user=user)
    try:
        with transaction.atomic():
            asset = media_asset_create(file=file, uploaded_by=user)
            # A deduplicated upload was not moved: its bytes go too, once the asset is surely saved.
            transaction.on_commit(lambda: _forget(upload_id))
    finally:
        file.close()
    return asset


def _forget(upload_id) -> None:
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is not None:
        upload_terminate(upload=upload)


def upload_release(*, upload_id) -> None:
    """Once the caller's transaction commits, delete the upload's row and whatever file is left (a
    deduplicated or S3-bound upload is read, not moved)."""
    transaction.on_commit(lambda: _forget(upload_id))
