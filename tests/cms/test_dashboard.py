"""The editor's dashboard says what to do next, for the editor's own part of the organisation only: pages waiting for
review, page drafts, failed transcodes named by their item, unpublished library items and recent imports."""

import json
import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from cms.models import Member, OrgUnit, SectionPage, StandardPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def zouping_work(demo):
    """Work waiting in 邹平市 (a county of 滨州市): a page in review, a page draft, a failed transcode (and one whose
    retry is running), an unpublished item and an import."""
    from wagtail.models import Workflow

    from library.models import ImportBatch, LibraryItem
    from media_pipeline.models import MediaAsset, TranscodeJob

    zouping = OrgUnit.objects.get(code="zouping")
    admin = Member.objects.get(username="admin")
    section = SectionPage.objects.get(org_unit=zouping)
    review = section.add_child(instance=StandardPage(title="邹平党建工作简报", slug="jianbao"))
    review.save_revision(user=admin)
    Workflow.objects.filter(active=True).order_by("pk").first().start(review, admin)
    draft = section.add_child(instance=StandardPage(title="黛溪街道志愿服务队招募", slug="zhaomu", live=False))
    draft.save_revision(user=admin)
    failed = LibraryItem.objects.create(kind="video", title="邹平红色故事（一）", owning_unit=zouping, summary="")
    retried = LibraryItem.objects.create(kind="video", title="邹平红色故事（二）", owning_unit=zouping, summary="")
    draft_item = LibraryItem.objects.create(
        kind="article", title="黛溪街道乡村振兴纪实", owning_unit=zouping, summary="", is_published=False
    )
    for item in (failed, retried):
        item.media_asset = MediaAsset.objects.create(file=ContentFile(b"x", name=f"v{item.pk}.mp4"), kind="video")
        item.save(update_fields=["media_asset"])
        TranscodeJob.objects.create(asset=item.media_asset, group="ladder", state="failed", error="编码失败")
    TranscodeJob.objects.create(asset=retried.media_asset, group="ladder", state="queued")
    batch = ImportBatch.objects.create(
        source="zouping-2026", file_name="邹平书目.csv", file_format="csv", owning_unit=zouping, created=12
    )
    return {"review": review, "draft": draft, "failed": failed, "retried": retried, "item": draft_item, "batch": batch}


def dashboard(username: str) -> str:
    client = Client()
    client.force_login(Member.objects.get(username=username))
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_county_editor_sees_what_waits_in_the_county(zouping_work):
    """The county editor's dashboard lists, each linked to where the work is done: the page waiting for review, the
    page draft, the failed transcode named by its item (not the one whose retry runs), the unpublished item and the
    import, under Chinese headings."""
    html = dashboard("zouping_editor")
    for heading in ("待审核", "本单位的草稿", "转码失败", "未发布的馆藏", "最近导入"):
        assert heading in html
    assert f'href="/admin/pages/{zouping_work["review"].pk}/edit/"' in html
    assert f'href="/admin/pages/{zouping_work["draft"].pk}/edit/"' in html
    assert "邹平红色故事（一） · 网页多码率" in html and "邹平红色故事（二）" not in html
    assert f'href="/admin/library_items/edit/{zouping_work["failed"].pk}/"' in html
    assert f'href="/admin/library_items/edit/{zouping_work["item"].pk}/"' in html
    assert f'href="/admin/library-import/{zouping_work["batch"].pk}/"' in html and "新增 12" in html


def test_the_city_sees_its_counties_work_and_another_county_sees_none(zouping_work):
    """Work flows up the tree: 滨州市's editor sees 邹平市's; 沂南县's editor sees none of it (and no empty panels)."""
    assert "邹平党建工作简报" in dashboard("binzhou_editor")
    html = dashboard("yinan_editor")
    for text in ("邹平党建工作简报", "黛溪街道志愿服务队招募", "邹平红色故事", "黛溪街道乡村振兴纪实", "邹平书目.csv"):
        assert text not in html
    for heading in ("待审核", "转码失败", "最近导入"):
        assert heading not in html


def test_dashboard_leaves_out_wagtails_noise(demo):
    """No counts of pictures and documents, no links to Wagtail's English release notes or editor guide, and the
    dashboard greets the editor in the platform's name."""
    html = dashboard("zouping_editor")
    assert "灯塔编辑工作台" in html
    assert not re.search(r"\d+ (张图片|个文档)", html)
    sidebar = re.search(r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', html, re.S)
    names = re.findall(r'"name": "([^"]+)"', json.dumps(json.loads(sidebar.group(1))))
    assert "editor-guide" not in names and not any(name.startswith("whats-new") for name in names)
