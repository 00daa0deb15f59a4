"""适老化, measured in a real browser: every member page type of the demo site (tests/e2e/pages.py) on a 390×844
phone and a 1440×900 desk, in standard and large type, passes axe-core with zero violations, offers no touch target
smaller than 44×44 px, shifts its layout by at most 0.05 while it loads, and does not scroll sideways at 360 px.

One browser and one demo site for the whole audit (the demo's media go through the real pipeline once, here, in
this process); every problem found is collected and reported together, page by page."""

import io
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from cms.models import Member
from media_pipeline.models import TranscodeJob
from media_pipeline.services import transcode_job_run
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.pages import DEMO_MEMBER, DEMO_SECRETARY, NOT_FOUND_PATH, MemberPage, member_pages, quiz_attempt_for

pytestmark = [pytest.mark.browser]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1440, "height": 900}}
NARROW = {"width": 360, "height": 780}  # the narrowest phone we promise: no sideways scrolling there
TYPE_MODES = {"standard": "0", "large": "1"}  # the lh_large_type cookie the header's 大字模式 button sets
MIN_TARGET_PX = 44
MAX_LAYOUT_SHIFT = 0.05
SETTLE_MS = 700  # after load (and the player or reader coming up): late images, fonts and scripts land here

# Installed before any page script: adds up every layout shift not caused by the member's own input. The sum over
# the whole load is at least the Core Web Vitals CLS (its worst five-second window), so the limit is stricter.
LAYOUT_SHIFT_OBSERVER = """
window.__layoutShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) { if (!entry.hadRecentInput) window.__layoutShift += entry.value; }
}).observe({type: "layout-shift", buffered: true});
"""

# Every visible thing a finger can press, with its box. A checkbox or radio button inside its <label> is pressed
# through the label, so the label's box is its target. Exempt, as WCAG 2.5.8 allows: a link inside running text
# (display: inline, with text of the sentence around it in the same block), whose size the line of text decides.
SMALL_TARGETS = """
(minimum) => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], '
    + '[tabindex]:not([tabindex="-1"]), audio[controls], video[controls]';
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== 'hidden' && style.display !== 'none' && box.width > 1 && box.height > 1
      && box.right > 0 && box.bottom > -window.scrollY;
  };
  const block = (el) => {
    let node = el.parentElement;
    while (node && getComputedStyle(node).display.startsWith('inline')) node = node.parentElement;
    return node;
  };
  const inRunningText = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    const container = block(el);
    const own = el.textContent.trim().length;
    return container !== null && container.textContent.replace(/\\s+/g, '').length > own;
  };
  const target = (el) => {
    if (el.matches('input[type=checkbox], input[type=radio]')) return el.closest('label') || el;
    return el;
  };
  const describe = (el) => {
    const text = (el.getAttribute('aria-label') || el.textContent || el.value || el.tagName).trim();
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className
      === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    return name + ' "' + text.replace(/\\s+/g, ' ').slice(0, 30) + '"';
  };
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!visible(el) || inRunningText(el)) continue;
    const box = target(el).getBoundingClientRect();
    if (box.width < minimum - 0.5 || box.height < minimum - 0.5) {
      small.push(describe(el) + ' ' + Math.round(box.width) + 'x' + Math.round(box.height));
    }
  }
  return small;
}
"""

# axe-core's own rules, plus label-content-name-mismatch (off by default, still "experimental" in axe): a control's
# accessible name holds its visible label (WCAG 2.5.3), as a member who says what they see to voice control needs.
AXE_RUN = """
async () => {
  const result = await axe.run(document, {
    resultTypes: ['violations'], rules: {'label-content-name-mismatch': {enabled: true}},
  });
  return result.violations.map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3)
    .map((n) => n.target.join(' ')).join(' | '));
}
"""


@dataclass
class Findings:
    """Problems found, one line each, named by page, type mode and viewport."""

    lines: list[str]

    def add(self, where: str, problems: list[str]) -> None:
        self.lines += [f"{where}: {problem}" for problem in problems]


def open_page(page, url: str, ready: str) -> list[str]:
    """Loads ``url`` and waits until it is usable (its player or reader is up); the settle comes after (settle).
    Returns a problem if it is not the page asked for (a redirect, say to the sign-in page, or an error)."""
    response = page.goto(url, wait_until="load")
    if ready:
        page.locator(ready).first.wait_for(state="attached", timeout=15_000)
    expected = 404 if url.endswith(NOT_FOUND_PATH) else 200
    if response.status != expected or page.url != url:
        return [f"answered {response.status} at {page.url} (expected {expected} here)"]
    return []


def settle(page, since: float) -> None:
    """Waits until SETTLE_MS have passed since ``since`` (time.monotonic() when the page was usable). The page types
    are opened in their four tabs one after another and then settle together: each still gets at least SETTLE_MS."""
    left_ms = SETTLE_MS - (time.monotonic() - since) * 1000
    if left_ms > 0:
        page.wait_for_timeout(left_ms)


