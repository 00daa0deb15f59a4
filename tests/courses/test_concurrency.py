"""Races, with real threads and their own database connections: many starts at once (double presses, two devices,
a premiere minute), starts racing past the attempt limit, two devices autosaving and submitting at once.

Run on the embedded default (SQLite: its IMMEDIATE transactions serialise writers) and, under `make test`, on
PostgreSQL (the member's row lock and the unique constraints): the assertions are the same, only the mechanism
differs."""

import threading
from datetime import timedelta

import pytest
from django.db import connections

from cms.services import member_create
from courses import services
from courses.errors import QuizConflict
from courses.models import QuizAnswer, QuizAttempt

from .conftest import DURING
from .helpers import write_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
THREADS = 8


def _together(functions):
    """Run the functions in threads that start at the same moment; returns (results, errors)."""
    barrier = threading.Barrier(len(functions))
    results, errors = [None] * len(functions), []

    def run(index, function):
        try:
            barrier.wait(timeout=30)
            results[index] = function()
        except Exception as exc:  # noqa: BLE001 — reported by the callers' assertions
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, f)) for n, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def test_simultaneous_starts_by_one_member_give_one_attempt(member, course):
    """Eight presses at once (two phones, impatient fingers): one attempt, and every press gets it."""
    results, errors = _together(
        [lambda: services.quiz_attempt_start(member=member, course=course, now=DURING)] * THREADS
    )
    assert errors == []
    assert QuizAttempt.objects.filter(member=member, course=course).count() == 1
    assert len({attempt.pk for attempt, _created in results}) == 1
    assert sum(created for _attempt, created in results) == 1


def test_starts_racing_past_the_attempt_limit_end_at_the_limit(member, course):
    """With one of two attempts used, eight simultaneous starts make exactly one more; none makes a third."""
    first, _ = services.quiz_attempt_start(member=member, course=course, now=DURING)
    services.quiz_attempt_submit(member=member, attempt_id=first.pk, now=DURING)
    later = DURING + timedelta(minutes=5)
    results, errors = _together(
        [lambda: services.quiz_attempt_start(member=member, course=course, now=later)] * THREADS
    )
    assert errors == []
    assert list(QuizAttempt.objects.filter(member=member).order_by("number").values_list("number", flat=True)) == [1, 2]
    services.quiz_attempt_submit(member=member, attempt_id=results[0][0].pk, now=later)
    _results, errors = _together(
        [lambda: services.quiz_attempt_start(member=member, course=course, now=later)] * THREADS
    )
    assert len(errors) == THREADS and all(isinstance(error, QuizConflict) for error in errors)
    assert QuizAttempt.objects.filter(member=member).count() == 2


def test_a_premiere_minute_of_members_starting_together(course, units):
    """Sixteen members press start in the same instant: sixteen attempts, one each, none refused."""
    members = [member_create(username=f"m{n}", password="pw-123456", org_unit=units["daixi-1"]) for n in range(16)]
    results, errors = _together(
        [lambda m=m: services.quiz_attempt_start(member=m, course=course, now=DURING) for m in members]
    )
    assert errors == []
    assert QuizAttempt.objects.filter(course=course).count() == 16
    assert sorted(attempt.member_id for attempt, _ in results) == sorted(m.pk for m in members)


def test_two_devices_autosaving_at_once_lose_nothing(member, course):
    """Two devices save every question at once, one with older seqs: every question ends with exactly one answer,
    the newer device's."""
    attempt, _ = services.quiz_attempt_start(member=member, course=course, now=DURING)
    positions = range(len(attempt.questions))
    older = [write_for(attempt, n, correct=False, seq=1000 + n) for n in positions]
    newer = [write_for(attempt, n, correct=True, seq=2000 + n) for n in positions]

    def save(writes):
        return lambda: [
            services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=[w], now=DURING) for w in writes
        ]

    _results, errors = _together([save(older), save(newer), save(newer), save(older)])
    assert errors == []
    answers = {answer.position: answer for answer in QuizAnswer.objects.filter(attempt=attempt)}
    assert sorted(answers) == list(positions)
    assert all(answers[n].answer_id == newer[n].answer_id for n in positions)


def test_simultaneous_submits_close_once(member, course):
    attempt, _ = services.quiz_attempt_start(member=member, course=course, now=DURING)
    services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=[write_for(attempt, 0)], now=DURING)
    results, errors = _together(
        [lambda: services.quiz_attempt_submit(member=member, attempt_id=attempt.pk, now=DURING)] * THREADS
    )
    assert errors == []
    assert len({(a.state, a.score, a.submitted_at) for a in results}) == 1
    assert QuizAttempt.objects.get().state == QuizAttempt.State.SUBMITTED
