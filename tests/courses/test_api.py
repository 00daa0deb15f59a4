"""The courses' JSON API at /api/v1/courses/: server time, the course with my progress, start / get / save / submit /
result, practice; session (with CSRF) and bearer tokens; refusals as JSON with a Chinese detail and no change
(courses/api/routes.py)."""

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cms.api_auth import api_token_for
from courses.models import Question, QuizAnswer, QuizAttempt

from .conftest import make_course

pytestmark = pytest.mark.django_db

API = "/api/v1/courses"


@pytest.fixture
def live_course(index_page, bank, lessons):
    """A course that premiered an hour ago by the real clock (the API reads the server's own time)."""
    premiere = timezone.now() - timedelta(hours=1)
    return make_course(index_page, bank=bank, premiere=premiere, lessons=[(lessons[0], True), (lessons[1], True)])


@pytest.fixture
def client(member):
    client = Client()
    client.force_login(member)
    return client


def _post(client, url, body=None, **headers):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


def _start(client, course):
    response = _post(client, f"{API}/{course.pk}/attempts")
    assert response.status_code == 200, response.content
    return response.json()


def _answer(question, *, seq=1, answer_id=None, wrong=False):
    body = {"ref": question["ref"], "answer_id": str(answer_id or uuid.uuid4()), "seq": seq}
    if question["kind"] == "blank":
        return body | {"blanks": ["1949" if wrong else "1921"]}
    return body | {"options": [question["options"][0]["id"]]}


def test_server_time_for_clock_sync():
    before = timezone.now().timestamp() * 1000
    body = Client().get(f"{API}/time").json()
    assert before - 1000 <= body["epoch_ms"] <= timezone.now().timestamp() * 1000 + 1000


def test_the_course_with_my_progress_and_quiz_status(client, live_course, lessons):
    body = client.get(f"{API}/{live_course.pk}").json()
    assert body["issue_number"] == 3 and body["quiz"]["phase"] == "open" and body["quiz"]["attempts_used"] == 0
    assert [lesson["item_id"] for lesson in body["lessons"]] == [lessons[0].pk, lessons[1].pk]
    assert body["lessons"][0]["url"].endswith(f"/library/item/{lessons[0].pk}/")
    assert body["progress"] == {"required_total": 2, "required_done": 0, "percent": 0, "complete": False}
    anonymous = Client().get(f"{API}/{live_course.pk}").json()
    assert anonymous["progress"] is None
    assert [lesson["readable"] for lesson in anonymous["lessons"]] == [True, False]  # the second is members-only


def test_before_the_premiere_lessons_have_no_links(client, index_page, lessons):
    course = make_course(index_page, issue=7, premiere=timezone.now() + timedelta(days=1), lessons=[(lessons[0], True)])
    body = client.get(f"{API}/{course.pk}").json()
    assert body["lessons"][0]["url"] == "" and body["quiz"]["phase"] == "none"


def test_start_save_submit_result(client, live_course):
    """The whole round: start (idempotent), save every answer, a replay is harmless, submit twice, read the result."""
    attempt = _start(client, live_course)
    assert attempt["created"] and attempt["state"] == "in_progress" and len(attempt["questions"]) == 10
    assert 0 < attempt["seconds_left"] <= 30 * 60
    again = _start(client, live_course)
    assert (again["id"], again["created"]) == (attempt["id"], False)
    answers = [_answer(question) for question in attempt["questions"]]
    saved = _post(client, f"{API}/attempts/{attempt['id']}/answers", {"answers": answers}).json()
    assert [r["applied"] for r in saved["results"]] == [True] * 10
    replay = _post(client, f"{API}/attempts/{attempt['id']}/answers", {"answers": answers[:1]}).json()
    assert replay["results"][0]["applied"] is False
    shown = client.get(f"{API}/attempts/{attempt['id']}").json()
    assert all(question["saved"] for question in shown["questions"])
    first = _post(client, f"{API}/attempts/{attempt['id']}/submit").json()
    second = _post(client, f"{API}/attempts/{attempt['id']}/submit").json()
    assert first == second and first["state"] == "submitted" and first["score_released"]
    assert first["questions"] == []  # the key and explanations wait for the make-up deadline
    result = client.get(f"{API}/attempts/{attempt['id']}/result").json()
    assert result["score"] == first["score"] and result["answers_released"] is False
    assert QuizAnswer.objects.count() == 10


def test_no_answer_key_reaches_the_client_before_release(client, live_course):
    """Neither the attempt nor the save answer carries a key, an explanation or a question id."""
    attempt = _start(client, live_course)
    text = json.dumps(attempt, ensure_ascii=False)
    assert "1921" not in text and "解析" not in text and '"answer"' not in text and '"explanation"' not in text
    questions = attempt["questions"]
    keys = {"ref", "number", "kind", "kind_display", "stem", "points", "options", "blank_count", "saved"}
    assert all(set(question) == keys for question in questions)
    assert all(set(option) == {"id", "letter", "text"} for question in questions for option in question["options"])


