"""The library's pages at scale, served by gunicorn: an empty library, then one filled by ``library_generate``.

Side by side in one run, each page's latency (p50, p95 over ``BENCH_REQUESTS`` plain HTTP requests, one
connection each, uncached) and its number of database queries, with an empty library and with a full one:

- the list page (``/library/``), its first page and a deep page (the keyset cursor of the last page, built from
  the oldest items, as ``?before=<published_at>_<id>``; with an empty library a cursor in the past);
- the list sorted by 最热, its first page and its last page (``?sort=popular&before=<read_count>_<id>`` of the
  least-read items);
- the list narrowed by each browse filter alone, as the facets link them: the largest kind, the rarest
  second-level 中图法 class (the most rows a class filter walks past), the commonest year, the owning unit with
  the most items, the least common tag the facets show; and all three of kind, class and year together
  (``?kind=ebook&clc=D&year=<the most common e-book year>``);
- a creator's page (``/library/creator/<name>/``, the most credited name; with an empty library a name with no
  items), a curated list (``/library/list/bench-picks/``, 24 random public items; empty with no items) and the
  home page (``/``, its latest items);
- an item page (``/library/item/<id>/``, random public items; with an empty library, the one item added after
  the empty list was measured: there is no item page without an item);
- the admin item list (``/admin/library_items/``, signed in as the demo superuser), first and last page.

Aims (issues 4 and 13): every list and item page p95 under 150 ms, a small number of queries on every list page
that does not grow with the page, admin item list p95 under 500 ms. A page that misses its aim gets its slowest
query printed with its plan (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite); when all meet them, the
slowest page does. Query times are each SELECT run again with its rows fetched (SQLite does most of a query's work
while its rows are fetched, after the time Django's query log records).

Databases: SQLite in a temporary var/, then PostgreSQL when ``DATABASE_URL`` is set (a fresh ``lighthouse_bench``
database beside the one it names, dropped at the end; nothing else there is touched), each in a process of its
own; ``BENCH_DATABASES=sqlite`` or ``postgresql`` measures one. A table of p95 per page and database ends the run.
Items: ``BENCH_LIBRARY_ITEMS`` (default 300,000), text from ``BENCH_LIBRARY_SOURCE`` (``synthetic``, no network, by
default; ``poetry`` downloads the 85 MB chinese-poetry package into the temporary var/cache once per run). After
generating, PostgreSQL's table gets ``VACUUM ANALYZE`` (what autovacuum would have done); SQLite gets what the
generator itself leaves (its statistics refresh). gunicorn: 2 sync workers, ``cms.settings.production`` (a
throwaway SECRET_KEY, SECURE_SSL_REDIRECT off since there is no TLS proxy in front).
"""

import http.client
import json
import math
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import ROOT, cores, load, measure, ratio, remove_at_exit
from page_weight_common import free_port
from page_weight_common import stop as stop_gunicorn

SETTINGS = "cms.settings.production"
BENCH_DATABASE = "lighthouse_bench"
HOST = "localhost"  # the demo site's hostname
PER_PAGE = 24  # selectors.items_page's default
# Services the pages must not reach (the benchmark measures the database and Django, not a search cluster).
UNSET = ("REDIS_URL", "S3_BUCKET", "SEARCH_URL", "SQLITE_PATH", "MEDIA_ROOT", "MEDIA_WORK_DIR", "STATIC_ROOT")
AIMS_MS = {"list": 150, "item": 150, "admin": 500}
DATABASES = ("sqlite", "postgresql")


@dataclass
class Page:
    label: str
    path: str
    aim: str  # key of AIMS_MS
    admin: bool = False


# -- setup ------------------------------------------------------------------------------------------------------


