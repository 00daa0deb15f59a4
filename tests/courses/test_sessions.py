"""Branch sessions: a secretary opens one for the month's course, members check in by scanning a signed code that
lives 90 seconds (or the secretary checks them in), every check-in is one row however often it is pressed, the
roster shows who came and who still has to make up, and reflections follow attendance."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from cms.models import Member
from cms.services import member_create
from courses import selectors, services
from courses.errors import CourseError, QuizConflict, QuizForbidden, QuizInvalid
from courses.models import SessionAttendance
from courses.sessions import codes

from .conftest import make_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_course(index_page, bank, lessons):
    """A course that premiered an hour ago: today's sessions are in its window."""
    return make_course(
        index_page, bank=bank, issue=9, premiere=timezone.now() - timedelta(hours=1),
        lessons=[(lessons[0], True), (lessons[1], True), (lessons[2], False)],
    )  # fmt: skip


@pytest.fixture
def secretary(units):
    secretary = member_create(username="shuji", password="pw-123456", real_name="张书记", org_unit=units["daixi-1"])
    secretary.party_role = Member.PartyRole.SECRETARY
    secretary.save(update_fields=["party_role"])
    return secretary


@pytest.fixture
def session(live_course, secretary, units):
    return services.session_open(
        by=secretary, course=live_course, branch=units["daixi-1"], starts_at=timezone.now(), place="村党群服务中心",
        mode="tv",
    )  # fmt: skip


def test_a_secretary_opens_a_session_for_their_own_branch_only(live_course, secretary, member, units):
    """The branch's secretary may; a plain member may not; nor may the secretary for the neighbouring branch, and a
    session outside the course's window or without a place is refused in Chinese."""
    now = timezone.now()
    with pytest.raises(QuizForbidden):
        services.session_open(
            by=member, course=live_course, branch=units["daixi-1"], starts_at=now, place="会议室", mode="tv"
        )
    with pytest.raises(QuizForbidden):
        services.session_open(
            by=secretary, course=live_course, branch=units["daixi-2"], starts_at=now, place="会议室", mode="tv"
        )
    with pytest.raises(QuizConflict, match="补学截止"):
        services.session_open(
            by=secretary, course=live_course, branch=units["daixi-1"], starts_at=now + timedelta(days=60),
            place="会议室", mode="tv",
        )  # fmt: skip
    with pytest.raises(QuizInvalid, match="地点"):
        services.session_open(
            by=secretary, course=live_course, branch=units["daixi-1"], starts_at=now, place=" ", mode="tv"
        )
    assert selectors.branches_run_by(secretary).get() == units["daixi-1"]
    assert not selectors.branches_run_by(member).exists()


def test_a_code_opens_only_its_own_session_and_only_for_ninety_seconds(session, live_course, secretary, units):
    """A code from the current window and the two before it is accepted; older, forged, another session's, or
    one from before the secretary replaced the secret is refused with a Chinese reason."""
    now = timezone.now().timestamp()
    token = codes.code_for(session, now=now)
    codes.check(session, token, now=now + 60)
    with pytest.raises(codes.CodeRefused, match="过期"):
        codes.check(session, token, now=now + 91)
    with pytest.raises(codes.CodeRefused, match="无效"):
        codes.check(session, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), now=now)
    other = services.session_open(
        by=secretary, course=live_course, branch=units["daixi-1"], starts_at=timezone.now(), place="另一处", mode="tv"
    )
    with pytest.raises(codes.CodeRefused):
        codes.check(other, token, now=now)
    services.session_checkin_reset(by=secretary, session=session)
    with pytest.raises(codes.CodeRefused):
        codes.check(session, token, now=now)


def test_checking_in_twice_is_one_row_and_strangers_are_refused(session, member, other_member):
    """The branch's member checks in once, a second press reports it already done; a member of another branch, a
    closed check-in and a stale code each change nothing."""
    token = codes.code_for(session)
    first, created = services.session_check_in(session=session, member=member, token=token)
    again, created_again = services.session_check_in(session=session, member=member, token=token)
    assert created and not created_again and first.pk == again.pk
    assert first.method == SessionAttendance.Method.CODE
    with pytest.raises(QuizForbidden, match="不是第一党支部的党员"):
        services.session_check_in(session=session, member=other_member, token=token)
    stale = codes.code_for(session, now=timezone.now().timestamp() - 200)
    with pytest.raises(QuizConflict, match="过期"):
        services.session_check_in(session=session, member=other_member, token=stale)
    session.checkin_open = False
    session.save()
    with pytest.raises(QuizConflict, match="已关闭"):
        services.session_check_in(session=session, member=member, token=codes.code_for(session))
    assert SessionAttendance.objects.count() == 1


