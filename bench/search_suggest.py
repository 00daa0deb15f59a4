"""Suggestions and "did you mean"'s pinyin look-up on the embedded index at 300,000 documents, before and after
suggestions were ranked by match class (``embedded.SUGGESTION_CLASSES``) and PostgreSQL got the indexes they walk
(migration search 0007) and the narrow suggestion table (0008), and what those cost the drain's upserts.

``BENCH_SEARCH_DOCS`` poems of chinese-poetry (default 300,000) become index rows the way the drain makes them
(``search_common.write_index_rows``: ``COPY`` on PostgreSQL, one ``executemany`` per slice on SQLite; not timed),
then ``ANALYZE``. Asked, with a fixed seed:

- suggestions (limit 10) for ``BENCH_SEARCH_QUERIES`` prefixes (default 400): 1–3 characters of a title (40 %),
  the full pinyin of its first one or two characters (30 %), the initials of its first 2–4 (30 %);
- ``EmbeddedEngine.pinyin_titles`` (limit 5, "did you mean") for as many spellings: the full pinyin of 2–4
  characters of a title (60 %, what a Chinese query with a homophone typo asks), or one or two syllables or three
  initials (40 %, a pinyin query);

anonymous and member audiences in turn. Both sides run on the same rows in the same run, each after a warm-up:
**before** (the reference), without 0007 and 0008, both read from the index table as they were: suggestions
ranked by ``ts_rank`` of every title or pinyin match, then length (``suggest_before``), the look-up shortest title
first, then ``ts_rank`` (``pinyin_titles_before``); **after**, with them, ``EmbeddedEngine.suggest`` and
``pinyin_titles``. Then the drain's write: ``DRAIN_DOCS`` (10,000) documents already indexed are upserted again
with changed titles, slices of 1,000 in one transaction each, with and without 0007 and 0008, in alternating order.
Prints p50/p95 (suggestions also per kind of prefix) with the aim (p95 ≤ 30 ms on PostgreSQL at 300,000) and the
upserts' docs/s with and without.

Database: PostgreSQL when ``DATABASE_URL`` is set (a fresh database beside it, dropped at the end), else SQLite in
a temporary var/ (no indexes to compare: only the ranking changes between the sides).
"""

import importlib
import os
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_library_pages import percentile
from bench_transcode_common import cores, load
from search_common import (
    CJK_RUN,
    chunks,
    database_name,
    document_count,
    full_pinyin,
    initials,
    poetry_documents,
    start,
    title_prefix,
    write_index_rows,
)

SEED = 11
WARM_UP = 20
AIM_MS = 30
DRAIN_DOCS = 10_000
DRAIN_SLICE = 1_000
MIGRATIONS = ("search.migrations.0007_suggestion_classes", "search.migrations.0008_suggest_table")


# -- what is asked ----------------------------------------------------------------------------------------------


def asked(documents: list, count: int) -> tuple[list[tuple[str, str]], list[str]]:
    """((kind, suggestion prefix), pinyin look-ups), `count` of each, from titles chosen with a fixed seed."""
    rng = random.Random(SEED)
    titles = [document.title for document in rng.sample(documents, count * 4) if CJK_RUN.search(document.title)]
    prefixes, lookups = [], []
    for title in titles[:count]:
        roll = rng.random()
        kind = "characters" if roll < 0.4 else "pinyin" if roll < 0.7 else "initials"
        prefixes.append((kind, title_prefix(rng, title, kind)))
    for title in titles[count:]:
        run, roll = CJK_RUN.search(title).group(), rng.random()
        if roll < 0.6:
            spelling = full_pinyin(run[: rng.choice((2, 3, 4))])
        elif roll < 0.8:
            spelling = full_pinyin(run[: rng.choice((1, 2))])
        else:
            spelling = initials(run[:3])
        if len(spelling) >= 2 and len(lookups) < count:
            lookups.append(spelling)
    return prefixes, lookups


