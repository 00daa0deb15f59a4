"""After the quiz: each question's difficulty and discrimination with flags for editors (题目分析), and integrity
hints for the branch secretary (需核实) that change no score: impossible speeds and identical answer sheets."""

import uuid
from datetime import timedelta

import pytest

from cms.services import member_create
from courses.models import Question, QuizAnswer, QuizAttempt
from courses.reports.analysis import integrity_flags, question_analysis

from .conftest import DURING

pytestmark = pytest.mark.django_db


def _attempt(course, member, *, number=1, percent, answers, seconds=600):
    """A closed attempt over ``answers`` [(question, correct, response)] with the given percentage."""
    attempt = QuizAttempt.objects.create(
        course=course, member=member, number=number, state="submitted", started_at=DURING,
        deadline=DURING + timedelta(hours=1), submitted_at=DURING + timedelta(seconds=seconds),
        questions=[{"q": q.pk, "o": [], "p": 10} for q, _c, _r in answers], nonce="n", percent=percent,
        score=percent, max_score=100, passed=percent >= 60,
    )  # fmt: skip
    for position, (question, correct, response) in enumerate(answers):
        QuizAnswer.objects.create(
            attempt=attempt, position=position, question=question, response=response, answer_id=uuid.uuid4(),
            seq=1, saved_at=DURING, correct=correct, points=10 if correct else 0,
        )  # fmt: skip
    return attempt


def test_questions_are_measured_and_the_odd_ones_flagged(course, bank, units):
    """40 attempts: question A is right for everyone (too easy), question B only for the weakest half (reversed:
    likely a wrong key), question C for the strongest half (discriminates well, no flag)."""
    easy, reversed_key, good = Question.objects.filter(bank=bank, kind="single")[:3]
    for n in range(40):
        member = member_create(username=f"s{n}", password="pw-123456", org_unit=units["daixi-1"])
        strong = n >= 20
        _attempt(
            course, member, percent=40 + n,
            answers=[(easy, True, {}), (reversed_key, not strong, {}), (good, strong, {})],
        )  # fmt: skip
    stats = {stat.question.pk: stat for stat in question_analysis(course=course)}
    assert stats[easy.pk].difficulty == 1.0 and any("太容易" in f for f in stats[easy.pk].flags)
    assert stats[reversed_key.pk].discrimination < 0 and any("反向区分" in f for f in stats[reversed_key.pk].flags)
    assert stats[good.pk].discrimination > 0.8 and stats[good.pk].flags == []
    assert question_analysis(course=course)[0].flags  # flagged questions come first


def test_too_few_answers_flag_nothing(course, bank, member):
    """Under 30 answers a question is measured but not flagged."""
    question = Question.objects.filter(bank=bank, kind="single").first()
    _attempt(course, member, percent=100, answers=[(question, True, {})])
    assert question_analysis(course=course)[0].flags == []


def test_impossible_speed_and_identical_sheets_are_hints(course, bank, member, other_member, units):
    """Handed in 5 s after starting with every answer given: flagged; two members of the branch with the same
    answer to all five questions: both flagged; scores stay as they were."""
    questions = list(Question.objects.filter(bank=bank, kind="single")[:5])
    sheet = [(q, True, {"options": ["B"]}) for q in questions]
    fast = _attempt(course, member, percent=100, answers=sheet, seconds=5)
    twin = member_create(username="twin", password="pw-123456", org_unit=units["daixi-1"])
    _attempt(course, twin, percent=100, answers=sheet)
    other = [(q, False, {"options": ["A"]}) for q in questions]
    _attempt(course, other_member, percent=0, answers=other)
    flags = integrity_flags(course=course, member_ids=[member.pk, twin.pk, other_member.pk])
    assert any("用时 5 秒" in f for f in flags[member.pk])
    assert any("完全相同" in f for f in flags[member.pk]) and any("完全相同" in f for f in flags[twin.pk])
    assert other_member.pk not in flags
    fast.refresh_from_db()
    assert fast.percent == 100 and fast.passed


def test_the_analysis_screen_is_for_the_courses_editors(client, course, bank, member, django_user_model):
    """A superuser opens 题目分析 (in Chinese); a plain member is refused."""
    question = Question.objects.filter(bank=bank, kind="single").first()
    _attempt(course, member, percent=100, answers=[(question, True, {})])
    admin = django_user_model.objects.create_superuser(username="root", password="x" * 16)
    client.force_login(admin)
    page = client.get(f"/admin/courses-analysis/{course.pk}/").content.decode()
    assert "题目分析" in page and "区分度" in page and question.stem[:10] in page
    client.force_login(member)
    assert client.get(f"/admin/courses-analysis/{course.pk}/").status_code in (302, 403)
