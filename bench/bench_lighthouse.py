"""Google Lighthouse over every page type of the demo site, mobile and desktop, scores kept in bench/results/.

The same site as bench/bench_page_bytes.py (the demo with its media, static files collected with the production
storage, gunicorn with production settings), then Lighthouse's CLI (bench/lighthouse/, installed by ``make bench``
with its own lock; not a dependency of the site) with Debian's Chromium (``CHROME_PATH``) on each page type of
tests/e2e/pages.py: its default mobile preset (a Moto G power-class phone on simulated slow 4G, 4× CPU slowdown)
and ``--preset=desktop``. Signed-in page types get the demo member's session cookie (``--extra-headers``).

Printed and written to ``bench/results/lighthouse.md`` (and the raw scores to ``lighthouse.json``), with the commit
measured: performance, accessibility and best-practices scores per page type and preset, each beside the reference
run — the same audit of the site's plainest page (``/login/``) in the same run, so a score reads as a ratio against
what this machine gives a near-empty page — plus cumulative layout shift, largest contentful paint and total bytes.
``BENCH_PAGES=home,video`` audits some page types only; ``BENCH_VAR`` as in bench_page_bytes.py (with
``BENCH_NO_COLLECT=1`` when another bench is serving that folder's static files at the same time).
"""

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_page_bytes import prepare_demo, prepare_django
from bench_transcode_common import ROOT, load, remove_at_exit
from page_weight_common import CHROMIUM, collectstatic, site_environment, start_gunicorn, stop

LIGHTHOUSE = ROOT / "bench" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
RESULTS = ROOT / "bench" / "results"
CATEGORIES = ("performance", "accessibility", "best-practices")
PRESETS = ("mobile", "desktop")


def audit(url: str, preset: str, *, cookie: str, out: Path) -> dict:
    """One Lighthouse run (again once if Chromium's trace failed, as it sometimes does on a busy machine); its
    scores (0-100) and a few metrics, or the error it ended with."""
    result = audit_once(url, preset, cookie=cookie, out=out)
    return audit_once(url, preset, cookie=cookie, out=out) if "error" in result else result


def audit_once(url: str, preset: str, *, cookie: str, out: Path) -> dict:
    args = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}"]
    args += [f"--only-categories={','.join(CATEGORIES)}", "--chrome-flags=--headless=new --no-sandbox --disable-gpu"]
    args += ["--max-wait-for-load=60000", "--locale=zh"]
    if preset == "desktop":
        args.append("--preset=desktop")
    if cookie:
        args.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    out.unlink(missing_ok=True)
    done = subprocess.run(args, env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True)
    if done.returncode or not out.exists():
        return {"error": (done.stderr or done.stdout)[-300:]}
    report = json.loads(out.read_text())
    if report.get("runtimeError"):  # e.g. a 404 page (Lighthouse audits only pages that load) or a failed trace
        return {"error": report["runtimeError"].get("code", "") + ": " + report["runtimeError"].get("message", "")}
    scores = {name: round((report["categories"][name]["score"] or 0) * 100) for name in CATEGORIES}
    audits = report["audits"]
    return {
        **scores,
        "cls": round(audits["cumulative-layout-shift"].get("numericValue", 0), 3),
        "lcp_ms": round(audits["largest-contentful-paint"].get("numericValue", 0)),
        "total_kb": round(audits["total-byte-weight"].get("numericValue", 0) / 1024),
        "runtime_error": (report.get("runtimeError") or {}).get("code", ""),
    }


def member_cookie(username: str) -> str:
    """A session of the demo member, stored where gunicorn reads it (same database, same SECRET_KEY)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def commit() -> str:
    done = subprocess.run(["git", "log", "-1", "--format=%h %cI"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True)
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def table(results: dict, reference: dict) -> list[str]:
    head = "| page type | preset | performance | accessibility | best practices | CLS | LCP ms | KB |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for name, presets in results.items():
        for preset, row in presets.items():
            if "error" in row:
                lines.append(f"| {name} | {preset} | error: {row['error'][:60]!r} | | | | | |")
                continue
            ref = reference[preset]
            cells = [f"{row[c]} ({row[c] / ref[c]:.2f})" if ref.get(c) else str(row[c]) for c in CATEGORIES]
            lines.append(
                f"| {name} | {preset} | {' | '.join(cells)} | {row['cls']} | {row['lcp_ms']} | {row['total_kb']} |"
            )
    return lines


def main() -> None:
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is not installed: run `make bench` (npm ci in bench/lighthouse).")
    reuse = os.environ.get("BENCH_VAR")
    var = Path(reuse) if reuse else remove_at_exit(Path(tempfile.mkdtemp(prefix="lighthouse-bench-audit-")))
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
    if not os.environ.get("BENCH_NO_COLLECT"):  # another bench serving the same BENCH_VAR's static files right now
        collectstatic(env)
    from tests.e2e.pages import DEMO_MEMBER, member_pages

    wanted = {name for name in os.environ.get("BENCH_PAGES", "").split(",") if name}
    pages = [page for page in member_pages() if not wanted or page.name in wanted]
    cookie = member_cookie(DEMO_MEMBER)
    measured = commit()  # what the collected static files and the server's code are: now, not at the end
    server, base_url = start_gunicorn(env, var / "gunicorn.log")
    out = var / "lighthouse-report.json"
    try:
        reference = {preset: audit(base_url + "/login/", preset, cookie="", out=out) for preset in PRESETS}
        results = {}
        for page in pages:
            results[page.name] = {
                preset: audit(base_url + page.path, preset, cookie=cookie if page.signed_in else "", out=out)
                for preset in PRESETS
            }
            print(f"  audited {page.name}: {results[page.name]}", flush=True)
    finally:
        stop(server)
    lines = [
        f"Lighthouse {subprocess.run([str(LIGHTHOUSE), '--version'], capture_output=True, text=True).stdout.strip()},"
        f" Chromium at {CHROMIUM}, commit {measured}, load {load()}.",
        "Scores 0-100; in brackets the ratio against the reference run (/login/, the plainest page, same preset).",
        "",
        *table(results, reference),
        "",
        f"reference /login/: {json.dumps(reference, ensure_ascii=False)}",
    ]
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lighthouse.md").write_text("# Lighthouse over each page type\n\n" + "\n".join(lines) + "\n")
    payload = {"commit": measured, "reference": reference, "results": results}
    (RESULTS / "lighthouse.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
