"""The quiz's request path, in one process on the embedded default (SQLite in a temporary var/): what one member's
premiere costs (start, ten autosaves, submit through the JSON API and its services) and what happens when members
do it all at once.

Side by side in one run:

- raw reference: the same rows written with the ORM alone (an attempt with a fixed set, ten answers, a grade), no
  checks, no drawing, no API;
- sequential: ``BENCH_MEMBERS`` members (default 100) one after another through Django's test client (the whole
  request stack: middleware, session auth, ninja, the services): p50/p95 and queries per step;
- burst: as many members again, ``BENCH_THREADS`` (default 8) threads released at the same instant, each running
  its members' start → 10 saves → submit; wall time, requests/s, p50/p95 per step under contention;
- the counts checked in the database afterwards: one attempt per member (no duplicates), ten answers each (none
  lost), every attempt submitted.

This is not the Locust premiere benchmark of issue 14 (gunicorn + PostgreSQL + Redis at 200 and 1,000 concurrent
members): it measures the code path without the network and the server, so a regression in the services shows
here first. Aim on 2 cores: autosave p95 < 300 ms in the burst (the issue's aim for the premiere minute).
"""

import os
import statistics
import sys
import threading
import time
import uuid
import warnings
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import cores, load, ratio, setup_django, verdict

MEMBERS = int(os.environ.get("BENCH_MEMBERS", 100))
THREADS = int(os.environ.get("BENCH_THREADS", 8))
API = "/api/v1/courses"
SAVE_AIM_MS = 300


def world():
    from django.utils import timezone
    from wagtail.models import Site

    from cms.models import OrgUnit
    from cms.services import org_unit_create
    from courses.models import CourseIndexPage, CoursePage, Question, QuestionBank, QuestionOption, QuizRule

    province = org_unit_create(parent=None, name="山东省", code="shandong", level=OrgUnit.Level.PROVINCE)
    branch = org_unit_create(parent=province, name="第一党支部", code="branch-1", level=OrgUnit.Level.BRANCH)
    bank = QuestionBank.objects.create(name="基准题库", code="bench", owning_unit=province)
    for kind, answer in (("single", "B"), ("multiple", "AC"), ("truefalse", "T"), ("blank", "1921")):
        for n in range(60):
            question = Question.objects.create(
                bank=bank, key=f"{kind}-{n}", kind=kind, stem=f"{kind} {n}", answer=answer
            )
            if kind in ("single", "multiple"):
                QuestionOption.objects.bulk_create(
                    QuestionOption(question=question, label=label, text=f"选项{label}", sort_order=i)
                    for i, label in enumerate("ABCD")
                )
    root = Site.objects.get(is_default_site=True).root_page
    index = root.add_child(instance=CourseIndexPage(title="灯塔大课堂", slug="courses"))
    now = timezone.now()
    course = index.add_child(
        instance=CoursePage(
            title="第1期", slug="issue-1", issue_number=1, theme="基准", premiere_at=now - timedelta(hours=1),
            study_closes_at=now + timedelta(days=20), makeup_deadline=now + timedelta(days=25), question_bank=bank,
            attempts_allowed=1,
        )
    )  # fmt: skip
    for position, (kind, count) in enumerate((("single", 4), ("multiple", 2), ("truefalse", 2), ("blank", 2))):
        QuizRule.objects.create(page=course, kind=kind, count=count, points=10, sort_order=position)
    return course, branch


def members(prefix: str, count: int, unit):
    from cms.models import Member

    Member.objects.bulk_create(Member(username=f"{prefix}{n}", org_unit=unit) for n in range(count))
    return list(Member.objects.filter(username__startswith=prefix).order_by("pk"))


def raw_reference(course, people) -> float:
    """The rows a premiere leaves, written with the ORM alone: the floor the real path is compared with."""
    from django.db import transaction
    from django.utils import timezone

    from courses.models import Question, QuizAnswer, QuizAttempt

    ids = list(Question.objects.filter(bank=course.question_bank_id).values_list("pk", flat=True)[:10])
    started = time.perf_counter()
    for member in people:
        now = timezone.now()
        with transaction.atomic():
            attempt = QuizAttempt.objects.create(
                course=course, member=member, number=1, started_at=now, deadline=now + timedelta(minutes=30),
                questions=[{"q": pk, "o": [], "p": 10} for pk in ids], nonce="x", max_score=100,
            )  # fmt: skip
        for position, pk in enumerate(ids):
            QuizAnswer.objects.create(
                attempt=attempt, position=position, question_id=pk, response={"options": ["A"]},
                answer_id=uuid.uuid4(), seq=1, saved_at=now,
            )  # fmt: skip
        QuizAttempt.objects.filter(pk=attempt.pk).update(state="submitted", score=50, percent=50, passed=False)
    return time.perf_counter() - started