# -- before: suggestions ranked as they were ----------------------------------------------------------------------


def _before(sql: str, params: list, *, limit: int, key) -> list[tuple]:
    """The rows of `sql` (ending in LIMIT %s OFFSET %s), each `key(row)` once, a few pages at most."""
    from search.engines import embedded

    found: dict = {}
    for page in range(4):
        rows = embedded._fetch(sql, params + [limit * 4, page * limit * 4])
        for row in rows:
            found.setdefault(key(row), row)
        if len(found) >= limit or len(rows) < limit * 4:
            break
    return list(found.values())[:limit]


def _ranked_titles(ask, audience, order: str) -> tuple[str, list]:
    """Titles matching `ask` in the index table (title terms or pinyin), ranked by ts_rank of the title vector."""
    from search.engines import embedded

    t, where = embedded._T, embedded._where_sql(embedded._visible_q(audience))
    query = embedded._pg_either(embedded._pg_text(ask, "A"), embedded._pg_pinyin(ask))
    sql = (
        f"SELECT title, url, creators FROM (SELECT {t}.title AS title, {t}.url AS url, {t}.creators AS creators, "
        f"150.0 * ts_rank('{{0, 0, 0.2, 1}}', {t}.title_vector, to_tsquery('simple', %s)) AS score, "
        f"{t}.boost AS boost, {t}.date AS date_order FROM {t} "
        f"WHERE {t}.title_vector @@ to_tsquery('simple', %s) AND ({where[0]})) ranked "
        f"ORDER BY {order} LIMIT %s OFFSET %s"
    )
    return sql, [query, query, *where[1]]


def suggest_before(parsed, audience, *, limit: int) -> list[tuple[str, str]]:
    """The reference: (title, url) as suggestions were found before match classes — every title or pinyin match
    ranked (ts_rank), best first, then the shorter title, boost, the newer; each title once."""
    from search.engines import embedded

    ask = embedded._suggest_ask(parsed)
    if ask.empty:
        return []
    order = "score DESC, length(title) ASC, boost DESC, date_order DESC NULLS LAST"
    sql, params = _ranked_titles(ask, audience, order)
    return [(row[0], row[1]) for row in _before(sql, params, limit=limit, key=lambda row: row[0])]


def pinyin_titles_before(spelling: str, audience, *, limit: int) -> list[str]:
    """The reference look-up: the pinyin matches in the index table, shortest title first, then ts_rank."""
    from search.engines import embedded

    ask = embedded._Ask((), (), spelling, title_only=True)
    order = "length(title) ASC, score DESC, boost DESC, date_order DESC NULLS LAST"
    sql, params = _ranked_titles(ask, audience, order)
    rows = _before(sql, params, limit=limit, key=embedded._title_and_creators)
    return [embedded._title_and_creators(row) for row in rows]


