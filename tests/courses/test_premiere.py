"""The premiere as a broadcast: while the first lesson (a video) has not yet played once since the premiere time,
the course page offers it "live" from the point the server's clock has reached; before the premiere and after the
lesson's length it does not, nor for a lesson without a stream or one the visitor may not open."""

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.models import CourseLesson
from courses.site.premiere import live_premiere
from library.models import LibraryItem
from media_pipeline.models import MediaAsset, Rendition, TranscodeJob

from .conftest import make_course

pytestmark = pytest.mark.django_db


def _video(units, *, duration=1800.0, access="public"):
    asset = MediaAsset.objects.create(file="uploads/2026/01/master.bin", kind="video", state="ready", duration=duration)
    job = TranscodeJob.objects.create(asset=asset, state=TranscodeJob.State.DONE)
    Rendition.objects.create(asset=asset, job=job, profile="hls_web", kind="hls", path="renditions/1/hls/master.m3u8")
    return LibraryItem.objects.create(
        kind="video", title="首播课：学习贯彻党的二十大精神", owning_unit=units["shandong"], media_asset=asset,
        access=access,
    )  # fmt: skip


def _course(index_page, item, *, minutes_ago: float):
    course = make_course(index_page, issue=31, premiere=timezone.now() - timedelta(minutes=minutes_ago))
    CourseLesson.objects.create(page=course, item=item, required=True, sort_order=0)
    return course


def test_on_air_the_page_offers_the_live_lesson_from_the_premiere_moment(client, index_page, units, lessons):
    """Ten minutes into a 30-minute lesson: the page has the live block with the premiere's moment and the stream."""
    course = _course(index_page, _video(units), minutes_ago=10)
    page = client.get(course.url).content.decode()
    assert "正在首播" in page and "收看首播" in page
    assert f'data-start-ms="{int(course.premiere_at.timestamp() * 1000)}"' in page and "live.mjs" in page


def test_no_live_block_before_after_or_without_a_stream(rf, index_page, units, lessons, member):
    """Before the premiere the countdown shows; after the lesson's length the lessons are on demand; a members-only
    first lesson is not live for an anonymous visitor; an article first is never live."""
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    assert live_premiere(request, page=_course(index_page, _video(units), minutes_ago=-5)) is None
    assert live_premiere(request, page=make_course(index_page, issue=32, lessons=[(lessons[0], True)])) is None
    late = make_course(index_page, issue=33, premiere=timezone.now() - timedelta(minutes=40))
    CourseLesson.objects.create(page=late, item=_video(units), required=True, sort_order=0)
    assert live_premiere(request, page=late) is None
    closed = make_course(index_page, issue=34, premiere=timezone.now() - timedelta(minutes=5))
    CourseLesson.objects.create(page=closed, item=_video(units, access="members"), required=True, sort_order=0)
    assert live_premiere(request, page=closed) is None
    request.user = member
    assert live_premiere(request, page=closed)["duration"] == 1800.0
