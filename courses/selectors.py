"""Reads for the courses: which courses a member sees, their lessons and progress, the quiz's state, an attempt as
a member may see it. Progress has one definition (``required_lessons_done``) that the member's page and every
report call, so the two can never disagree (docs/courses.md)."""

import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from modelcluster.queryset import FakeQuerySet
from wagtail.models import Page, PageViewRestriction

from cms.selectors import unit_and_ancestors, unit_path
from library.models import LibraryItem
from library.selectors import item_study_lengths, items_visible_to, study_seconds_by_item

from .models import CourseLesson, CoursePage, LessonCompletion, Question, QuestionKind, QuizAttempt
from .quiz.grading import blank_count, is_correct, key_display
from .quiz.sealing import option_id, question_ref

# The completion rule (docs/courses.md, Progress): shares of honest study time per kind of lesson.
MEDIA_SHARE = 0.6  # most of a video or audio; at 1.5× speed all of it takes 67 % of its length
MEDIA_UNKNOWN_SECONDS = 300  # a media item whose duration is not known yet (still transcoding)
READING_CHARS_PER_MINUTE = 300  # older members read slowly; half of the estimated time is asked
READING_SHARE = 0.5
READING_BOUNDS = {"article": (60, 1200)}  # seconds: at least a minute, at most twenty
DOCUMENT_BOUNDS = (300, 1800)  # e-books, periodicals, newspapers: five to thirty minutes
MEDIA_KINDS = (LibraryItem.Kind.VIDEO, LibraryItem.Kind.AUDIO)
LESSON_CACHE_SECONDS = 60
LETTERS = "ABCDEF"


ID_MAX = 2**63 - 1  # what a database integer key can hold; an id beyond it names nothing (not an error)


def _is_id(value) -> bool:
    return isinstance(value, int) and 1 <= value <= ID_MAX


def grace_seconds() -> int:
    """Network latency the deadline forgives (answers sent just before it arrive just after)."""
    return int(getattr(settings, "COURSES_QUIZ_GRACE_SECONDS", 10))


# --- Courses ----------------------------------------------------------------------------------------------------


def courses_live() -> QuerySet[CoursePage]:
    return CoursePage.objects.live().order_by("-premiere_at", "-pk")


def course_live_get(course_id: int) -> CoursePage | None:
    if not _is_id(course_id):
        return None
    return courses_live().select_related("question_bank", "audience_unit").filter(pk=course_id).first()


def course_current(*, now: datetime | None = None, member=None, without_prompt: bool = False) -> CoursePage | None:
    """The course members should see first: the latest one in its window, else the next to premiere, else the last
    (among those ``member`` may see, when given; ``without_prompt``: and may open with no password or sign-in asked,
    for a TV or a screen that cannot ask)."""
    now = now or timezone.now()
    live = courses_live() if member is None else courses_visible_to(member)
    if without_prompt:
        live = live.exclude(_hidden_by_restriction(signed_in=getattr(member, "is_authenticated", False)))
    running = live.filter(premiere_at__lte=now, makeup_deadline__gte=now).first()
    upcoming = live.filter(premiere_at__gt=now).order_by("premiere_at", "pk").first()
    return running or upcoming or live.first()


class AudienceMember:
    """Who every member of a course's audience is at least: a signed-in member of the audience unit (or of no unit,
    for a course for the whole province). What such a member may open, every member of the audience may."""

    is_authenticated = True
    is_superuser = False

    def __init__(self, unit):
        self.org_unit_id = getattr(unit, "pk", unit)


def in_audience(*, member, course: CoursePage) -> bool:
    """Whether the course is meant for this member: everyone, or members of its unit and the units below it."""
    if course.audience_unit_id is None:
        return True
    if getattr(member, "is_superuser", False):
        return True
    own = unit_path(getattr(member, "org_unit_id", None))
    audience = unit_path(course.audience_unit_id)
    return bool(own and audience and own.startswith(audience))


