"""The premiere minute, end to end: gunicorn (production settings) on PostgreSQL and Redis, driven by Locust in
headless mode on loopback. Each simulated member starts the month's quiz, saves ten answers and submits, all of
them let loose at once; at 200 and then 1,000 members (``BENCH_PREMIERE_USERS``, comma-separated).

Printed per run: the wall time for the whole cohort, sustained requests/s, p50/p95 per step (Locust's figures),
and the database checked afterwards: attempts per member (duplicates), answers saved (lost), attempts still open.
Side by side: each run's p95 against the 200-member run's (the reference in the same process), and the issue's
aims on these 2 cores (autosave p95 < 300 ms at 200; all 1,000 members through within 120 s).

Needs ``DATABASE_URL`` (a fresh ``lighthouse_bench`` database is made beside it and dropped afterwards) and
``REDIS_URL`` (cache and the task queue): ``services/up``, then ``source var/services/env``. Without them it says
so and measures nothing. gunicorn: ``BENCH_WORKERS`` gthread workers (default 2 × cores + 1) of
``BENCH_THREADS`` threads (default 4)."""

import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_library_pages import free_port, postgres_bench_url, postgres_drop, stop_gunicorn
from bench_transcode_common import ROOT, cores, load, ratio, remove_at_exit, verdict

USERS = [int(n) for n in os.environ.get("BENCH_PREMIERE_USERS", "200,1000").split(",")]
WORKERS = int(os.environ.get("BENCH_WORKERS", 2 * cores() + 1))
THREADS = int(os.environ.get("BENCH_THREADS", 4))
SAVE_AIM_MS, WHOLE_AIM_S = 300, 120
RAMP_SECONDS = int(os.environ.get("BENCH_RAMP", 10))  # everyone arrives within the premiere's first seconds
HERE = Path(__file__).resolve().parent


def environment(var: Path, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LIGHTHOUSE_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="cms.settings.production", DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(48), ALLOWED_HOSTS="127.0.0.1,localhost", SECURE_SSL_REDIRECT="0",
        IDENTITY_KEYS="bench:" + "A" * 43 + "=", IDENTITY_HASH_KEY="B" * 43 + "=",
    )  # fmt: skip
    for name in ("SEARCH_URL", "S3_BUCKET"):
        env.pop(name, None)
    return env


def world(members: int) -> tuple[int, list[str]]:
    """The quiz bench's live course (bench_courses_quiz.world: a bank three times its blueprint, one attempt), and
    ``members`` members of its branch with bearer tokens."""
    from bench_courses_quiz import world as quiz_world

    from cms.api_auth import api_token_for
    from cms.models import Member

    course, branch = quiz_world()
    Member.objects.bulk_create(
        Member(username=f"m{n}", org_unit=branch, password="!", is_active=True) for n in range(members)
    )
    people = Member.objects.filter(username__startswith="m").order_by("pk")
    return course.pk, [api_token_for(member) for member in people]


def start_gunicorn(env, var) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = (var / "gunicorn.log").open("w")
    args = [
        sys.executable, "-m", "gunicorn", "cms.project.wsgi", "--worker-class", "gthread", "--workers", str(WORKERS),
        "--threads", str(THREADS), "--backlog", "2048", "--bind", f"127.0.0.1:{port}",
    ]  # fmt: skip
    server = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    import urllib.request

    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/courses/time", timeout=2).read()
            return server, port
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer")


def run_locust(env, port: int, users: int, course_id: int, tokens_file: Path, out: Path) -> float:
    locust_env = dict(env, BENCH_TOKENS=str(tokens_file), BENCH_COURSE=str(course_id), BENCH_USERS=str(users))
    args = [
        sys.executable, "-m", "locust", "-f", str(HERE / "premiere_locustfile.py"), "--headless", "-u", str(users),
        "-r", str(max(1, users // RAMP_SECONDS)), "--run-time", "600s", "--host", f"http://127.0.0.1:{port}",
        "--csv", str(out), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    started = time.perf_counter()
    with open(f"{out}.log", "w") as log:
        subprocess.run(args, cwd=ROOT, env=locust_env, check=False, stdout=log, stderr=subprocess.STDOUT)
    return time.perf_counter() - started


def steps(out: Path) -> dict[str, dict]:
    with open(f"{out}_stats.csv", newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def counts(users: int) -> dict[str, int]:
    from django.db.models import Count

    from courses.models import QuizAnswer, QuizAttempt

    attempts = QuizAttempt.objects.all()
    return {
        "attempts": attempts.count(),
        "duplicated": attempts.values("member_id").annotate(n=Count("pk")).filter(n__gt=1).count(),
        "answers": QuizAnswer.objects.count(),
        "open": attempts.filter(state="in_progress").count(),
        "members": users,
    }


def reset_attempts() -> None:
    from courses.models import CourseUnitStats, QuizAnswer, QuizAttempt

    QuizAnswer.objects.all().delete()
    QuizAttempt.objects.all().delete()
    CourseUnitStats.objects.all().delete()


def main():
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        print("skipped: needs DATABASE_URL and REDIS_URL (services/up, then source var/services/env)")
        return
    admin_url = os.environ["DATABASE_URL"]
    var = remove_at_exit(Path(tempfile.mkdtemp(prefix="bench-premiere-")))
    env = environment(var, postgres_bench_url(admin_url))
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    course_id, tokens = world(max(USERS))
    tokens_file = var / "tokens.json"
    tokens_file.write_text(json.dumps(tokens))
    from importlib.metadata import version

    print(
        f"machine: {cores()} cores, load {load()}; gunicorn {WORKERS} gthread workers × {THREADS} threads, "
        f"PostgreSQL + Redis, Locust {version('locust')} on loopback"
    )
    server, port = start_gunicorn(env, var)
    reference = None
    try:
        for users in USERS:
            reset_attempts()
            wall = run_locust(env, port, users, course_id, tokens_file, var / f"run{users}")
            table, found = steps(var / f"run{users}"), counts(users)
            total = table.get("Aggregated", {})
            print(
                f"\n{users} members: all through in {wall:.1f} s ({verdict(wall, at_most=WHOLE_AIM_S)} for 1,000), "
                f"{float(total.get('Requests/s') or 0):.0f} requests/s, "
                f"{total.get('Failure Count', '?')} failed requests"
            )
            for name in ("start", "save", "submit", "start (retry)", "save (retry)", "submit (retry)"):
                row = table.get(name)
                if row:
                    p95 = float(row["95%"])
                    versus = (
                        f"  ×{ratio(p95, reference[name]):.2f} of the {USERS[0]}-member p95"
                        if reference and name in reference
                        else ""
                    )
                    aim = f"  {verdict(p95, at_most=SAVE_AIM_MS)}" if name == "save" else ""
                    count, p50 = row["Request Count"], row["50%"]
                    print(f"  {name:<14} {count:>6} requests  p50 {p50:>6} ms  p95 {p95:>7.0f} ms{versus}{aim}")
            if reference is None:
                reference = {name: float(table[name]["95%"]) for name in ("start", "save", "submit") if name in table}
            print(
                f"  database: {found['attempts']} attempts for {users} members, {found['duplicated']} duplicated, "
                f"{found['answers']} answers (expected {users * 10}: {users * 10 - found['answers']} lost), "
                f"{found['open']} still open"
            )
    finally:
        stop_gunicorn(server)
        from django.db import connections

        connections.close_all()
        postgres_drop(admin_url)


if __name__ == "__main__":
    main()
