"""Browser tests: a live server, a task worker in its own process, and Debian's Chromium driven by Playwright."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls our tests make around it are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _worker_command() -> list[str]:
    manage = [sys.executable, str(ROOT / "manage.py")]
    if os.environ.get("REDIS_URL"):
        return [
            *manage,
            "rqworker",
            "--with-scheduler",
            "--job-class",
            "django_tasks_rq.Job",
            "search",
            "default",
            "media_light",
            "media",
        ]
    return [*manage, "db_worker", "--queue-name", "*", "--no-reload", "--interval", "0.5"]


@pytest.fixture
def search_index(settings):
    """A search index of this test's own, shared with the worker process and deleted afterwards."""
    settings.SEARCH_INDEX_PREFIX = f"lighthouse-e2e-{uuid.uuid4().hex[:8]}"
    yield settings.SEARCH_INDEX_PREFIX
    if settings.SEARCH_URL:
        from search.engines.choice import get_cluster_engine

        engine = get_cluster_engine()
        engine.client.indices.delete(index=f"{engine.alias}-*", params={"ignore_unavailable": "true"}, ignore=[404])


@pytest.fixture
def task_worker(transactional_db, search_index, settings, tmp_path):
    """A real worker process on the test database (PostgreSQL: a second process can see committed rows)."""
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="cms.settings.test",
        SEARCH_INDEX_PREFIX=search_index,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),  # this test's own media folder (tests/conftest.py)
        MEDIA_WORK_DIR=str(settings.MEDIA_WORK_DIR),
    )
    if connection.vendor == "postgresql":
        url = dj_database_url.parse(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
        assert url["NAME"] != connection.settings_dict["NAME"]  # never point a worker at the real database
    else:
        env["SQLITE_PATH"] = connection.settings_dict["NAME"]  # the file-based test database (settings/test.py)
    if os.environ.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # no jobs left over from earlier tests
    started = _database_clock()
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(_worker_command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    _close_other_sessions(since=started)


def _database_clock():
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def _close_other_sessions(*, since):
    """Let pytest-django drop the test database: the live server's threads and the worker may still hold
    connections. Only sessions opened during this test are closed: a connection the test process held before
    (its own, whichever thread holds it now) must survive, or every later test loses it."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_start >= %s",
            [since],
        )


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        context.close()
        browser.close()
