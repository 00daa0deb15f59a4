"""The quiz page in a real browser (Debian's Chromium driven by Playwright): a member starts the month's quiz, the
network drops mid-quiz, the answers made offline wait in the browser's queue, and on reconnect they are all saved;
the member then hands in and nothing is lost (courses/static/courses/js/quiz.mjs)."""

import os
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from courses import selectors
from courses.models import Question, QuizAnswer, QuizAttempt

from .conftest import make_course

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SAVED = re.compile(r"^已保存（")  # everything sent ("已保存在本机" is the offline message)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop here


@pytest.fixture
def phone(live_server, member):
    """A phone-sized Chromium signed in as the member (the session cookie of a signed-in test client)."""
    from playwright.sync_api import sync_playwright

    client = Client()
    client.force_login(member)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page, context
        context.close()
        browser.close()


def _answer(page, attempt, position):
    """Answer the question at ``position`` rightly, as a member taps it."""
    shown = selectors.attempt_questions(attempt=attempt)[position]
    question = Question.objects.get(pk=attempt.questions[position]["q"])
    fieldset = page.locator(f'fieldset[data-ref="{shown["ref"]}"]')
    if question.kind == "blank":
        box = fieldset.locator("input[type=text]").first
        box.fill("1921")
        box.press("Tab")  # leaving the box saves at once (typing alone saves after a short pause)
        return
    entry = attempt.questions[position]
    from courses.quiz.sealing import option_id

    for label in question.answer:
        value = option_id(attempt=attempt, question_id=question.pk, label=label)
        fieldset.locator(f'input[value="{value}"]').check()
    assert entry["o"]


def test_a_dropped_connection_loses_no_answer(live_server, phone, member, index_page, bank, lessons):
    from playwright.sync_api import expect

    course = make_course(
        index_page, bank=bank, premiere=timezone.now() - timedelta(hours=1), lessons=[(lessons[0], True)]
    )
    page, context = phone
    page.goto(live_server.url + course.url)
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url("**/quiz/")
    attempt = QuizAttempt.objects.get(member=member)
    status = page.locator("[data-save-status]")
    timer = page.locator("[data-timer]")
    expect(timer).to_contain_text(":")
    minutes = int(timer.inner_text().split(":")[0])
    assert 28 <= minutes <= 29  # the 30-minute limit, on the server's clock

    _answer(page, attempt, 0)
    expect(status).to_have_text(SAVED)
    assert QuizAnswer.objects.filter(attempt=attempt).count() == 1

    context.set_offline(True)
    for position in range(1, len(attempt.questions)):
        _answer(page, attempt, position)
    expect(status).to_contain_text("网络不通")
    queued = page.evaluate(f"Object.keys(JSON.parse(localStorage.getItem('lighthouse.quiz.{attempt.pk}'))).length")
    assert queued == len(attempt.questions) - 1
    assert QuizAnswer.objects.filter(attempt=attempt).count() == 1

    context.set_offline(False)
    expect(status).to_have_text(SAVED)
    assert QuizAnswer.objects.filter(attempt=attempt).count() == len(attempt.questions)
    assert page.evaluate(f"localStorage.getItem('lighthouse.quiz.{attempt.pk}')") == "{}"

    page.get_by_role("button", name="交卷").click()
    page.wait_for_url(f"**/quiz/result/{attempt.pk}/")
    attempt.refresh_from_db()
    assert (attempt.state, attempt.percent) == ("submitted", 100)
    assert "100" in page.locator(".score").inner_text()
    assert status.count() == 0  # the result page


def test_answers_queued_before_a_reload_come_back_and_are_sent(live_server, phone, member, index_page, bank, lessons):
    """Saving fails (the phone's data drops for the API only), the member reloads the page: the queued answers are
    shown again from the browser's storage and sent once saving works."""
    from playwright.sync_api import expect

    course = make_course(
        index_page, bank=bank, premiere=timezone.now() - timedelta(hours=1), lessons=[(lessons[0], True)]
    )
    page, _context = phone
    page.goto(live_server.url + course.url)
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url("**/quiz/")
    attempt = QuizAttempt.objects.get(member=member)
    page.route("**/answers", lambda route: route.abort("internetdisconnected"))
    for position in range(3):
        _answer(page, attempt, position)
    expect(page.locator("[data-save-status]")).to_contain_text("网络不通")
    page.reload()
    checked = page.locator("fieldset[data-ref] input:checked")
    texts = page.locator("fieldset[data-ref] input[type=text]")
    filled = sum(1 for n in range(texts.count()) if texts.nth(n).input_value())
    assert checked.count() + filled >= 3 and not QuizAnswer.objects.filter(attempt=attempt).exists()
    page.unroute("**/answers")
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-save-status]")).to_have_text(SAVED)
    assert QuizAnswer.objects.filter(attempt=attempt).count() == 3
