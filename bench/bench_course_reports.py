"""Course reports at province scale, in one process on the embedded default (SQLite in a temporary var/): the
report pages (a month's course, /study/reports/, and a year's study hours, /study/reports/hours/) for the
province, a city and a township, with the organisation of 1,000,000 members
in 100,000 branches, beside a reference run of the same pages over a tree of 100 branches in the same process.

The tree is built as the organisation department's would be (1 province → 16 cities → 160 counties → 1,600
townships → ``BENCH_BRANCHES`` branches, default 100,000, each with ``BENCH_MEMBERS_PER_BRANCH`` members, default 10)
and the figures a course's activity and a year's credits leave (``CourseUnitStats`` and ``UnitYearHours`` per unit
and its subtree, the units' member counts)
are written directly: a report reads those rows and never a learner, so member rows themselves are not needed to
measure it (what one write adds to them is measured too: ``bump`` of a completion, five rows). Requests go through
Django's test client as the superuser (the whole stack: middleware, session, view, template). Aim (issue 14):
province page and drill-down p95 < 200 ms."""

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import cores, load, ratio, setup_django, verdict

BRANCHES = int(os.environ.get("BENCH_BRANCHES", 100_000))
PER_BRANCH = int(os.environ.get("BENCH_MEMBERS_PER_BRANCH", 10))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 100))
AIM_MS = 200
SHAPE = (16, 10, 10)  # cities per province, counties per city, townships per county


