"""The slides chosen when a manifest is computed: a newspaper's latest front page (skipped, with a reason, while no
issue has a page image), the current 灯塔大课堂 course's promotion with its premiere in Beijing time, and the clock.
A new issue, a page image, a replaced picture and a course change each recompute the manifests that show them; the
admin refuses an entry that lacks what its kind needs, in Chinese."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image
from wagtail.models import Site

from cms.models import LighthouseImage
from courses.models import CourseIndexPage, CoursePage
from library.models import IssuePage
from screens.models import SCHEDULE_TIME_ZONE, PlaylistEntry, StoredManifest
from screens.selectors import device_plan, device_preview
from tests.factories import NewspaperFactory, VideoFactory

from .conftest import channel

pytestmark = pytest.mark.django_db
MANIFEST = "/api/v1/screens/device/manifest"


def picture(name: str, colour: str = "red") -> LighthouseImage:
    stream = io.BytesIO()
    Image.new("RGB", (60, 80), colour).save(stream, "PNG")
    return LighthouseImage.objects.create(title=name, file=ContentFile(stream.getvalue(), name=f"{name}.png"))


def issue_with_page(title, *, issued: date, image=True, number="第100期"):
    issue = NewspaperFactory(role="issue", title=f"{title.title} {issued}", parent=title, issued=issued, number=number)
    IssuePage.objects.create(issue=issue, number=1, name="要闻", image=picture(f"p{issue.pk}") if image else None)
    return issue


def entry(made_channel, kind, **fields):
    return PlaylistEntry.objects.create(channel=made_channel, kind=kind, duration=fields.pop("duration", 15), **fields)


def document(screen) -> dict:
    return StoredManifest.objects.get(device=screen["device"]).document


def committed(capture, change):
    with capture(execute=True):
        return change()


def test_a_newspaper_shows_its_latest_issues_front_page_as_a_file_with_a_link(
    screen, django_capture_on_commit_callbacks
):
    title = NewspaperFactory(role="series", title="邹平日报", owning_unit=screen["units"]["zouping"])
    issue_with_page(title, issued=date(2026, 12, 5))
    latest = issue_with_page(title, issued=date(2026, 12, 6), number="第9999期")
    committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "newspaper", item=title))
    body = Client().get(MANIFEST, HTTP_AUTHORIZATION=f"Bearer {screen['credential']}").json()
    (shown,) = body["channels"][0]["entries"]
    front = latest.pages.get().image
    assert shown["kind"] == "newspaper" and shown["seconds"] == 15.0
    assert shown["asset"].startswith(f"image:{front.pk}:")
    assert shown["slide"]["title"] == "邹平日报" and shown["slide"]["issue"] == "2026年12月6日 第9999期"
    (asset,) = body["assets"]
    assert asset["key"] == shown["asset"] and asset["kind"] == "image" and asset["size"] > 0
    assert Client().get(asset["url"]).status_code == 200


def test_a_newspaper_without_a_page_image_is_skipped_with_a_reason(screen, django_capture_on_commit_callbacks):
    title = NewspaperFactory(role="series", title="滨州日报", owning_unit=screen["units"]["zouping"])
    issue_with_page(title, issued=date(2026, 12, 6), image=False)
    entry(screen["channel"], "notice", text="今晚停电检修")  # the channel still plays, so its manifest lists it
    made = committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "newspaper", item=title))
    stored = document(screen)
    assert [shown["kind"] for shown in stored["channels"][0]["entries"]] == ["notice"]
    (skipped,) = stored["skipped"]
    assert skipped["entry"] == made.pk and "还没有带版面图" in skipped["reason"]
    preview = device_preview(device=screen["device"], moment=datetime(2026, 12, 7, 1, 0, tzinfo=UTC))
    assert any("滨州日报" in reason for _name, reason in preview.skipped)


def test_a_new_issue_and_its_page_image_recompute_the_front_page(screen, django_capture_on_commit_callbacks):
    """The issue is saved first and its page image after: each change recomputes the manifest on its own."""
    title = NewspaperFactory(role="series", title="邹平日报", owning_unit=screen["units"]["zouping"])
    issue_with_page(title, issued=date(2026, 12, 5))
    committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "newspaper", item=title))
    before = document(screen)
    issue = committed(
        django_capture_on_commit_callbacks,
        lambda: NewspaperFactory(role="issue", title="新一期", parent=title, issued=date(2026, 12, 6)),
    )
    assert document(screen)["channels"] == before["channels"]  # no page image yet: the older front page stays
    page = committed(
        django_capture_on_commit_callbacks,
        lambda: IssuePage.objects.create(issue=issue, number=1, image=picture("new-front")),
    )
    after = document(screen)
    assert after["version"] != before["version"]
    assert after["channels"][0]["entries"][0]["asset"].startswith(f"image:{page.image_id}:")


def test_a_replaced_picture_recomputes_its_slide_under_a_new_key(screen, django_capture_on_commit_callbacks):
    """The picture's file changes under the same image row (Wagtail's 替换文件): a player caches by key, so the key
    changes with the file."""
    image = picture("poster")
    committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "image", image=image))
    before = document(screen)

    def replace():
        stream = io.BytesIO()
        Image.new("RGB", (60, 80), "blue").save(stream, "PNG")
        image.file = ContentFile(stream.getvalue(), name="poster-new.png")
        image.save()

    committed(django_capture_on_commit_callbacks, replace)
    after = document(screen)
    assert after["version"] != before["version"]
    assert after["assets"][0]["key"] != before["assets"][0]["key"]
    assert after["assets"][0]["key"].startswith(f"image:{image.pk}:")


def _course(*, premiere: datetime, cover=None, issue=7) -> CoursePage:
    index = CourseIndexPage.objects.first()
    if index is None:
        root = Site.objects.get(is_default_site=True).root_page
        index = root.add_child(instance=CourseIndexPage(title="灯塔大课堂", slug="courses"))
    return index.add_child(
        instance=CoursePage(
            title=f"第{issue}期",
            slug=f"issue-{issue}",
            issue_number=issue,
            theme="学习贯彻党的二十大精神",
            cover=cover,
            premiere_at=premiere,
            study_closes_at=premiere + timedelta(days=20),
            makeup_deadline=premiere + timedelta(days=26),
        )
    )


def test_a_course_promotion_shows_the_next_course_premiering_in_beijing_time(
    screen, django_capture_on_commit_callbacks
):
    premiere = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    course = committed(django_capture_on_commit_callbacks, lambda: _course(premiere=premiere, cover=picture("c")))
    made = committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "course", duration=20))
    (shown,) = document(screen)["channels"][0]["entries"]
    beijing = premiere.astimezone(SCHEDULE_TIME_ZONE)
    assert shown["entry"] == made.pk and shown["seconds"] == 20.0
    assert shown["slide"]["heading"] == "灯塔大课堂" and shown["slide"]["title"] == "第7期"
    assert shown["slide"]["premiere_at"] == beijing.isoformat()
    assert f"{beijing.month}月{beijing.day}日 {beijing:%H:%M}（北京时间）" in shown["slide"]["premiere"]
    assert shown["asset"].startswith(f"image:{course.cover_id}:")

    def retheme():
        course.theme = "乡村振兴"
        course.save()

    committed(django_capture_on_commit_callbacks, retheme)
    assert document(screen)["channels"][0]["entries"][0]["slide"]["theme"] == "乡村振兴"


def test_a_course_promotion_without_a_course_to_promote_is_skipped(screen, django_capture_on_commit_callbacks):
    """No course, or only one whose make-up deadline has passed: nothing to promote."""
    _course(premiere=datetime.now(UTC) - timedelta(days=60))
    entry(screen["channel"], "notice", text="今晚停电检修")
    committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "course"))
    (skipped,) = document(screen)["skipped"]
    assert "没有正在学习或即将首播" in skipped["reason"]


def test_the_clock_is_a_slide_without_a_file_that_the_preview_names(screen, django_capture_on_commit_callbacks):
    made = committed(
        django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "info", text="欢迎来到党群服务中心")
    )
    stored = document(screen)
    (shown,) = stored["channels"][0]["entries"]
    assert shown == {
        "entry": made.pk,
        "kind": "info",
        "seconds": 15.0,
        "asset": None,
        "text": None,
        "slide": {"heading": "北京时间", "time_zone": "Asia/Shanghai", "text": "欢迎来到党群服务中心"},
    }
    assert stored["assets"] == []
    preview = device_preview(device=screen["device"], moment=datetime(2026, 12, 7, 1, 0, tzinfo=UTC))
    assert "欢迎来到党群服务中心" in preview.reason
    (step,) = device_plan(screen["device"]).loops[screen["channel"].pk].steps
    assert step.kind == "info" and step.asset_key is None


def test_entries_lacking_what_their_kind_needs_are_refused_in_chinese(tree):
    units = tree["units"]
    made = channel(units["zouping"])
    title = NewspaperFactory(role="series", title="邹平日报", owning_unit=units["zouping"])
    issue = NewspaperFactory(role="issue", parent=title, owning_unit=units["zouping"])
    video = VideoFactory(owning_unit=units["zouping"])
    cases = [
        (PlaylistEntry(channel=made, kind="newspaper"), "item", "要选一种电子报纸"),
        (PlaylistEntry(channel=made, kind="newspaper", item=video), "item", "不是电子报纸"),
        (PlaylistEntry(channel=made, kind="newspaper", item=issue), "item", "请选报纸的报名"),
        (PlaylistEntry(channel=made, kind="video"), "item", "要选一个视频条目"),
        (PlaylistEntry(channel=made, kind="notice", text=" "), "text", "要填写通知的内容"),
        (PlaylistEntry(channel=made, kind="info", text="字" * 41), "text", "不超过 40 个字"),
        (PlaylistEntry(channel=made, kind="course", duration=0), "duration", "至少 1 秒"),
    ]
    for row, field, words in cases:
        with pytest.raises(ValidationError) as refused:
            row.full_clean()
        assert words in " ".join(refused.value.message_dict[field]), (row.kind, refused.value.message_dict)
    PlaylistEntry(channel=made, kind="newspaper", item=title).full_clean()
    PlaylistEntry(channel=made, kind="course").full_clean()
    PlaylistEntry(channel=made, kind="info").full_clean()


def test_the_channel_form_shows_the_newspaper_error_on_the_entry(tree):
    """Through the admin's channel form (its inline playlist), nothing is saved."""
    units, editor = tree["units"], tree["editors"]["zouping_editor"]
    client = Client()
    client.force_login(editor)
    form = {
        "name": "报纸频道",
        "owning_unit": units["zouping"].pk,
        "screen_type": "portrait",
        "description": "",
        "entries-TOTAL_FORMS": "1",
        "entries-INITIAL_FORMS": "0",
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
        "entries-0-kind": "newspaper",
        "entries-0-item": "",
        "entries-0-image": "",
        "entries-0-text": "",
        "entries-0-duration": "15",
        "entries-0-ORDER": "1",
    }
    page = client.post("/admin/screens_channels/new/", form)
    assert page.status_code == 200
    assert "要选一种电子报纸" in page.content.decode()
    assert not PlaylistEntry.objects.exists()