def course_open_to(*, member, course: CoursePage) -> bool:
    """Whether the member may see the course at all. A course for one unit (``audience_unit``) is unit-only, as
    search decides: to anyone outside that unit's subtree, anonymous visitors included, it does not exist (404)."""
    if course.audience_unit_id is None:
        return True
    return getattr(member, "is_authenticated", False) and in_audience(member=member, course=course)


def courses_visible_to(member) -> QuerySet[CoursePage]:
    """Live courses the member may see (``course_open_to`` as one condition)."""
    if getattr(member, "is_superuser", False):
        return courses_live()
    condition = Q(audience_unit__isnull=True)
    if getattr(member, "is_authenticated", False) and getattr(member, "org_unit_id", None):
        condition |= Q(audience_unit__in=unit_and_ancestors(member).values("pk"))
    return courses_live().filter(condition)


def course_public(course: CoursePage) -> bool:
    """Whether anyone at all may open the course, signed in or not: live, for the whole province (no audience unit:
    ``course_open_to`` an anonymous visitor) and under no view restriction of Wagtail's (login, password or groups)
    on the page or any page above it. What a public place (a lobby screen) may show of it."""
    if not course.live or not course_open_to(member=AnonymousUser(), course=course):
        return False
    paths = [course.path[:end] for end in range(Page.steplen, len(course.path) + 1, Page.steplen)]
    return not PageViewRestriction.objects.filter(page__path__in=paths).exists()


def _hidden_by_restriction(*, signed_in: bool = True) -> Q:
    """Pages under a password or group view restriction (a login one lets every member in, and only members)."""
    kinds = [PageViewRestriction.PASSWORD, PageViewRestriction.GROUPS]
    if not signed_in:
        kinds.append(PageViewRestriction.LOGIN)
    paths = PageViewRestriction.objects.filter(restriction_type__in=kinds).values_list("page__path", flat=True)
    condition = Q(pk__in=[])
    for page_path in paths:
        condition |= Q(path__startswith=page_path)
    return condition


# --- Lessons and progress ---------------------------------------------------------------------------------------


def course_lessons(course: CoursePage) -> list[CourseLesson]:
    """The lessons in order. An editor's preview holds them in memory (modelcluster), not yet in the database."""
    rows = course.lessons.all()
    if isinstance(rows, FakeQuerySet):
        return sorted(rows, key=lambda lesson: lesson.sort_order or 0)
    return list(
        CourseLesson.objects.filter(page=course).select_related("item", "item__cover").order_by("sort_order", "pk")
    )


def required_seconds(*, length: dict, study_minutes: int | None) -> int:
    """How much honest study time finishes one lesson (docs/courses.md, Progress)."""
    if study_minutes:
        return study_minutes * 60
    if length["kind"] in MEDIA_KINDS:
        duration = length["duration"]
        return math.ceil(duration * MEDIA_SHARE) if duration else MEDIA_UNKNOWN_SECONDS
    low, high = READING_BOUNDS.get(length["kind"], DOCUMENT_BOUNDS)
    reading = length["text_chars"] / READING_CHARS_PER_MINUTE * 60 * READING_SHARE
    return int(min(max(reading, low), high))


def lessons_required_seconds(lessons: list[CourseLesson]) -> dict[int, int]:
    """{item id: seconds needed} for the lessons of a course, in one query."""
    lengths = item_study_lengths([lesson.item_id for lesson in lessons])
    return {
        lesson.item_id: required_seconds(length=lengths[lesson.item_id], study_minutes=lesson.study_minutes)
        for lesson in lessons
        if lesson.item_id in lengths
    }


def study_window_days(course: CoursePage):
    """The organisation's local days whose study counts for the course: premiere to make-up deadline."""
    zone = timezone.get_default_timezone()
    return timezone.localtime(course.premiere_at, zone).date(), timezone.localtime(course.makeup_deadline, zone).date()