def postgres_bench_url(url: str) -> str:
    """A fresh database beside the configured one (same server and role), so nothing of theirs is touched."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    return urlunsplit(urlsplit(url)._replace(path=f"/{BENCH_DATABASE}"))


def postgres_drop(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def environment(var: Path, database_url: str | None) -> dict[str, str]:
    """This process's and gunicorn's environment: production settings, the bench database, no other services."""
    env = {key: value for key, value in os.environ.items() if key not in (*UNSET, "DATABASE_URL")}
    env.update(
        LIGHTHOUSE_VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE=SETTINGS,
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS=f"{HOST},127.0.0.1,testserver",
        SECURE_SSL_REDIRECT="0",
        DEBUG="0",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def setup_django(env: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    # Production serves hashed static names from the manifest collectstatic writes (cms.project.static_files).
    call_command("collectstatic", "--noinput", verbosity=0)
    from cms.demo import demo_load

    demo_load(log=lambda line: None, media=False)


def start_gunicorn(env: dict[str, str], var: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = (var / "gunicorn.log").open("w")
    args = [sys.executable, "-m", "gunicorn", "cms.project.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode}): {(var / 'gunicorn.log').read_text()[-2000:]}")
        try:
            get(port, "/library/", cookie="")
            return server, port
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def admin_cookie() -> str:
    """A session for the demo superuser, stored in the database gunicorn reads."""
    from django.test import Client

    from cms.models import Member

    client = Client()
    client.force_login(Member.objects.get(username="admin"))
    return f"sessionid={client.cookies['sessionid'].value}"


def analyze() -> None:
    """After a bulk load PostgreSQL's statistics and visibility map are stale until autovacuum comes by: done once
    here, as autovacuum would. SQLite has no autovacuum: it is measured with what the generator leaves."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE library_libraryitem")


# -- the pages --------------------------------------------------------------------------------------------------


def cursor_param(published_at, item_id: int) -> str:
    return quote(f"{published_at.isoformat()}_{item_id}")


def deep_cursor() -> str:
    """The cursor of the last list page an anonymous visitor can reach: the (PER_PAGE + 1)-th oldest item."""
    from datetime import timedelta

    from django.contrib.auth.models import AnonymousUser
    from django.utils import timezone

    from library.selectors import items_visible_to

    oldest = items_visible_to(AnonymousUser()).order_by("published_at", "id").values_list("published_at", "id")
    rows = list(oldest[: PER_PAGE + 1])
    if len(rows) <= PER_PAGE:  # (nearly) empty library: a cursor in the past, same query shape, no rows
        return cursor_param(timezone.now() - timedelta(days=3653 * 2), 1)
    return cursor_param(*rows[PER_PAGE])


def popular_deep_cursor() -> str:
    """The 最热 list's last page: the cursor of the (PER_PAGE + 1)-th least-read item an anonymous visitor sees."""
    from django.contrib.auth.models import AnonymousUser

    from library.models import LISTED
    from library.selectors import items_visible_to

    least = items_visible_to(AnonymousUser()).filter(LISTED).order_by("read_count", "id")
    rows = list(least.values_list("read_count", "id")[: PER_PAGE + 1])
    return quote("{}_{}".format(*rows[PER_PAGE])) if len(rows) > PER_PAGE else "0_1"


def filtered_query() -> str:
    """E-books under class D in their most common year (this year when there are none)."""
    from django.db.models import Count
    from django.utils import timezone

    from library.models import LibraryItem

    years = LibraryItem.objects.filter(kind="ebook", clc__startswith="D", parent__isnull=True).values("year")
    top = years.annotate(n=Count("id")).order_by("-n").first()
    return f"kind=ebook&clc=D&year={top['year'] if top else timezone.now().year}"


def facet_value(dimension: str, *, rarest: bool = False, default: str) -> str:
    """A value a browse facet links (all kinds, public counts): the commonest, or the rarest it shows (a class: of
    the second level). ``default`` in an empty library."""
    from library.models import FacetCount

    rows = FacetCount.objects.filter(kind="", dimension=dimension, audience=FacetCount.Audience.PUBLIC)
    if dimension == "clc":
        rows = rows.filter(value__regex=r"^..")  # second level: shown once a class letter is chosen
    if dimension == "tag":  # the page shows the 30 most used
        shown = list(rows.order_by("-count", "value").values_list("value", flat=True)[:30])
        rows = rows.filter(value__in=shown)
    row = rows.order_by("count" if rarest else "-count", "value").first()
    return quote(row.value if row else default)


