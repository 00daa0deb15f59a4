"""Helpers for the courses' tests: answering an attempt the way a client does (by refs and sealed option ids)."""

import uuid
from datetime import timedelta

from cms.models import Member
from cms.services import member_create
from courses import selectors, services
from courses.models import Question
from courses.quiz.sealing import option_id
from courses.services import AnswerWrite
from courses.sessions import codes

from .conftest import DURING


def write_for(attempt, position, *, correct=True, seq=1, answer_id=None):
    """A client's write for the question at ``position``: the right answer (or a wrong one)."""
    entry = attempt.questions[position]
    question = Question.objects.get(pk=entry["q"])
    ref = selectors.attempt_questions(attempt=attempt)[position]["ref"]
    answer_id = answer_id or uuid.uuid4()
    if question.kind == "blank":
        return AnswerWrite(ref=ref, answer_id=answer_id, seq=seq, blanks=["1921" if correct else "1949"])
    labels = list(question.answer) if correct else [label for label in entry["o"] if label not in question.answer][:1]
    ids = [option_id(attempt=attempt, question_id=question.pk, label=label) for label in labels]
    return AnswerWrite(ref=ref, answer_id=answer_id, seq=seq, options=ids)


def all_writes(attempt, *, correct=True, seq=1):
    return [write_for(attempt, position, correct=correct, seq=seq) for position in range(len(attempt.questions))]


def quiz_taken(member, course, *, correct: bool):
    """Start, answer every question (all right or all wrong) and submit, during the course's premiere hour."""
    attempt, _created = services.quiz_attempt_start(member=member, course=course, now=DURING)
    services.quiz_answers_save(
        member=member, attempt_id=attempt.pk, writes=all_writes(attempt, correct=correct), now=DURING
    )
    return services.quiz_attempt_submit(member=member, attempt_id=attempt.pk, now=DURING + timedelta(minutes=5))


def secretary_of(branch):
    """A new member of ``branch`` whose party role is branch secretary."""
    secretary = member_create(username=f"shuji-{branch.code}", password="pw-123456", real_name="书记", org_unit=branch)
    Member.objects.filter(pk=secretary.pk).update(party_role="secretary")
    secretary.refresh_from_db()
    return secretary


def checked_in_by_code(course, branch, member):
    """The branch's new secretary opens a TV session during the premiere hour; ``member`` scans its code."""
    session = services.session_open(
        by=secretary_of(branch), course=course, branch=branch, starts_at=DURING, place="会议室", mode="tv"
    )
    services.session_check_in(
        session=session, member=member, token=codes.code_for(session, now=DURING.timestamp()), now=DURING
    )
    return session