@dataclass(frozen=True)
class LessonEntry:
    """A live course that has an item as a lesson, as a credited beat needs it (cached per item)."""

    course_id: int
    premiere_at: datetime
    study_closes_at: datetime
    makeup_deadline: datetime
    since: object
    until: object
    required_seconds: int


def lesson_entries_for_item(item_id: int) -> list[LessonEntry]:
    """Every live course whose lessons include the item: read on each credited heartbeat, so cached a minute
    (a course's publish clears it, services.course_lessons_changed)."""
    key = f"courses:lessons-of:{item_id}"
    entries = cache.get(key)
    if entries is None:
        entries = []
        lessons = CourseLesson.objects.filter(item_id=item_id, page__live=True).select_related("page")
        for lesson in lessons:
            course = lesson.page
            seconds = lessons_required_seconds([lesson]).get(item_id)
            if seconds is None:
                continue
            since, until = study_window_days(course)
            entries.append(
                LessonEntry(
                    course.pk, course.premiere_at, course.study_closes_at, course.makeup_deadline, since, until, seconds
                )
            )
        cache.set(key, entries, LESSON_CACHE_SECONDS)
    return entries


def counted_items(course: CoursePage) -> QuerySet[LibraryItem]:
    """Items whose lessons count towards progress: those every member of the audience may open now (what the
    editor's form demands at publishing). A lesson withdrawn from the library, or closed to part of the audience
    after publishing, stops counting for everyone (docs/courses.md, Progress)."""
    return items_visible_to(AudienceMember(course.audience_unit_id))


def required_lessons_done(*, course: CoursePage, member_ids=None) -> dict[int, int]:
    """{member id: distinct required lessons done} for the course, from LessonCompletion rows in one GROUP BY.
    The one definition of progress: the member's page asks it for one member, reports for many (``member_ids``
    None: everyone who finished at least one). Only lessons that count (``counted_items``) are counted."""
    required = CourseLesson.objects.filter(page=course, required=True, item__in=counted_items(course))
    required_items = required.values("item_id")
    rows = LessonCompletion.objects.filter(course=course, item_id__in=required_items)
    if member_ids is not None:
        rows = rows.filter(member_id__in=member_ids)
    counts = rows.values("member_id").annotate(done=Count("item_id", distinct=True))
    return {row["member_id"]: row["done"] for row in counts}