def busiest_creator() -> str:
    from django.db.models import Count

    from library.models import ItemCredit

    top = ItemCredit.objects.values("name").annotate(n=Count("id")).order_by("-n").first()
    return top["name"] if top else "王国华"


def curated_list_fill() -> None:
    """The curated list the benchmark reads: PER_PAGE random public listed items (none in an empty library)."""
    from django.contrib.auth.models import AnonymousUser

    from cms.models import OrgUnit
    from library.models import LISTED, ItemList, ItemListEntry
    from library.selectors import items_visible_to

    unit = OrgUnit.objects.order_by("path").first()
    item_list, _created = ItemList.objects.get_or_create(
        slug="bench-picks", defaults={"title": "本月推荐", "owning_unit": unit, "kind": ItemList.Kind.CURATED}
    )
    item_list.entries.all().delete()
    picks = items_visible_to(AnonymousUser()).filter(LISTED).order_by("?").values_list("pk", flat=True)[:PER_PAGE]
    ItemListEntry.objects.bulk_create(
        ItemListEntry(list=item_list, item_id=pk, sort_order=n) for n, pk in enumerate(picks)
    )


def list_pages() -> list[Page]:
    from cms.models import OrgUnit

    curated_list_fill()
    first_unit = str(OrgUnit.objects.order_by("path").values_list("pk", flat=True).first())
    return [
        Page("list, page 1", "/library/", "list"),
        Page("list, last page", f"/library/?before={deep_cursor()}", "list"),
        Page("list, popular page 1", "/library/?sort=popular", "list"),
        Page("list, popular last page", f"/library/?sort=popular&before={popular_deep_cursor()}", "list"),
        Page("list, kind", f"/library/?kind={facet_value('kind', default='audio')}", "list"),
        Page("list, class (rarest)", f"/library/?clc={facet_value('clc', rarest=True, default='D2')}", "list"),
        Page("list, year", f"/library/?year={facet_value('year', default='2020')}", "list"),
        Page("list, unit", f"/library/?unit={facet_value('unit', default=first_unit)}", "list"),
        Page("list, tag (rarest shown)", f"/library/?tag={facet_value('tag', rarest=True, default='党史')}", "list"),
        Page("list, kind + class + year", f"/library/?{filtered_query()}", "list"),
        Page("creator page", f"/library/creator/{quote(busiest_creator())}/", "list"),
        Page("curated list", "/library/list/bench-picks/", "list"),
        Page("home page", "/", "list"),
    ]


def admin_pages() -> list[Page]:
    return [
        Page("admin list, page 1", "/admin/library_items/", "admin", admin=True),
        Page("admin list, last page", "/admin/library_items/?p=last", "admin", admin=True),
    ]


def public_item_ids(count: int) -> list[int]:
    from django.contrib.auth.models import AnonymousUser

    from library.selectors import items_visible_to

    return list(items_visible_to(AnonymousUser()).order_by("?").values_list("id", flat=True)[:count])


def item_paths(ids: list[int]) -> list[str]:
    return [f"/library/item/{item_id}/" for item_id in ids]


# -- measuring --------------------------------------------------------------------------------------------------


