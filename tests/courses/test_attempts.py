"""Quiz attempts through the services: idempotent start, the blueprint draw from a pool 3× larger, sealed ids that
refuse tampering, idempotent autosave (replays and stale writes), the server's deadline, idempotent submit,
grading and release (courses/services.py, courses/quiz/, courses/selectors.py)."""

import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from courses import selectors, services
from courses.errors import CourseNotFound, QuizConflict, QuizForbidden, QuizInvalid, QuizTimeUp
from courses.models import Question, QuizAnswer, QuizAttempt
from courses.quiz.drawing import Rule, draw
from courses.quiz.sealing import option_id

from .conftest import DURING, PREMIERE, make_course
from .helpers import all_writes, write_for

pytestmark = pytest.mark.django_db


def _start(member, course, now=DURING):
    return services.quiz_attempt_start(member=member, course=course, now=now)


def test_start_is_idempotent(member, course):
    """Pressing start twice (or from a second device) gives the same open attempt, not a second one."""
    first, created = _start(member, course)
    again, created_again = _start(member, course, now=DURING + timedelta(seconds=3))
    assert created and not created_again
    assert again.pk == first.pk
    assert QuizAttempt.objects.filter(member=member, course=course).count() == 1


def test_the_set_follows_the_blueprint_and_never_draws_practice_questions(member, course):
    """3 单选 + 2 多选 + 3 判断 + 2 填空 with their points; practice questions (public answers) are never drawn."""
    attempt, _ = _start(member, course)
    questions = Question.objects.in_bulk([entry["q"] for entry in attempt.questions])
    assert Counter(questions[e["q"]].kind for e in attempt.questions) == {
        "single": 3,
        "multiple": 2,
        "truefalse": 3,
        "blank": 2,
    }
    assert not any(question.is_practice for question in questions.values())
    assert attempt.max_score == 3 * 2 + 2 * 4 + 3 * 2 + 2 * 4
    assert len({entry["q"] for entry in attempt.questions}) == 10
    assert attempt.unit_id == member.org_unit_id and attempt.number == 1 and not attempt.late


def test_sets_and_option_orders_differ_between_attempts(bank):
    """Drawn from a pool 3× larger, with options shuffled per attempt: twenty draws are not all the same set, and
    choice options do not always come in the bank's order."""
    rules = [Rule("single", count=3, points=2)]
    draws = [draw(bank.pk, rules) for _ in range(20)]
    assert len({tuple(sorted(e["q"] for e in d)) for d in draws}) > 1
    orders = {tuple(entry["o"]) for d in draws for entry in d}
    assert len(orders) > 1 and all(sorted(order) == ["A", "B", "C", "D"] for order in orders)


def test_options_saying_all_of_the_above_keep_their_order(bank):
    """A question whose options say 以上 keeps its order (such an option must stay last)."""
    Question.objects.filter(bank=bank, kind="single").update(keep_option_order=True)
    for _ in range(10):
        assert all(entry["o"] == ["A", "B", "C", "D"] for entry in draw(bank.pk, [Rule("single", count=3)]))


def test_a_pool_smaller_than_three_times_the_draw_refuses_to_start(member, course, bank):
    """With fewer than 3 × 2 多选 questions left, start is refused with a Chinese message and nothing is written."""
    Question.objects.filter(bank=bank, kind="multiple").exclude(key__endswith="-0").update(is_active=False)
    from django.core.cache import cache

    cache.clear()
    with pytest.raises(QuizConflict, match="题量不足"):
        _start(member, course)
    assert not QuizAttempt.objects.exists()


def test_attempts_are_limited(member, course):
    """Two attempts allowed: a third start is refused (409) and no row is added."""
    for _ in range(2):
        attempt, _created = _start(member, course)
        services.quiz_attempt_submit(member=member, attempt_id=attempt.pk, now=DURING)
    with pytest.raises(QuizConflict, match="2 次答题机会"):
        _start(member, course)
    assert list(QuizAttempt.objects.filter(member=member).values_list("number", flat=True)) == [1, 2]


