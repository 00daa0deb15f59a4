"""The first screen of every member page type transfers at most 150 KB to a phone (issue 13, weak networks).

Measured as production serves it: the demo site with its media made through the real pipeline, static files
collected with the production storage (hashed names, brotli), gunicorn with production settings on this test's
database, Chromium as a 390×844 phone with an empty cache. Bytes are counted as bench/page_weight_common.py says
(every response the page fetches by itself until its network is quiet, as sent over the wire); bytes, not time,
so no throttling is needed and the result does not depend on the machine's load. bench/bench_page_bytes.py measures
the same on a weak network, warm and without compression as well."""

import io
import os
import subprocess
import sys

import dj_database_url
import pytest
from django.core.management import call_command
from django.db import connection

from bench.page_weight_common import (
    BUDGET_BYTES,
    CHROMIUM,
    CHROMIUM_ARGS,
    NetworkLog,
    kb,
    new_phone_tab,
    open_and_weigh,
    sign_in,
    site_environment,
    start_gunicorn,
    stop,
)
from cms.demo.data import DEMO_PASSWORD
from cms.models import Member
from media_pipeline.models import TranscodeJob
from media_pipeline.services import transcode_job_run
from tests.e2e.conftest import ROOT
from tests.e2e.pages import DEMO_MEMBER, member_pages

pytestmark = [pytest.mark.browser]


def _process_media() -> None:
    while job := TranscodeJob.objects.filter(state=TranscodeJob.State.QUEUED).order_by("pk").first():
        transcode_job_run(job_id=job.pk, worker_id="e2e-page-weight")


@pytest.fixture
def production_site(transactional_db, django_db_serialized_rollback, local_media, settings, tmp_path):
    """The demo, made and searchable, served by gunicorn with production settings and collected static files from
    this test's database and media folder; yields the base URL. Media stay on local disk even where `make test`
    configured S3: gunicorn gets the embedded default's storage (site_environment), and both sides must agree on
    where the files are; S3's presigned links are tested in tests/media_pipeline/test_storage.py."""
    call_command("load_demo", stdout=io.StringIO())
    _process_media()
    call_command("search_drain", stdout=io.StringIO())
    # Test settings hash with MD5 for speed; gunicorn runs production settings, which check PBKDF2 only.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    member = Member.objects.get(username=DEMO_MEMBER)
    member.set_password(DEMO_PASSWORD)
    member.save(update_fields=["password"])
    var = tmp_path / "var"
    var.mkdir()
    env = site_environment(var=var)
    env.update(MEDIA_ROOT=str(settings.MEDIA_ROOT), MEDIA_WORK_DIR=str(settings.MEDIA_WORK_DIR))
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
        assert dj_database_url.parse(os.environ["DATABASE_URL"])["NAME"] != connection.settings_dict["NAME"]
    else:
        env["SQLITE_PATH"] = connection.settings_dict["NAME"]  # the file-based test database (settings/test.py)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    server, base_url = start_gunicorn(env, tmp_path / "gunicorn.log")
    yield base_url
    stop(server)


def test_every_page_types_first_screen_is_at_most_150_kb_on_a_phone(production_site):
    """Home, library (and filtered), curated list, video (and episode, series), audio, article, PDF and EPUB
    readers, text version, periodical and newspaper (title, issue, article), search (with and without results, and
    empty), sign-in, forgotten password, 我的图书馆 signed in, the course page when the demo has one, and the 404
    page: each transfers at most 150 KB, compressed as sent, before its first screen is usable on a 390×844 phone
    with an empty cache; the player's library waits for play and the readers' for the reader to be needed."""
    from playwright.sync_api import sync_playwright

    pages = member_pages()
    assert {"home", "library", "video", "audio", "pdf-reader", "epub-reader", "newspaper-issue", "search"} <= {
        page.name for page in pages
    }
    over, weights = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context, tab = new_phone_tab(browser)
            sign_in(tab, production_site, DEMO_MEMBER, DEMO_PASSWORD)
            session = [cookie for cookie in context.cookies() if cookie["name"] == "sessionid"]
            context.close()
            assert session, "the demo member could not sign in"
            for page in pages:
                context, tab = new_phone_tab(browser, cookies=session if page.signed_in else None)
                weight = open_and_weigh(tab, NetworkLog(tab), production_site + page.path, ready=page.ready)
                context.close()
                weights.append(f"{page.name} {kb(weight.first_screen).strip()} KB")
                if weight.first_screen > BUDGET_BYTES:
                    largest = ", ".join(
                        f"{url.rsplit('/', 1)[-1][:50]} {kb(size).strip()} KB" for size, url in weight.largest
                    )
                    over.append(f"{page.name} {page.path}: {kb(weight.first_screen).strip()} KB (largest: {largest})")
        finally:
            browser.close()
    assert not over, f"{len(over)} page types over {BUDGET_BYTES // 1024} KB:\n" + "\n".join(over)
    print("\n".join(weights))