def get(port: int, path: str, *, cookie: str) -> float:
    """One request on a new connection; seconds until the whole body is read. Anything but 200 is an error."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": HOST, **({"Cookie": cookie} if cookie else {})})
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status}")
    return time.perf_counter() - started


def time_pages(port: int, pages: dict[str, list[str]], *, cookie: str, requests: dict[str, int]) -> dict[str, list]:
    """Requests go round-robin over the pages, so the machine's other load falls on all of them alike."""
    for paths in pages.values():  # warm-up: imports, templates, connections, the database's cache
        for n in range(10):
            get(port, paths[n % len(paths)], cookie=cookie)
    times: dict[str, list[float]] = {label: [] for label in pages}
    for n in range(max(requests.values())):
        for label, paths in pages.items():
            if n < requests[label]:
                times[label].append(get(port, paths[n % len(paths)], cookie=cookie))
    return times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def count_queries(path: str, *, admin: bool) -> tuple[int, dict, tuple[str, int], float]:
    """The same page in this process through Django's test client: (queries, the slowest with its time, the most
    repeated shape, all queries' milliseconds). Each SELECT is run again and timed with its rows fetched: SQLite
    steps through most of a query while its rows are fetched, which Django's query log does not time."""
    from django.db import connection
    from django.test import Client

    from cms.models import Member

    client = Client(HTTP_HOST=HOST)
    if admin:
        client.force_login(Member.objects.get(username="admin"))
    client.get(path)  # counted warm, as gunicorn's workers serve it: per-process caches (sites, pages) filled
    executed = []

    def record(execute, sql, params, many, context):
        executed.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} in process: HTTP {response.status_code}")
    timed = [timed_select(sql, params) for sql, params in executed if sql.lstrip()[:6].upper() == "SELECT"]
    slowest = max(timed, key=lambda query: query["time"], default={})
    shapes = Counter(re.sub(r"\b\d+\b", "N", sql) for sql, _params in executed)
    total = sum(query["time"] for query in timed) * 1000
    return len(executed), slowest, shapes.most_common(1)[0] if shapes else ("", 0), total


def timed_select(sql: str, params) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchall()
        return {"sql": sql, "params": params, "time": time.perf_counter() - started}


def explain(sql: str, params) -> str:
    """The query's plan: EXPLAIN ANALYZE on PostgreSQL (run for real), EXPLAIN QUERY PLAN on SQLite."""
    from django.db import connection

    prefix = "EXPLAIN ANALYZE" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix} {sql}", params)
        rows = cursor.fetchall()
    if connection.vendor == "postgresql":
        return "\n".join(row[0] for row in rows)
    return "\n".join(row[-1] for row in rows)


@dataclass
class Measured:
    p50: float
    p95: float
    queries: list[int]  # per path counted (list: the same for every page)
    slowest: dict
    repeated: tuple[str, int]  # the query shape (numbers blanked) that ran most often, and how often
    query_ms: float  # the database's share: all of one request's queries, in this process


def measure_phase(port: int, pages: list[Page], item_pages: list[str], cookie: str, n: int, admin_n: int) -> dict:
    paths = {page.label: [page.path] for page in pages}
    if item_pages:
        paths["item page"] = item_pages
    requests = {label: admin_n if label.startswith("admin") else n for label in paths}
    times = time_pages(
        port, {k: v for k, v in paths.items() if not k.startswith("admin")}, cookie="", requests=requests
    )
    admin_paths = {k: v for k, v in paths.items() if k.startswith("admin")}
    times |= time_pages(port, admin_paths, cookie=cookie, requests=requests)
    results = {}
    for label, samples in times.items():
        counted = [count_queries(path, admin=label.startswith("admin")) for path in paths[label][:2]]
        slowest = max((c[1] for c in counted), key=lambda query: float(query.get("time", 0)))
        repeated = max((c[2] for c in counted), key=lambda shape: shape[1])
        p50, p95 = percentile(samples, 0.5) * 1000, percentile(samples, 0.95) * 1000
        results[label] = Measured(p50, p95, [c[0] for c in counted], slowest, repeated, max(c[3] for c in counted))
    return results


# -- report -----------------------------------------------------------------------------------------------------


def aim_of(label: str) -> int:
    return AIMS_MS["admin" if label.startswith("admin") else "item" if label.startswith("item") else "list"]


WIDTH = 26  # the page column


