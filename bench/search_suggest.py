"""Suggestions and pinyin look-ups on the embedded index at 300,000 documents, each timed with and without the
PostgreSQL index made for them (migration search 0006, a btree on ``length(title)``), and what that index costs
the drain's upserts.

``BENCH_SEARCH_DOCS`` poems of chinese-poetry (default 300,000) become index rows the way the drain makes them
(``embedded._entry``: the same terms, pinyin, title key), written straight into ``search_indexentry`` (``COPY`` on
PostgreSQL, one ``executemany`` per slice on SQLite; neither timed); then ``ANALYZE``. Asked, with a fixed seed:

- ``EmbeddedEngine.suggest`` (limit 10) for ``BENCH_SEARCH_QUERIES`` prefixes (default 400): 1–3 characters of a
  title (40 %), the full pinyin of its first one or two characters (30 %), the initials of its first 2–4 (30 %);
- ``EmbeddedEngine.pinyin_titles`` (limit 5, "did you mean") for as many spellings: the full pinyin of 2–4
  characters of a title (60 %, what a Chinese query with a homophone typo asks), or one or two syllables or three
  initials (40 %, a pinyin query);

anonymous and member audiences in turn. Each side is timed after a warm-up; on PostgreSQL the index is dropped
for the "without" side and made again, and the answers of both sides must be the same. Then the drain's write:
``DRAIN_DOCS`` (10,000) documents already indexed are upserted again with changed titles, slices of 1,000 in one
transaction each, with and without the index, in alternating order. Prints p50/p95 with the aim (p95 ≤ 30 ms
on PostgreSQL at 300,000) and the upserts' docs/s with and without.

Database: PostgreSQL when ``DATABASE_URL`` is set (a fresh database beside it, dropped at the end), else SQLite in
a temporary var/ (no index to compare: both sides are the same).
"""

import importlib
import os
import random
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import cores, load
from search_common import chunks, database_name, document_count, poetry_documents, start

SEED = 11
WARM_UP = 20
AIM_MS = 30
DRAIN_DOCS = 10_000
DRAIN_SLICE = 1_000
INDEX = "search_indexentry_title_length_expr"
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


# -- the index rows ---------------------------------------------------------------------------------------------


def _rows(documents: list) -> tuple[str, list[list]]:
    from django.db import connection
    from django.utils import timezone

    from search.engines.embedded import _UPDATED, _entry
    from search.models import IndexEntry

    names = ("doc_id", *_UPDATED)
    fields = [IndexEntry._meta.get_field(name) for name in names]
    now, rows = timezone.now(), []
    for document in documents:
        entry = _entry(document)
        entry.indexed_at = now
        rows.append([field.get_db_prep_save(getattr(entry, field.attname), connection) for field in fields])
    return ", ".join(connection.ops.quote_name(name) for name in names), rows


def load_rows(documents: list) -> None:
    """The drain's rows for `documents`, written without the drain (its reads and outbox are not what is measured)."""
    from django.db import connection, transaction

    from search.engines.embedded import _T

    for chunk in chunks(documents, 5_000):
        columns, rows = _rows(chunk)
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {_T} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(f"INSERT INTO {_T} ({columns}) VALUES ({', '.join(['%s'] * len(rows[0]))})", rows)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {_T}")


# -- what is asked ----------------------------------------------------------------------------------------------


