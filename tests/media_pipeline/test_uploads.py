"""Resumable (tus 1.0.0) uploads: the protocol through Django's test client, expiry, the hand-over to the pipeline."""

import base64
import hashlib
import io
import itertools
import json
import os
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from cms.models import Member
from media_pipeline.models import MediaAsset, Upload
from media_pipeline.uploads.resumable import upload_asset_create, upload_expire_stale, upload_path, upload_take

# cms/project/urls.py mounts media_pipeline.uploads.urls; these tests mount it themselves, ahead of the project.
urlpatterns = [
    path("media-pipeline/uploads/", include("media_pipeline.uploads.urls")),
    path("", include("cms.project.urls")),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}
LIMIT = 64 * 1024
DATA = bytes(range(256)) * 40  # 10 240 bytes, not a repeating chunk boundary
CSRF_SECRET = "a" * 32


@pytest.fixture(autouse=True)
def _upload_dirs(settings, tmp_path):
    settings.MEDIA_WORK_DIR = tmp_path / "work"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_UPLOAD_MAX_BYTES = LIMIT


def _editor(username: str) -> Member:
    user = Member.objects.create_user(username=username, password="x")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    return user


@pytest.fixture
def editor():
    return _editor("editor_a")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def _metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _create(client, length: int = len(DATA), name: str = "党史微课.mp4"):
    return client.post(
        reverse("media_uploads:collection"),
        HTTP_UPLOAD_LENGTH=str(length),
        HTTP_UPLOAD_METADATA=_metadata(filename=name, filetype="video/mp4"),
        **TUS,
    )


def _patch(client, url: str, offset: int, data: bytes, **extra):
    return client.generic(
        "PATCH",
        url,
        data=data,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
        **TUS,
        **extra,
    )


def _offset(client, url: str) -> int:
    response = client.head(url, **TUS)
    assert response.status_code == 200
    return int(response["Upload-Offset"])


def _upload_all(client, data: bytes = DATA, name: str = "党史微课.mp4") -> Upload:
    url = _create(client, len(data), name)["Location"]
    assert _patch(client, url, 0, data).status_code == 204
    return Upload.objects.get()


class DroppedConnection:
    """A request body whose connection drops after the bytes given: the read fails like gunicorn's does."""

    def __init__(self, data: bytes):
        self._body = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        chunk = self._body.read(size)
        if not chunk:
            raise OSError("connection reset by peer")
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def test_options_advertises_version_max_size_and_extensions(client):
    """OPTIONS needs no login and tells the client the protocol version, the size limit and the extensions."""
    response = client.options(reverse("media_uploads:collection"))
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0" and response["Tus-Resumable"] == "1.0.0"
    assert response["Tus-Max-Size"] == str(LIMIT)
    assert {"creation", "termination", "expiration"} <= set(response["Tus-Extension"].split(","))


def test_create_answers_201_with_location_and_keeps_bytes_out_of_public_media(editor_client, settings):
    """POST makes an empty file under MEDIA_WORK_DIR/uploads, records the decoded metadata and answers Location."""
    response = _create(editor_client)
    assert response.status_code == 201 and response["Tus-Resumable"] == "1.0.0"
    upload = Upload.objects.get()
    assert response["Location"].endswith(reverse("media_uploads:resource", args=[upload.pk]))
    assert response["Location"].startswith("http")
    assert (upload.filename, upload.filetype, upload.length, upload.offset) == (
        "党史微课.mp4",
        "video/mp4",
        len(DATA),
        0,
    )
    assert upload_path(upload) == settings.MEDIA_WORK_DIR / "uploads" / str(upload.pk)
    assert upload_path(upload).stat().st_size == 0
    assert not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.rglob("*"))


def test_upload_in_three_chunks_completes_with_identical_bytes(editor_client):
    """Three PATCHes each move the offset; HEAD reports it; the last byte completes the upload."""
    url = _create(editor_client)["Location"]
    cuts = [0, 3000, 7000, len(DATA)]
    for start, end in itertools.pairwise(cuts):
        response = _patch(editor_client, url, start, DATA[start:end])
        assert response.status_code == 204 and response["Upload-Offset"] == str(end)
        assert _offset(editor_client, url) == end
    upload = Upload.objects.get()
    assert upload.is_complete and upload.completed_at is not None
    assert upload_path(upload).read_bytes() == DATA


def test_interrupted_chunk_keeps_what_arrived_and_resumes_from_head_offset(editor_client):
    """A chunk cut off mid-body keeps the bytes that arrived; HEAD says how many; the client resumes from there."""
    url = _create(editor_client)["Location"]
    assert _patch(editor_client, url, 0, DATA[:4000]).status_code == 204
    dropped = _patch(
        editor_client,
        url,
        4000,
        DATA[4000:],
        **{"wsgi.input": DroppedConnection(DATA[4000:6500])},
    )
    assert dropped.status_code == 400
    offset = _offset(editor_client, url)
    assert offset == 6500
    assert _patch(editor_client, url, offset, DATA[offset:]).status_code == 204
    assert upload_path(Upload.objects.get()).read_bytes() == DATA