def report(empty: dict[str, Measured], full: dict[str, Measured], *, items: int) -> list[str]:
    """Prints the table; returns the labels of pages that missed their aim."""
    print(f"\n{'page':{WIDTH}} {'empty p50/p95 ms':>18} {'full p50/p95 ms':>18} {'p95 ÷':>7}  {'queries e/f':>12}  aim")
    missed = []
    for label, after in full.items():
        before = empty[label]
        aim = aim_of(label)
        met = after.p95 < aim
        missed += [] if met else [label]
        print(
            f"{label:{WIDTH}} {before.p50:8.1f} / {before.p95:6.1f} {after.p50:8.1f} / {after.p95:6.1f}"
            f" {ratio(after.p95, before.p95):6.2f}×  {'/'.join(map(str, before.queries)):>5} │ "
            f"{'/'.join(map(str, after.queries)):<5}  p95 < {aim} ms: {'met' if met else 'NOT met'}"
        )
    for name, phase in (("0 items", empty), (f"{items} items", full)):
        # Page 1 also looks up 本月推荐, a unit or tag filter names its chip, a tag filter reads how common the tag
        # is: a few queries more or less by page type, never more as the page goes deeper.
        pairs = [("list, page 1", "list, last page"), ("list, popular page 1", "list, popular last page")]
        deeper = [f"{a} {phase[a].queries} → {b} {phase[b].queries}" for a, b in pairs if a in phase and b in phase]
        same = all(phase[a].queries[0] >= phase[b].queries[0] for a, b in pairs if a in phase and b in phase)
        counts = {c for label in phase if label.startswith("list") for c in phase[label].queries}
        print(
            f"list page queries at {name}: {min(counts, default=0)}–{max(counts, default=0)};"
            f" {'; '.join(deeper)} ({'no more on the deep page' if same else 'MORE on the deep page'})"
        )
    for label, after in full.items():
        if after.repeated[1] > 2:
            print(f"{label}: one query shape runs {after.repeated[1]} times (one per row?): {after.repeated[0][:300]}")
    return missed


def show_slowest(full: dict[str, Measured], missed: list[str]) -> None:
    """Each page's slowest query; the plan of the one on each page that missed its aim (else on the slowest page)."""
    print()
    for label, after in full.items():
        query = after.slowest
        print(
            f"{label}: all queries {after.query_ms:.1f} ms (p50 {after.p50:.0f} ms);"
            f" slowest {query.get('time', 0) * 1000:.1f} ms: {query.get('sql', '')[:110]}"
        )
    for label in missed or [max(full, key=lambda label: full[label].p95)]:
        query, over = full[label].slowest, full[label].p95 - aim_of(label)
        state = f"p95 {over:.0f} ms over its aim" if over > 0 else f"the slowest page, {-over:.0f} ms under its aim"
        print(f"\n{label} ({state}); its slowest query ({query['time'] * 1000:.1f} ms):\n  {query['sql'][:600]}")
        print(f"  parameters: {tuple(query['params'] or ())}")
        print("  " + explain(query["sql"], query["params"]).replace("\n", "\n  "))


# -- run --------------------------------------------------------------------------------------------------------


def generate(*, count: int, source: str) -> None:
    from library.management.generator import library_generate

    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 50_000 == 0 or done == total:
            print(f"  {done:>7} / {total} items, {time.perf_counter() - started:5.1f} s", flush=True)

    with measure() as cost:
        added = library_generate(count=count, source=source, seed=1, batch_size=5000, on_progress=progress)
    print(f"generated {added} items ({source}): {cost.wall:.1f} s, {added / cost.wall:.0f} rows/s")


def main() -> None:
    """Each database in a process of its own (Django is set up once per process), then p95 side by side."""
    if os.environ.get("BENCH_LIBRARY_DATABASE"):
        return measure_database(os.environ["BENCH_LIBRARY_DATABASE"])
    wanted = os.environ.get("BENCH_DATABASES") or ("sqlite,postgresql" if os.environ.get("DATABASE_URL") else "sqlite")
    databases = [name.strip() for name in wanted.split(",") if name.strip()]
    if unknown := set(databases) - set(DATABASES):
        sys.exit(f"BENCH_DATABASES: unknown {', '.join(sorted(unknown))} (sqlite, postgresql)")
    if "postgresql" in databases and not os.environ.get("DATABASE_URL"):
        sys.exit("BENCH_DATABASES names postgresql but DATABASE_URL is not set (source var/services/env)")
    summaries, failed = {}, []
    with tempfile.TemporaryDirectory(prefix="bench-library-summary-") as folder:
        for name in databases:
            print(f"\n=== {name}", flush=True)
            summary = Path(folder) / f"{name}.json"
            env = {**os.environ, "BENCH_LIBRARY_DATABASE": name, "BENCH_LIBRARY_SUMMARY": str(summary)}
            if subprocess.run([sys.executable, __file__], env=env, cwd=ROOT).returncode or not summary.exists():
                failed.append(name)
                continue
            summaries[name] = json.loads(summary.read_text())
    print_summary(summaries)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


