"""Member pages: the course index and page (countdown, lessons with progress, the quiz entry), the quiz page with
no answer in its source, the no-script form, the result page and practice (courses/site/views.py, templates)."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from courses.models import QuizAnswer, QuizAttempt

from .conftest import make_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_course(index_page, bank, lessons):
    premiere = timezone.now() - timedelta(hours=1)
    course = make_course(index_page, bank=bank, premiere=premiere, lessons=[(lessons[0], True), (lessons[1], False)])
    course.discussion_guide = "<p>结合本支部实际谈体会。</p>"
    course.save()
    return course


@pytest.fixture
def client(member):
    client = Client()
    client.force_login(member)
    return client


def test_before_the_premiere_a_countdown_and_no_lesson_links(client, index_page, bank, lessons):
    course = make_course(
        index_page, bank=bank, premiere=timezone.now() + timedelta(days=2), lessons=[(lessons[0], True)]
    )
    html = client.get(course.url).content.decode()
    assert "距首播还有" in html and "data-countdown" in html and "countdown.mjs" in html
    assert "首播后开放" in html and f"/library/item/{lessons[0].pk}/" not in html
    assert "测验将于" in html


def test_the_course_page_shows_lessons_progress_guide_and_the_quiz_entry(client, live_course, lessons):
    response = client.get(live_course.url)
    html = response.content.decode()
    assert response.status_code == 200 and "private" in response["Cache-Control"]
    assert f"/library/item/{lessons[0].pk}/" in html and "必学 0 / 1 课已完成" in html
    assert "学满 2 分钟即完成" in html  # the 1,200-character article
    assert "结合本支部实际谈体会" in html and "开始答题" in html and "先做练习题" in html
    assert "countdown.mjs" not in html


def test_anonymous_visitors_see_the_course_and_are_asked_to_sign_in(live_course):
    html = Client().get(live_course.url).content.decode()
    assert "登录后答题" in html and "登录后可记录学习进度" in html
    assert Client().get(live_course.url + "quiz/").status_code == 302


def test_start_twice_then_the_quiz_page_without_any_answer_in_its_source(client, live_course):
    first = client.post(live_course.url + "quiz/start/")
    second = client.post(live_course.url + "quiz/start/")
    assert first.status_code == second.status_code == 302 and first["Location"].endswith("/quiz/")
    assert QuizAttempt.objects.count() == 1
    response = client.get(live_course.url + "quiz/")
    html = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert html.count('<fieldset class="question"') == 10 and "quiz.mjs" in html
    assert "1921" not in html and "解析" not in html  # the blanks' key and the explanations
    attempt = QuizAttempt.objects.get()
    for entry in attempt.questions:
        assert f'value="{entry["o"][0]}"' not in html if entry["o"] else True  # options are sealed ids, not letters
    assert "继续答题" in client.get(live_course.url).content.decode()


def test_a_get_cannot_start_an_attempt(client, live_course):
    assert client.get(live_course.url + "quiz/start/").status_code == 405
    assert not QuizAttempt.objects.exists()


def test_the_no_script_form_saves_and_submits(client, live_course):
    """Without JavaScript the quiz form posts every answer; 保存答案 keeps the attempt open, 交卷 hands it in."""
    client.post(live_course.url + "quiz/start/")
    html = client.get(live_course.url + "quiz/").content.decode()
    fields = {}
    for name, value in re.findall(r'name="(q-[^"]+)" value="([^"]+)"', html):
        fields.setdefault(name, value)  # the first option of each choice question
    for name in set(re.findall(r'name="(b-[^"]+)"', html)):
        fields[name] = "1921"
    saved = client.post(live_course.url + "quiz/submit/", fields | {"action": "save"})
    assert saved["Location"].endswith("/quiz/") and QuizAnswer.objects.count() == 10
    assert QuizAttempt.objects.get().state == "in_progress"
    done = client.post(live_course.url + "quiz/submit/", fields | {"action": "submit"})
    attempt = QuizAttempt.objects.get()
    assert attempt.state == "submitted" and done["Location"].endswith(f"/quiz/result/{attempt.pk}/")
    result = client.get(done["Location"]).content.decode()
    assert f"<strong>{attempt.percent}</strong>" in result and "答案与解析将于" in result
    assert client.get(live_course.url + "quiz/")["Location"].endswith(f"/quiz/result/{attempt.pk}/")


def test_refusals_come_back_as_a_message_on_the_course_page(client, live_course):
    live_course.attempts_allowed = 1
    live_course.save()
    client.post(live_course.url + "quiz/start/")
    attempt = QuizAttempt.objects.get()
    client.post(live_course.url + "quiz/submit/", {"action": "submit"})
    refused = client.post(live_course.url + "quiz/start/", follow=True)
    assert "1 次答题机会" in refused.content.decode()
    assert QuizAttempt.objects.get() == attempt


def test_another_members_result_is_a_404(client, other_member, live_course):
    client.post(live_course.url + "quiz/start/")
    attempt = QuizAttempt.objects.get()
    theirs = Client()
    theirs.force_login(other_member)
    assert theirs.get(live_course.url + f"quiz/result/{attempt.pk}/").status_code == 404


def test_practice_page_and_its_no_script_check(client, live_course):
    html = client.get(live_course.url + "practice/").content.decode()
    assert html.count('<fieldset class="question"') == 4 and "practice.mjs" in html
    ids = re.findall(r'name="question" value="(\d+)"', html)
    checked = client.post(live_course.url + "practice/", {"question": ids, **{f"q-{pk}": "B" for pk in ids}})
    assert checked.content.decode().count("答对了") == 4


def test_the_index_lists_the_current_course_first(client, index_page, live_course, bank):
    make_course(index_page, bank=bank, issue=2, premiere=timezone.now() - timedelta(days=40))
    html = client.get(index_page.url).content.decode()
    assert "本期课程" in html and html.index("第 3 期") < html.index("往期课程") < html.index("第 2 期")
