"""The yearly study-hours report (学时): every credit (a heartbeat's honest study time, a session check-in, a quiz
passed) keeps each unit's figures current up the tree; they equal a rebuild from the activity rows and the member's
own page; a member who moves takes the year along; the page, its drill-down, its exports and the branch secretary's
list of members behave like the course reports."""

import csv
import datetime
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from cms.models import Member, OrgUnit
from cms.services import member_move
from courses import selectors, services
from courses.models import MemberYearHours, UnitYearHours
from courses.reports import hours
from library.activity import progress_heartbeat
from library.models import StudyDay

from .conftest import DURING
from .helpers import checked_in_by_code
from .helpers import quiz_taken as _quiz

pytestmark = pytest.mark.django_db
YEAR = hours.year_of(DURING)


def _study(member, item, seconds):
    """Honest study time as the library records and announces it (StudyDay row, then its event)."""
    StudyDay.objects.create(member=member, item=item, day=DURING.date(), seconds=seconds)
    services.study_hours_credited(member_id=member.pk, at=DURING)


def _figures():
    """Each unit's (active, tenths, met); a unit whose figures went back to nothing reads as no row, as a rebuild
    leaves it."""
    return {
        row.unit.code: (row.active, row.tenths, row.met)
        for row in UnitYearHours.objects.filter(year=YEAR).select_related("unit")
        if row.active or row.tenths or row.met
    }


@pytest.fixture
def year(course, lessons, member, other_member, units, django_capture_on_commit_callbacks):
    """王 (branch 1): 30 学时 of study, a session (2) and a passed quiz (1) = 33, over his 32; 李 (branch 2): 1.5
    学时 of study and a failed quiz."""
    _study(member, lessons[0], 81_000)
    _study(other_member, lessons[1], 4_050)
    checked_in_by_code(course, units["daixi-1"], member)
    with django_capture_on_commit_callbacks(execute=True):  # a pass counts after the submit commits
        _quiz(member, course, correct=True)
        _quiz(other_member, course, correct=False)
    return course


def test_the_year_follows_every_credit_up_the_tree_and_equals_a_rebuild(year, member, other_member):
    """Branch 1: one active member, 33.0 学时, met; branch 2: one, 1.5, not met; every unit above sums them; the
    member's row equals his own page; rebuilding from the activity rows gives the same figures."""
    figures = _figures()
    assert figures["daixi-1"] == (1, 330, 1)
    assert figures["daixi-2"] == (1, 15, 0)
    for above in ("daixi", "zouping", "binzhou", "shandong"):
        assert figures[above] == (2, 345, 1)
    assert selectors.study_hours(member=member, year=YEAR).total == Decimal("33.0")
    assert MemberYearHours.objects.get(member=member, year=YEAR).tenths == 330
    assert hours.rebuild(year=YEAR) == 2
    assert _figures() == figures


def test_a_heartbeat_reaches_the_report(member, lessons, django_capture_on_commit_callbacks):
    """The library's heartbeat announces its credit after commit; the year's row grows by exactly that."""
    with django_capture_on_commit_callbacks(execute=True):
        progress_heartbeat(member=member, item=lessons[0], position=10, active_seconds=30, now=DURING)
        beat = progress_heartbeat(
            member=member, item=lessons[0], position=40, active_seconds=30, now=DURING + timedelta(seconds=30)
        )
    credited = StudyDay.objects.filter(member=member).values_list("seconds", flat=True)
    assert beat.study_seconds == sum(credited) > 0
    assert MemberYearHours.objects.get(member=member, year=YEAR).online_seconds == sum(credited)


def test_meeting_the_requirement_counts_once_and_a_second_pass_adds_nothing(
    course, member, lessons, django_capture_on_commit_callbacks
):
    """Crossing 32 学时 makes one 达标 at every level; more study raises the hours, not the count; passing the same
    course's quiz again in the year adds no quiz hour (as the member's page counts it)."""
    _study(member, lessons[0], 32 * 2700)
    assert _figures()["shandong"] == (1, 320, 1)
    _study(member, lessons[1], 2700)
    with django_capture_on_commit_callbacks(execute=True):
        _quiz(member, course, correct=True)
        _quiz(member, course, correct=True)
    assert _figures()["shandong"] == (1, 340, 1)
    assert selectors.study_hours(member=member, year=YEAR).total == Decimal("34.0")


def test_a_member_who_moves_takes_the_year_along_at_once(
    year, member, lessons, units, django_capture_on_commit_callbacks
):
    """The year is assessed where the member belongs: the move itself (cms.events.member_changed, after commit)
    carries his whole year from branch 1 to branch 2, before he studies again; the town above sees no change; the
    figures equal a rebuild at every moment."""
    with django_capture_on_commit_callbacks(execute=True):
        member_move(member=member, unit=units["daixi-2"], effective_on=datetime.date(YEAR, 1, 1))
    figures = _figures()
    assert "daixi-1" not in figures
    assert figures["daixi-2"] == (2, 15 + 330, 1)
    assert figures["daixi"] == (2, 345, 1)
    hours.rebuild(year=YEAR)
    assert _figures() == figures


def test_a_new_party_role_changes_what_the_year_must_reach(year, member, django_capture_on_commit_callbacks):
    """33 学时 meet a member's 32 but not a committee member's 56: a role change announced by cms (as the roster
    import announces it) is reflected at once, as on his own page."""
    with django_capture_on_commit_callbacks(execute=True):
        Member.objects.filter(pk=member.pk).update(party_role="committee")
        from cms.events import member_changed_on_commit

        member_changed_on_commit(member_id=member.pk)
    assert not selectors.study_hours(member=Member.objects.get(pk=member.pk), year=YEAR).met
    assert _figures()["daixi-1"] == (1, 330, 0)