def test_stray_bytes_past_the_recorded_offset_are_dropped(editor_client):
    """Bytes on disk that the row never recorded (a crash before the UPDATE) are overwritten, not kept."""
    url = _create(editor_client)["Location"]
    upload = Upload.objects.get()
    upload_path(upload).write_bytes(b"garbage that was never acknowledged")
    assert _patch(editor_client, url, 0, DATA).status_code == 204
    assert upload_path(upload).read_bytes() == DATA


def test_wrong_offset_is_a_409_conflict_and_changes_nothing(editor_client):
    """A PATCH whose Upload-Offset is not the server's answers 409 with the real offset; no bytes are written."""
    url = _create(editor_client)["Location"]
    _patch(editor_client, url, 0, DATA[:100])
    response = _patch(editor_client, url, 50, DATA[50:200])
    assert response.status_code == 409 and response["Upload-Offset"] == "100"
    assert _offset(editor_client, url) == 100


def test_sizes_over_the_limit_are_413(editor_client):
    """A declared length over MEDIA_UPLOAD_MAX_BYTES, or a body longer than declared, is refused with 413."""
    response = _create(editor_client, length=LIMIT + 1)
    assert response.status_code == 413 and "最大" in response.content.decode()
    assert not Upload.objects.exists()
    url = _create(editor_client, length=10)["Location"]
    assert _patch(editor_client, url, 0, b"x" * 11).status_code == 413
    assert _offset(editor_client, url) == 0


def test_bad_requests_are_refused(editor_client):
    """No Tus-Resumable is 412; a wrong content type is 415; an empty file or a missing length is 400."""
    collection = reverse("media_uploads:collection")
    assert editor_client.post(collection, HTTP_UPLOAD_LENGTH="10").status_code == 412
    assert editor_client.post(collection, **TUS).status_code == 400
    assert _create(editor_client, length=0).status_code == 400
    url = _create(editor_client)["Location"]
    wrong_type = editor_client.generic("PATCH", url, b"abc", content_type="text/plain", HTTP_UPLOAD_OFFSET="0", **TUS)
    assert wrong_type.status_code == 415


def test_only_the_owner_sees_the_upload(client, editor):
    """Another editor gets 404 (no hint it exists); anonymous and non-admin users are refused with 403."""
    client.force_login(editor)
    url = _create(client)["Location"]
    client.force_login(_editor("editor_b"))
    assert client.head(url, **TUS).status_code == 404
    assert _patch(client, url, 0, DATA).status_code == 404
    assert client.delete(url, **TUS).status_code == 404
    client.force_login(Member.objects.create_user(username="reader", password="x"))
    assert client.head(url, **TUS).status_code == 403
    assert _create(client).status_code == 403
    anonymous = Client()
    assert anonymous.head(url, **TUS).status_code == 403
    assert _patch(anonymous, url, 0, DATA).status_code == 403
    assert Upload.objects.get().offset == 0


def test_csrf_protection_stays_on_and_the_header_token_passes(editor):
    """From a browser, PATCH without the X-CSRFToken header is refused; with the admin page's token it is accepted."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(editor)
    browser.cookies["csrftoken"] = CSRF_SECRET
    assert _create(browser).status_code == 403
    created = browser.post(
        reverse("media_uploads:collection"),
        HTTP_UPLOAD_LENGTH=str(len(DATA)),
        HTTP_X_CSRFTOKEN=CSRF_SECRET,
        **TUS,
    )
    assert created.status_code == 201
    url = created["Location"]
    assert _patch(browser, url, 0, DATA).status_code == 403
    assert _patch(browser, url, 0, DATA, HTTP_X_CSRFTOKEN=CSRF_SECRET).status_code == 204


def test_delete_removes_the_file_and_the_row(editor_client):
    """tus Termination: DELETE answers 204, the partial file and the row are gone, HEAD is then 404."""
    url = _create(editor_client)["Location"]
    _patch(editor_client, url, 0, DATA[:500])
    path_on_disk = upload_path(Upload.objects.get())
    assert editor_client.delete(url, **TUS).status_code == 204
    assert not path_on_disk.exists() and not Upload.objects.exists()
    assert editor_client.head(url, **TUS).status_code == 404


def test_expired_uploads_and_orphan_files_are_cleaned_up(editor_client, settings):
    """upload_expire_stale deletes rows past expiry with their files, and old files no row knows; fresh ones stay."""
    stale_url = _create(editor_client)["Location"]
    _patch(editor_client, stale_url, 0, DATA[:500])
    fresh_url = _create(editor_client)["Location"]
    stale = Upload.objects.get(pk=stale_url.rstrip("/").rsplit("/", 1)[1])
    stale.expires_at = timezone.now() - timedelta(minutes=1)
    stale.save()
    orphan = settings.MEDIA_WORK_DIR / "uploads" / "left-behind"
    orphan.write_bytes(b"x")
    old = (timezone.now() - timedelta(days=2)).timestamp()
    os.utime(orphan, (old, old))
    assert editor_client.head(stale_url, **TUS).status_code == 404  # expired is gone for the client already
    assert upload_expire_stale() == 2
    assert not upload_path(stale).exists() and not orphan.exists()
    assert Upload.objects.count() == 1
    assert editor_client.head(fresh_url, **TUS).status_code == 200


def test_a_partial_upload_is_never_taken(editor_client, editor):
    """upload_take refuses an unfinished upload with a clear Chinese message."""
    url = _create(editor_client)["Location"]
    _patch(editor_client, url, 0, DATA[:100])
    with pytest.raises(ValidationError, match="文件尚未上传完成"):
        upload_take(upload_id=Upload.objects.get().pk, user=editor)


def test_finished_upload_becomes_a_media_asset_by_moving_the_file(
    editor_client, editor, django_capture_on_commit_callbacks, settings
):
    """On local storage the finished file is moved (not copied) into media and becomes a MediaAsset with the
    right SHA-256 and size."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    upload = _upload_all(editor_client)
    work_file = upload_path(upload)
    inode = work_file.stat().st_ino
    with django_capture_on_commit_callbacks(execute=True):
        asset = upload_asset_create(upload_id=upload.pk, user=editor)
    asset = MediaAsset.objects.get(pk=asset.pk)
    assert asset.sha256 == hashlib.sha256(DATA).hexdigest() and asset.size == len(DATA)
    assert asset.original_name == "党史微课.mp4" and asset.uploaded_by == editor
    stored = asset.file.path
    assert open(stored, "rb").read() == DATA
    assert os.stat(stored).st_ino == inode  # same inode: a rename, no copy of gigabytes
    assert not work_file.exists() and not Upload.objects.exists()
    with pytest.raises(ValidationError):
        upload_take(upload_id=upload.pk, user=editor)


