"""Access proofs for the courses app (issue 14): every course surface — the course page and its sub-pages, the JSON
API at /api/v1/courses/, the question-bank admin and search — obeys the library's access decision and the quiz's
release rules, attacked as an anonymous visitor, a member of another unit, a member of the audience unit and an
editor of another unit. The eight leaks this attack found first (unit-only and unpublished lesson titles, unit
courses served to outsiders, search and page disagreeing, the best attempt before release, the practice check across
banks, other units' bank names in the admin filter) are fixed; their tests hold them closed."""

import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.utils import timezone

from cms.services import member_create
from courses.models import Question, QuestionBank, QuizAttempt
from courses.search_documents import course_document
from library.models import LibraryItem
from search.selectors import search
from search.services import search_outbox_drain_all
from tests.courses import conftest as courses_world
from tests.courses.conftest import make_course

pytestmark = pytest.mark.django_db

API = "/api/v1/courses"
SECRET_TITLE = "支部内部学习材料（仅本支部）"

# The courses' own small world (tests/courses/conftest.py): units, two members in sibling branches, lessons, a bank.
units = courses_world.units
member = courses_world.member
other_member = courses_world.other_member
lessons = courses_world.lessons
bank = courses_world.bank
index_page = courses_world.index_page


@pytest.fixture(autouse=True)
def embedded_search(settings):
    settings.SEARCH_URL = ""


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def _running(index_page, *, issue=3, **fields):
    """A course that premiered an hour ago by the real clock (pages and API read the server's own time)."""
    return make_course(index_page, issue=issue, premiere=timezone.now() - timedelta(hours=1), **fields)


def _published(course):
    course.save_revision().publish()
    course.refresh_from_db()
    return course


def _unit_item(units, code="daixi-1", title=SECRET_TITLE) -> LibraryItem:
    unit = units[code]
    return LibraryItem.objects.create(kind="article", title=title, owning_unit=unit, access="unit", access_unit=unit)


@pytest.fixture
def outsider(units):
    """A member of a unit outside the daixi-1 audience altogether (another city)."""
    return member_create(username="zhao", password="pw-123456", real_name="赵", org_unit=units["linyi"])


@pytest.fixture
def unit_course(index_page, bank, lessons, units):
    """A course for 第一党支部 (daixi-1) whose second lesson is open to that branch only — allowed by the form, since
    every member of the audience may open it."""
    return _running(
        index_page, bank=bank, audience_unit=units["daixi-1"], lessons=[(lessons[0], True), (_unit_item(units), True)]
    )


def _start(client, course) -> dict:
    response = _post(client, f"{API}/{course.pk}/attempts")
    assert response.status_code == 200, response.content
    return response.json()


def _answer_all(client, attempt: dict, *, right: bool):
    """Answer every question through the API, all right or all wrong (by the server's key, tests/courses/helpers)."""
    from tests.courses.helpers import all_writes

    row = QuizAttempt.objects.get(pk=attempt["id"])
    body = [
        {"ref": w.ref, "answer_id": str(w.answer_id), "seq": w.seq}
        | ({"blanks": w.blanks} if w.blanks else {"options": [str(o) for o in w.options]})
        for w in all_writes(row, correct=right)
    ]
    assert _post(client, f"{API}/attempts/{attempt['id']}/answers", {"answers": body}).status_code == 200


# --- Lessons: titles, links and counts ------------------------------------------------------------------------------


def test_anonymous_never_sees_a_unit_only_lessons_title(unit_course):
    """An anonymous visitor, on the course page or in the API, learns nothing of a lesson open to one unit only."""
    page = _client().get(unit_course.url).content.decode()
    api = _client().get(f"{API}/{unit_course.pk}").content.decode()
    assert SECRET_TITLE not in page
    assert SECRET_TITLE not in api