def test_the_quiz_opens_at_the_premiere_and_closes_at_the_makeup_deadline(member, course):
    with pytest.raises(QuizConflict, match="开放"):
        _start(member, course, now=PREMIERE - timedelta(minutes=1))
    with pytest.raises(QuizConflict, match="截止"):
        _start(member, course, now=course.makeup_deadline + timedelta(seconds=1))
    attempt, _ = _start(member, course, now=course.study_closes_at + timedelta(hours=1))
    assert attempt.late  # 补考: after the study window, before the make-up deadline
    assert not QuizAttempt.objects.exclude(pk=attempt.pk).exists()


def test_a_course_for_another_unit_is_refused(member, index_page, bank, units):
    """A course for 临沂市 refuses a member of 邹平市 (403), and the deadline is never past the make-up deadline."""
    course = make_course(index_page, bank=bank, issue=4, audience_unit=units["linyi"])
    with pytest.raises(QuizForbidden, match="临沂市"):
        _start(member, course)


def test_the_deadline_never_passes_the_makeup_deadline(member, course):
    late_start = course.makeup_deadline - timedelta(minutes=5)
    attempt, _ = _start(member, course, now=late_start)
    assert attempt.deadline == course.makeup_deadline


# --- Sealed ids ---------------------------------------------------------------------------------------------------


def test_the_attempt_as_shown_carries_no_key_and_no_question_ids(member, course):
    """What the page and the API show: refs and sealed option ids, never the answer, the explanation, a question
    id or an original option letter."""
    attempt, _ = _start(member, course)
    shown = selectors.attempt_questions(attempt=attempt)
    text = json.dumps(shown, ensure_ascii=False)
    assert "解析" not in text and "answer" not in text and "explanation" not in text
    for entry, question in zip(attempt.questions, shown, strict=True):
        assert f'"{entry["q"]}"' not in text.replace(question["ref"], "")
        assert all(len(option["id"]) == 12 for option in question["options"])
    assert [q["number"] for q in shown] == list(range(1, 11))


def test_tampered_refs_and_option_ids_are_refused_and_change_nothing(member, other_member, course):
    """A forged ref, a ref of another member's attempt, an option id of another question or invented ones: 422,
    nothing saved."""
    attempt, _ = _start(member, course)
    theirs, _ = _start(other_member, course)
    good = write_for(attempt, 0)
    forged = [
        good.__class__(ref="1.0000000000000000", answer_id=uuid.uuid4(), seq=1, options=good.options),
        good.__class__(ref=write_for(theirs, 0).ref, answer_id=uuid.uuid4(), seq=1, options=good.options),
        good.__class__(ref="99." + good.ref.split(".")[1], answer_id=uuid.uuid4(), seq=1, options=good.options),
        good.__class__(ref=good.ref, answer_id=uuid.uuid4(), seq=1, options=["abcdefabcdef"]),
        good.__class__(ref=good.ref, answer_id=uuid.uuid4(), seq=1, options=write_for(attempt, 1).options),
    ]
    for write in forged:
        with pytest.raises(QuizInvalid):
            services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=[write], now=DURING)
    assert not QuizAnswer.objects.exists()


def test_one_bad_item_refuses_the_whole_batch(member, course):
    attempt, _ = _start(member, course)
    writes = all_writes(attempt)[:3] + [write_for(attempt, 3).__class__(ref="4.bad", answer_id=uuid.uuid4(), seq=1)]
    with pytest.raises(QuizInvalid, match="题目标识无效"):
        services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=writes, now=DURING)
    assert not QuizAnswer.objects.exists()


def test_single_choice_takes_one_option(member, course):
    attempt, _ = _start(member, course)
    position = next(n for n, e in enumerate(attempt.questions) if Question.objects.get(pk=e["q"]).kind == "single")
    entry = attempt.questions[position]
    ids = [option_id(attempt=attempt, question_id=entry["q"], label=label) for label in "AB"]
    write = write_for(attempt, position).__class__(
        ref=write_for(attempt, position).ref, answer_id=uuid.uuid4(), seq=1, options=ids
    )
    with pytest.raises(QuizInvalid, match="只能选一个"):
        services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=[write], now=DURING)


