"""Study hours (学时) from verified activity only — honest study time (45 minutes a 学时), attended sessions, passed
quizzes — against the annual requirement of the member's role; the certificate issued once met, as a Chinese PDF
with a code anyone can check, the name masked there."""

import datetime
import io
from decimal import Decimal

import pypdfium2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms.models import Member
from cms.services import member_create
from courses import selectors, services
from courses.errors import QuizConflict
from courses.models import BranchSession, QuizAttempt, SessionAttendance, StudyCertificate
from library.models import StudyDay

pytestmark = pytest.mark.django_db
YEAR = 2026


def _study(member, item, seconds, day=datetime.date(YEAR, 3, 5)):
    StudyDay.objects.create(member=member, item=item, day=day, seconds=seconds)


def _attend(course, member, when):
    session = BranchSession.objects.create(
        course=course, branch=member.org_unit, starts_at=when, place="会议室", checkin_secret="x" * 32
    )
    SessionAttendance.objects.create(session=session, member=member, method="secretary", checked_in_at=when)


def _passed(course, member, when, number=1, passed=True):
    QuizAttempt.objects.create(
        course=course, member=member, number=number, state="submitted", started_at=when, deadline=when,
        submitted_at=when, questions=[], nonce="n", passed=passed, score=90, percent=90,
    )  # fmt: skip


def test_hours_come_from_verified_activity_of_the_year_only(course, member, lessons):
    """30 h of honest study (81,000 s at 45 min a 学时), two sessions (2 each) and one passed quiz (1) make 35;
    another year's study, a failed quiz and a second pass of the same course add nothing."""
    when = timezone.make_aware(datetime.datetime(YEAR, 3, 5, 10))
    _study(member, lessons[0], 81_000)
    _study(member, lessons[1], 50_000, day=datetime.date(YEAR - 1, 12, 31))
    _attend(course, member, when)
    _attend(course, member, when + datetime.timedelta(days=7))
    _passed(course, member, when)
    _passed(course, member, when, number=2)
    _passed(course, member, when, number=3, passed=False)
    hours = selectors.study_hours(member=member, year=YEAR)
    assert (hours.online_hours, hours.session_hours, hours.quiz_hours) == (Decimal("30.0"), 4, 1)
    assert hours.total == Decimal("35.0") and hours.met and hours.required == 32


def test_secretaries_need_more_and_many_members_cost_the_same_queries(member, other_member, lessons):
    """56 for a secretary; the batched calculation reads three grouped queries for one member or a hundred."""
    Member.objects.filter(pk=member.pk).update(party_role="secretary")
    member.refresh_from_db()
    assert selectors.study_hours(member=member, year=YEAR).required == 56
    many = [member_create(username=f"m{n}", password="pw-123456", org_unit=member.org_unit) for n in range(20)]
    for someone in many:
        _study(someone, lessons[0], 2700)
    with CaptureQueriesContext(connection) as one:
        selectors.study_hours_of([member], year=YEAR)
    with CaptureQueriesContext(connection) as twenty:
        result = selectors.study_hours_of(many, year=YEAR)
    assert len(one) == len(twenty) == 3
    assert {hours.online_hours for hours in result.values()} == {Decimal("1.0")}


def test_a_certificate_waits_for_the_requirement_then_is_issued_once(course, member, lessons):
    """Below the requirement the refusal says how far in Chinese; once met the certificate is issued, and asking
    again gives the same one."""
    _study(member, lessons[0], 2700 * 10)
    with pytest.raises(QuizConflict, match="未达到 32"):
        services.study_certificate_issue(member=member, year=YEAR)
    _study(member, lessons[1], 2700 * 25)
    first = services.study_certificate_issue(member=member, year=YEAR)
    again = services.study_certificate_issue(member=member, year=YEAR)
    assert first.pk == again.pk and first.total_hours == Decimal("35.0") and len(first.code) == 12
    assert StudyCertificate.objects.count() == 1


def test_the_pdf_is_chinese_and_the_code_checks_out_with_the_name_masked(client, course, member, lessons):
    """The member downloads a PDF whose text holds 学时证书, their name and the code; anyone checking the code sees
    the year and hours with the name masked (王*明); a wrong code is a 404 saying so in Chinese."""
    _study(member, lessons[0], 2700 * 40)
    client.force_login(member)
    page = client.get(f"/study/hours/{YEAR}/").content.decode()
    assert "已达标" in page and "领取学时证书" in page
    response = client.post(f"/study/hours/{YEAR}/certificate/")
    assert response["Location"].endswith(f"/study/hours/{YEAR}/certificate.pdf")
    pdf = client.get(response["Location"])
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    text = pypdfium2.PdfDocument(io.BytesIO(pdf.content))[0].get_textpage().get_text_range().replace(" ", "")
    certificate = StudyCertificate.objects.get()
    assert "学时证书" in text and "王德明" in text and certificate.code in text
    client.logout()
    check = client.get(f"/study/verify/{certificate.code.lower()}/").content.decode()
    assert "证书有效" in check and "王*明" in check and "王德明" not in check and "40.0" in check
    missing = client.get("/study/verify/ABCDEFGHJKMN/")
    assert missing.status_code == 404 and "查无此证书" in missing.content.decode()


def test_the_hours_page_asks_for_sign_in(client):
    """Anonymous visitors are sent to the site's sign-in page."""
    response = client.get("/study/hours/")
    assert response.status_code == 302 and "/login/" in response["Location"]