def audit_open_page(page, *, narrow_check: bool) -> list[str]:
    """The four checks on the page as it is now (axe, targets, layout shift), then the 360 px check if asked."""
    problems = [f"axe {line}" for line in axe_violations(page)]
    problems += [f"target smaller than {MIN_TARGET_PX}px: {line}" for line in small_targets(page)]
    shift = page.evaluate("window.__layoutShift")
    if shift > MAX_LAYOUT_SHIFT:
        problems.append(f"layout shift {shift:.3f} > {MAX_LAYOUT_SHIFT}")
    if narrow_check:
        problems += sideways_scrolling(page)
    return problems


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN)


def small_targets(page) -> list[str]:
    return page.evaluate(SMALL_TARGETS, MIN_TARGET_PX)


def sideways_scrolling(page) -> list[str]:
    """At 360 px the page is as wide as the screen (the viewport is changed in place: a phone held upright)."""
    page.set_viewport_size(NARROW)
    page.wait_for_timeout(100)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    return [] if width <= NARROW["width"] else [f"scrolls sideways at {NARROW['width']}px: {width}px wide"]


def _context(browser, host: str, large_type: str, session_id: str = ""):
    context = browser.new_context(locale="zh-CN", bypass_csp=True)
    cookies = [{"name": "lh_large_type", "value": large_type, "domain": host, "path": "/"}]
    if session_id:
        cookies.append({"name": "sessionid", "value": session_id, "domain": host, "path": "/"})
    context.add_cookies(cookies)
    context.add_init_script(LAYOUT_SHIFT_OBSERVER)
    return context


def audit_site(browser, base_url: str, pages: list[MemberPage], sessions: dict[str, str]) -> list[str]:
    """Every page, in both type modes, on both viewports; returns every problem found. ``sessions``: the session
    ids of the demo "member" and "secretary". Each page is opened in its four tabs (type mode × viewport, each in
    its own browser context) before any is audited, so that their settling times overlap."""
    findings = Findings([])
    host = base_url.split("://", 1)[1].split(":")[0]
    contexts, tabs = [], {}
    for mode, cookie in TYPE_MODES.items():
        for who in ("anonymous", "member", "secretary"):
            for device in VIEWPORTS:
                context = _context(browser, host, cookie, sessions.get(who, ""))
                contexts.append(context)
                tabs[mode, who, device] = context.new_page()
    for member_page in pages:
        who = "secretary" if member_page.secretary else "member" if member_page.signed_in else "anonymous"
        opened = []
        for mode in TYPE_MODES:
            for device, viewport in VIEWPORTS.items():
                tab = tabs[mode, who, device]
                tab.set_viewport_size(viewport)
                problems = open_page(tab, base_url + member_page.path, member_page.ready)
                opened.append((mode, device, tab, problems, time.monotonic()))
        for mode, device, tab, problems, usable_at in opened:
            settle(tab, usable_at)
            problems += audit_open_page(tab, narrow_check=device == "phone")
            findings.add(f"{member_page.name} [{mode}, {device}] {member_page.path}", problems)
    for context in contexts:
        context.close()
    return findings.lines


def _process_media() -> None:
    """Runs the demo's transcode and document jobs here until none is queued (analysis queues the rest)."""
    while job := TranscodeJob.objects.filter(state=TranscodeJob.State.QUEUED).order_by("pk").first():
        transcode_job_run(job_id=job.pk, worker_id="e2e-accessibility")


@pytest.fixture
def demo_site(transactional_db, django_db_serialized_rollback):
    """The demo with its media made, searchable, and the demo member in the middle of a quiz; the session ids of
    the demo member and the demo's branch secretary."""
    call_command("load_demo", stdout=io.StringIO())
    _process_media()
    call_command("search_drain")
    member = Member.objects.get(username=DEMO_MEMBER)
    quiz_attempt_for(member)
    sessions = {}
    for who, user in (("member", member), ("secretary", Member.objects.get(username=DEMO_SECRETARY))):
        client = Client()
        client.force_login(user)
        sessions[who] = client.cookies["sessionid"].value
    return sessions


def test_every_member_page_passes_the_accessibility_audit(live_server, demo_site):
    """Every member page type (home, library and its filters, a curated list, video with its series and an episode,
    audio, article, PDF and EPUB readers, text version (these also as a signed-in member, whose 收藏 button and study
    clock come in by script), periodical and newspaper with an issue and an article,
    search with and without results, sign-in, forgotten password, 我的图书馆, the course, its practice and quiz, the
    member's study hours and inbox, the branch secretary's sessions, a held session and the report, 404) at 390×844
    and 1440×900 in standard and large type: axe-core finds no violation, every visible target is at least 44×44 px
    (inline links in running text exempt, WCAG 2.5.8), the summed layout shift stays ≤ 0.05, and at 360 px the page
    is no wider than the screen."""
    from playwright.sync_api import sync_playwright

    pages = member_pages(include_quiz=True, include_secretary=True)
    assert {"video", "audio", "pdf-reader", "epub-reader", "newspaper-issue", "search-empty", "course", "quiz"} <= {
        page.name for page in pages
    }
    expected = {"practice", "study-hours", "inbox", "sessions", "session", "reports", "reports-hours"}
    assert expected <= {page.name for page in pages}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            problems = audit_site(browser, live_server.url, pages, demo_site)
        finally:
            browser.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