def test_another_members_attempt_is_not_found(member, other_member, course):
    attempt, _ = _start(member, course)
    with pytest.raises(CourseNotFound):
        services.quiz_answers_save(
            member=other_member, attempt_id=attempt.pk, writes=[write_for(attempt, 0)], now=DURING
        )
    with pytest.raises(CourseNotFound):
        services.quiz_attempt_submit(member=other_member, attempt_id=attempt.pk, now=DURING)


# --- Autosave: replays and order ------------------------------------------------------------------------------------


def test_replays_and_stale_writes_change_nothing(member, course):
    """The same write twice is applied once; an older write (a queue flushed late) does not undo a newer one."""
    attempt, _ = _start(member, course)
    right = write_for(attempt, 0, correct=True, seq=2000)
    wrong = write_for(attempt, 0, correct=False, seq=1000)
    _a, first = services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=[right], now=DURING)
    _a, replay = services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=[right], now=DURING)
    _a, stale = services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=[wrong], now=DURING)
    assert [first[0]["applied"], replay[0]["applied"], stale[0]["applied"]] == [True, False, False]
    answer = QuizAnswer.objects.get(attempt=attempt, position=0)
    assert answer.answer_id == right.answer_id and answer.seq == 2000
    newer = write_for(attempt, 0, correct=False, seq=3000)
    services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=[newer], now=DURING)
    assert QuizAnswer.objects.get(attempt=attempt, position=0).answer_id == newer.answer_id
    assert QuizAnswer.objects.count() == 1


def test_a_queue_with_several_writes_for_one_question_keeps_the_latest(member, course):
    attempt, _ = _start(member, course)
    writes = [write_for(attempt, 0, correct=False, seq=1), write_for(attempt, 0, correct=True, seq=5)]
    _a, results = services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=writes, now=DURING)
    assert [r["applied"] for r in results] == [True, True]
    assert QuizAnswer.objects.get(attempt=attempt, position=0).answer_id == writes[1].answer_id


# --- Deadline, submit, grading ------------------------------------------------------------------------------------


def test_answers_after_the_deadline_are_refused_and_the_attempt_closes_with_what_it_had(member, course):
    attempt, _ = _start(member, course)
    services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=[write_for(attempt, 0)], now=DURING)
    within_grace = attempt.deadline + timedelta(seconds=5)
    services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=[write_for(attempt, 1)], now=within_grace)
    too_late = attempt.deadline + timedelta(seconds=11)
    with pytest.raises(QuizTimeUp, match="时间已到"):
        services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=[write_for(attempt, 2)], now=too_late)
    attempt.refresh_from_db()
    assert attempt.state == QuizAttempt.State.TIMED_OUT and attempt.submitted_at == attempt.deadline
    assert QuizAnswer.objects.filter(attempt=attempt).count() == 2
    assert attempt.score == sum(attempt.questions[n]["p"] for n in (0, 1))


def test_overdue_attempts_are_closed_by_the_sweep_and_on_next_access(member, other_member, course):
    mine, _ = _start(member, course)
    theirs, _ = _start(other_member, course)
    later = mine.deadline + timedelta(minutes=1)
    assert services.quiz_attempts_expire_due(now=mine.deadline) == 0
    services.quiz_attempt_close_if_overdue(attempt_id=theirs.pk, now=later)
    assert services.quiz_attempts_expire_due(now=later) == 1
    assert set(QuizAttempt.objects.values_list("state", flat=True)) == {QuizAttempt.State.TIMED_OUT}


def test_starting_schedules_one_expiry_sweep_per_minute(
    member, other_member, course, db_tasks, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        _start(member, course)
        _start(other_member, course, now=DURING + timedelta(seconds=1))
    assert DBTaskResult.objects.filter(task_path__endswith="quiz_attempts_expire_task").count() == 1


def test_submit_is_idempotent_and_grades(member, course):
    """All right: full marks and passed; a second submit returns the same result and answers cannot change."""
    attempt, _ = _start(member, course)
    services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=all_writes(attempt), now=DURING)
    first = services.quiz_attempt_submit(member=member, attempt_id=attempt.pk, now=DURING)
    second = services.quiz_attempt_submit(member=member, attempt_id=attempt.pk, now=DURING + timedelta(seconds=2))
    assert (first.state, first.score, first.percent, first.passed) == ("submitted", 28, 100, True)
    assert (second.submitted_at, second.score) == (first.submitted_at, 28)
    with pytest.raises(QuizConflict, match="已交卷"):
        services.quiz_answers_save(
            member=member, attempt_id=attempt.pk, writes=[write_for(attempt, 0, seq=9)], now=DURING
        )