def build_tree(prefix: str, branches: int):
    """A province and its tree under one root, bulk-inserted with treebeard's paths; member counts as if each
    branch had PER_BRANCH members. Returns (province, a city, a township)."""
    from cms.models import OrgUnit

    root = OrgUnit.add_root(name=f"{prefix}省", code=f"{prefix}-p", level="province")
    levels = [("city", SHAPE[0]), ("county", SHAPE[1]), ("township", SHAPE[2])]
    parents = [root]
    for level, fan in levels:
        parents = _children(parents, level, [fan] * len(parents), prefix)
    per_township = [branches // len(parents) + (1 if i < branches % len(parents) else 0) for i in range(len(parents))]
    _children(parents, "branch", per_township, prefix)
    _count_members(root)
    city = OrgUnit.objects.filter(path__startswith=root.path, depth=2).order_by("path").first()
    township = OrgUnit.objects.filter(path__startswith=root.path, depth=4).order_by("path").first()
    return OrgUnit.objects.get(pk=root.pk), city, township


def _children(parents, level, counts, prefix):
    from cms.models import OrgUnit

    rows = []
    for parent, count in zip(parents, counts, strict=True):
        for n in range(1, count + 1):
            path = OrgUnit._get_path(parent.path, parent.depth + 1, n)
            rows.append(
                OrgUnit(
                    path=path,
                    depth=parent.depth + 1,
                    numchild=0,
                    name=f"{level}{path[-8:]}",
                    code=f"{prefix}-{path}",
                    level=level,
                )
            )
    OrgUnit.objects.bulk_create(rows, batch_size=5000)
    for parent, count in zip(parents, counts, strict=True):
        parent.numchild = count
    OrgUnit.objects.bulk_update(parents, ["numchild"], batch_size=5000)
    return list(OrgUnit.objects.filter(level=level, code__startswith=f"{prefix}-").order_by("path"))


def _count_members(root):
    """Each unit's member count from its branches' (PER_BRANCH each), summed up the tree level by level."""
    from cms.models import OrgUnit

    units = OrgUnit.objects.filter(path__startswith=root.path)
    units.filter(level="branch").update(member_count=PER_BRANCH)
    step = OrgUnit.steplen
    for depth in range(4, 0, -1):
        totals = {}
        for path, count in units.filter(depth=depth + 1).values_list("path", "member_count"):
            totals[path[: depth * step]] = totals.get(path[: depth * step], 0) + count
        parents = list(units.filter(depth=depth).only("pk", "path"))
        for parent in parents:
            parent.member_count = totals.get(parent.path, 0)
        OrgUnit.objects.bulk_update(parents, ["member_count"], batch_size=5000)


def _branch_figures(root, figures) -> list[tuple[int, list[int]]]:
    """(unit id, figures) for every unit under ``root``: each branch's own from ``figures(rng, members)``, summed
    up the tree as the writes would have left them."""
    from cms.models import OrgUnit

    rng = random.Random(7)
    units = list(OrgUnit.objects.filter(path__startswith=root.path).values_list("pk", "path", "level", "member_count"))
    own = {path: figures(rng, members) for _pk, path, level, members in units if level == "branch"}
    totals = {}
    step = OrgUnit.steplen
    for path, values in own.items():
        for end in range(step, len(path) + 1, step):
            bucket = totals.setdefault(path[:end], [0] * len(values))
            for i, value in enumerate(values):
                bucket[i] += value
    return [(pk, totals[path]) for pk, path, _level, _members in units if path in totals]


def _course_figures(rng, members):
    studied = rng.randint(members // 2, members)
    passed = rng.randint(0, studied)
    return [studied, rng.randint(0, studied), rng.randint(0, members), studied, studied * 80, passed]


def _year_figures(rng, members):
    active = rng.randint(members // 2, members)
    return [active, active * rng.randint(100, 400), rng.randint(0, active)]


def fill_stats(course, root, year):
    """A course's month and a year's study hours for every unit: what the report pages read."""
    from courses.models import CourseUnitStats, UnitYearHours

    names = ("studied", "completed", "attended", "scored", "score_sum", "passed")
    rows = [
        CourseUnitStats(course=course, unit_id=pk, **dict(zip(names, t, strict=True)))
        for pk, t in _branch_figures(root, _course_figures)
    ]
    CourseUnitStats.objects.bulk_create(rows, batch_size=5000)
    years = [
        UnitYearHours(unit_id=pk, year=year, active=t[0], tenths=t[1], met=t[2])
        for pk, t in _branch_figures(root, _year_figures)
    ]
    UnitYearHours.objects.bulk_create(years, batch_size=5000)
    return len(rows) + len(years)


def a_course():
    from django.utils import timezone
    from wagtail.models import Site

    from courses.models import CourseIndexPage, CoursePage

    root = Site.objects.get(is_default_site=True).root_page
    index = root.add_child(instance=CourseIndexPage(title="灯塔大课堂", slug="courses"))
    now = timezone.now()
    return index.add_child(
        instance=CoursePage(
            title="第1期", slug="issue-1", issue_number=1, theme="基准", premiere_at=now,
            study_closes_at=now, makeup_deadline=now,
        )
    )  # fmt: skip


def time_page(client, url: str) -> list[float]:
    client.get(url)  # warm: templates compiled, the first connection's pragmas
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def p95(values):
    return statistics.quantiles(values, n=20)[18]


def main():
    setup_django(prefix="bench-reports-")
    from django.conf import settings
    from django.test import Client

    from cms.models import Member, OrgUnit
    from courses.reports import stats

    settings.ALLOWED_HOSTS = ["*"]
    print(f"machine: {cores()} cores, {load()}; SQLite; {REQUESTS} requests per page; aim p95 < {AIM_MS} ms")
    course = a_course()
    started = time.perf_counter()
    ref = build_tree("a-ref", 100)  # codes sort in build order: treebeard orders roots by code (node_order_by)
    big = build_tree("b-big", BRANCHES)
    year = course.premiere_at.year
    rows = fill_stats(course, ref[0], year) + fill_stats(course, big[0], year)
    print(
        f"built: {OrgUnit.objects.count():,} units, {big[0].member_count:,} members in the large tree, "
        f"{rows:,} report rows, {time.perf_counter() - started:.0f} s"
    )
    from django.db import connection

    connection.cursor().execute("ANALYZE")  # what the library's bulk paths leave SQLite with, too
    admin = Member.objects.create_superuser(username="bench-admin", password="x" * 16)
    client = Client()
    client.force_login(admin)
    label = f"{big[0].member_count:,} members p50/p95"
    print(f"{'page':<40}{'reference p50/p95':>20}{label:>26}{'p95 ÷':>8}   aim")
    worst = 0.0
    pages = [
        (f"{report}: {name}", f"{path}?{query}", index)
        for report, path, query in (
            ("month", "/study/reports/", f"course={course.pk}"),
            ("year's hours", "/study/reports/hours/", f"year={year}"),
        )
        for name, index in (("province (16 cities)", 0), ("city (10 counties)", 1), ("township (62 branches)", 2))
    ]
    for name, url, index in pages:
        small = time_page(client, f"{url}&unit={ref[index].pk}")
        large = time_page(client, f"{url}&unit={big[index].pk}")
        worst = max(worst, p95(large))
        print(
            f"{name:<40}{statistics.median(small):>9.1f} /{p95(small):>7.1f} ms"
            f"{statistics.median(large):>15.1f} /{p95(large):>7.1f} ms{ratio(p95(large), p95(small)):>8.2f}   "
            f"{verdict(p95(large), at_most=AIM_MS)}"
        )
    branch = OrgUnit.objects.filter(path__startswith=big[2].path, level="branch").first()
    writes = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        stats.bump(course_id=course.pk, unit_id=branch.pk, studied=1)
        writes.append((time.perf_counter() - start) * 1000)
    print(f"{'one write (bump of 5 rows)':<40}{'':>20}{statistics.median(writes):>15.1f} /{p95(writes):>7.1f} ms")
    print(f"worst report p95 at {big[0].member_count:,} members: {worst:.1f} ms ({verdict(worst, at_most=AIM_MS)})")


if __name__ == "__main__":
    main()
