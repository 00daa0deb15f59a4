"""Reading reports: a unit's figures for a course and its children's, from ``CourseUnitStats`` rows (one query
for the unit and all its children, whatever the number of members below), who may see which unit, and the
individuals of a branch for that branch's own secretary only."""

from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext_lazy

from cms.models import OrgUnit
from cms.selectors import units_managed_by

from ..credits.hours import study_hours_of
from ..models import CoursePage, CourseUnitStats, QuizAttempt, SessionAttendance
from ..sessions.reads import branches_as_secretary
from .analysis import integrity_flags

COLUMNS = [
    ("unit", gettext_lazy("单位")),
    ("members", gettext_lazy("党员人数")),
    ("studied", gettext_lazy("参学人数")),
    ("studied_rate", gettext_lazy("参学率")),
    ("completed", gettext_lazy("学完人数")),
    ("completed_rate", gettext_lazy("学完率")),
    ("attended", gettext_lazy("参加集中学习")),
    ("passed", gettext_lazy("测验合格人数")),
    ("passed_rate", gettext_lazy("合格率")),
    ("average", gettext_lazy("平均分")),
]
RATES = {"studied_rate", "completed_rate", "passed_rate"}
# A sum or average over fewer members than this is not shown to anyone: it would be those members' own figures,
# which only they and their branch's secretary may see (the secretary's list of members shows them by name).
MIN_GROUP = 3


@dataclass
class ReportRow:
    unit: OrgUnit
    members: int
    studied: int = 0
    completed: int = 0
    attended: int = 0
    passed: int = 0
    scored: int = 0
    score_sum: int = 0

    def _rate(self, count: int) -> float | None:
        return round(count / self.members, 4) if self.members else None

    @property
    def studied_rate(self):
        return self._rate(self.studied)

    @property
    def completed_rate(self):
        return self._rate(self.completed)

    @property
    def passed_rate(self):
        return self._rate(self.passed)

    @property
    def average(self) -> float | None:
        """None below ``MIN_GROUP`` members scored: one or two members' average is their own scores."""
        return round(self.score_sum / self.scored, 1) if self.scored >= MIN_GROUP else None

    def value(self, key: str):
        return self.unit.name if key == "unit" else getattr(self, key)


def units_reported_to(user) -> QuerySet[OrgUnit]:
    """Units whose reports the user may open: everything under the units they manage, and their own branch."""
    if getattr(user, "is_superuser", False):
        return OrgUnit.objects.all()  # no IN over every unit's id
    return OrgUnit.objects.filter(
        Q(pk__in=units_managed_by(user).values("pk")) | Q(pk__in=branches_as_secretary(user).values("pk"))
    )


def report_root(user) -> OrgUnit | None:
    """Where the user's reports open: the highest unit they may see."""
    return units_reported_to(user).order_by("depth", "path").first()


def _row(unit: OrgUnit, stats: CourseUnitStats | None) -> ReportRow:
    row = ReportRow(unit=unit, members=unit.member_count)
    if stats is not None:
        for name in ("studied", "completed", "attended", "passed", "scored", "score_sum"):
            setattr(row, name, getattr(stats, name))
    return row


def course_report(*, course: CoursePage, unit: OrgUnit) -> tuple[ReportRow, list[ReportRow]]:
    """The unit's own total and one row per child unit (each for its whole subtree)."""
    children = list(OrgUnit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1).order_by("path"))
    stats = {
        row.unit_id: row
        for row in CourseUnitStats.objects.filter(course=course, unit_id__in=[unit.pk, *(c.pk for c in children)])
    }
    return _row(unit, stats.get(unit.pk)), [_row(child, stats.get(child.pk)) for child in children]


def branch_individuals(*, course: CoursePage, branch: OrgUnit, user) -> list[dict] | None:
    """Each member of the branch with their progress, attendance and best score — for the branch's own
    secretary only (None for anyone else, editors above included)."""
    from .. import selectors

    if not branches_as_secretary(user).filter(pk=branch.pk).exists():
        return None
    members = list(branch.members.order_by("real_name", "username"))
    ids = [member.pk for member in members]
    done = selectors.required_lessons_done(course=course, member_ids=ids)
    attended = set(
        SessionAttendance.objects.filter(session__course=course, member_id__in=ids).values_list("member_id", flat=True)
    )
    best = dict(
        QuizAttempt.objects.filter(course=course, member_id__in=ids, percent__isnull=False)
        .values("member_id")
        .annotate(best=Max("percent"))
        .values_list("member_id", "best")
    )
    flags = integrity_flags(course=course, member_ids=ids)
    return [
        {
            "member": member,
            "flags": flags.get(member.pk, []),
            "done": done.get(member.pk, 0),
            "attended": member.pk in attended,
            "best": best.get(member.pk),
            "passed": best.get(member.pk) is not None and best[member.pk] >= course.pass_mark,
        }
        for member in members
    ]


def branch_hours(*, branch: OrgUnit, year: int, user) -> list[dict] | None:
    """Each member of the branch with their year's study hours, computed as their own page computes them — for the
    branch's own secretary only (None for anyone else, and for units that are not branches)."""
    if branch.level != OrgUnit.Level.BRANCH or not branches_as_secretary(user).filter(pk=branch.pk).exists():
        return None
    members = list(branch.members.order_by("real_name", "username"))
    hours = study_hours_of(members, year=year)
    return [{"member": member, "hours": hours[member.pk]} for member in members]
