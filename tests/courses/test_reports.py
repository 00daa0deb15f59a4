"""Reports up the tree: figures kept current by the writes themselves (studied, completed, attended, passed,
average score per unit and everything above it), equal to a rebuild from the rows, read in a fixed number of
queries, shown to each editor for their own subtree, individuals only to the branch's own secretary, and exported
as CSV and XLSX identical to the table (numbers as numbers)."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from cms.models import Member, OrgUnit
from cms.services import member_create, member_move
from courses import services
from courses.models import CourseUnitStats
from courses.reports import stats
from courses.reports.reads import course_report
from library.models import StudyDay

from .conftest import DURING
from .helpers import checked_in_by_code
from .helpers import quiz_taken as _quiz

pytestmark = pytest.mark.django_db


def _complete(member, course, items):
    """Honest study of each item, credited as the heartbeat's event would."""
    day = datetime.date(DURING.year, DURING.month, DURING.day)
    for item in items:
        StudyDay.objects.create(member=member, item=item, day=day, seconds=5000)
        services.lesson_study_credited(member_id=member.pk, item_id=item.pk, at=DURING)


def _figures(course):
    return {
        row.unit.code: (row.studied, row.completed, row.attended, row.scored, row.score_sum, row.passed)
        for row in CourseUnitStats.objects.filter(course=course).select_related("unit")
    }


@pytest.fixture
def world(course, lessons, member, other_member, units):
    """王 (branch 1) completes both required lessons, passes at 100 and is checked in; 李 (branch 2) studies one
    lesson and fails; 赵 (branch 1) does nothing."""
    member_create(username="zhao", password="pw-123456", real_name="赵大爷", org_unit=units["daixi-1"])
    _complete(member, course, lessons[:2])
    _complete(other_member, course, lessons[:1])
    _quiz(member, course, correct=True)
    _quiz(other_member, course, correct=False)
    checked_in_by_code(course, units["daixi-1"], member)
    return course


def test_the_figures_follow_the_writes_and_equal_a_rebuild(world, units):
    """Branch 1: studied 1, completed 1, attended 1, scored 1 at 100, passed 1; branch 2: studied 1, a score of 0;
    every unit above sums its subtree; rebuilding from the rows gives the same numbers."""
    figures = _figures(world)
    assert figures["daixi-1"] == (1, 1, 1, 1, 100, 1)
    assert figures["daixi-2"] == (1, 0, 0, 1, 0, 0)
    for above in ("daixi", "zouping", "binzhou", "shandong"):
        assert figures[above] == (2, 1, 1, 2, 100, 1)
    stats.rebuild(course=world)
    assert _figures(world) == figures


def test_a_second_better_attempt_raises_the_average_once_and_counts_one_pass(course, lessons, other_member, units):
    """Fail at 0, then pass at 100: scored stays 1, the sum becomes 100, passed 1 — as a rebuild says too."""
    _quiz(other_member, course, correct=False)
    _quiz(other_member, course, correct=True)
    assert _figures(course)["daixi-2"] == (0, 0, 0, 1, 100, 1)
    stats.rebuild(course=course)
    assert _figures(course)["daixi-2"] == (0, 0, 0, 1, 100, 1)


def test_a_member_who_moves_stays_counted_where_they_studied(world, member, units):
    """Moving 王 to branch 2 moves his head count (members) but not what he did in branch 1."""
    before = {code: OrgUnit.objects.get(code=code).member_count for code in ("daixi-1", "daixi-2", "daixi")}
    member_move(member=member, unit=units["daixi-2"], effective_on=datetime.date(2099, 1, 1))
    after = {code: OrgUnit.objects.get(code=code).member_count for code in ("daixi-1", "daixi-2", "daixi")}
    assert after == {"daixi-1": before["daixi-1"] - 1, "daixi-2": before["daixi-2"] + 1, "daixi": before["daixi"]}
    assert _figures(world)["daixi-1"] == (1, 1, 1, 1, 100, 1)


def test_a_report_reads_the_same_number_of_queries_however_many_members(world, units):
    """The town's report: the unit and its two branches from stats rows and unit counts, rates from those."""
    town = OrgUnit.objects.get(code="daixi")
    with CaptureQueriesContext(connection) as queries:
        total, rows = course_report(course=world, unit=town)
    assert len(queries) == 2
    assert [row.unit.code for row in rows] == ["daixi-1", "daixi-2"]
    branch1 = rows[0]
    assert (branch1.members, branch1.studied, branch1.passed, branch1.score_sum) == (3, 1, 1, 100)
    assert branch1.average is None  # one member's average is his own score: not shown below three
    assert branch1.studied_rate == round(1 / 3, 4)
    assert total.members == town.member_count


def test_each_sees_their_own_subtree_and_individuals_only_their_secretary(client, world, units, member, editors_tree):
    """A county editor opens the county and drills down, but sees no names in a branch; the branch's secretary sees
    each member's progress and best score; a plain member and another county's editor get 404s."""
    zouping_editor, yinan_editor = editors_tree
    client.force_login(zouping_editor)
    county = client.get(f"/study/reports/?course={world.pk}").content.decode()
    assert "学习报表 · 邹平市" in county and "黛溪街道" in county
    branch = client.get(f"/study/reports/?course={world.pk}&unit={units['daixi-1'].pk}").content.decode()
    assert "参学率" in branch and "王德明" not in branch and "仅本支部书记可见" not in branch
    client.force_login(yinan_editor)
    assert client.get(f"/study/reports/?course={world.pk}&unit={units['daixi-1'].pk}").status_code == 404
    client.force_login(member)
    assert client.get("/study/reports/").status_code == 404
    client.force_login(Member.objects.get(username="shuji-daixi-1"))
    own = client.get(f"/study/reports/?course={world.pk}").content.decode()
    assert "仅本支部书记可见" in own and "王德明" in own and "赵大爷" in own


def test_exports_equal_the_table_with_numbers_as_numbers(client, world, units, editors_tree):
    """CSV and XLSX carry the table's columns and rows; XLSX cells are numbers, rates formatted as percentages."""
    client.force_login(editors_tree[0])
    url = f"/study/reports/?course={world.pk}&unit={units['daixi'].pk}"
    rows = list(csv.reader(io.StringIO(client.get(url + "&format=csv").content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["单位", "党员人数", "参学人数", "参学率"]
    assert [r[0] for r in rows[1:]] == ["黛溪街道", "第一党支部", "第二党支部"]
    sheet = load_workbook(io.BytesIO(client.get(url + "&format=xlsx").content)).active
    assert [c.value for c in sheet[1]][:3] == ["单位", "党员人数", "参学人数"]
    assert sheet["B3"].data_type == "n" and sheet["B3"].value == 3
    assert sheet["D3"].number_format == "0.0%" and sheet["D3"].value == pytest.approx(1 / 3, abs=1e-4)
    assert rows[2][3] == str(sheet["D3"].value)
