"""The yearly study-hours report (学时): each unit's members with any credit, their hours and how many met the annual
requirement, for the unit and everything below it, kept current with each credit instead of counted per request.

A credit (honest study time from the library, an attended session, a course's quiz passed), a move and a change of
party role each refresh the member's ``MemberYearHours`` row under its lock from the activity itself, with the same
calculation the member's own page uses (``credits.hours``), and add the change of the member's contribution to
``UnitYearHours`` of their unit and every unit above it. A year counts where the member belongs (a year is assessed
by the member's branch): a member who moves takes this year's contribution along. ``rebuild`` recomputes a year
from the activity rows, each member under their unit now: what a test compares and an operator can rerun.

Locks: the member's year row first, then the units' rows in one UPDATE each (PostgreSQL visits an IN list's keys
in order, so two refreshes touching shared ancestors lock them in the same order)."""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cms.models import OrgUnit
from cms.selectors import unit_and_ancestor_paths

from ..credits.hours import StudyHours, required_hours, study_hours_of
from ..models import MemberYearHours, UnitYearHours
from .reads import MIN_GROUP
from .stats import bump_subtree

FIGURES = ("active", "tenths", "met")


def year_of(moment) -> int:
    """The calendar year of a moment in the organisation's own time zone (as the member's page counts it)."""
    return timezone.localtime(moment, timezone.get_default_timezone()).year


def _contribution(row: MemberYearHours) -> dict[str, int]:
    active = bool(row.online_seconds or row.sessions or row.quizzes_passed)
    return {"active": int(active), "tenths": row.tenths, "met": int(row.met)}


def _figures(row: MemberYearHours, member) -> None:
    hours = StudyHours(
        year=row.year,
        online_seconds=row.online_seconds,
        sessions=row.sessions,
        quizzes_passed=row.quizzes_passed,
        required=required_hours(member),
    )
    row.tenths = int(hours.total * 10)
    row.met = hours.met


def refresh(*, member_id: int, year: int) -> None:
    """Bring the member's year up to date from the activity itself — whatever credit, move or role change led here —
    and add the change of their contribution to the figures of their unit and the units above it.

    Reading the activity (three grouped queries) rather than adding the credit's own seconds means a credit whose
    announcement was lost (a failed listener) is caught up by the next one, and the kept figures always equal a
    rebuild. The member's year row is locked first, so two refreshes of one member never interleave."""
    member = get_user_model().objects.filter(pk=member_id).only("pk", "org_unit_id", "party_role").first()
    if member is None:
        return
    with transaction.atomic():
        row = MemberYearHours.objects.select_for_update().filter(member_id=member_id, year=year).first()
        if row is None:
            MemberYearHours.objects.bulk_create(
                [MemberYearHours(member_id=member_id, year=year, unit_id=member.org_unit_id)], ignore_conflicts=True
            )
            row = MemberYearHours.objects.select_for_update().get(member_id=member_id, year=year)
        hours = study_hours_of([member], year=year)[member.pk]
        before, counted_in = _contribution(row), row.unit_id
        row.online_seconds, row.sessions, row.quizzes_passed = (
            hours.online_seconds,
            hours.sessions,
            hours.quizzes_passed,
        )
        row.unit_id = member.org_unit_id
        _figures(row, member)
        after = _contribution(row)
        if not after["active"] and not before["active"]:
            row.delete()  # nothing to count (a move or role change of a member without credit this year)
            return
        row.save()
        if counted_in == row.unit_id:
            _bump(row.unit_id, year, {name: after[name] - before[name] for name in FIGURES})
        else:  # moved since the last refresh: the year goes with them
            _bump(counted_in, year, {name: -before[name] for name in FIGURES})
            _bump(row.unit_id, year, after)


def _bump(unit_id: int | None, year: int, deltas: dict[str, int]) -> None:
    bump_subtree(UnitYearHours, key={"year": year}, unit_id=unit_id, deltas=deltas)