def one_member(member, course, timings: dict, queries: dict | None = None) -> None:
    """start → 10 autosaves (one per question, as the page sends them) → submit, through the JSON API."""
    import json

    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(member)

    def call(step, url, body=None):
        count = [0]

        def counter(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            response = client.post(url, json.dumps(body or {}), content_type="application/json")
            timings.setdefault(step, []).append(time.perf_counter() - started)
        assert response.status_code == 200, (step, response.status_code, response.content[:300])
        if queries is not None:
            queries.setdefault(step, []).append(count[0])
        return response.json()

    attempt = call("start", f"{API}/{course.pk}/attempts")
    for seq, question in enumerate(attempt["questions"], start=1):
        write = {"ref": question["ref"], "answer_id": str(uuid.uuid4()), "seq": seq}
        if question["kind"] == "blank":
            write["blanks"] = ["1921"]
        else:
            write["options"] = [question["options"][0]["id"]]
        call("save", f"{API}/attempts/{attempt['id']}/answers", {"answers": [write]})
    call("submit", f"{API}/attempts/{attempt['id']}/submit")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(label: str, timings: dict, wall: float, queries: dict | None = None) -> None:
    requests = sum(len(values) for values in timings.values())
    print(f"{label}: {requests} requests in {wall:.2f} s = {requests / wall:.0f} requests/s")
    for step in ("start", "save", "submit"):
        values = timings[step]
        extra = f", {statistics.median(queries[step]):.0f} queries" if queries else ""
        p50, p95 = percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000
        print(f"  {step:6} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms{extra}")


def burst(course, people) -> tuple[dict, float, list]:
    from django.db import connections

    slices = [people[n::THREADS] for n in range(THREADS)]
    timings, errors, lock = {}, [], threading.Lock()
    barrier = threading.Barrier(THREADS)

    def run(batch):
        mine = {}
        try:
            barrier.wait()
            for member in batch:
                one_member(member, course, mine)
        except Exception as exc:  # noqa: BLE001 — counted and printed below
            errors.append(exc)
        finally:
            connections.close_all()
            with lock:
                for step, values in mine.items():
                    timings.setdefault(step, []).extend(values)

    threads = [threading.Thread(target=run, args=(batch,)) for batch in slices]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, time.perf_counter() - started, errors


def check(course, people) -> bool:
    from django.db.models import Count

    from courses.models import QuizAnswer, QuizAttempt

    attempts = QuizAttempt.objects.filter(course=course, member__in=people)
    per_member = attempts.values("member").annotate(n=Count("pk")).filter(n__gt=1).count()
    answers = QuizAnswer.objects.filter(attempt__in=attempts).count()
    submitted = attempts.filter(state="submitted").count()
    print(
        f"  database: {attempts.count()} attempts for {len(people)} members, {per_member} duplicated; "
        f"{answers} answers of {len(people) * 10} ({len(people) * 10 - answers} lost); {submitted} submitted"
    )
    return per_member == 0 and answers == len(people) * 10 and submitted == len(people)


def main() -> int:
    setup_django(prefix="bench-courses-")
    from django.conf import settings

    settings.DEBUG = False  # the dev settings' query log would be measured too (queries are counted explicitly)
    warnings.filterwarnings("ignore", message="No directory at")  # static files are not served here
    print(f"machine: {cores()} cores, load average {load()}; {MEMBERS} members per phase, {THREADS} threads")
    course, branch = world()
    raw_people = members("raw", MEMBERS, branch)
    raw = raw_reference(course, raw_people)
    print(f"raw ORM reference: {MEMBERS} members in {raw:.2f} s ({raw / MEMBERS * 1000:.1f} ms a member)")

    sequential_people = members("seq", MEMBERS, branch)
    timings, queries = {}, {}
    started = time.perf_counter()
    for member in sequential_people:
        one_member(member, course, timings, queries)
    wall = time.perf_counter() - started
    report("sequential", timings, wall, queries)
    print(f"  per member ÷ raw reference: {ratio(wall, raw):.1f}×")
    ok = check(course, sequential_people)

    burst_people = members("burst", MEMBERS, branch)
    timings, wall, errors = burst(course, burst_people)
    report(f"burst ({THREADS} threads at once)", timings, wall)
    save_p95 = percentile(timings["save"], 0.95) * 1000
    print(f"  autosave p95 {save_p95:.0f} ms — {verdict(save_p95, at_most=SAVE_AIM_MS)}; errors: {len(errors)}")
    for error in errors[:3]:
        print(f"    {error!r}")
    ok = check(course, burst_people) and ok and not errors
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
