"""The courses in the admin: the course page form refuses a course that could not work (pool under 3×, a lesson
twice, a lesson its audience cannot open, dates out of order); banks and questions are scoped to the editor's
units; the import screen reports bad rows and writes nothing; a course with members' records cannot be deleted
(courses/forms.py, courses/admin/views.py, courses/wagtail_hooks.py)."""

import io
from datetime import timedelta

import pytest
from django.test import Client
from openpyxl import Workbook
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from cms.services import member_create
from courses import services
from courses.models import CoursePage, Question, QuestionBank

from .conftest import DURING, PREMIERE, make_course
from .test_bank_import import GOOD, HEADER

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(units):
    admin = member_create(username="admin", password="pw-123456", is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def _course_form(bank, lessons, *, rules=(("single", 3),), **overrides):
    stamp = "%Y-%m-%d %H:%M"
    data = {
        "title": "第4期",
        "slug": "issue-4",
        "issue_number": 4,
        "theme": "学习党章",
        "summary": "",
        "premiere_at": (PREMIERE + timedelta(days=30)).strftime(stamp),
        "study_closes_at": (PREMIERE + timedelta(days=50)).strftime(stamp),
        "makeup_deadline": (PREMIERE + timedelta(days=55)).strftime(stamp),
        "discussion_guide": rich_text("<p>讨论</p>"),
        "lessons": inline_formset([{"item": item.pk, "required": True, "note": ""} for item in lessons], min=1),
        "question_bank": bank.pk if bank else "",
        "quiz_rules": inline_formset(
            [{"kind": kind, "topic": "", "count": count, "points": 2} for kind, count in rules]
        ),
        "pass_mark": 60,
        "attempts_allowed": 2,
        "time_limit_minutes": 30,
    } | overrides
    return nested_form_data(data)


def _add(client, index_page, data):
    return client.post(f"/admin/pages/add/courses/coursepage/{index_page.pk}/", data)


def test_a_valid_course_is_created_from_the_admin(admin_client, index_page, bank, lessons):
    response = _add(admin_client, index_page, _course_form(bank, lessons[:2]))
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    course = CoursePage.objects.get(issue_number=4)
    assert [lesson.item_id for lesson in course.lessons.all()] == [lessons[0].pk, lessons[1].pk]
    assert course.quiz_rules.count() == 1


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("small_pool", "组卷规则“单选题 4 题”只有 9 道可用试题，至少需要 12 道（3 倍）"),
        ("twice", "同一条目不能在课程里出现两次"),
        ("unit_only", "不是对本课程全部学员开放的"),
        ("dates", "补学截止不能早于学习截止"),
        ("rules_without_bank", "有组卷规则时请选择题库"),
    ],
)
def test_the_course_form_refuses_what_cannot_work(admin_client, index_page, bank, lessons, units, case, message):
    from library.models import LibraryItem

    kwargs = {}
    items = lessons[:1]
    if case == "small_pool":
        kwargs["rules"] = (("single", 4),)
    if case == "twice":
        items = [lessons[0], lessons[0]]
    if case == "unit_only":
        items = [
            LibraryItem.objects.create(
                kind="article",
                title="县里的课",
                owning_unit=units["zouping"],
                access="unit",
                access_unit=units["zouping"],
            )
        ]
    data = _course_form(None if case == "rules_without_bank" else bank, items, **kwargs)
    if case == "dates":
        data["makeup_deadline"] = (PREMIERE + timedelta(days=40)).strftime("%Y-%m-%d %H:%M")
    response = _add(admin_client, index_page, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CoursePage.objects.filter(issue_number=4).exists()


def test_a_unit_course_may_use_that_units_own_items(admin_client, index_page, bank, units):
    from library.models import LibraryItem

    item = LibraryItem.objects.create(
        kind="article", title="县里的课", owning_unit=units["zouping"], access="unit", access_unit=units["zouping"]
    )
    response = _add(admin_client, index_page, _course_form(bank, [item], audience_unit=units["daixi"].pk))
    assert response.status_code == 302


def test_banks_and_questions_are_scoped_to_the_editors_units(units, bank):
    mine = QuestionBank.objects.create(name="邹平题库", code="zouping", owning_unit=units["zouping"])
    question = Question.objects.create(bank=mine, key="k1", kind="truefalse", stem="邹平的题", answer="T")
    editor = member_create(username="zp", password="pw-123456", org_unit=units["zouping"], roles=("editor",))
    client = Client()
    client.force_login(editor)
    listing = client.get("/admin/courses_banks/").content.decode()
    assert "邹平题库" in listing and "2026年3月题库" not in listing
    assert client.get(f"/admin/courses_banks/edit/{mine.pk}/").status_code == 200
    assert client.get(f"/admin/courses_banks/edit/{bank.pk}/").status_code == 404
    assert client.get(f"/admin/courses_questions/edit/{question.pk}/").status_code == 200
    province_question = Question.objects.filter(bank=bank).first()
    assert client.get(f"/admin/courses_questions/edit/{province_question.pk}/").status_code == 404
    assert client.post(f"/admin/courses_questions/delete/{province_question.pk}/").status_code == 404


def test_the_question_form_checks_and_stores_the_answer_canonically(admin_client, bank):
    data = nested_form_data(
        {
            "bank": bank.pk,
            "kind": "multiple",
            "difficulty": 2,
            "topic": "党章",
            "stem": "下列哪些是党的纪律？",
            "options": inline_formset(
                [
                    {"label": "A", "text": "政治纪律"},
                    {"label": "B", "text": "组织纪律"},
                    {"label": "C", "text": "廉洁纪律"},
                ]
            ),
            "answer": "A、C",
            "explanation": "",
            "is_practice": False,
            "is_active": True,
            "keep_option_order": False,
            "key": "dj-1",
        }
    )
    assert admin_client.post("/admin/courses_questions/new/", data).status_code == 302
    assert Question.objects.get(key="dj-1").answer == "AC"
    bad = data | {"key": "dj-2", "answer": "E"}
    response = admin_client.post("/admin/courses_questions/new/", bad)
    assert "答案“E”对应的选项为空" in response.content.decode()
    assert not Question.objects.filter(key="dj-2").exists()


def _xlsx(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "bank.xlsx"
    return buffer


def test_the_import_screen_reports_bad_rows_and_then_imports(admin_client, units):
    bad = [HEADER, GOOD[0], ["单选", "缺答案", "甲", "乙", "", "", "", "", "", "", "", ""]]
    form = {"new_name": "新题库", "new_code": "new-bank", "new_unit": units["shandong"].pk}
    response = admin_client.post("/admin/courses-bank-import/", form | {"file": _xlsx(bad)})
    html = response.content.decode()
    assert "整个文件未导入" in html and "缺少答案" in html and "<td>3</td>" in html
    assert not Question.objects.exists() and not QuestionBank.objects.filter(code="new-bank").exists()
    response = admin_client.post("/admin/courses-bank-import/", form | {"file": _xlsx([HEADER, *GOOD])})
    assert "新增 5 题" in response.content.decode()
    assert QuestionBank.objects.get(code="new-bank").questions.count() == 5


def test_a_course_with_attempts_cannot_be_deleted(admin_client, member, course):
    services.quiz_attempt_start(member=member, course=course, now=DURING)
    response = admin_client.post(f"/admin/pages/{course.pk}/delete/")
    assert response.status_code == 302 and response["Location"].endswith(f"/admin/pages/{course.pk}/edit/")
    assert CoursePage.objects.filter(pk=course.pk).exists()


def test_previewing_a_new_course_shows_its_lessons(admin_client, index_page, bank, lessons):
    """The editor's preview of a course not yet saved renders its lessons from the form (nothing in the database)."""
    url = f"/admin/pages/add/courses/coursepage/{index_page.pk}/preview/"
    assert admin_client.post(url, _course_form(bank, lessons[:2])).json()["is_valid"]
    html = admin_client.get(url).content.decode()
    assert "学习党章" in html and lessons[0].title in html and lessons[1].title in html
    assert not CoursePage.objects.filter(issue_number=4).exists()


def test_previewing_a_saved_course_shows_the_edited_lessons(admin_client, index_page, lessons, bank):
    """A saved course's preview shows the lessons as edited in the form, not those in the database."""
    course = make_course(index_page, bank=bank, issue=6, lessons=[(lessons[0], True)])
    url = f"/admin/pages/{course.pk}/edit/preview/"
    data = _course_form(bank, [lessons[2]], title=course.title, slug=course.slug, issue_number=6)
    rows = [
        {"id": lesson.pk, "item": lesson.item_id, "required": True, "note": "", "DELETE": "1"}
        for lesson in course.lessons.all()
    ]
    data |= nested_form_data(
        {"lessons": inline_formset(rows + [{"item": lessons[2].pk, "required": True, "note": ""}], initial=len(rows))}
    )
    assert admin_client.post(url, data).json()["is_valid"]
    html = admin_client.get(url).content.decode()
    assert lessons[2].title in html and lessons[0].title not in html