def test_finished_upload_is_streamed_to_the_configured_storage(editor_client, editor):
    """On whatever storage is configured (S3 in `make test`) the finished upload arrives whole."""
    upload = _upload_all(editor_client)
    asset = upload_asset_create(upload_id=upload.pk, user=editor)
    with asset.file.open("rb") as stored:
        assert stored.read() == DATA


def test_another_editor_cannot_take_my_upload(editor_client):
    """upload_take with someone else's upload id is refused as not found."""
    upload = _upload_all(editor_client)
    with pytest.raises(ValidationError, match="找不到"):
        upload_take(upload_id=upload.pk, user=_editor("editor_b"))


# --- The library item form ------------------------------------------------------------------------------


@pytest.fixture
def demo_editor(client, editors):
    """The client signed in as the demo's province editor (tests/factories.py)."""
    client.force_login(editors["sheng_editor"])
    return client


def _item_form(**extra):
    from cms.models import OrgUnit

    data = {
        "kind": "video",
        "title": "党史微课：大文件",
        "owning_unit": OrgUnit.objects.get(code="shandong").pk,
        "access": "public",
        "published_at": "2026-11-01 10:00:00",
        "is_published": "on",
    }
    return data | extra


def test_item_form_renders_the_widget_with_a_plain_file_input_fallback(demo_editor):
    """The add page keeps the plain file input (JS off) and adds the tus endpoint, hidden id, progress and scripts."""
    page = demo_editor.get("/admin/library_items/new/?kind=video").content.decode()
    assert 'type="file" name="upload"' in page and 'accept="video/*,audio/*"' in page
    assert 'data-endpoint="/media-pipeline/uploads/"' in page and 'name="upload_id"' in page
    assert 'aria-live="polite"' in page and "<progress" in page
    assert "vendor/tus-js-client/tus.min.js" in page and "media_pipeline/upload.js" in page
    script = re.search(r'<script id="id_upload-upload-messages" type="application/json">(.*?)</script>', page)
    assert json.loads(script.group(1))["progress"] == "已上传 {percent}%"  # the widget's messages, in Chinese


def test_item_form_saves_a_finished_resumable_upload(demo_editor):
    """Posting the finished upload's id (no file) gives the item a MediaAsset made from those bytes."""
    from library.models import LibraryItem

    upload = _upload_all(demo_editor)
    response = demo_editor.post("/admin/library_items/new/", _item_form(upload_id=str(upload.pk)))
    assert response.status_code == 302
    asset = LibraryItem.objects.get().media_asset
    assert asset.sha256 == hashlib.sha256(DATA).hexdigest() and asset.size == len(DATA)


def test_item_form_refuses_a_partial_upload_in_chinese(demo_editor):
    """An unfinished upload's id is refused on the upload field: 文件尚未上传完成; no item is saved."""
    from library.models import LibraryItem

    url = _create(demo_editor)["Location"]
    _patch(demo_editor, url, 0, DATA[:100])
    response = demo_editor.post("/admin/library_items/new/", _item_form(upload_id=str(Upload.objects.get().pk)))
    assert response.status_code == 200 and "文件尚未上传完成" in response.content.decode()
    assert not LibraryItem.objects.exists()