def rebuild(*, year: int, batch: int = 2000) -> int:
    """Recompute the year's member and unit rows from the activity itself; returns the members with credit."""
    members = get_user_model().objects.only("pk", "org_unit_id", "party_role").order_by("pk")
    totals: dict[int, dict[str, int]] = {}
    rows = []
    ids = list(members.values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        chunk = {member.pk: member for member in members.filter(pk__in=ids[start : start + batch])}
        for member_id, hours in study_hours_of(chunk.values(), year=year).items():
            member = chunk[member_id]
            row = MemberYearHours(
                member_id=member_id,
                year=year,
                unit_id=member.org_unit_id,
                online_seconds=hours.online_seconds,
                sessions=hours.sessions,
                quizzes_passed=hours.quizzes_passed,
            )
            _figures(row, member)
            figures = _contribution(row)
            if figures["active"]:
                rows.append(row)
                if row.unit_id:
                    unit = totals.setdefault(row.unit_id, dict.fromkeys(FIGURES, 0))
                    for name in FIGURES:
                        unit[name] += figures[name]
    with transaction.atomic():
        MemberYearHours.objects.filter(year=year).delete()
        MemberYearHours.objects.bulk_create(rows, batch_size=1000)
        UnitYearHours.objects.filter(year=year).delete()
        UnitYearHours.objects.bulk_create(
            [UnitYearHours(unit_id=pk, year=year, **figures) for pk, figures in _rolled_up(totals).items()],
            batch_size=1000,
        )
    return len(rows)


def _rolled_up(totals: dict[int, dict[str, int]]) -> dict[int, dict[str, int]]:
    """Each unit's own figures added to every unit above it."""
    paths = dict(OrgUnit.objects.filter(pk__in=totals).values_list("pk", "path"))
    above = {}
    for unit_id, figures in totals.items():
        for path in unit_and_ancestor_paths(paths.get(unit_id, "")):
            line = above.setdefault(path, dict.fromkeys(FIGURES, 0))
            for name in FIGURES:
                line[name] += figures[name]
    ids = dict(OrgUnit.objects.filter(path__in=above).values_list("path", "pk"))
    return {ids[path]: figures for path, figures in above.items() if path in ids}


# --- Reading -----------------------------------------------------------------------------------------------------

COLUMNS = [
    ("unit", gettext_lazy("单位")),
    ("members", gettext_lazy("党员人数")),
    ("active", gettext_lazy("有学时人数")),
    ("hours", gettext_lazy("学时合计")),
    ("average", gettext_lazy("人均学时")),
    ("met", gettext_lazy("学时达标人数")),
    ("met_rate", gettext_lazy("达标率")),
]
RATES = {"met_rate"}


@dataclass
class HoursRow:
    unit: OrgUnit
    members: int
    active: int = 0
    tenths: int = 0
    met: int = 0

    @property
    def hours(self) -> Decimal | None:
        """None below ``MIN_GROUP`` members with hours: one or two members' total is their own."""
        return Decimal(self.tenths) / 10 if self.active >= MIN_GROUP else None

    @property
    def average(self) -> Decimal | None:
        if self.hours is None or not self.members:
            return None
        return (self.hours / self.members).quantize(Decimal("0.1"))

    @property
    def met_rate(self) -> float | None:
        return round(self.met / self.members, 4) if self.members else None

    def value(self, key: str):
        return self.unit.name if key == "unit" else getattr(self, key)


def hours_report(*, unit: OrgUnit, year: int) -> tuple[HoursRow, list[HoursRow]]:
    """The unit's own total and one row per child unit (each for its whole subtree), in two queries."""
    children = list(OrgUnit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1).order_by("path"))
    stats = {
        row.unit_id: row
        for row in UnitYearHours.objects.filter(year=year, unit_id__in=[unit.pk, *(c.pk for c in children)])
    }

    def line(of: OrgUnit) -> HoursRow:
        found = stats.get(of.pk)
        row = HoursRow(unit=of, members=of.member_count)
        if found is not None:
            row.active, row.tenths, row.met = found.active, found.tenths, found.met
        return row

    return line(unit), [line(child) for child in children]


def report_years() -> list[int]:
    """The years with any figures, newest first, and always this year."""
    years = set(UnitYearHours.objects.values_list("year", flat=True).distinct())
    years.add(timezone.localdate().year)
    return sorted(years, reverse=True)