def test_grading_is_all_or_nothing_per_question_and_folds_blanks(member, course):
    """多选 with one right option of two scores 0; a blank in full-width digits with spaces is still right."""
    attempt, _ = _start(member, course)
    writes = []
    for position, entry in enumerate(attempt.questions):
        question = Question.objects.get(pk=entry["q"])
        write = write_for(attempt, position)
        if question.kind == "multiple":
            write = write.__class__(ref=write.ref, answer_id=uuid.uuid4(), seq=1, options=write.options[:1])
        if question.kind == "blank":
            write = write.__class__(ref=write.ref, answer_id=uuid.uuid4(), seq=1, blanks=[" １９２１ "])
        writes.append(write)
    services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=writes, now=DURING)
    attempt = services.quiz_attempt_submit(member=member, attempt_id=attempt.pk, now=DURING)
    assert attempt.score == 28 - 2 * 4 and attempt.percent == 71 and attempt.passed


def test_results_and_key_are_hidden_until_their_release(member, course):
    """Score from results_release_at; key and explanations only from answers_release_at (default: make-up
    deadline)."""
    course.results_release_at = DURING + timedelta(days=1)
    course.save()
    attempt, _ = _start(member, course)
    services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=all_writes(attempt), now=DURING)
    attempt = services.quiz_attempt_submit(member=member, attempt_id=attempt.pk, now=DURING)
    hidden = selectors.attempt_result(attempt=attempt, now=DURING)
    assert not hidden.score_released and not hidden.answers_released and hidden.questions == []
    scored = selectors.attempt_result(attempt=attempt, now=DURING + timedelta(days=2))
    assert scored.score_released and not scored.answers_released and scored.questions == []
    released = selectors.attempt_result(attempt=attempt, now=course.makeup_deadline)
    assert released.answers_released and len(released.questions) == 10
    assert all(row["correct"] and row["explanation"] for row in released.questions)


def test_the_unit_at_the_time_stays_with_the_attempt(member, course, units):
    """A member who moves branch keeps the attempt's unit: reports for that month stay where they were."""
    attempt, _ = _start(member, course)
    member.org_unit = units["daixi-2"]
    member.save()
    attempt.refresh_from_db()
    assert attempt.unit == units["daixi-1"]


# --- Practice -------------------------------------------------------------------------------------------------------


def test_practice_checks_practice_questions_only(course, bank):
    practice = Question.objects.filter(bank=bank, is_practice=True).first()
    assert services.practice_check(question_id=practice.pk, options=["B"]) | {"question_id": 0} == {
        "question_id": 0,
        "correct": True,
        "key": "B",
        "explanation": practice.explanation,
    }
    assert not services.practice_check(question_id=practice.pk, options=["A"])["correct"]
    exam = Question.objects.filter(bank=bank, is_practice=False).first()
    with pytest.raises(CourseNotFound):
        services.practice_check(question_id=exam.pk, options=["B"])
    with pytest.raises(QuizInvalid):
        services.practice_check(question_id=practice.pk, options=["Z"])
    drawn = selectors.practice_questions(course=course, count=10)
    assert len(drawn) == 4 and all(q.is_practice for q in drawn)


def test_a_racing_insert_that_slips_past_the_lock_is_settled_by_the_constraint(member, course, monkeypatch):
    """Where no row lock holds (a database without them), the second of two racing starts does not see the first's
    open attempt and tries to insert its own: the partial unique constraint refuses it, and the service answers with
    the attempt that won instead of a 500 or a second attempt."""
    winner, _ = _start(member, course)
    seen = selectors.attempt_open_of
    calls = []

    def blind_once(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else seen(**kwargs)

    monkeypatch.setattr(services.selectors, "attempt_open_of", blind_once)
    attempt, created = _start(member, course, now=DURING + timedelta(seconds=1))
    assert (attempt.pk, created) == (winner.pk, False)
    assert QuizAttempt.objects.filter(member=member).count() == 1