def print_summary(summaries: dict[str, dict]) -> None:
    """p95 of every page at full size, per database, against its aim."""
    if not summaries:
        return
    names = list(summaries)
    sizes = ", ".join(
        f"{name}: {summary['items']} items, load {summary['load']}" for name, summary in summaries.items()
    )
    print(f"\np95 at full size (ms); {sizes}")
    print(f"{'page':{WIDTH}} " + " ".join(f"{name:>12}" for name in names) + "   aim")
    labels = list(dict.fromkeys(label for summary in summaries.values() for label in summary["p95"]))
    for label in labels:
        values = [summaries[name]["p95"].get(label) for name in names]
        cells = " ".join(f"{value:12.1f}" if value is not None else f"{'–':>12}" for value in values)
        met = all(value is None or value < aim_of(label) for value in values)
        print(f"{label:{WIDTH}} {cells}   < {aim_of(label)}: {'met' if met else 'NOT met'}")


def measure_database(name: str) -> None:
    configured = os.environ.get("DATABASE_URL", "") if name == "postgresql" else ""
    var = remove_at_exit(Path(tempfile.mkdtemp(prefix="bench-library-")))
    (var / "static").mkdir()  # whitenoise warns about a missing STATIC_ROOT; the pages need no collected files
    database_url = postgres_bench_url(configured) if configured else None
    items = int(os.environ.get("BENCH_LIBRARY_ITEMS", 300_000))
    source = os.environ.get("BENCH_LIBRARY_SOURCE", "synthetic")
    n = int(os.environ.get("BENCH_REQUESTS", 200))
    admin_n = int(os.environ.get("BENCH_ADMIN_REQUESTS", 100))
    env = environment(var, database_url)
    server = None
    try:
        setup_django(env)
        print(machine(items=items, source=source, n=n, admin_n=admin_n))
        server, port = start_gunicorn(env, var)
        cookie = admin_cookie()
        print(f"empty library (load average {load()})", flush=True)
        empty_pages = list_pages() + admin_pages()
        empty = measure_phase(port, empty_pages, [], cookie, n, admin_n)  # no item page yet: there is no item
        generate(count=1, source=source)
        empty |= measure_phase(port, [], item_paths(public_item_ids(1)), cookie, n, 0)
        generate(count=items, source=source)
        analyze()
        print(f"full library (load average {load()})", flush=True)
        full = measure_phase(port, list_pages() + admin_pages(), item_paths(public_item_ids(n)), cookie, n, admin_n)
        missed = report(empty, full, items=items)
        show_slowest(full, missed)
        print(f"load average at the end: {load()}")
        if os.environ.get("BENCH_LIBRARY_SUMMARY"):
            summary = {"items": items, "load": load(), "p95": {label: m.p95 for label, m in full.items()}}
            Path(os.environ["BENCH_LIBRARY_SUMMARY"]).write_text(json.dumps(summary))
    finally:
        if server is not None:
            stop_gunicorn(server)
        if database_url:
            from django.db import connections

            connections.close_all()
            postgres_drop(configured)


def machine(*, items: int, source: str, n: int, admin_n: int) -> str:
    import gunicorn
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        version = " ".join(cursor.fetchone()[0].split()[:2])
    database = (
        f"PostgreSQL ({version}, database {BENCH_DATABASE})"
        if connection.vendor == "postgresql"
        else (f"SQLite {version}")
    )
    return (
        f"machine: {cores()} cores, load average {load()}; {database}; {items} items ({source}); "
        f"gunicorn {gunicorn.__version__}, 2 workers, {SETTINGS}; {n} requests per page, {admin_n} per admin page"
    )


if __name__ == "__main__":
    main()
