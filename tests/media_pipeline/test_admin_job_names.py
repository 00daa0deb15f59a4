"""Transcode jobs in the admin are named by what they are for and linked there, with Chinese group names, and each
editor sees only the jobs of their own units' items (the pipeline itself knows no library item: the library names
its assets through the media_pipeline_asset_labels hook)."""

import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from cms.models import Member, OrgUnit
from library.models import LibraryItem
from media_pipeline.models import MediaAsset, TranscodeJob
from media_pipeline.steps.profiles import JOB_GROUPS

pytestmark = pytest.mark.django_db


@pytest.fixture
def zouping_job(demo):
    zouping = OrgUnit.objects.get(code="zouping")
    asset = MediaAsset.objects.create(file=ContentFile(b"x", name="hongse.mp4"), original_name="hongse.mp4")
    item = LibraryItem.objects.create(kind="video", title="邹平红色故事", owning_unit=zouping, media_asset=asset)
    analysis = TranscodeJob.objects.create(asset=asset, group="analyse", state="done", progress=1)
    job = TranscodeJob.objects.create(asset=asset, group="ladder", parent=analysis, state="failed", error="编码失败")
    return item, job


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(Member.objects.get(username=username))
    return client


def test_every_job_group_has_a_chinese_name():
    """Each group the pipeline runs (steps.profiles.JOB_GROUPS, and the analysis) has a name in the admin."""
    names = dict(TranscodeJob.Group.choices)
    assert {"analyse", *(group.name for group in JOB_GROUPS)} <= set(names)
    assert (names["ladder"], names["tv"], names["audio_edition"], names["screens"], names["images"]) == (
        "网页多码率",
        "电视版",
        "音频版",
        "公共屏幕",
        "图片",
    )


def test_job_list_names_the_item_and_the_group_in_chinese(zouping_job):
    """The list shows the item's title linked to its edit page, the file's name under it, the group as 网页多码率,
    and the group filter offers the Chinese names."""
    item, _job = zouping_job
    html = signed_in("zouping_editor").get("/admin/transcode_jobs/").content.decode()
    assert f'<a href="/admin/library_items/edit/{item.pk}/">邹平红色故事</a>' in html
    assert "hongse.mp4" in html and "网页多码率" in html and "分析" in html
    assert re.search(r'value="ladder"[^>]*>\s*网页多码率', html)  # the group filter
    assert not re.search(r">\s*(ladder|analyse)\s*<", html)


def test_job_page_is_titled_by_item_and_group(zouping_job):
    """The job's own page is titled "邹平红色故事 · 网页多码率" and links to the item."""
    item, job = zouping_job
    html = signed_in("zouping_editor").get(f"/admin/transcode_jobs/inspect/{job.pk}/").content.decode()
    assert "邹平红色故事 · 网页多码率" in html
    assert f'<a href="/admin/library_items/edit/{item.pk}/">邹平红色故事</a>' in html


def test_another_countys_editor_neither_sees_nor_opens_the_job(zouping_job):
    """沂南县's editor finds no 邹平 job in the list, and its page is a 404; the city above 邹平 sees it."""
    _item, job = zouping_job
    yinan = signed_in("yinan_editor")
    assert "邹平红色故事" not in yinan.get("/admin/transcode_jobs/").content.decode()
    assert yinan.get(f"/admin/transcode_jobs/inspect/{job.pk}/").status_code == 404
    assert "邹平红色故事" in signed_in("binzhou_editor").get("/admin/transcode_jobs/").content.decode()


def test_an_asset_no_app_names_is_shown_by_its_file(demo):
    """A job whose asset belongs to no item (an upload not yet saved with its item) shows the file's name."""
    asset = MediaAsset.objects.create(file=ContentFile(b"x", name="weiming.mp4"), original_name="weiming.mp4")
    job = TranscodeJob.objects.create(asset=asset, group="tv", state="queued")
    html = signed_in("admin").get(f"/admin/transcode_jobs/inspect/{job.pk}/").content.decode()
    assert "weiming.mp4 · 电视版" in html