def test_the_secretary_checks_in_members_without_phones_all_or_none(session, secretary, member, other_member, units):
    """One stranger in the list refuses the whole list; the branch's own are checked in once each."""
    neighbour = member_create(username="zhao", password="pw-123456", real_name="赵大爷", org_unit=units["daixi-1"])
    with pytest.raises(QuizInvalid):
        services.session_check_in_members(by=secretary, session=session, member_ids=[member.pk, other_member.pk])
    assert not SessionAttendance.objects.exists()
    assert services.session_check_in_members(by=secretary, session=session, member_ids=[member.pk, neighbour.pk]) == 2
    assert services.session_check_in_members(by=secretary, session=session, member_ids=[member.pk]) == 0
    assert set(SessionAttendance.objects.values_list("method", flat=True)) == {"secretary"}
    with pytest.raises(CourseError):
        services.session_check_in_members(by=member, session=session, member_ids=[member.pk])


def test_the_roster_lists_who_came_first_and_who_must_make_up(session, secretary, member, units):
    """Everyone of the branch that day, attendees first; an absentee shows their required lessons done."""
    services.session_check_in_members(by=secretary, session=session, member_ids=[secretary.pk])
    roster = selectors.session_roster(session)
    assert [row.member for row in roster] == [secretary, member]
    assert roster[0].attendance and roster[1].attendance is None
    assert roster[1].lessons_required == 2 and roster[1].lessons_done == 0 and not roster[1].made_up


def test_a_reflection_follows_attendance(session, member):
    """心得体会 is refused before check-in and saved (then replaced) after it."""
    with pytest.raises(QuizConflict, match="签到后"):
        services.session_reflection_save(session=session, member=member, text="很受教育")
    services.session_check_in(session=session, member=member, token=codes.code_for(session))
    services.session_reflection_save(session=session, member=member, text="很受教育")
    saved = services.session_reflection_save(session=session, member=member, text="重温入党誓词，很受教育。")
    assert saved.reflection == "重温入党誓词，很受教育。" and saved.reflection_at


# --- Pages --------------------------------------------------------------------------------------------------------


def _url(course, route, **kwargs):
    return course.url + course.reverse_subpage(route, kwargs=kwargs or None)


def _checkin(course, token):
    return _url(course, "checkin_route") + "?" + urlencode({"c": token})


def test_scanning_before_signing_in_remembers_the_code_through_sign_in(client, session, live_course, member):
    """An anonymous scan goes to the sign-in page and back; the code is remembered for ten minutes, so a code
    that expired meanwhile still checks the member in; GET only asks, POST checks in."""
    url = _checkin(live_course, codes.code_for(session))
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(member)
    # The code has expired while the member signed in: the session remembers this browser presented it in time.
    stale = codes.code_for(session, now=timezone.now().timestamp() - 200)
    stale_url = _checkin(live_course, stale)
    page = client.get(stale_url)
    assert "确认签到" in page.content.decode() and not SessionAttendance.objects.exists()
    client.post(stale_url)
    assert SessionAttendance.objects.get().member == member
    done = client.get(stale_url).content.decode()
    assert "你已于" in done and "心得体会" in done


def test_a_stale_code_without_a_remembered_scan_is_explained(client, session, live_course, member):
    """Too old and never presented in time: the page says so in Chinese, points to the secretary, and a POST
    checks nobody in."""
    client.force_login(member)
    stale_url = _checkin(live_course, codes.code_for(session, now=timezone.now().timestamp() - 200))
    text = client.get(stale_url).content.decode()
    assert "签到码已过期" in text and "书记代为签到" in text
    client.post(stale_url)
    assert not SessionAttendance.objects.exists()