def test_a_member_of_another_unit_never_sees_a_unit_only_lessons_title(
    index_page, bank, lessons, units, unit_course, other_member, outsider
):
    """Members outside the item's unit see neither its title nor its id, on the page or in the API: the unit course
    is not there for them at all, and a course for everyone whose lesson was closed to daixi-1 after publishing
    lists only the lessons they may open (and counts only those)."""
    public = _running(
        index_page,
        issue=4,
        bank=bank,
        lessons=[(lessons[0], True), (LibraryItem.objects.get(title=SECRET_TITLE), True)],
    )
    for user in (other_member, outsider):
        assert _client(user).get(unit_course.url).status_code == 404
        page = _client(user).get(public.url).content.decode()
        api = _client(user).get(f"{API}/{public.pk}").json()
        assert SECRET_TITLE not in page
        assert SECRET_TITLE not in json.dumps(api, ensure_ascii=False)
        assert len(api["lessons"]) == 1 and api["progress"]["required_total"] == 1


def test_the_audience_member_sees_the_unit_lesson_with_its_link(unit_course, member):
    """The audience's own member sees the unit lesson, readable, with its library link (the access decision lets
    them in, so the course does too)."""
    api = _client(member).get(f"{API}/{unit_course.pk}").json()
    lesson = next(row for row in api["lessons"] if row["title"] == SECRET_TITLE)
    assert lesson["readable"] and lesson["url"].endswith(f"/library/item/{lesson['item_id']}/")
    assert SECRET_TITLE in _client(member).get(unit_course.url).content.decode()


def test_an_unpublished_lesson_is_not_listed(index_page, bank, lessons, member):
    """A lesson whose item is withdrawn from the library disappears from the course for everyone."""
    course = _running(index_page, bank=bank, lessons=[(lessons[0], True), (lessons[2], False)])
    LibraryItem.objects.filter(pk=lessons[2].pk).update(is_published=False)
    for client in (_client(), _client(member)):
        assert lessons[2].title not in client.get(course.url).content.decode()
        assert lessons[2].title not in client.get(f"{API}/{course.pk}").content.decode()


def test_members_only_lesson_shows_title_but_no_link_to_anonymous(index_page, bank, lessons):
    """A members-only lesson may show an anonymous visitor its title (the sign-in prompt), never its link."""
    course = _running(index_page, bank=bank, lessons=[(lessons[1], True)])
    api = _client().get(f"{API}/{course.pk}").json()
    assert api["lessons"][0]["title"] == lessons[1].title
    assert api["lessons"][0]["readable"] is False and api["lessons"][0]["url"] == ""
    assert f"/library/item/{lessons[1].pk}/" not in _client().get(course.url).content.decode()


def test_search_never_finds_a_course_by_a_lesson_its_reader_cannot_see(index_page, bank, lessons, units):
    """Search text holds only lesson titles every reader of the course document may see."""
    closed = LibraryItem.objects.create(kind="article", title="沂蒙红嫂内部研讨纪要", owning_unit=units["shandong"])
    course = _published(_running(index_page, bank=bank, lessons=[(lessons[0], True), (closed, True)]))
    LibraryItem.objects.filter(pk=closed.pk).update(access="unit", access_unit=units["daixi-1"])
    course.save_revision().publish()  # re-indexed: the document is built now, with the item already closed
    assert "沂蒙红嫂内部研讨纪要" not in course_document(course).body
    search_outbox_drain_all()
    assert search(query="沂蒙红嫂内部研讨纪要", user=AnonymousUser()).hits == []


def test_a_unit_course_is_found_in_search_by_its_audience_only(unit_course, member, other_member):
    """A course for one branch is found by that branch and not by a sibling branch or an anonymous visitor."""
    _published(unit_course)
    search_outbox_drain_all()
    title = f"第{unit_course.issue_number}期 {unit_course.theme}"
    assert title in [hit.title for hit in search(query="二十大精神", user=member).hits]
    for user in (other_member, AnonymousUser()):
        assert title not in [hit.title for hit in search(query="二十大精神", user=user).hits]


def test_the_course_page_and_search_agree_on_who_may_see_a_unit_course(unit_course, other_member):
    """Whoever search hides a course from is not shown it by the page or the API either."""
    unit_course.discussion_guide = "<p>支部内部讨论提纲</p>"
    _published(unit_course)
    search_outbox_drain_all()
    for user, client in ((other_member, _client(other_member)), (AnonymousUser(), _client())):
        assert search(query="二十大精神", user=user).hits == []
        assert client.get(f"{API}/{unit_course.pk}").status_code == 404
        assert "支部内部讨论提纲" not in client.get(unit_course.url).content.decode()


