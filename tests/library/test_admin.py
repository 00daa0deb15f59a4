"""Editors manage library items in the Wagtail admin, within their own part of the organisation tree."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cms.models import Member, OrgUnit
from library.models import LibraryItem
from media_pipeline.models import TranscodeJob
from media_pipeline.services import transcode_job_run
from media_pipeline.synthetic.media import make_clip
from tests.factories import LibraryItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def good_clip(tmp_path):
    path = make_clip(tmp_path / "good.mp4", size="320x180", seconds=2, audio=False)
    return SimpleUploadedFile("good.mp4", path.read_bytes(), content_type="video/mp4")


def _login(client, username):
    client.force_login(Member.objects.get(username=username))


def _form(unit_code, **extra):
    data = {
        "kind": "video",
        "title": "党史微课：坏文件",
        "owning_unit": OrgUnit.objects.get(code=unit_code).pk,
        "access": "public",
        "published_at": "2026-11-01 10:00:00",
        "is_published": "on",
    }
    return data | extra


def test_county_editor_sees_and_edits_only_own_items(client, unit_tree, editors):
    """The admin list shows a county editor their county's items only; another county's item is a 404."""
    own, other = (
        LibraryItemFactory(owning_unit=unit_tree["zouping"], title="邹平本地新闻"),
        LibraryItemFactory(owning_unit=unit_tree["yinan"], title="沂南本地新闻"),
    )
    _login(client, "zouping_editor")
    listing = client.get("/admin/library_items/").content.decode()
    assert own.title in listing and other.title not in listing
    assert own.title not in client.get("/admin/library_items/?kind=video").content.decode()  # filters still apply
    assert own.title in client.get("/admin/library_items/?q=邹平").content.decode()  # and search, in Chinese
    assert client.get(f"/admin/library_items/edit/{own.pk}/").status_code == 200
    assert client.get(f"/admin/library_items/edit/{other.pk}/").status_code == 404


def test_county_editor_cannot_file_items_under_the_province(client, editors):
    """The owning-unit choice offers only the editor's subtree; posting the province is refused."""
    _login(client, "zouping_editor")
    response = client.post("/admin/library_items/new/", _form("shandong", kind="article"))
    assert response.status_code == 200 and not LibraryItem.objects.exists()
    assert "选择一个有效的选项" in response.content.decode()


def test_zero_byte_upload_is_refused_in_chinese(client, editors):
    """An empty file never reaches the pipeline: the form says so in Chinese."""
    _login(client, "sheng_editor")
    empty = SimpleUploadedFile("empty.mp4", b"", content_type="video/mp4")
    response = client.post("/admin/library_items/new/", _form("shandong", upload=empty))
    assert "上传的文件是空的" in response.content.decode()
    assert not TranscodeJob.objects.exists()


def test_bad_file_fails_with_reason_then_replacement_plays(client, editors, good_clip):
    """A non-video upload gives a failed job whose reason the editor sees; uploading a real video fixes it."""
    _login(client, "sheng_editor")
    text = SimpleUploadedFile("notes.mp4", "这不是视频".encode() * 100, content_type="video/mp4")
    assert client.post("/admin/library_items/new/", _form("shandong", upload=text)).status_code == 302
    item = LibraryItem.objects.get()
    failed = transcode_job_run(job_id=TranscodeJob.objects.get().pk, worker_id="test")
    assert failed.state == "failed" and failed.error
    edit_page = client.get(f"/admin/library_items/edit/{item.pk}/").content.decode()
    assert "转码失败" in edit_page
    listing = client.get("/admin/library_items/").content.decode()
    assert "失败" in listing  # the list's 转码状态 column, read in the same query as the page

    item.refresh_from_db()  # the form carries the version it was opened at (a stale one is refused)
    data = _form("shandong", upload=good_clip, version=item.updated_at.isoformat())
    response = client.post(f"/admin/library_items/edit/{item.pk}/", data)
    assert response.status_code == 302
    job = TranscodeJob.objects.exclude(pk=failed.pk).get()
    assert transcode_job_run(job_id=job.pk, worker_id="test").state == "done"
    edit_page = client.get(f"/admin/library_items/edit/{item.pk}/").content.decode()
    assert "转码失败" not in edit_page and "转码中" in edit_page  # analysed; the renditions are being made
    while queued := TranscodeJob.objects.filter(state="queued").first():
        transcode_job_run(job_id=queued.pk, worker_id="test")
    edit_page = client.get(f"/admin/library_items/edit/{item.pk}/").content.decode()
    assert "已完成" in edit_page and 'data-profile="poster"' in edit_page and 'data-profile="tv_1080p"' in edit_page


def test_editor_asks_for_public_screens_and_adds_captions(client, editors, good_clip):
    """Ticking 制作公共屏幕版本 and attaching an SRT: once the upload is analysed the screens job is queued with
    the chosen portrait fill and focal point, and the captions are stored with the asset."""
    _login(client, "sheng_editor")
    srt = SimpleUploadedFile("talk.srt", "1\n00:00:00,000 --> 00:00:01,500\n不忘初心\n".encode("gbk"))
    form = _form("shandong", upload=good_clip, captions=srt, public_screens="on", portrait_fill="crop", focal_x="30")
    assert client.post("/admin/library_items/new/", form).status_code == 302
    asset = LibraryItem.objects.get().media_asset
    assert asset.options == {"groups": ["screens"], "portrait_fill": "crop", "focal_x": 0.3}
    assert asset.captions.get().language == "zh-Hans"
    transcode_job_run(job_id=TranscodeJob.objects.get().pk, worker_id="test")
    assert "screens" in set(TranscodeJob.objects.values_list("group", flat=True))
    edit_page = client.get(f"/admin/library_items/edit/{LibraryItem.objects.get().pk}/").content.decode()
    assert 'name="public_screens"' in edit_page and "checked" in edit_page.split('name="public_screens"')[1][:80]


def test_admin_item_list_queries_do_not_grow_with_rows(client, unit_tree, editors, django_assert_max_num_queries):
    """The item list reads units and transcode states in the page's query: 50 rows cost no more than 5."""
    for index in range(60):
        LibraryItemFactory(owning_unit=unit_tree["zouping" if index % 2 else "yinan"], title=f"条目 {index}")
    _login(client, "sheng_editor")
    client.get("/admin/library_items/")  # warm caches (permissions, site)
    with django_assert_max_num_queries(25) as captured:
        assert client.get("/admin/library_items/").status_code == 200
    unit_lookups = [q for q in captured.captured_queries if 'FROM "cms_orgunit" WHERE "cms_orgunit"."id" =' in q["sql"]]
    assert len(unit_lookups) <= 1
