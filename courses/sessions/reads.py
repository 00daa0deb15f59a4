"""Reads about branch sessions: who may run them, a session's roster (the branch's members that day, who came, who
still has to make up), and a member's own attendance. Re-exported by ``courses.selectors``."""

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from cms.models import Member, OrgUnit, UnitRole
from cms.selectors import branches_led_by, members_of_unit_between, unit_of_member_on, units_managed_by

from ..models import BranchSession, CourseLesson, SessionAttendance

RUNNING_ROLES = (Member.PartyRole.SECRETARY, Member.PartyRole.COMMITTEE)


def branches_run_by(member) -> QuerySet[OrgUnit]:
    """Branches whose sessions this member runs: their own branch as its secretary or a committee member (roster),
    a branch whose secretary role they hold, and the branches under the units they manage as an editor or
    administrator (everything for a superuser)."""
    if not getattr(member, "is_authenticated", False):
        return OrgUnit.objects.none()
    own = OrgUnit.objects.none()
    if getattr(member, "party_role", None) in RUNNING_ROLES and member.org_unit_id:
        own = OrgUnit.objects.filter(pk=member.org_unit_id, level=OrgUnit.Level.BRANCH)
    # The branch secretary's role group (cms.UnitRole; the roster puts 支部书记 in it, the demo's secretary has it).
    secretary_of = OrgUnit.objects.filter(
        level=OrgUnit.Level.BRANCH, roles__role=UnitRole.Role.SECRETARY, roles__group__user=member
    )
    managed = units_managed_by(member).filter(level=OrgUnit.Level.BRANCH)
    return OrgUnit.objects.filter(
        Q(pk__in=own.values("pk")) | Q(pk__in=secretary_of.values("pk")) | Q(pk__in=managed.values("pk"))
    )


def branches_as_secretary(member) -> QuerySet[OrgUnit]:
    """The branches this member leads themselves (cms.selectors.branches_led_by): the only people besides the
    member who see an individual's scores."""
    return branches_led_by(member)


def may_run(member, branch: OrgUnit) -> bool:
    return branches_run_by(member).filter(pk=branch.pk).exists()


def session_day(session: BranchSession) -> datetime.date:
    return timezone.localdate(session.starts_at)


def member_in_branch_on(member, branch: OrgUnit, day: datetime.date) -> bool:
    """Whether the member belonged to the branch that day (their unit history; their current unit without one)."""
    unit = unit_of_member_on(member, day)
    return (unit.pk if unit else member.org_unit_id) == branch.pk


def sessions_of(*, course, branches) -> QuerySet[BranchSession]:
    return BranchSession.objects.filter(course=course, branch__in=branches).select_related("branch")


def session_run_by(member, session_id: int) -> BranchSession | None:
    """The session, if this member runs its branch's sessions (else None: a 404 to them)."""
    return (
        BranchSession.objects.filter(pk=session_id, branch__in=branches_run_by(member))
        .select_related("branch", "course")
        .first()
    )


@dataclass
class RosterRow:
    member: Member
    attendance: SessionAttendance | None
    lessons_done: int
    lessons_required: int

    @property
    def made_up(self) -> bool:
        """An absentee who has since studied every required lesson alone (补学)."""
        return self.attendance is None and self.lessons_required > 0 and self.lessons_done >= self.lessons_required


def session_roster(session: BranchSession) -> list[RosterRow]:
    """Everyone in the branch on the session's day, those who came first, each with their course progress (the
    same selector the member's page uses, for all of them in one query)."""
    from .. import selectors

    day = session_day(session)
    member_ids = members_of_unit_between(session.branch, day, day + datetime.timedelta(days=1)).values("member_id")
    people = get_user_model().objects.filter(pk__in=member_ids) | get_user_model().objects.filter(
        pk__in=session.attendances.values("member_id")
    )
    members = list(people.distinct().order_by("real_name", "username"))
    attendances = {a.member_id: a for a in session.attendances.all()}
    done = selectors.required_lessons_done(course=session.course, member_ids=[m.pk for m in members])
    required = CourseLesson.objects.filter(
        page=session.course, required=True, item__in=selectors.counted_items(session.course)
    ).count()
    rows = [RosterRow(m, attendances.get(m.pk), done.get(m.pk, 0), required) for m in members]
    return sorted(rows, key=lambda row: row.attendance is None)


def attendance_of(*, member, session: BranchSession) -> SessionAttendance | None:
    if not getattr(member, "is_authenticated", False):
        return None
    return SessionAttendance.objects.filter(session=session, member=member).first()


def session_get(session_id: int) -> BranchSession | None:
    return BranchSession.objects.filter(pk=session_id).select_related("branch", "course").first()