def test_tampered_input_is_refused_in_chinese_and_changes_nothing(client, live_course):
    attempt = _start(client, live_course)
    url = f"{API}/attempts/{attempt['id']}/answers"
    question = attempt["questions"][0]
    cases = [
        ({"answers": [_answer(question) | {"ref": "1.ffffffffffffffff"}]}, "题目标识无效"),
        ({"answers": [_answer(question) | {"options": ["0123456789ab"], "blanks": None}]}, "选项无效"),
        ({"answers": [_answer(question) | {"seq": "1"}]}, "seq"),
        ({"answers": [_answer(question) | {"answer_id": "not-a-uuid"}]}, "answer_id"),
        ({"answers": [_answer(question)] * 51}, "answers"),
        ({"answers": []}, "answers"),
    ]
    for body, words in cases:
        response = _post(client, url, body)
        assert response.status_code == 422, (body, response.content)
        assert words in response.json()["detail"]
    assert not QuizAnswer.objects.exists()


def test_another_members_attempt_is_a_404(client, other_member, live_course):
    attempt = _start(client, live_course)
    theirs = Client()
    theirs.force_login(other_member)
    assert theirs.get(f"{API}/attempts/{attempt['id']}").status_code == 404
    response = _post(theirs, f"{API}/attempts/{attempt['id']}/answers", {"answers": [_answer(attempt["questions"][0])]})
    assert response.status_code == 404 and response.json()["detail"] == "未找到这次答题"


def test_answers_after_the_deadline_are_409_and_the_attempt_closes(client, live_course):
    attempt = _start(client, live_course)
    QuizAttempt.objects.filter(pk=attempt["id"]).update(deadline=timezone.now() - timedelta(minutes=1))
    response = _post(client, f"{API}/attempts/{attempt['id']}/answers", {"answers": [_answer(attempt["questions"][0])]})
    assert response.status_code == 409 and "时间已到" in response.json()["detail"]
    assert QuizAttempt.objects.get().state == "timed_out" and not QuizAnswer.objects.exists()
    assert client.get(f"{API}/attempts/{attempt['id']}").json()["questions"] == []


def test_an_expired_attempt_is_closed_when_it_is_next_read(client, live_course):
    attempt = _start(client, live_course)
    QuizAttempt.objects.filter(pk=attempt["id"]).update(deadline=timezone.now() - timedelta(minutes=1))
    body = client.get(f"{API}/attempts/{attempt['id']}").json()
    assert body["state"] == "timed_out" and body["seconds_left"] == 0


def test_refusals_by_state(client, live_course, index_page, bank, units):
    live_course.attempts_allowed = 1
    live_course.save()
    attempt = _start(client, live_course)
    _post(client, f"{API}/attempts/{attempt['id']}/submit")
    used = _post(client, f"{API}/{live_course.pk}/attempts")
    assert used.status_code == 409 and "1 次答题机会" in used.json()["detail"]
    late = _post(client, f"{API}/attempts/{attempt['id']}/answers", {"answers": [_answer(attempt["questions"][0])]})
    assert late.status_code == 409 and "已交卷" in late.json()["detail"]
    other = make_course(index_page, bank=bank, issue=8, premiere=timezone.now(), audience_unit=units["linyi"])
    # A course for another unit does not exist for the caller: the same 404 as an id that names nothing.
    forbidden, missing = _post(client, f"{API}/{other.pk}/attempts"), _post(client, f"{API}/999999/attempts")
    assert forbidden.status_code == missing.status_code == 404 and forbidden.json() == missing.json()


def test_auth_bearer_tokens_and_csrf(member, live_course):
    assert _post(Client(), f"{API}/{live_course.pk}/attempts").status_code == 401
    app = Client(enforce_csrf_checks=True)
    response = _post(app, f"{API}/{live_course.pk}/attempts", HTTP_AUTHORIZATION=f"Bearer {api_token_for(member)}")
    assert response.status_code == 200
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    refused = _post(browser, f"{API}/{live_course.pk}/attempts")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]


def test_practice_round(client, live_course):
    body = client.get(f"{API}/{live_course.pk}/practice?count=3").json()
    assert len(body["questions"]) == 3 and body["topics"] == ["党史"]
    question = body["questions"][0]
    checked = _post(client, f"{API}/practice/check", {"question_id": question["id"], "options": ["B"]}).json()
    assert checked["correct"] is True and checked["key"] == "B" and checked["explanation"]
    exam = Question.objects.filter(is_practice=False).first()
    assert _post(client, f"{API}/practice/check", {"question_id": exam.pk, "options": ["B"]}).status_code == 404


def test_openapi_describes_the_courses(client):
    schema = Client().get("/api/v1/openapi.json").json()
    paths = {path for path in schema["paths"] if path.startswith(API)}
    assert {
        f"{API}/time",
        f"{API}/{{course_id}}",
        f"{API}/{{course_id}}/attempts",
        f"{API}/attempts/{{attempt_id}}",
        f"{API}/attempts/{{attempt_id}}/answers",
        f"{API}/attempts/{{attempt_id}}/submit",
        f"{API}/attempts/{{attempt_id}}/result",
        f"{API}/{{course_id}}/practice",
        f"{API}/practice/check",
    } <= paths