def test_tv_mode_and_the_code_feed_are_the_secretarys(client, session, live_course, secretary, member):
    """The TV page shows the lessons in order and a QR code; its JSON feed gives a fresh code; both are 404 to a
    plain member, and the sessions page too."""
    client.force_login(secretary)
    tv = client.get(_url(live_course, "session_tv_route", session_id=session.pk)).content.decode()
    assert "<svg" in tv and "沂蒙精神的时代价值" in tv and "扫码签到" in tv
    feed = client.get(_url(live_course, "session_code_route", session_id=session.pk)).json()
    assert feed["svg"].startswith("<svg") and "/checkin/" in feed["url"] and 0 < feed["refresh_in"] <= 30
    manage = client.get(_url(live_course, "session_route", session_id=session.pk)).content.decode()
    assert "王德明" in manage and "代为签到" in manage
    assert "支部集中学习" in client.get(live_course.url).content.decode()
    client.force_login(member)
    for route in ("session_tv_route", "session_code_route", "session_route"):
        assert client.get(_url(live_course, route, session_id=session.pk)).status_code == 404
    assert client.get(_url(live_course, "sessions_route")).status_code == 404
    assert "支部集中学习" not in client.get(live_course.url).content.decode()


def test_the_secretary_opens_a_session_and_checks_in_from_the_pages(client, live_course, secretary, member, units):
    """The sessions form opens one; the roster form checks a member in; the minutes form saves the record."""
    client.force_login(secretary)
    starts = timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        _url(live_course, "sessions_route"),
        {"branch": units["daixi-1"].pk, "starts_at": starts, "place": "村委会", "mode": "in_person"},
    )
    session = live_course.branch_sessions.get()
    assert response["Location"].endswith(f"/sessions/{session.pk}/")
    manage = _url(live_course, "session_route", session_id=session.pk)
    client.post(manage, {"action": "check_in", "member": [member.pk]})
    client.post(manage, {"action": "record", "minutes": "学习了第9期课程。", "checkin_open": "on"})
    session.refresh_from_db()
    assert session.minutes == "学习了第9期课程。" and session.attendances.get().member == member


def test_a_new_sessions_start_defaults_to_now_once_the_premiere_has_passed(client, live_course, secretary):
    """Arranged before the premiere, a session starts at the premiere by default; after it, now (a session dated at a
    premiere of the day before could not be checked into: check-in ends with the session's day)."""
    client.force_login(secretary)

    def default_start() -> str:
        page = client.get(_url(live_course, "sessions_route")).content.decode()
        return re.search(r'name="starts_at" required value="([^"]+)"', page).group(1)

    def minute() -> str:
        return timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M")

    live_course.premiere_at = timezone.now() - timedelta(days=1)
    live_course.save_revision().publish()
    before = minute()
    shown = default_start()
    assert shown in {before, minute()}
    live_course.premiere_at = timezone.now() + timedelta(days=2)
    live_course.save_revision().publish()
    assert default_start() == timezone.localtime(live_course.premiere_at).strftime("%Y-%m-%dT%H:%M")


def test_the_holder_of_a_branchs_secretary_role_runs_its_sessions(units, member):
    """The branch's secretary role group (the demo's secretary, or the roster's 支部书记) runs its sessions too."""
    from cms.models import UnitRole
    from cms.services import org_unit_ensure_roles

    assert not selectors.branches_run_by(member).exists()
    member.groups.add(org_unit_ensure_roles(unit=units["daixi-1"])[UnitRole.Role.SECRETARY])
    assert list(selectors.branches_run_by(member)) == [units["daixi-1"]]


def test_photos_are_checked_then_kept_with_the_session(client, session, live_course, secretary, member):
    """The secretary uploads two photos (shown on the session's page); a file that is not an image refuses the
    upload whole; a plain member may not upload."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    def jpeg(name):
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), "red").save(buffer, "JPEG")
        return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")

    with pytest.raises(QuizInvalid, match="不是可用的图片"):
        services.session_photos_add(
            by=secretary, session=session, files=[jpeg("a.jpg"), SimpleUploadedFile("b.jpg", b"not an image")]
        )
    assert not session.photos.exists()
    assert services.session_photos_add(by=secretary, session=session, files=[jpeg("a.jpg"), jpeg("b.jpg")]) == 2
    with pytest.raises(QuizForbidden):
        services.session_photos_add(by=member, session=session, files=[jpeg("c.jpg")])
    client.force_login(secretary)
    page = client.get(_url(live_course, "session_route", session_id=session.pk)).content.decode()
    assert page.count("<img") >= 2 and "上传照片" in page