@dataclass
class LessonProgress:
    lesson: CourseLesson
    readable: bool
    required_seconds: int
    studied_seconds: int
    done: bool
    late: bool = False

    @property
    def studied_minutes(self) -> int:
        return self.studied_seconds // 60

    @property
    def required_minutes(self) -> int:
        return math.ceil(self.required_seconds / 60)

    @property
    def percent(self) -> int:
        if self.done:
            return 100
        return min(99, self.studied_seconds * 100 // max(1, self.required_seconds))


@dataclass
class CourseProgress:
    lessons: list[LessonProgress] = field(default_factory=list)
    required_total: int = 0
    required_done: int = 0

    @property
    def complete(self) -> bool:
        return self.required_total > 0 and self.required_done >= self.required_total

    @property
    def percent(self) -> int:
        return self.required_done * 100 // self.required_total if self.required_total else 0


def _open_ids(user, item_ids) -> set[int]:
    return set(items_visible_to(user).filter(pk__in=item_ids).values_list("pk", flat=True))


def course_progress(*, member, course: CoursePage, lessons: list[CourseLesson] | None = None) -> CourseProgress:
    """The member's progress in the course: each lesson's honest study time against what it needs, and the count of
    required lessons done (``required_lessons_done``).

    Only lessons the viewer may open are listed, plus, for an anonymous visitor, those any member may open (title
    only, 登录后学习). A lesson open to one unit is never listed to anyone outside it; an unpublished one to no one.
    The required total counts the listed required lessons that count for the whole audience (``counted_items``)."""
    lessons = course_lessons(course) if lessons is None else lessons
    item_ids = [lesson.item_id for lesson in lessons]
    readable = _open_ids(member, item_ids)
    shown = (
        readable if getattr(member, "is_authenticated", False) else readable | _open_ids(AudienceMember(None), item_ids)
    )
    counted = set(counted_items(course).filter(pk__in=item_ids).values_list("pk", flat=True))
    lessons = [lesson for lesson in lessons if lesson.item_id in shown]
    needed = lessons_required_seconds(lessons)
    item_ids = [lesson.item_id for lesson in lessons]
    required_total = sum(1 for lesson in lessons if lesson.required and lesson.item_id in counted)
    progress = CourseProgress(required_total=required_total)
    signed_in = getattr(member, "is_authenticated", False) and course.pk is not None  # not in a new page's preview
    studied, completions = {}, {}
    if signed_in:
        since, until = study_window_days(course)
        studied = study_seconds_by_item(member_ids=[member.pk], item_ids=item_ids, since=since, until=until)
        rows = LessonCompletion.objects.filter(course=course, member=member).values_list("item_id", "late")
        completions = dict(rows)
        progress.required_done = required_lessons_done(course=course, member_ids=[member.pk]).get(member.pk, 0)
    for lesson in lessons:
        progress.lessons.append(
            LessonProgress(
                lesson=lesson,
                readable=lesson.item_id in readable,
                required_seconds=needed.get(lesson.item_id, 0),
                studied_seconds=studied.get((getattr(member, "pk", None), lesson.item_id), 0),
                done=lesson.item_id in completions,
                late=bool(completions.get(lesson.item_id)),
            )
        )
    return progress


# --- The quiz -------------------------------------------------------------------------------------------------


@dataclass
class QuizStatus:
    has_quiz: bool
    phase: str  # "none", "not_open", "open", "closed"
    opens_at: datetime
    closes_at: datetime
    attempts_allowed: int
    attempts_used: int = 0
    open_attempt: QuizAttempt | None = None
    best: QuizAttempt | None = None
    last: QuizAttempt | None = None

    @property
    def attempts_left(self) -> int:
        return max(0, self.attempts_allowed - self.attempts_used)

    @property
    def can_start(self) -> bool:
        return self.phase == "open" and (self.open_attempt is not None or self.attempts_left > 0)


def quiz_phase(*, course: CoursePage, now: datetime) -> str:
    if not course.question_bank_id or not course.quiz_rules.exists():
        return "none"
    if now < course.premiere_at:
        return "not_open"
    if now > course.makeup_deadline:
        return "closed"
    return "open"


def quiz_status(*, member, course: CoursePage, now: datetime | None = None) -> QuizStatus:
    now = now or timezone.now()
    phase = quiz_phase(course=course, now=now)
    status = QuizStatus(
        has_quiz=phase != "none",
        phase=phase,
        opens_at=course.premiere_at,
        closes_at=course.makeup_deadline,
        attempts_allowed=course.attempts_allowed,
    )
    if not getattr(member, "is_authenticated", False) or phase == "none" or course.pk is None:
        return status
    attempts = list(QuizAttempt.objects.filter(member=member, course=course).order_by("number"))
    status.attempts_used = len(attempts)
    status.open_attempt = next((a for a in attempts if a.state == QuizAttempt.State.IN_PROGRESS), None)
    graded = [a for a in attempts if a.percent is not None]
    # Before the results release no answer may depend on the scores: naming the best attempt would tell which
    # scored more, so none is named until then.
    released = course.results_release_at is None or now >= course.results_release_at
    status.best = max(graded, key=lambda a: (a.percent, -a.number)) if graded and released else None
    status.last = attempts[-1] if attempts else None
    return status


def attempt_of_member(*, member, attempt_id: int) -> QuizAttempt | None:
    """The member's own attempt (another member's is None, like one that does not exist)."""
    if not getattr(member, "is_authenticated", False) or not _is_id(attempt_id):
        return None
    return QuizAttempt.objects.select_related("course").filter(pk=attempt_id, member=member).first()


def attempt_open_of(*, member, course: CoursePage) -> QuizAttempt | None:
    return QuizAttempt.objects.filter(member=member, course=course, state=QuizAttempt.State.IN_PROGRESS).first()


def seconds_left(*, attempt: QuizAttempt, now: datetime) -> int:
    return max(0, int((attempt.deadline - now).total_seconds())) if attempt.is_open else 0


def _questions_by_id(ids) -> dict[int, Question]:
    return Question.objects.prefetch_related("options").in_bulk(list(ids))


def _option_texts(question: Question) -> dict[str, str]:
    texts = {option.label: option.text for option in question.options.all()}
    return texts | {"T": "正确", "F": "错误"} if question.kind == QuestionKind.TRUEFALSE else texts


def attempt_questions(*, attempt: QuizAttempt) -> list[dict]:
    """The attempt as its member answers it: refs, stems, shuffled options by sealed id, the saved responses. No
    answer key, no question id, no original option letter."""
    questions = _questions_by_id(entry["q"] for entry in attempt.questions)
    saved = {answer.position: answer for answer in attempt.answers.all()}
    shown = []
    for position, entry in enumerate(attempt.questions):
        question = questions.get(entry["q"])
        if question is None:
            continue
        texts = _option_texts(question)
        options = [
            {
                "id": option_id(attempt=attempt, question_id=question.pk, label=label),
                "letter": LETTERS[n],
                "text": texts[label],
            }
            for n, label in enumerate(entry["o"])
            if label in texts
        ]
        answer = saved.get(position)
        shown.append(
            {
                "ref": question_ref(attempt=attempt, position=position),
                "number": position + 1,
                "kind": question.kind,
                "kind_display": question.get_kind_display(),
                "stem": question.stem,
                "points": entry["p"],
                "options": options,
                "blank_count": blank_count(question.answer) if question.kind == QuestionKind.BLANK else 0,
                "saved": _saved(attempt, question, answer),
            }
        )
    return shown


def _saved(attempt: QuizAttempt, question: Question, answer) -> dict | None:
    if answer is None:
        return None
    response = answer.response or {}
    ids = [option_id(attempt=attempt, question_id=question.pk, label=label) for label in response.get("options", [])]
    return {"options": ids, "blanks": list(response.get("blanks", [])), "seq": answer.seq}


@dataclass
class AttemptResult:
    attempt: QuizAttempt
    score_released: bool
    answers_released: bool
    results_release_at: datetime | None
    answers_release_at: datetime
    questions: list[dict]


def attempt_result(*, attempt: QuizAttempt, now: datetime | None = None) -> AttemptResult:
    """What the member may see of a closed attempt now: the score from the results release, which questions were
    right with the key and explanations from the answers release — nothing of either before."""
    now = now or timezone.now()
    course = attempt.course
    score_released = course.results_release_at is None or now >= course.results_release_at
    answers_released = now >= course.answers_released_at
    questions = _result_questions(attempt) if answers_released else []
    return AttemptResult(
        attempt, score_released, answers_released, course.results_release_at, course.answers_released_at, questions
    )


def _result_option(n: int, label: str, texts: dict, chosen: set, answer: str) -> dict:
    return {"letter": LETTERS[n], "text": texts.get(label, ""), "chosen": label in chosen, "key": label in answer}


def _result_questions(attempt: QuizAttempt) -> list[dict]:
    questions = _questions_by_id(entry["q"] for entry in attempt.questions)
    saved = {answer.position: answer for answer in attempt.answers.all()}
    rows = []
    for position, entry in enumerate(attempt.questions):
        question = questions.get(entry["q"])
        if question is None:
            continue
        texts, answer = _option_texts(question), saved.get(position)
        response = answer.response if answer else {}
        chosen = set(response.get("options", []))
        rows.append(
            {
                "number": position + 1,
                "kind_display": question.get_kind_display(),
                "stem": question.stem,
                "options": [
                    _result_option(n, label, texts, chosen, question.answer) for n, label in enumerate(entry["o"])
                ],
                "blanks": response.get("blanks", []),
                "correct": is_correct(kind=question.kind, answer=question.answer, response=response),
                "points": answer.points if answer else 0,
                "key": key_display(kind=question.kind, answer=question.answer, shown_order=entry["o"]),
                "explanation": question.explanation,
            }
        )
    return rows


# --- Practice ---------------------------------------------------------------------------------------------------


def practice_pool(*, course: CoursePage, topic: str = "") -> QuerySet[Question]:
    rows = Question.objects.filter(bank_id=course.question_bank_id, is_active=True, is_practice=True)
    return rows.filter(topic=topic) if topic else rows


def practice_topics(*, course: CoursePage) -> list[str]:
    rows = practice_pool(course=course).exclude(topic="").values_list("topic", flat=True).distinct()
    return sorted(rows)


def practice_questions(*, course: CoursePage, topic: str = "", count: int = 10) -> list[Question]:
    """A random handful of the practice bank (unlimited: every request draws again)."""
    ids = list(practice_pool(course=course, topic=topic).values_list("pk", flat=True))
    picked = secrets.SystemRandom().sample(ids, min(count, len(ids)))
    questions = _questions_by_id(picked)
    return [questions[pk] for pk in picked if pk in questions]


def practice_question_get(question_id: int, *, member=None) -> Question | None:
    """An active practice question; with ``member``, only of a bank that a live course the member may see uses (a
    course behind a password or group restriction does not count): any other answers like a missing id."""
    if not _is_id(question_id):
        return None
    rows = Question.objects.prefetch_related("options").filter(pk=question_id, is_active=True, is_practice=True)
    if member is not None:
        courses = courses_visible_to(member).exclude(_hidden_by_restriction())
        rows = rows.filter(bank_id__in=courses.filter(question_bank__isnull=False).values("question_bank_id"))
    return rows.first()


def practice_blank_count(question: Question) -> int:
    return blank_count(question.answer) if question.kind == QuestionKind.BLANK else 0


def practice_options(question: Question) -> list[dict]:
    """A practice question's options in the bank's order, by their own letters (practice hides nothing)."""
    texts = _option_texts(question)
    labels = ["T", "F"] if question.kind == QuestionKind.TRUEFALSE else [o.label for o in question.options.all()]
    return [{"id": label, "letter": label if label not in "TF" else "", "text": texts[label]} for label in labels]


# --- For the editors ----------------------------------------------------------------------------------------------


def course_has_member_records(course: CoursePage) -> bool:
    """Whether members' attempts or completions refer to the course (it may then be unpublished, not deleted)."""
    return QuizAttempt.objects.filter(course=course).exists() or LessonCompletion.objects.filter(course=course).exists()


# --- Branch sessions (courses/sessions/reads.py) ------------------------------------------------------------------

# --- Study hours (courses/credits/) --------------------------------------------------------------------------------
from .credits.hours import StudyHours, study_hours, study_hours_of, years_with_activity  # noqa: E402, F401
from .sessions.reads import (  # noqa: E402, F401 — the front door re-exports the sessions' reads
    attendance_of,
    branches_as_secretary,
    branches_run_by,
    session_get,
    session_roster,
    session_run_by,
    sessions_of,
)


def certificate_by_code(code: str):
    from .models import StudyCertificate

    code = (code or "").strip().upper()
    if not code.isalnum() or len(code) > 16:
        return None
    return StudyCertificate.objects.filter(code=code).select_related("member").first()


def certificate_of(*, member, year: int):
    from .models import StudyCertificate

    return StudyCertificate.objects.filter(member=member, year=year).first()


# --- Reports (courses/reports/) -----------------------------------------------------------------------------------

from .reports.reads import branch_individuals, course_report, report_root, units_reported_to  # noqa: E402, F401