def test_a_lost_credit_is_caught_up_and_a_deleted_item_keeps_its_hours(member, lessons):
    """Study whose announcement never arrived is counted at the next credit (the year is read from the activity,
    not added up from announcements); deleting a studied item takes no hours from the member or the report."""
    StudyDay.objects.create(member=member, item=lessons[0], day=DURING.date(), seconds=2700 * 3)  # never announced
    _study(member, lessons[1], 2700)
    assert _figures()["shandong"] == (1, 40, 0)
    lessons[0].delete()
    assert selectors.study_hours(member=member, year=YEAR).total == Decimal("4.0")
    _study(member, lessons[2], 0)
    assert _figures()["shandong"] == (1, 40, 0)


def test_the_report_reads_two_queries_however_many_members(year, units):
    """The town and its two branches from the kept rows: the same two queries for any number of members."""
    town = OrgUnit.objects.get(code="daixi")
    with CaptureQueriesContext(connection) as queries:
        total, rows = hours.hours_report(unit=town, year=YEAR)
    assert len(queries) == 2
    assert [row.unit.code for row in rows] == ["daixi-1", "daixi-2"]
    assert (rows[0].tenths, rows[0].met, rows[0].met_rate) == (330, 1, round(1 / rows[0].members, 4))
    assert (total.tenths, total.active) == (345, 2)
    # Fewer than three members with hours: their total and average would be their own, so neither is shown.
    assert rows[0].hours is None and rows[0].average is None and total.hours is None


def test_the_page_drills_down_exports_numbers_and_shows_names_only_to_the_secretary(
    client, year, units, member, editors_tree
):
    """A county editor reads the county's year and drills to a branch without names or a one-member total; the
    exports carry the table (XLSX counts and rates as numbers, hidden figures empty); the branch's secretary sees
    each member's hours; a member gets a 404."""
    zouping_editor, yinan_editor = editors_tree
    client.force_login(zouping_editor)
    county = client.get("/study/reports/hours/").content.decode()
    assert "年度学时" in county and "黛溪街道" in county and f"{YEAR} 年学时" in county
    branch = client.get(f"/study/reports/hours/?year={YEAR}&unit={units['daixi-1'].pk}").content.decode()
    cells = re.findall(r"<td>([^<]*)</td>", branch)
    assert "33" not in cells and "33.0" not in cells and "—" in cells  # one member's hours are his own
    assert "少于 3 人时不显示合计和平均" in branch
    assert "王德明" not in branch and "仅本支部书记可见" not in branch
    url = f"/study/reports/hours/?year={YEAR}&unit={units['daixi'].pk}"
    rows = list(csv.reader(io.StringIO(client.get(url + "&format=csv").content.decode("utf-8-sig"))))
    assert rows[0] == ["单位", "党员人数", "有学时人数", "学时合计", "人均学时", "学时达标人数", "达标率"]
    assert [r[0] for r in rows[1:]] == ["黛溪街道", "第一党支部", "第二党支部"]
    sheet = load_workbook(io.BytesIO(client.get(url + "&format=xlsx").content)).active
    assert sheet["C3"].data_type == "n" and sheet["C3"].value == 1 and sheet["D3"].value is None
    assert sheet["G3"].number_format == "0.0%"
    client.force_login(yinan_editor)
    assert client.get(f"/study/reports/hours/?unit={units['daixi-1'].pk}").status_code == 404
    client.force_login(member)
    assert client.get("/study/reports/hours/").status_code == 404
    client.force_login(Member.objects.get(username="shuji-daixi-1"))
    own = client.get("/study/reports/hours/?year=1900").content.decode()
    assert "本支部党员学时" in own and "王德明" in own and "33.0" in own


def test_the_rebuild_command_reports_its_progress_in_chinese(year, capsys):
    """The operator's command recomputes every course and the year, saying so in Chinese."""
    from django.core.management import call_command

    call_command("courses_reports_rebuild", year=[YEAR])
    out = capsys.readouterr().out
    assert f"{YEAR} 年学时：2 名党员有学时" in out and "已重算" in out


def test_odd_query_strings_and_formula_names_are_harmless(client, year, units, editors_tree):
    """A year or unit that is not a plain number ("²", 5,000 digits) is the default year or a 404, never a 500, on
    both report pages; a unit named like a formula is exported as text (CSV with a leading ', XLSX a string)."""
    client.force_login(editors_tree[0])
    for page in ("/study/reports/hours/", f"/study/reports/?course={year.pk}&"):
        joiner = "&" if "?" in page else "?"
        for odd in ("²", "9" * 5000, "-1", "1e3"):
            assert client.get(f"{page}{joiner}unit={odd}").status_code == 404
    assert client.get("/study/reports/hours/?year=²").status_code == 200
    assert client.get("/study/reports/hours/?year=" + "9" * 5000).status_code == 200
    OrgUnit.objects.filter(code="daixi-1").update(name='=HYPERLINK("http://evil.example/","点我")')
    url = f"/study/reports/hours/?year={YEAR}&unit={units['daixi'].pk}"
    rows = list(csv.reader(io.StringIO(client.get(url + "&format=csv").content.decode("utf-8-sig"))))
    assert rows[2][0].startswith("'=HYPERLINK")
    sheet = load_workbook(io.BytesIO(client.get(url + "&format=xlsx").content)).active
    assert sheet["A3"].data_type == "s" and sheet["A3"].value.startswith("'=")