def _initials(run: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(syllable[0] for syllable in lazy_pinyin(run) if syllable)


def _full(run: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(run))


def asked(documents: list, count: int) -> tuple[list[str], list[str]]:
    """(suggestion prefixes, pinyin look-ups), `count` of each, from titles chosen with a fixed seed."""
    rng = random.Random(SEED)
    runs = [run for document in rng.sample(documents, count * 4) for run in _CJK_RUN.findall(document.title)[:1]]
    prefixes, lookups = [], []
    for run in runs[:count]:
        roll = rng.random()
        if roll < 0.4:
            prefixes.append(run[: rng.choice((1, 2, 3))])
        elif roll < 0.7:
            prefixes.append(_full(run[: rng.choice((1, 2))]))
        else:
            prefixes.append(_initials(run[: rng.choice((2, 3, 4))]))
    for run in runs[count:]:
        roll = rng.random()
        if roll < 0.6:
            spelling = _full(run[: rng.choice((2, 3, 4))])
        elif roll < 0.8:
            spelling = _full(run[: rng.choice((1, 2))])
        else:
            spelling = _initials(run[:3])
        if len(spelling) >= 2 and len(lookups) < count:
            lookups.append(spelling)
    return prefixes, lookups


def calls(prefixes: list[str], lookups: list[str]) -> dict[str, list]:
    from search.engines.analysis import parse_query
    from search.engines.embedded import EmbeddedEngine
    from search.engines.results import Audience

    engine = EmbeddedEngine()
    audiences = (Audience(), Audience(levels=("public", "members"), all_units=True))
    return {
        "suggest": [
            lambda p=prefix, a=audiences[n % 2]: [(s.text, s.url) for s in engine.suggest(parse_query(p), a, limit=10)]
            for n, prefix in enumerate(prefixes)
        ],
        "pinyin look-up": [
            lambda p=spelling, a=audiences[n % 2]: engine.pinyin_titles(p, a, limit=5)
            for n, spelling in enumerate(lookups)
        ],
    }


def timed(samples: list) -> tuple[list[float], list]:
    """Milliseconds per call after WARM_UP calls, and every answer."""
    for call in samples[:WARM_UP]:
        call()
    spent, answers = [], []
    for call in samples:
        began = time.perf_counter()
        answers.append(call())
        spent.append((time.perf_counter() - began) * 1000)
    return spent, answers


# -- with and without the index ---------------------------------------------------------------------------------


def _postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _statement(present: bool) -> str:
    migration = importlib.import_module("search.migrations.0006_title_length_order")
    return migration.FORWARD if present else migration.BACKWARD


def index_present(present: bool) -> None:
    from django.db import connection

    if _postgres():
        with connection.cursor() as cursor:
            cursor.execute(_statement(present))
            cursor.execute("ANALYZE search_indexentry")


def lookups_both(plan: dict[str, list]) -> dict[str, dict[bool, list[float]]]:
    figures: dict[str, dict[bool, list[float]]] = {}
    sides = (True, False) if _postgres() else (True,)
    for label, samples in plan.items():
        answers = {}
        for present in sides:
            index_present(present)
            spent, answers[present] = timed(samples)
            figures.setdefault(label, {})[present] = spent
        if len(answers) == 2 and answers[True] != answers[False]:
            raise RuntimeError(f"{label}: the answers differ with and without the index")
    index_present(True)
    return figures


def upserts(documents: list) -> dict[bool, float]:
    """Seconds to upsert DRAIN_DOCS indexed documents again (changed titles), with and without the index."""
    from django.db import transaction

    from search.engines.embedded import EmbeddedEngine

    engine, spent = EmbeddedEngine(), {True: 0.0, False: 0.0}
    order = ((True, False), (False, True)) if _postgres() else ((True,), (True,))
    for round_, sides in enumerate(order, start=1):
        for present in sides:
            index_present(present)
            changed = [replace(document, title=document.title + "·" * round_) for document in documents[:DRAIN_DOCS]]
            began = time.perf_counter()
            for chunk in chunks(changed, DRAIN_SLICE):
                with transaction.atomic():
                    engine.index(chunk)
            spent[present] += time.perf_counter() - began
    index_present(True)
    return spent


# -- report -----------------------------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(figures: dict[str, dict[bool, list[float]]], drain: dict[bool, float], count: int) -> None:
    print(f"\n{count:,} documents ({database_name()}), ms       {'p50':>7} {'p95':>7}   aim p95 ≤ {AIM_MS} ms")
    for label, sides in figures.items():
        for present, spent in sides.items():
            side = ("with the index" if present else "without it (before)") if len(sides) == 2 else "as it is"
            p50, p95 = _percentile(spent, 0.5), _percentile(spent, 0.95)
            met = ("met" if p95 <= AIM_MS else "NOT met") if present else ""
            print(f"  {label + ', ' + side + f' ({len(spent)})':40} {p50:7.1f} {p95:7.1f}   {met}")
    rounds = 2
    print(f"\nupserting {DRAIN_DOCS:,} indexed documents again ({DRAIN_SLICE:,} per transaction), {rounds} rounds:")
    for present, seconds in drain.items():
        if seconds:
            side = ("with the index" if present else "without it") if drain[False] else "as it is"
            print(f"  {side:20} {seconds:6.1f} s   {rounds * DRAIN_DOCS / seconds:6.0f} docs/s")
    if drain[False]:
        print(f"  with ÷ without (docs/s): {drain[False] / drain[True]:.2f}×")


def main() -> None:
    count = document_count()
    n = int(os.environ.get("BENCH_SEARCH_QUERIES", 400))
    start(prefix="bench-search-suggest")
    print(f"machine: {cores()} cores, load average {load()}; {database_name()}", flush=True)
    documents = poetry_documents(count)
    began = time.perf_counter()
    load_rows(documents)
    print(f"{count:,} index rows written in {time.perf_counter() - began:.0f} s (not measured)", flush=True)
    prefixes, lookups = asked(documents, n)
    figures = lookups_both(calls(prefixes, lookups))
    drain = upserts(documents)
    report(figures, drain, count)
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
