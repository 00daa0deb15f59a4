"""A small world for the courses' tests: a unit tree, members in two branches, library lessons, a question bank
large enough for the blueprint (3× what it draws) plus practice questions, and a course in its window."""

from datetime import UTC, datetime, timedelta

import pytest
from wagtail.models import Site

from cms.models import OrgUnit, UnitRole
from cms.services import member_create, org_unit_create, org_unit_ensure_roles
from courses.models import (
    CourseIndexPage,
    CourseLesson,
    CoursePage,
    Question,
    QuestionBank,
    QuestionKind,
    QuestionOption,
    QuizRule,
)
from library.models import LibraryItem, LibraryPage

PREMIERE = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)  # 09:00 in Shandong
DURING = PREMIERE + timedelta(hours=1)


@pytest.fixture
def db_tasks(settings):
    """Tasks go to the database backend's table, whatever `make test` configured (Redis there)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}


@pytest.fixture
def units():
    province = org_unit_create(parent=None, name="山东省", code="shandong", level=OrgUnit.Level.PROVINCE)
    city = org_unit_create(parent=province, name="滨州市", code="binzhou", level=OrgUnit.Level.CITY)
    county = org_unit_create(parent=city, name="邹平市", code="zouping", level=OrgUnit.Level.COUNTY)
    town = org_unit_create(parent=county, name="黛溪街道", code="daixi", level=OrgUnit.Level.TOWNSHIP)
    org_unit_create(parent=town, name="第一党支部", code="daixi-1", level=OrgUnit.Level.BRANCH)
    org_unit_create(parent=town, name="第二党支部", code="daixi-2", level=OrgUnit.Level.BRANCH)
    org_unit_create(parent=province, name="临沂市", code="linyi", level=OrgUnit.Level.CITY)
    return {unit.code: unit for unit in OrgUnit.objects.all()}


@pytest.fixture
def member(units):
    return member_create(username="wang", password="pw-123456", real_name="王德明", org_unit=units["daixi-1"])


@pytest.fixture
def other_member(units):
    return member_create(username="li", password="pw-123456", real_name="李秀英", org_unit=units["daixi-2"])


@pytest.fixture
def lessons(units):
    root = Site.objects.get(is_default_site=True).root_page
    if not LibraryPage.objects.exists():
        root.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))
    unit = units["shandong"]
    long_body = "<p>" + "党群同心" * 300 + "</p>"  # 1,200 characters: two minutes' reading needed
    return [
        LibraryItem.objects.create(kind="article", title="沂蒙精神的时代价值", body=long_body, owning_unit=unit),
        LibraryItem.objects.create(
            kind="article", title="三会一课指南", body="<p>短文</p>", owning_unit=unit, access="members"
        ),
        LibraryItem.objects.create(kind="video", title="导学视频", owning_unit=unit),
    ]


def make_question(bank, kind, n, *, practice=False, topic="党史", difficulty=2):
    if kind == QuestionKind.BLANK:
        question = Question.objects.create(
            bank=bank, key=f"{kind}-{practice}-{n}", kind=kind, stem=f"填空第{n}题：中国共产党成立于（ ）年",
            answer="1921", explanation="1921年7月。", topic=topic, difficulty=difficulty, is_practice=practice,
        )  # fmt: skip
        return question
    answer = {"single": "B", "multiple": "AC", "truefalse": "T"}[kind]
    question = Question.objects.create(
        bank=bank, key=f"{kind}-{practice}-{n}", kind=kind, stem=f"{kind}第{n}题", answer=answer,
        explanation=f"解析{n}", topic=topic, difficulty=difficulty, is_practice=practice,
    )  # fmt: skip
    if kind in ("single", "multiple"):
        for position, label in enumerate("ABCD"):
            QuestionOption.objects.create(question=question, label=label, text=f"选项{label}{n}", sort_order=position)
    return question


@pytest.fixture
def bank(units):
    bank = QuestionBank.objects.create(name="2026年3月题库", code="2026-03", owning_unit=units["shandong"])
    for n in range(9):
        make_question(bank, "single", n)
        make_question(bank, "truefalse", n)
    for n in range(6):
        make_question(bank, "multiple", n)
        make_question(bank, "blank", n)
    for n in range(4):
        make_question(bank, "single", n, practice=True)
    return bank


@pytest.fixture
def index_page():
    root = Site.objects.get(is_default_site=True).root_page
    return root.add_child(instance=CourseIndexPage(title="灯塔大课堂", slug="courses"))


def make_course(index_page, *, bank=None, issue=3, premiere=PREMIERE, lessons=(), rules=None, **fields):
    course = index_page.add_child(
        instance=CoursePage(
            title=f"第{issue}期",
            slug=f"issue-{issue}",
            issue_number=issue,
            theme="学习贯彻党的二十大精神",
            premiere_at=premiere,
            study_closes_at=premiere + timedelta(days=20),
            makeup_deadline=premiere + timedelta(days=26),
            question_bank=bank,
            **fields,
        )
    )
    for position, (item, required) in enumerate(lessons):
        CourseLesson.objects.create(page=course, item=item, required=required, sort_order=position)
    default_rules = [("single", 3, 2), ("multiple", 2, 4), ("truefalse", 3, 2), ("blank", 2, 4)]
    for position, (kind, count, points) in enumerate(rules if rules is not None else (default_rules if bank else [])):
        QuizRule.objects.create(page=course, kind=kind, count=count, points=points, sort_order=position)
    return course


@pytest.fixture
def course(index_page, bank, lessons):
    return make_course(index_page, bank=bank, lessons=[(lessons[0], True), (lessons[1], True), (lessons[2], False)])


@pytest.fixture
def editors_tree(units):
    """A county editor of 邹平市 and a city editor of 临沂市 (beside it)."""
    made = []
    for code, name in (("zouping", "zp_editor"), ("linyi", "ly_editor")):
        editor = member_create(username=name, password="pw-123456", org_unit=units[code])
        editor.groups.add(org_unit_ensure_roles(unit=units[code])[UnitRole.Role.EDITOR])
        made.append(editor)
    return made