def calls(prefixes: list[tuple[str, str]], lookups: list[str]) -> dict[str, dict[bool, list]]:
    """label → {after?: one zero-argument call per sample}."""
    from search.engines.analysis import parse_query
    from search.engines.embedded import EmbeddedEngine
    from search.engines.results import Audience

    engine = EmbeddedEngine()
    audiences = (Audience(), Audience(levels=("public", "members"), all_units=True))

    def suggest(prefix, audience, after):
        if after:
            return [(s.text, s.url) for s in engine.suggest(parse_query(prefix), audience, limit=10)]
        return suggest_before(parse_query(prefix), audience, limit=10)

    return {
        "suggest": {
            after: [
                lambda p=prefix, a=audiences[n % 2], after=after: suggest(p, a, after)
                for n, (_kind, prefix) in enumerate(prefixes)
            ]
            for after in (False, True)
        },
        "pinyin look-up": {
            after: [
                lambda p=spelling, a=audiences[n % 2], after=after: (
                    engine.pinyin_titles(p, a, limit=5) if after else pinyin_titles_before(p, a, limit=5)
                )
                for n, spelling in enumerate(lookups)
            ]
            for after in (False, True)
        },
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


# -- with and without the indexes -------------------------------------------------------------------------------


def _postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def indexes_present(present: bool) -> None:
    """Make (or drop) what migrations 0007 (indexes) and 0008 (the suggestion table, filled from the index) add on
    PostgreSQL, then ANALYZE (an expression index has statistics)."""
    from django.db import connection

    if _postgres():
        with connection.cursor() as cursor:
            for name in MIGRATIONS if present else reversed(MIGRATIONS):
                migration = importlib.import_module(name)
                for statement in migration.FORWARD if present else migration.BACKWARD:
                    cursor.execute(statement)
            cursor.execute("ANALYZE search_indexentry")


def both_sides(plan: dict[str, dict[bool, list]]) -> tuple[dict[str, dict[bool, list[float]]], dict[str, list]]:
    """Milliseconds per call, per label and side (before, then after), and the answers after."""
    figures: dict[str, dict[bool, list[float]]] = {}
    answers: dict[str, dict[bool, list]] = {}
    for after in (False, True):
        indexes_present(after)
        for label, sides in plan.items():
            figures.setdefault(label, {})[after], answers.setdefault(label, {})[after] = timed(sides[after])
    return figures, {label: sides[True] for label, sides in answers.items()}


def upserts(documents: list) -> dict[bool, float]:
    """Seconds to upsert DRAIN_DOCS indexed documents again (changed titles), with and without the indexes."""
    from django.db import transaction

    from search.engines.embedded import EmbeddedEngine

    engine, spent = EmbeddedEngine(), {True: 0.0, False: 0.0}
    order = ((True, False), (False, True)) if _postgres() else ((True,), (True,))
    for round_, sides in enumerate(order, start=1):
        for present in sides:
            indexes_present(present)
            changed = [replace(document, title=document.title + "·" * round_) for document in documents[:DRAIN_DOCS]]
            began = time.perf_counter()
            for chunk in chunks(changed, DRAIN_SLICE):
                with transaction.atomic():
                    engine.index(chunk)
            spent[present] += time.perf_counter() - began
    indexes_present(True)
    return spent


# -- report -----------------------------------------------------------------------------------------------------


def _p50_p95(spent: list[float]) -> str:
    return f"{percentile(spent, 0.5):7.1f} {percentile(spent, 0.95):7.1f}"


def report(figures, kinds: list[str], drain: dict[bool, float], count: int) -> None:
    print(f"\n{count:,} documents ({database_name()}), ms        {'p50':>7} {'p95':>7}   aim p95 ≤ {AIM_MS} ms")
    for label, sides in figures.items():
        for after, spent in sides.items():
            side = "after" if after else "before"
            met = ("met" if percentile(spent, 0.95) <= AIM_MS else "NOT met") if after else ""
            print(f"  {label + ', ' + side + f' ({len(spent)})':40} {_p50_p95(spent)}   {met}")
            if label == "suggest":
                for kind in dict.fromkeys(kinds):
                    mine = [ms for ms, k in zip(spent, kinds, strict=True) if k == kind]
                    print(f"    {kind + f' ({len(mine)})':38} {_p50_p95(mine)}")
    rounds = 2
    print(f"\nupserting {DRAIN_DOCS:,} indexed documents again ({DRAIN_SLICE:,} per transaction), {rounds} rounds:")
    for present, seconds in drain.items():
        if seconds:
            side = ("with 0007 and 0008" if present else "without them") if drain[False] else "as it is"
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
    write_index_rows(documents)
    print(f"{count:,} index rows written in {time.perf_counter() - began:.0f} s (not measured)", flush=True)
    prefixes, lookups = asked(documents, n)
    figures, _answers = both_sides(calls(prefixes, lookups))
    drain = upserts(documents)
    report(figures, [kind for kind, _prefix in prefixes], drain, count)
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