# --- Who may start ---------------------------------------------------------------------------------------------------


def test_outsiders_cannot_start_a_unit_course(unit_course, other_member, outsider):
    """Members outside the audience cannot start the quiz of a unit course, which does not exist for them: 404 from
    the API and from the page's start route, as an id that names nothing; an anonymous visitor gets the API's 401
    (asked before any course is looked up) and the page's 404; nothing is written."""
    for user in (other_member, outsider):
        a = _post(_client(user), f"{API}/{unit_course.pk}/attempts")
        b = _post(_client(user), f"{API}/{unit_course.pk + 1000}/attempts")
        assert (a.status_code, a.content) == (b.status_code, b.content) and a.status_code == 404
        assert _client(user).post(unit_course.url + "quiz/start/").status_code == 404
        assert _client(user).get(f"{API}/{unit_course.pk}/practice").status_code == 404
        assert _client(user).get(unit_course.url + "practice/").status_code == 404
    assert _post(_client(), f"{API}/{unit_course.pk}/attempts").status_code == 401
    assert _client().post(unit_course.url + "quiz/start/").status_code == 404
    assert not QuizAttempt.objects.exists()


def test_a_draft_or_missing_course_answers_like_a_missing_one(index_page, bank, member):
    """A course that is not live answers exactly as an id that names nothing: 404, the same body, on every route."""
    draft = _running(index_page, bank=bank, issue=9)
    draft.unpublish()
    missing = draft.pk + 1000
    client = _client(member)
    for path in ("{}", "{}/practice"):
        a, b = client.get(f"{API}/{path.format(draft.pk)}"), client.get(f"{API}/{path.format(missing)}")
        assert (a.status_code, a.content) == (b.status_code, b.content) and a.status_code == 404
    a, b = _post(client, f"{API}/{draft.pk}/attempts"), _post(client, f"{API}/{missing}/attempts")
    assert (a.status_code, a.content) == (b.status_code, b.content) and a.status_code == 404
    assert not QuizAttempt.objects.exists()


def test_a_password_restricted_course_is_hidden_from_the_api(index_page, bank, member):
    """A course behind a Wagtail password restriction answers 404 on the API's course, practice and start routes,
    as an id that names nothing does."""
    from wagtail.models import PageViewRestriction

    course = _running(index_page, bank=bank, issue=11)
    PageViewRestriction.objects.create(page=course, restriction_type=PageViewRestriction.PASSWORD, password="x")
    client = _client(member)
    assert client.get(f"{API}/{course.pk}").status_code == 404
    assert client.get(f"{API}/{course.pk}/practice").status_code == 404
    assert _post(client, f"{API}/{course.pk}/attempts").status_code == 404
    assert not QuizAttempt.objects.exists()


# --- Another member's attempt ------------------------------------------------------------------------------------


def test_another_members_attempt_answers_like_a_missing_one(index_page, bank, lessons, member, other_member):
    """Another member's attempt is indistinguishable from a missing one on every attempt route, page and API, and
    nothing of it changes."""
    course = _running(index_page, bank=bank)
    attempt = _start(_client(member), course)
    missing = attempt["id"] + 1000
    thief = _client(other_member)
    answer = {"answers": [{"ref": attempt["questions"][0]["ref"], "answer_id": str(uuid.uuid4()), "seq": 1,
                           "options": [o["id"] for o in attempt["questions"][0]["options"][:1]]}]}  # fmt: skip
    for method, path, body in (
        ("get", "attempts/{}", None),
        ("get", "attempts/{}/result", None),
        ("post", "attempts/{}/answers", answer),
        ("post", "attempts/{}/submit", None),
    ):
        call = (lambda url, b=body: thief.get(url)) if method == "get" else (lambda url, b=body: _post(thief, url, b))
        a, b = call(f"{API}/{path.format(attempt['id'])}"), call(f"{API}/{path.format(missing)}")
        assert a.status_code == b.status_code == 404, path
        assert a.json() == b.json(), path
    assert thief.get(course.url + f"quiz/result/{attempt['id']}/").status_code == 404
    row = QuizAttempt.objects.get(pk=attempt["id"])
    assert row.state == "in_progress" and not row.answers.exists()


