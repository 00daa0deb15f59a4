"""Bytes a phone transfers before each page type's first screen is usable, on a weak network (issue 13).

The demo site (``load_demo`` with its media transcoded, search drained) in a temporary var/, static files collected
with the production storage (hashed, brotli/gzip), served by gunicorn with production settings. Debian's Chromium
through Playwright as a 390×844 phone (3× pixels, touch) on a throttled network (bench/page_weight_common.py:
400 ms round trip, 400 kbit/s), one tab per page type of tests/e2e/pages.py:

- cold: a fresh browser profile (nothing cached), the bytes of every response started before the first screen was
  usable (load event, largest contentful paint, the player or reader element), compressed as sent;
- warm: the same page opened again in that profile (hashed static files from the cache; pages revalidated);
- identity: cold again with ``Accept-Encoding: identity`` — the reference run, the same page with compression off;
- later: what scrolling the cold page to its end then fetched (pictures further down, a reader coming into view).

Printed per page type: KB for each, cold as a ratio against the 150 KB budget and against the identity run, the
time to usable on that network, and the largest responses when a page misses the budget.
``BENCH_PAGES=home,video`` measures some page types only; ``BENCH_KEEP=1`` keeps the temporary var/, and
``BENCH_VAR=<folder>`` prepares the demo there once and reuses it on later runs.
"""

import os
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import ROOT, load, ratio, remove_at_exit
from page_weight_common import (
    BUDGET_BYTES,
    CHROMIUM,
    CHROMIUM_ARGS,
    WEAK_NETWORK,
    NetworkLog,
    collectstatic,
    kb,
    new_phone_tab,
    open_and_weigh,
    sign_in,
    site_environment,
    start_gunicorn,
    stop,
)


def prepare_django(env: dict[str, str]) -> None:
    """Django on ``env``'s database, migrated (a reused BENCH_VAR may predate the newest migrations)."""
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def prepare_demo(env: dict[str, str]) -> None:
    """Migrate, the demo with its media made here (analysis, renditions, pages), the search index drained."""
    prepare_django(env)
    from django.core.management import call_command

    from cms.demo import demo_load
    from media_pipeline.models import TranscodeJob
    from media_pipeline.services import transcode_job_run

    demo_load(log=lambda line: None, media=True)
    while job := TranscodeJob.objects.filter(state=TranscodeJob.State.QUEUED).order_by("pk").first():
        transcode_job_run(job_id=job.pk, worker_id="bench-page-bytes")
    call_command("search_drain", verbosity=0)


def measure(base_url: str, pages) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    from cms.demo.data import DEMO_PASSWORD
    from tests.e2e.pages import DEMO_MEMBER

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        session = _member_cookies(browser, base_url, DEMO_MEMBER, DEMO_PASSWORD)
        for page in pages:
            cookies = session if page.signed_in else None
            row = {}
            for run in ("cold", "identity"):
                context, tab = new_phone_tab(browser, cookies=cookies)
                log = NetworkLog(tab, throttle=WEAK_NETWORK, identity=run == "identity")
                row[run] = open_and_weigh(tab, log, base_url + page.path, ready=page.ready)
                if run == "cold":
                    row["warm"] = open_and_weigh(tab, log, base_url + page.path, ready=page.ready)
                context.close()
            results[page.name] = row
            print(f"  {page.name}: cold {kb(row['cold'].first_screen).strip()} KB", flush=True)
        browser.close()
    return results


def _member_cookies(browser, base_url: str, username: str, password: str) -> list[dict]:
    context, tab = new_phone_tab(browser)
    sign_in(tab, base_url, username, password)
    cookies = [cookie for cookie in context.cookies() if cookie["name"] == "sessionid"]
    context.close()
    if not cookies:
        raise RuntimeError("the demo member could not sign in")
    return cookies


def report(results: dict[str, dict]) -> list[str]:
    lines = [
        f"{'page type':<20} {'cold KB':>8} {'/150KB':>7} {'warm KB':>8} {'no-zip KB':>9} {'cold/no-zip':>11}"
        f" {'scroll KB':>9} {'reqs':>5} {'usable s':>8}",
    ]
    missed = []
    for name, row in results.items():
        cold, warm, identity = row["cold"], row["warm"], row["identity"]
        lines.append(
            f"{name:<20} {kb(cold.first_screen):>8} {ratio(cold.first_screen, BUDGET_BYTES):>7.2f}"
            f" {kb(warm.first_screen):>8} {kb(identity.first_screen):>9}"
            f" {ratio(cold.first_screen, identity.first_screen):>11.2f} {kb(cold.later):>9} {cold.requests:>5}"
            f" {cold.usable_ms / 1000:>8.1f}"
        )
        if cold.first_screen > BUDGET_BYTES:
            missed.append(name)
    heavy = [name for name, row in results.items() if row["cold"].first_screen > BUDGET_BYTES / 2]
    for name in heavy:  # what fills the heaviest first screens
        largest = ", ".join(
            f"{url.split('?')[0].rsplit('/', 2)[-1]} {kb(size).strip()} KB"
            for size, url in results[name]["cold"].largest
        )
        lines.append(f"  {'over budget' if name in missed else 'over half'}: {name}: largest {largest}")
    lines.append(
        f"budget: {BUDGET_BYTES // 1024} KB per first screen; {len(missed)} of {len(results)} page types over it"
    )
    return lines


def main() -> None:
    reuse = os.environ.get("BENCH_VAR")  # a folder a previous run prepared (BENCH_VAR=... BENCH_KEEP=1): no setup
    var = Path(reuse) if reuse else remove_at_exit(Path(tempfile.mkdtemp(prefix="lighthouse-bench-bytes-")))
    var.mkdir(parents=True, exist_ok=True)
    key_file = var / "bench-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
    env = site_environment(var=var, secret_key=key_file.read_text())
    print(f"load: {load()}; the demo site in {var}", flush=True)
    if not (var / "bench-prepared").exists():
        prepare_demo(env)
        (var / "bench-prepared").touch()
    else:
        prepare_django(env)
    collectstatic(env)
    from tests.e2e.pages import member_pages

    wanted = {name for name in os.environ.get("BENCH_PAGES", "").split(",") if name}
    pages = [page for page in member_pages() if not wanted or page.name in wanted]
    server, base_url = start_gunicorn(env, var / "gunicorn.log")
    try:
        results = measure(base_url, pages)
    finally:
        stop(server)
    print("\n".join(report(results)))


if __name__ == "__main__":
    main()
