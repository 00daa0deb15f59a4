"""A screen stands in a public place: no playlist entry puts on it what not everyone may open. A newspaper's front
page comes from its newest issue the public may open (a members-only, one unit's or unpublished issue is passed
over, and its page image is neither in the manifest nor served by its plain URL); a closed title is skipped with a
reason. When the course members see first is one unit's, behind a login, password or group restriction, or
unpublished, the promotion shows the course everyone may open, or is skipped with a reason for the editor: the
closed course's title, theme and cover appear nowhere in the manifest. An image slide showing a closed issue's page
is skipped too. Closing or opening any of them recomputes the manifests at once."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from wagtail.models import PageViewRestriction

from library.models import LibraryItem
from screens.selectors import device_preview
from tests.factories import NewspaperFactory

from .test_slide_kinds import _course, committed, document, entry, issue_with_page, picture

pytestmark = pytest.mark.django_db
MANIFEST = "/api/v1/screens/device/manifest"


def _served(screen) -> dict:
    response = Client().get(MANIFEST, HTTP_AUTHORIZATION=f"Bearer {screen['credential']}")
    assert response.status_code == 200
    return response.json()


def _plain_url_status(image, spec: str) -> int:
    """What local disk answers for the picture's rendition at its plain (unsigned) address."""
    return Client().get(default_storage.url(image.get_rendition(spec).file.name)).status_code


def _close(item, how: str) -> None:
    if how == "unpublished":
        item.is_published = False
    else:
        item.access = how
        item.access_unit = item.owning_unit if how == LibraryItem.Access.UNIT else None
    item.save()


@pytest.mark.parametrize("how", ["members", "unit", "unpublished"])
def test_a_newspaper_passes_over_a_newer_issue_the_public_may_not_open(screen, django_capture_on_commit_callbacks, how):
    title = NewspaperFactory(role="series", title="邹平日报", owning_unit=screen["units"]["zouping"])
    public = issue_with_page(title, issued=date(2026, 12, 5), number="第100期")
    closed = issue_with_page(title, issued=date(2026, 12, 6), number="第101期")
    _close(closed, how)
    committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "newspaper", item=title))
    body = _served(screen)
    (shown,) = body["channels"][0]["entries"]
    closed_image = closed.pages.get().image
    assert shown["asset"].startswith(f"image:{public.pages.get().image_id}:")
    assert shown["slide"]["issue"] == "2026年12月5日 第100期"
    assert [asset["key"] for asset in body["assets"]] == [shown["asset"]]
    assert f"image:{closed_image.pk}:" not in json.dumps(body) and "第101期" not in json.dumps(body)
    spec = shown["asset"].split(":")[2]
    assert _plain_url_status(closed_image, spec) == 404  # nor may a screen guess its file's address


def test_a_title_closed_after_it_played_leaves_the_manifest_at_once(screen, django_capture_on_commit_callbacks):
    """Made members-only, the title is skipped with a reason; its front page's picture is in no manifest and no
    longer served without a signature."""
    title = NewspaperFactory(role="series", title="邹平日报", owning_unit=screen["units"]["zouping"])
    issue = issue_with_page(title, issued=date(2026, 12, 6))
    entry(screen["channel"], "notice", text="今晚停电检修")
    made = committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "newspaper", item=title))
    before = _served(screen)
    (asset,) = before["assets"]
    image, spec = issue.pages.get().image, asset["key"].split(":")[2]
    assert _plain_url_status(image, spec) == 200  # a public front page is a public picture
    committed(django_capture_on_commit_callbacks, lambda: _close(title, LibraryItem.Access.MEMBERS))
    after = _served(screen)
    assert [shown["kind"] for shown in after["channels"][0]["entries"]] == ["notice"]
    assert after["assets"] == [] and f"image:{image.pk}:" not in json.dumps(after)
    (skipped,) = after["skipped"]
    assert skipped["entry"] == made.pk and skipped["reason"] == "这一条不是对所有人公开的内容，公共屏幕不播放。"
    assert _plain_url_status(image, spec) == 404


