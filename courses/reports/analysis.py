"""After a quiz: how each question worked, and which attempts a secretary may want to look at — never a penalty.

- Question analysis (classical test theory): difficulty as the share of correct answers (p), discrimination as
  the point-biserial correlation between answering it right and the attempt's percentage (r). With at least
  ``MIN_ANSWERS`` answers a question is flagged to editors when it is nearly always missed (p < 0.2), nearly
  always right (p > 0.95), barely separates strong from weak (r < 0.2), or separates the wrong way (r < 0: often
  a wrong key).
- Integrity flags: an attempt handed in faster than ``SECONDS_PER_QUESTION`` a question with most questions
  answered, and attempts in the same branch whose every answer equals another's (at least five answers). They are
  shown to the branch's secretary as 需核实 (to ask about), and change no score."""

import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils.translation import gettext as _

from ..models import Question, QuizAnswer, QuizAttempt

MIN_ANSWERS = 30
SECONDS_PER_QUESTION = 4
SAME_ANSWERS_MIN = 5
CLOSED = (QuizAttempt.State.SUBMITTED, QuizAttempt.State.TIMED_OUT)


@dataclass
class QuestionStat:
    question: Question
    answers: int = 0
    correct: int = 0
    scores_right: list[int] = field(default_factory=list)
    scores_wrong: list[int] = field(default_factory=list)

    @property
    def difficulty(self) -> float | None:
        return round(self.correct / self.answers, 3) if self.answers else None

    @property
    def discrimination(self) -> float | None:
        scores = self.scores_right + self.scores_wrong
        if not self.scores_right or not self.scores_wrong:
            return None
        mean = sum(scores) / len(scores)
        spread = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
        if not spread:
            return None
        right, wrong = sum(self.scores_right) / len(self.scores_right), sum(self.scores_wrong) / len(self.scores_wrong)
        p = len(self.scores_right) / len(scores)
        return round((right - wrong) / spread * math.sqrt(p * (1 - p)), 3)

    @property
    def flags(self) -> list[str]:
        if self.answers < MIN_ANSWERS:
            return []
        flags, p, r = [], self.difficulty, self.discrimination
        if p < 0.2:
            flags.append(_("太难：答对不到两成"))
        if p > 0.95:
            flags.append(_("太容易：几乎都答对"))
        if r is not None and r < 0:
            flags.append(_("反向区分：成绩好的反而答错，请核对答案"))
        elif r is not None and r < 0.2:
            flags.append(_("区分度低"))
        return flags


def question_analysis(*, course) -> list[QuestionStat]:
    """Every question the course's closed attempts showed, flagged ones first, then by difficulty."""
    attempts = dict(QuizAttempt.objects.filter(course=course, state__in=CLOSED).values_list("pk", "percent").iterator())
    shown = defaultdict(set)  # question id → attempts that drew it
    for pk, questions in QuizAttempt.objects.filter(pk__in=list(attempts)).values_list("pk", "questions").iterator():
        for entry in questions:
            shown[entry["q"]].add(pk)
    right = defaultdict(set)
    for attempt_id, question_id in (
        QuizAnswer.objects.filter(attempt_id__in=list(attempts), correct=True).values_list("attempt_id", "question_id")
    ).iterator():
        right[question_id].add(attempt_id)
    stats = []
    for question in Question.objects.filter(pk__in=list(shown)).order_by("pk"):
        stat = QuestionStat(question=question, answers=len(shown[question.pk]), correct=len(right[question.pk]))
        for attempt_id in shown[question.pk]:
            score = attempts[attempt_id] or 0
            (stat.scores_right if attempt_id in right[question.pk] else stat.scores_wrong).append(score)
        stats.append(stat)
    return sorted(stats, key=lambda s: (not s.flags, s.difficulty if s.difficulty is not None else 1))


def _signature(responses: list[tuple[int, dict]]) -> str:
    canonical = sorted((question_id, json.dumps(response, sort_keys=True)) for question_id, response in responses)
    return hashlib.sha256(json.dumps(canonical).encode()).hexdigest()


def integrity_flags(*, course, member_ids) -> dict[int, list[str]]:
    """{member id: reasons to ask about their attempts} for the given members of one course."""
    flags: dict[int, list[str]] = defaultdict(list)
    mine = QuizAttempt.objects.filter(course=course, member_id__in=member_ids, state__in=CLOSED)
    fields = ("pk", "member_id", "number", "started_at", "submitted_at", "questions")
    for attempt in mine.only(*fields).annotate(answered=Count("answers")):
        answered = attempt.answered
        seconds = (attempt.submitted_at - attempt.started_at).total_seconds()
        if answered * 2 >= len(attempt.questions) and seconds < SECONDS_PER_QUESTION * len(attempt.questions):
            flags[attempt.member_id].append(
                _("第 %(n)d 次答题用时 %(s)d 秒，短得不合常理") % {"n": attempt.number, "s": seconds}
            )
    answers = defaultdict(list)
    all_closed = mine  # compared within the branch: what its secretary can ask about, and cheap at any scale
    for attempt_id, question_id, response in QuizAnswer.objects.filter(attempt__in=all_closed).values_list(
        "attempt_id", "question_id", "response"
    ):
        answers[attempt_id].append((question_id, response))
    owners = dict(all_closed.values_list("pk", "member_id"))
    by_signature = defaultdict(set)
    for attempt_id, responses in answers.items():
        if len(responses) >= SAME_ANSWERS_MIN:
            by_signature[_signature(responses)].add(owners[attempt_id])
    for members in by_signature.values():
        if len(members) > 1:
            for member_id in members & set(member_ids):
                flags[member_id].append(_("有一份答卷与其他 %(n)d 人的答案完全相同") % {"n": len(members) - 1})
    return dict(flags)
