"""Bulk import of library items (``library.imports.importer.import_file``) at scale, beside a raw insert of the
same rows.

Generates ``--rows`` catalogue rows (default 100,000; deterministic made-up Chinese text, valid ISBNs and CLC
codes, two creators with roles, three tags from a pool of 200, a short HTML body), writes them as a UTF-8 CSV and a
GB18030 copy, then measures in one run, wall and CPU time each:

- reading alone: ``read_rows`` on the UTF-8 file (decoding and CSV parsing);
- the import of the UTF-8 file into an empty library (every row created: items, credits, tags, search outbox);
- the same file again (every row unchanged: what a nightly re-import costs);
- the GB18030 copy under another source (created again, through the GB18030 decoder);
- the reference: the same rows' columns inserted raw into a scratch table (``executemany`` in one transaction
  on SQLite, ``COPY`` on PostgreSQL), no validation, no related rows.

It prints rows/s for each and import ÷ reference. Aim (issue 4): 100,000 CSV rows at ≥ 1,000 rows/s on
PostgreSQL.

Database: PostgreSQL when ``DATABASE_URL`` is set (a fresh ``lighthouse_bench`` database beside the one it names,
dropped at the end), else SQLite in a temporary var/. ``--rows 5000`` is a quick check.
"""

import argparse
import csv
import io
import os
import random
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import ROOT, SERVICE_VARIABLES, cores, load, measure, ratio, remove_at_exit

BENCH_DATABASE = "lighthouse_bench"
SETTINGS = "cms.settings.dev"
COLUMNS = [
    "external_id", "kind", "title", "subtitle", "creators", "publisher", "issued", "isbn", "clc", "tags",
    "summary", "body", "access", "language",
]  # fmt: skip
CLC_CODES = ["D2", "D26", "D261.4", "A81", "K27", "I242.4", "I246.57", "F32", "G25", "TP3", "S5", "R1"]
AIM_ROWS_PER_SECOND = 1000


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


def setup_django(var: Path, database_url: str | None) -> None:
    """A private var/, no services; the bench database when PostgreSQL is configured."""
    for key in SERVICE_VARIABLES:
        os.environ.pop(key, None)
    os.environ.update(LIGHTHOUSE_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE=SETTINGS)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # as in production: no per-query logging and no list of every query in memory
    call_command("migrate", verbosity=0)


def bench_unit():
    from cms.models import OrgUnit
    from cms.services import org_unit_create

    existing = OrgUnit.objects.filter(code="bench").first()
    return existing or org_unit_create(parent=None, name="基准测试单位", code="bench", level=OrgUnit.Level.PROVINCE)


# -- the rows ---------------------------------------------------------------------------------------------------


def isbn13(n: int) -> str:
    body = f"9787{n:08d}"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))) % 10
    return body + str(check)


def generate_csv(count: int) -> str:
    from library.management.generator import SURNAMES, synthetic_poems

    rng = random.Random(1)
    poems = synthetic_poems(seed=1)
    tags = [f"主题{n:03d}" for n in range(200)]
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(COLUMNS)
    for n in range(count):
        poem = next(poems)
        translator = rng.choice(SURNAMES) + rng.choice(SURNAMES)
        writer.writerow(
            [
                f"bench-{n:07d}",
                rng.choice(("ebook", "article", "audio")),
                f"{poem.title}（{n}）",
                poem.collection,
                f"{poem.author} 著；{translator} 译",
                "灯塔出版社",
                f"{rng.randint(1950, 2026)}-{rng.randint(1, 12):02d}",
                isbn13(n),
                rng.choice(CLC_CODES),
                "；".join(rng.sample(tags, 3)),
                poem.paragraphs[0],
                "".join(f"<p>{line}</p>" for line in poem.paragraphs),
                "public" if rng.random() < 0.85 else "members",
                "zh",
            ]
        )
    return stream.getvalue()


# -- measuring --------------------------------------------------------------------------------------------------