def test_an_image_slide_of_a_closed_issues_page_is_skipped_until_the_issue_opens(
    screen, django_capture_on_commit_callbacks
):
    title = NewspaperFactory(role="series", title="邹平日报", owning_unit=screen["units"]["zouping"], access="members")
    page_image = issue_with_page(title, issued=date(2026, 12, 6)).pages.get().image
    entry(screen["channel"], "notice", text="今晚停电检修")
    made = committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "image", image=page_image))
    stored = document(screen)
    assert stored["assets"] == [] and [shown["kind"] for shown in stored["channels"][0]["entries"]] == ["notice"]
    (skipped,) = stored["skipped"]
    assert skipped["entry"] == made.pk and "不是对所有人公开" in skipped["reason"]
    committed(django_capture_on_commit_callbacks, lambda: _close(title, LibraryItem.Access.PUBLIC))
    opened = document(screen)
    assert [shown["kind"] for shown in opened["channels"][0]["entries"]] == ["notice", "image"]
    assert opened["assets"][0]["key"].startswith(f"image:{page_image.pk}:")


def _no_course_in(body: dict, course) -> None:
    text = json.dumps(body, ensure_ascii=False)
    assert course.theme not in text and course.title not in text
    assert f"image:{course.cover_id}:" not in text and body["assets"] == []


def test_a_course_for_one_unit_is_not_promoted_on_its_public_screens(screen, django_capture_on_commit_callbacks):
    """The course 邹平's members see first is 邹平's own: a lobby screen does not show it, and says why."""
    premiere = datetime.now(UTC) + timedelta(days=3)
    course = _course(premiere=premiere, cover=picture("unit-cover"))
    course.audience_unit = screen["units"]["zouping"]
    course.theme = "邹平市内部学习"
    course.save_revision().publish()
    entry(screen["channel"], "notice", text="今晚停电检修")
    made = committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "course"))
    body = _served(screen)
    _no_course_in(body, course)
    (skipped,) = body["skipped"]
    assert skipped["entry"] == made.pk and "不是对所有人公开" in skipped["reason"]
    preview = device_preview(device=screen["device"], moment=datetime.now(UTC))  # the editor is told which course
    assert any(course.title in reason and "公共屏幕不推介" in reason for _name, reason in preview.skipped)


@pytest.mark.parametrize("restriction", [PageViewRestriction.LOGIN, PageViewRestriction.PASSWORD])
def test_a_restriction_on_the_course_or_above_takes_the_promotion_off_at_once(
    screen, django_capture_on_commit_callbacks, restriction
):
    premiere = datetime.now(UTC) + timedelta(days=3)
    course = committed(django_capture_on_commit_callbacks, lambda: _course(premiere=premiere, cover=picture("cv")))
    committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "notice", text="今晚停电检修"))
    committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "course"))
    assert _served(screen)["assets"][0]["key"].startswith(f"image:{course.cover_id}:")
    above = course.get_parent()  # the courses' index: a restriction there closes every course under it
    made = committed(
        django_capture_on_commit_callbacks,
        lambda: PageViewRestriction.objects.create(page=above, restriction_type=restriction, password="x"),
    )
    body = _served(screen)
    _no_course_in(body, course)
    assert "不是对所有人公开" in body["skipped"][0]["reason"]
    committed(django_capture_on_commit_callbacks, made.delete)
    assert _served(screen)["channels"][0]["entries"][1]["slide"]["theme"] == course.theme


def test_an_unpublished_course_is_not_promoted(screen, django_capture_on_commit_callbacks):
    course = committed(
        django_capture_on_commit_callbacks,
        lambda: _course(premiere=datetime.now(UTC) + timedelta(days=3), cover=picture("cv")),
    )
    committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "notice", text="今晚停电检修"))
    committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "course"))
    committed(django_capture_on_commit_callbacks, course.unpublish)
    _no_course_in(_served(screen), course)


def test_a_lobby_promotes_the_course_for_everyone_when_its_units_own_is_closed(
    screen, django_capture_on_commit_callbacks
):
    """邹平's members see their own course first; its lobby screen promotes the province's course instead."""
    soon = datetime.now(UTC) + timedelta(days=3)
    own = _course(premiere=soon, cover=picture("own-cover"), issue=8)
    own.audience_unit = screen["units"]["zouping"]
    own.theme = "邹平市内部学习"
    own.save_revision().publish()
    everyone = _course(premiere=soon + timedelta(days=2), issue=9)
    everyone.theme = "全省共学一课"
    everyone.save_revision().publish()
    committed(django_capture_on_commit_callbacks, lambda: entry(screen["channel"], "course"))
    body = _served(screen)
    _no_course_in({**body, "assets": []}, own)
    assert body["channels"][0]["entries"][0]["slide"]["theme"] == "全省共学一课" and body["skipped"] == []