# --- Answer keys before release ----------------------------------------------------------------------------------


def _no_key_in(text: str, bank) -> None:
    for question in Question.objects.filter(bank=bank, is_practice=False):
        assert question.explanation not in text, question.explanation


def test_the_quiz_page_and_attempt_api_hold_no_key(index_page, bank, member):
    """The quiz page's source and the attempt's JSON carry no answer key, explanation, question id or letter."""
    course = _running(index_page, bank=bank)
    client = _client(member)
    attempt = _start(client, course)
    page = client.get(course.url + "quiz/").content.decode()
    _no_key_in(page, bank)
    _no_key_in(json.dumps(attempt, ensure_ascii=False), bank)
    for question in attempt["questions"]:
        assert not {"answer", "explanation", "key", "correct", "id", "q"} & set(question)
        for option in question["options"]:
            assert set(option) == {"id", "letter", "text"}
    row = QuizAttempt.objects.get(pk=attempt["id"])
    assert not any(f'"{entry["q"]}"' in page for entry in row.questions if entry["q"] > 999)


def test_before_release_the_result_shows_neither_score_nor_key(index_page, bank, member):
    """Submitted before both releases: the API and the result page show no score, no right/wrong, no key."""
    later = timezone.now() + timedelta(days=3)
    course = _running(index_page, bank=bank, results_release_at=later, answers_release_at=later)
    client = _client(member)
    attempt = _start(client, course)
    _answer_all(client, attempt, right=True)
    saved = _post(client, f"{API}/attempts/{attempt['id']}/submit").json()
    result = client.get(f"{API}/attempts/{attempt['id']}/result").json()
    for body in (saved, result):
        assert body["score"] is None and body["percent"] is None and body["passed"] is None
        assert body["questions"] == [] and body["answers_released"] is False
    page = client.get(course.url + f"quiz/result/{attempt['id']}/").content.decode()
    _no_key_in(page, bank)
    assert "答对了" not in page and "正确答案" not in page


def test_before_results_release_nothing_depends_on_the_scores(index_page, bank, member, other_member):
    """Two members answer two attempts in opposite orders (right then wrong, wrong then right): before the results
    release their course responses name the same attempt number, or none."""
    later = timezone.now() + timedelta(days=3)
    course = _running(index_page, bank=bank, attempts_allowed=2, results_release_at=later, answers_release_at=later)
    shown = []
    for user, order in ((member, (True, False)), (other_member, (False, True))):
        client = _client(user)
        for right in order:
            attempt = _start(client, course)
            _answer_all(client, attempt, right=right)
            assert _post(client, f"{API}/attempts/{attempt['id']}/submit").status_code == 200
        best = client.get(f"{API}/{course.pk}").json()["quiz"]["best_attempt_id"]
        shown.append(QuizAttempt.objects.get(pk=best).number if best else None)
    assert shown[0] == shown[1]


def test_practice_check_tells_nothing_of_quiz_questions(index_page, bank, member):
    """practice/check answers a quiz-only question exactly as an id that names nothing: no key, no explanation."""
    _running(index_page, bank=bank)
    quiz_question = Question.objects.filter(bank=bank, is_practice=False, kind="single").first()
    client = _client(member)
    a = _post(client, f"{API}/practice/check", {"question_id": quiz_question.pk, "options": ["B"]})
    b = _post(client, f"{API}/practice/check", {"question_id": 10**9, "options": ["B"]})
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
    assert quiz_question.explanation not in a.content.decode()