def reference_insert(path: Path) -> int:
    """The rows' columns straight into a scratch table: the database's own cost of taking this many rows."""
    from django.db import connection, transaction

    from library.imports.readers import read_rows

    rows, _encoding = read_rows(data=path.read_bytes(), file_format="csv")
    values = [[row.values.get(column, "") for column in COLUMNS] for row in rows]
    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_scratch")
        cursor.execute(f"CREATE TABLE bench_scratch ({', '.join(f'{c} text' for c in COLUMNS)})")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY bench_scratch ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join("%s" for _column in COLUMNS)
            cursor.executemany(f"INSERT INTO bench_scratch ({columns}) VALUES ({marks})", values)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_scratch")
        (count,) = cursor.fetchone()
        cursor.execute("DROP TABLE bench_scratch")
    return count


def timed_import(label: str, path: Path, *, source: str, unit, count: int) -> float:
    from library.imports.importer import import_file

    with measure() as cost:
        batch = import_file(path=path, file_format="csv", source=source, unit=unit)
    per_second = count / cost.wall
    print(
        f"{label:34} {cost} {per_second:8.0f} rows/s ({count / cost.cpu:.0f} per CPU-s)"
        f"  (state {batch.state}, encoding {batch.encoding}: created"
        f" {batch.created}, updated {batch.updated}, unchanged {batch.unchanged}, rejected {batch.rejected})",
        flush=True,
    )
    if batch.rejected or batch.state != "done":
        print(f"  unexpected: {batch.error or batch.report[:3]}")
    return per_second


def machine(count: int) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        version = " ".join(cursor.fetchone()[0].split()[:2])
    database = (
        f"PostgreSQL ({version}, database {BENCH_DATABASE})"
        if connection.vendor == "postgresql"
        else (f"SQLite {version}")
    )
    return f"machine: {cores()} cores, load average {load()}; {database}; {count} rows"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_IMPORT_ROWS", 100_000)))
    count = parser.parse_args().rows
    configured = os.environ.get("DATABASE_URL", "")
    var = remove_at_exit(Path(tempfile.mkdtemp(prefix="bench-import-")))
    database_url = postgres_bench_url(configured) if configured else None
    try:
        setup_django(var, database_url)
        print(machine(count), flush=True)
        from library.imports.readers import read_rows

        text = generate_csv(count)
        utf8, gb = var / "items-utf8.csv", var / "items-gb18030.csv"
        utf8.write_bytes(text.encode("utf-8"))
        gb.write_bytes(text.encode("gb18030"))
        print(f"files: UTF-8 {utf8.stat().st_size / 1e6:.1f} MB, GB18030 {gb.stat().st_size / 1e6:.1f} MB")
        unit = bench_unit()
        with measure() as cost:
            read_rows(data=utf8.read_bytes(), file_format="csv")
        print(f"{'reading alone (UTF-8)':34} {cost} {count / cost.wall:8.0f} rows/s", flush=True)
        with measure() as cost:
            inserted = reference_insert(utf8)
        reference = inserted / cost.wall
        print(f"{'reference: raw insert':34} {cost} {reference:8.0f} rows/s", flush=True)
        created = timed_import("import UTF-8 (all new)", utf8, source="bench-utf8", unit=unit, count=count)
        again = timed_import("re-import UTF-8 (all unchanged)", utf8, source="bench-utf8", unit=unit, count=count)
        gb_rate = timed_import("import GB18030 (all new)", gb, source="bench-gb18030", unit=unit, count=count)
        print()
        for label, rate in (("new", created), ("unchanged", again), ("GB18030 new", gb_rate)):
            met = "met" if rate >= AIM_ROWS_PER_SECOND else "NOT met"
            print(
                f"{label:14} {rate:8.0f} rows/s = {ratio(rate, reference):.3f}× the raw insert;"
                f" aim ≥ {AIM_ROWS_PER_SECOND} rows/s: {met}"
            )
        print(f"load average at the end: {load()}")
    finally:
        if database_url:
            from django.db import connections

            connections.close_all()
            postgres_drop(configured)


if __name__ == "__main__":
    main()
