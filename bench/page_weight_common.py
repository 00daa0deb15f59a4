"""What a phone downloads before a page's first screen is usable: shared by bench/bench_page_bytes.py (on a
throttled network, cold and warm cache, with and without compression) and tests/e2e/test_page_weight.py (the
150 KB budget on the demo site).

A page is "usable" when its load event has fired, its largest contentful paint has happened and, for a player or
reader page, its `ready` element (tests/e2e/pages.py) is there. The first screen's bytes are every response the
page asks for by itself until then and until its network has gone quiet after it (nothing started for 0.7 s,
nothing open), so nothing the page fetches without the member doing anything escapes the count; each response
whole, as Playwright's request sizes (headers and body as they came over the wire, compressed where they
were).
What scrolling to the end then fetches (pictures further down, a reader coming into view) is reported apart, as
`later`. Pressing play is not simulated: the player's library is the member's choice, not the page's.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHONE = {"width": 390, "height": 844}
BUDGET_BYTES = 150 * 1024
# A weak rural network (Chrome's "Slow 3G"-like profile): 400 ms round trip, 400 kbit/s down, 400 kbit/s up.
WEAK_NETWORK = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
QUIET_MS = 700  # the network is quiet when no request has started for this long and none is open
QUIET_LIMIT_S = 20  # a request open longer than this is a stream left open, not part of the first screen
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
CHROMIUM_ARGS += ["--disable-sync", "--disable-quic", "--no-first-run"]

# Largest contentful paint, as the page reports it (installed before any page script).
LCP_OBSERVER = """
window.__lcp = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__lcp = Math.max(window.__lcp, entry.startTime);
}).observe({type: "largest-contentful-paint", buffered: true});
"""


@dataclass
class Weight:
    """One page load: bytes (and requests) before the first screen was usable, bytes after, and when it was."""

    first_screen: int = 0
    requests: int = 0
    later: int = 0
    usable_ms: float = 0.0
    largest: list[tuple[int, str]] = field(default_factory=list)


class NetworkLog:
    """Every request of one tab, its dedicated workers' included (pdf.js's worker script), through Playwright's
    network events: when it started and how many bytes it took on the wire."""

    def __init__(self, page, *, throttle: dict | None = None, identity: bool = False):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        if throttle:
            self.cdp.send("Network.emulateNetworkConditions", throttle)
        if identity:  # the reference run: ask for no compression at all
            self.cdp.send("Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": "identity"}})
        self.started: dict[object, float] = {}
        self.urls: dict[object, str] = {}
        self.done: set = set()
        page.on("request", self._sent)
        page.on("requestfinished", self._finished)
        page.on("requestfailed", self._finished)

    def _sent(self, request) -> None:
        if request.url.startswith(("data:", "blob:")):  # made in the page, nothing on the wire
            return
        self.started.setdefault(request, time.monotonic())
        self.urls[request] = request.url

    def _finished(self, request) -> None:
        self.done.add(request)

    @property
    def bytes(self) -> set:
        return self.done

    def clear(self) -> None:
        self.started.clear(), self.urls.clear(), self.done.clear()

    def pending(self) -> int:
        return len(set(self.started) - self.done)

    @staticmethod
    def size(request) -> int:
        """Headers and body as received (the body compressed where it was); 0 for one that failed."""
        if request.failure:
            return 0
        try:
            sizes = request.sizes()
        except Exception:  # noqa: BLE001 - a request whose response never came
            return 0
        return max(sizes["responseBodySize"], 0) + max(sizes["responseHeadersSize"], 0)

    def weight(self, first_screen_end: float, usable_ms: float) -> Weight:
        first = [request for request, at in self.started.items() if at <= first_screen_end]
        later = [request for request, at in self.started.items() if at > first_screen_end]
        sizes = sorted(((self.size(request), self.urls[request]) for request in first), reverse=True)
        return Weight(
            first_screen=sum(size for size, _url in sizes),
            requests=len(first),
            later=sum(self.size(request) for request in later),
            usable_ms=usable_ms,
            largest=sizes[:4],
        )


def open_and_weigh(page, log: NetworkLog, url: str, *, ready: str = "", timeout_ms: int = 120_000) -> Weight:
    """Loads ``url`` in ``page`` and returns what it transferred for its first screen, and then for a scroll down."""
    log.clear()
    begin = time.monotonic()
    page.goto(url, wait_until="load", timeout=timeout_ms)
    if ready:
        page.locator(ready).first.wait_for(state="attached", timeout=timeout_ms)
    page.wait_for_function("() => window.__lcp > 0 || document.visibilityState !== 'visible'", timeout=timeout_ms)
    usable_ms = (time.monotonic() - begin) * 1000
    first_screen_end = wait_quiet(page, log, timeout_ms=timeout_ms)
    page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    page.wait_for_timeout(300)
    wait_quiet(page, log, timeout_ms=timeout_ms)
    return log.weight(first_screen_end, usable_ms)


def wait_quiet(page, log: NetworkLog, *, timeout_ms: int) -> float:
    """Waits until no request is open and none has started for QUIET_MS (a request open for QUIET_LIMIT_S, such as a
    media stream the browser keeps open, stops counting as open); returns the moment."""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        now = time.monotonic()
        last = max(log.started.values(), default=0.0)
        open_ = [rid for rid, at in log.started.items() if rid not in log.bytes and now - at < QUIET_LIMIT_S]
        if not open_ and now - last >= QUIET_MS / 1000:
            break
        page.wait_for_timeout(100)
    else:
        stuck = [log.urls[rid] for rid in log.started if rid not in log.bytes]
        print(f"    (network not quiet after {timeout_ms} ms: {stuck[:3]})", file=sys.stderr)
    return time.monotonic()


def new_phone_tab(browser, *, cookies: list[dict] | None = None):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3)
    if cookies:
        context.add_cookies(cookies)
    context.add_init_script(LCP_OBSERVER)
    return context, context.new_page()


def sign_in(page, base_url: str, username: str, password: str) -> None:
    """Signs the demo member in through the site's own sign-in page, as a member would."""
    page.goto(base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_load_state("load")
    if not [cookie for cookie in page.context.cookies() if cookie["name"] == "sessionid"]:
        text = page.locator("main").inner_text()[:300] if page.locator("main").count() else page.content()[:300]
        raise RuntimeError(f"{username} could not sign in at {page.url}: {text}")


# -- the site under measurement: production settings, collected static files, gunicorn -----------------------------


def site_environment(*, var: Path, secret_key: str = "") -> dict[str, str]:
    """Production settings on the embedded default in ``var`` (no external services), as a province would run it
    behind its proxy; a throwaway SECRET_KEY; no HTTPS redirect (nothing terminates TLS here)."""
    unset = ("DATABASE_URL", "REDIS_URL", "S3_BUCKET", "SEARCH_URL", "SQLITE_PATH", "MEDIA_ROOT", "MEDIA_WORK_DIR")
    env = {key: value for key, value in os.environ.items() if key not in (*unset, "STATIC_ROOT")}
    env.update(
        LIGHTHOUSE_VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE="cms.settings.production",
        SECRET_KEY=secret_key or secrets.token_urlsafe(48),
        ALLOWED_HOSTS="localhost,127.0.0.1,testserver",
        SECURE_SSL_REDIRECT="0",
        DEBUG="0",
        TRUSTED_PROXY_COUNT="0",
    )
    return env


def collectstatic(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    """gunicorn on a free port with ``env``; returns the process and the base URL (localhost: Chrome keeps the
    production settings' Secure cookies there without TLS)."""
    import http.client

    port = free_port()
    log = log_path.open("w")
    args = [sys.executable, "-m", "gunicorn", "cms.project.wsgi", "--workers", "2", "--threads", "4"]
    args += ["--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode}): {log_path.read_text()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/login/", headers={"Host": "localhost"})
            connection.getresponse().read()
            return server, f"http://localhost:{port}"
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 90 s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def kb(size: int) -> str:
    return f"{size / 1024:7.1f}"