def test_practice_check_is_scoped_to_courses_the_member_may_see(member, units):
    """Checking a practice question of a bank no course visible to the member uses answers like a missing id."""
    other = QuestionBank.objects.create(name="临沂练习题库", code="linyi-practice", owning_unit=units["linyi"])
    question = Question.objects.create(
        bank=other,
        key="p1",
        kind="truefalse",
        stem="临沂练习",
        answer="T",
        explanation="临沂内部解析",
        is_practice=True,
    )
    client = _client(member)
    a = _post(client, f"{API}/practice/check", {"question_id": question.pk, "options": ["T"]})
    b = _post(client, f"{API}/practice/check", {"question_id": 10**9, "options": ["T"]})
    assert a.status_code == b.status_code == 404
    assert "临沂内部解析" not in a.content.decode()


def test_practice_draws_only_practice_questions(index_page, bank, member):
    """The practice page and API never hand out a quiz question's stem (the quiz never draws practice ones)."""
    course = _running(index_page, bank=bank)
    client = _client(member)
    body = client.get(f"{API}/{course.pk}/practice?count=50").json()
    practice = set(Question.objects.filter(bank=bank, is_practice=True).values_list("pk", flat=True))
    assert body["questions"] and {q["id"] for q in body["questions"]} <= practice
    page = client.get(course.url + "practice/").content.decode()
    for question in Question.objects.filter(bank=bank, is_practice=False, kind="blank"):
        assert question.stem not in page
    assert _client().get(f"{API}/{course.pk}/practice").status_code == 401


# --- The question-bank admin ---------------------------------------------------------------------------------------


@pytest.fixture
def zouping_editor(units):
    return member_create(username="zp_editor", password="pw-123456", org_unit=units["zouping"], roles=("editor",))


@pytest.fixture
def linyi_bank(units):
    """Another city's bank, with a question whose stem and explanation are its own."""
    other = QuestionBank.objects.create(name="临沂机密题库", code="linyi-secret", owning_unit=units["linyi"])
    Question.objects.create(
        bank=other, key="l1", kind="truefalse", stem="临沂内部试题", answer="T", explanation="临沂解析"
    )
    return other


def test_an_editor_cannot_open_another_units_bank_or_questions(zouping_editor, linyi_bank):
    """Every object view of another unit's bank or question is a 404, and listings never show it."""
    client = _client(zouping_editor)
    question = linyi_bank.questions.get()
    for url in (
        f"/admin/courses_banks/edit/{linyi_bank.pk}/",
        f"/admin/courses_banks/delete/{linyi_bank.pk}/",
        f"/admin/courses_banks/history/{linyi_bank.pk}/",
        f"/admin/courses_banks/usage/{linyi_bank.pk}/",
        f"/admin/courses_questions/edit/{question.pk}/",
        f"/admin/courses_questions/delete/{question.pk}/",
        f"/admin/courses_questions/history/{question.pk}/",
        f"/admin/courses_questions/usage/{question.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/admin/courses_questions/edit/{question.pk}/", {"stem": "改了"}).status_code == 404
    listing = client.get("/admin/courses_questions/?q=临沂").content.decode()
    assert "临沂内部试题" not in listing
    question.refresh_from_db()
    assert question.stem == "临沂内部试题"


def test_the_question_listing_names_no_other_units_bank(zouping_editor, linyi_bank):
    """The question index, filters included, names only banks of the editor's own units."""
    page = _client(zouping_editor).get("/admin/courses_questions/").content.decode()
    assert "临沂机密题库" not in page


def test_an_editor_cannot_import_into_another_units_bank_or_unit(zouping_editor, linyi_bank, units):
    """The import screen refuses another unit's bank and another unit as a new bank's owner; nothing is written."""
    from tests.courses.test_admin import _xlsx
    from tests.courses.test_bank_import import GOOD, HEADER

    client = _client(zouping_editor)
    before = Question.objects.count()
    form = client.get("/admin/courses-bank-import/").content.decode()
    assert "临沂机密题库" not in form
    client.post("/admin/courses-bank-import/", {"bank": linyi_bank.pk, "file": _xlsx([HEADER, *GOOD])})
    client.post(
        "/admin/courses-bank-import/",
        {"new_name": "借壳", "new_code": "borrowed", "new_unit": units["linyi"].pk, "file": _xlsx([HEADER, *GOOD])},
    )
    assert Question.objects.count() == before
    assert not QuestionBank.objects.filter(code="borrowed").exists()
