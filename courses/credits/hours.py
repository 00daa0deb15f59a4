"""The study-hours rule (学时): verified activity only, counted per calendar year in the organisation's time zone.

- Online study: the library's honest study clock (``library.selectors.study_seconds_by_member``), one 学时 per 45
  minutes (the usual class hour of cadre education), in tenths.
- Branch sessions: each attended session (``SessionAttendance``) credits ``SESSION_HOURS``.
- Quizzes: each course whose monthly quiz the member passed in the year credits ``QUIZ_HOURS``.
The annual requirement depends on the member's party role (32 for members, 56 for secretaries and committee
members by default). Settings of the same names (``COURSES_…``) override each number."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import ExtractYear
from django.utils import timezone

from library.selectors import study_seconds_by_member

from ..models import QuizAttempt, SessionAttendance

DEFAULTS = {
    "COURSES_HOUR_MINUTES": 45,
    "COURSES_SESSION_HOURS": Decimal(2),
    "COURSES_QUIZ_HOURS": Decimal(1),
    "COURSES_ANNUAL_HOURS": {"member": 32, "secretary": 56, "committee": 56},
}
TENTH = Decimal("0.1")


def rule(name: str):
    return getattr(settings, name, DEFAULTS[name])


@dataclass(frozen=True)
class StudyHours:
    year: int
    online_seconds: int
    sessions: int
    quizzes_passed: int
    required: Decimal

    @property
    def online_hours(self) -> Decimal:
        hours = Decimal(self.online_seconds) / (60 * rule("COURSES_HOUR_MINUTES"))
        return hours.quantize(TENTH, rounding=ROUND_DOWN)

    @property
    def session_hours(self) -> Decimal:
        return Decimal(self.sessions) * Decimal(rule("COURSES_SESSION_HOURS"))

    @property
    def quiz_hours(self) -> Decimal:
        return Decimal(self.quizzes_passed) * Decimal(rule("COURSES_QUIZ_HOURS"))

    @property
    def total(self) -> Decimal:
        return self.online_hours + self.session_hours + self.quiz_hours

    @property
    def met(self) -> bool:
        return self.total >= self.required

    @property
    def percent(self) -> int:
        return min(100, int(self.total * 100 / self.required)) if self.required else 100


def required_hours(member) -> Decimal:
    table = rule("COURSES_ANNUAL_HOURS")
    return Decimal(table.get(getattr(member, "party_role", "member"), table["member"]))


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime(year, 1, 1))
    return start, timezone.make_aware(datetime.datetime(year + 1, 1, 1))


def study_hours_of(members, *, year: int) -> dict[int, StudyHours]:
    """{member id: StudyHours} for the year, in three grouped queries whatever the number of members."""
    members = list(members)
    ids = [member.pk for member in members]
    start, end = _year_bounds(year)
    online = study_seconds_by_member(member_ids=ids, since=datetime.date(year, 1, 1), until=datetime.date(year, 12, 31))
    sessions = dict(
        SessionAttendance.objects.filter(member_id__in=ids, session__starts_at__gte=start, session__starts_at__lt=end)
        .values("member_id")
        .annotate(n=Count("session", distinct=True))
        .values_list("member_id", "n")
    )
    passed = dict(
        QuizAttempt.objects.filter(member_id__in=ids, passed=True, submitted_at__gte=start, submitted_at__lt=end)
        .values("member_id")
        .annotate(n=Count("course", distinct=True))
        .values_list("member_id", "n")
    )
    return {
        member.pk: StudyHours(
            year=year,
            online_seconds=online.get(member.pk, 0),
            sessions=sessions.get(member.pk, 0),
            quizzes_passed=passed.get(member.pk, 0),
            required=required_hours(member),
        )
        for member in members
    }


def study_hours(*, member, year: int) -> StudyHours:
    return study_hours_of([member], year=year)[member.pk]


def years_with_activity(member) -> list[int]:
    """The years the member has any credited activity in, newest first (for the page's earlier years)."""
    years = set(
        QuizAttempt.objects.filter(member=member, passed=True)
        .annotate(y=ExtractYear("submitted_at"))
        .values_list("y", flat=True)
    )
    years |= set(
        SessionAttendance.objects.filter(member=member)
        .annotate(y=ExtractYear("session__starts_at"))
        .values_list("y", flat=True)
    )
    years.add(timezone.localdate().year)
    return sorted((y for y in years if y), reverse=True)
