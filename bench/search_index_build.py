"""Index builds after an import: the outbox drain into the embedded index beside a raw insert of the same rows into
the same FTS table, and (with ``SEARCH_URL``) ``search_rebuild`` on the engine beside a raw ``_bulk`` of the same
documents.

``BENCH_SEARCH_DOCS`` library items (default 30,000) are made by the library generator's ``synthetic`` source (no
network; every kind, series, serials with issues and articles, tags, credits) and not timed. Then, slice by slice
(``SLICE`` items), the two sides take turns so the machine's other load falls on both alike:

- raw: the slice's documents (read beforehand, not timed) tokenised the same way (``embedded._entry``: the same
  terms, title key, pinyin) and inserted with one plain ``INSERT`` ``executemany`` into ``search_indexentry``, whose
  triggers fill the FTS5 table (SQLite) or whose generated tsvector columns and GIN indexes are filled (PostgreSQL);
  then those rows are deleted again (not timed);
- drain: ``search_documents_changed`` for the slice (as an import records it), then ``search_outbox_drain_all()``:
  reading the items with their joins and prefetches, ``to_document``, tokenising, the upsert, the outbox bookkeeping.

Prints docs/s for each, drain ÷ raw (aim ≥ 0.5), and what the drain rate means for an import of 1,000 rows/s (aim:
lag under a minute). With ``SEARCH_URL`` the drain also writes to the engine (as in production), and the engine
half runs: ``search_rebuild(embedded=False)`` with every ``_bulk`` it sends recorded, then the same request bodies
sent again raw into an index with the same settings, then a refresh each (aim ≥ 0.7); each side twice, in the order
rebuild, raw, raw, rebuild (what the node still does after the drain falls on both alike). Without ``SEARCH_URL`` the
engine half is skipped with a message.

Then suggestions on the full index: p50/p95 of ``suggest`` for the commonest title characters and bigrams and
pinyin prefixes, and of ``pinyin_titles`` (aim p95 ≤ 30 ms on PostgreSQL at 300,000 documents:
``BENCH_SEARCH_DOCS=300000``; `search_suggest.py` measures it against the references).

Database: PostgreSQL when ``DATABASE_URL`` is set (a fresh database beside it, dropped at the end), else SQLite in
a temporary var/.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import Cost, cores, load, measure, ratio, verdict
from search_common import RequestRecorder, database_name, document_count, engine_name, engine_url, start
from search_index import Tally, raw_bulk

SLICE = 2_000
DRAIN_AIM = 0.5
REBUILD_AIM = 0.7
IMPORT_RATE = 1_000  # rows/s the drain must keep up with
ISSUE_IMPORT = 343_627  # the import of the issue
LAG_AIM = 60  # seconds the index may trail that import when it ends


def generate(count: int) -> list[int]:
    from cms.models import OrgUnit
    from cms.services import org_unit_create
    from library.management.generator import library_generate
    from library.models import LibraryItem

    if not OrgUnit.objects.exists():
        org_unit_create(parent=None, name="基准测试单位", code="bench", level=OrgUnit.Level.PROVINCE)
    library_generate(count=count, source="synthetic")
    return list(LibraryItem.objects.order_by("pk").values_list("pk", flat=True))


def raw_insert(documents: list) -> tuple[Cost, Cost]:
    """(tokenising, inserting) the documents as plain rows of the same table; the rows are removed afterwards."""
    from django.db import connection, transaction
    from django.utils import timezone

    from search.engines.embedded import _T, _UPDATED, _entry
    from search.models import IndexEntry

    tokenise, insert = Tally(), Tally()
    names = ("doc_id", *_UPDATED)
    fields = [IndexEntry._meta.get_field(name) for name in names]
    columns = ", ".join(connection.ops.quote_name(name) for name in names)
    sql = f"INSERT INTO {_T} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
    with tokenise.timing():
        entries = [_entry(document) for document in documents]
        now = timezone.now()
        rows = []
        for entry in entries:
            entry.indexed_at = now
            rows.append([field.get_db_prep_save(getattr(entry, field.attname), connection) for field in fields])
    with insert.timing(), transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    IndexEntry.objects.filter(doc_id__in=[document.doc_id for document in documents]).delete()
    return tokenise, insert


def drain(pks: list[int]) -> tuple[Tally, int]:
    from django.db import transaction

    from search.services import search_documents_changed, search_outbox_drain_all

    with transaction.atomic():
        search_documents_changed(model_label="library.libraryitem", pks=pks)
    cost = Tally()
    with cost.timing():
        done = search_outbox_drain_all()
    return cost, done


def measure_embedded(pks: list[int]) -> dict:
    from search import registry
    from search.models import IndexEntry

    tokenise, insert, drained, raw_docs, done = Tally(), Tally(), Tally(), 0, 0
    for start_at in range(0, len(pks), SLICE):
        chunk = pks[start_at : start_at + SLICE]
        lookup = registry.documents_for("library.libraryitem", chunk)
        documents = [document for document in lookup.documents.values() if document is not None]
        raw_docs += len(documents)
        spent_tokenising, spent_inserting = raw_insert(documents)
        tokenise += spent_tokenising
        insert += spent_inserting
        spent, count = drain(chunk)
        drained += spent
        done += count
        print(f"  {start_at + len(chunk):,} of {len(pks):,}", flush=True)
    indexed = IndexEntry.objects.count()
    if indexed != raw_docs:
        raise RuntimeError(f"the drain indexed {indexed} documents, the raw side {raw_docs}")
    return {"tokenise": tokenise, "insert": insert, "drain": drained, "documents": raw_docs, "items": done}


def measure_engine() -> dict:
    """search_rebuild onto the engine alone, recorded, and the same _bulk bodies raw into a like index: twice each,
    in the order rebuild, raw, raw, rebuild, so that what the node still does after the drain's writes (merges, its
    JIT warming up) falls on both sides alike. Each raw index is dropped after it is counted."""
    from search.engines.choice import get_cluster_engine
    from search.services import search_rebuild

    engine = get_cluster_engine()
    client = engine.admin
    rebuild, raw, counts = Tally(), Tally(), []
    with RequestRecorder(client, "/_bulk") as recorder, rebuild.timing():
        counts.append(search_rebuild(embedded=False))
    (name,) = engine.indices_behind_alias()
    for turn in (1, 2):
        raw_into(engine, recorder.requests, source=name, target=f"{name}-raw{turn}", cost=raw, count=counts[0])
    with rebuild.timing():
        counts.append(search_rebuild(embedded=False))
    if counts[0] != counts[1]:
        raise RuntimeError(f"the two rebuilds indexed {counts}")
    return {"rebuild": rebuild, "raw": raw, "count": counts[0], "requests": len(recorder.requests)}


def raw_into(engine, requests: list, *, source: str, target: str, cost: Tally, count: int) -> None:
    """The recorded _bulk bodies sent raw into a new index like the rebuild's, then its refresh (timed), counted."""
    from search.engines import bodies

    client = engine.admin
    body = bodies.index_body(target, shards=engine.shards, replicas=engine.replicas, building=True)
    client.indices.create(index=target, body=body)
    with cost.timing():
        raw_bulk(client, requests, source=source, target=target)
        client.indices.put_settings(index=target, body=bodies.built_settings(replicas=engine.replicas))
        client.indices.refresh(index=target)
    indexed = client.count(index=target)["count"]
    client.indices.delete(index=target)
    if indexed != count:
        raise RuntimeError(f"raw indexed {indexed}, expected {count}")


SUGGEST_AIM_MS = 30
PINYIN_QUERIES = ("dt", "zh", "sh", "xi", "li", "ho", "dang", "hong", "zhong", "shan", "jiang", "yue", "dtdk", "qing")
PINYIN_LOOKUPS = ("dangshi", "hongse", "zhongguo", "shandong", "jiangnan", "libai", "dufu", "sushi", "yimeng")


def suggest_queries() -> list[str]:
    """What members type first: the 30 commonest title characters, the 15 commonest title bigrams, pinyin."""
    from collections import Counter

    from search.engines.analysis import is_cjk
    from search.models import IndexEntry

    counts = Counter()
    for title_terms in IndexEntry.objects.values_list("title_terms", flat=True).iterator(chunk_size=2000):
        counts.update(set(title_terms.split()))
    chars = [term for term, _ in counts.most_common() if len(term) == 1 and is_cjk(term)][:30]
    pairs = [term for term, _ in counts.most_common() if len(term) == 2 and is_cjk(term)][:15]
    return [*chars, *pairs, *PINYIN_QUERIES]


def timed_calls(calls: list) -> list[float]:
    spent = []
    for call in calls:
        began = time.perf_counter()
        call()
        spent.append((time.perf_counter() - began) * 1000)
    return spent


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure_suggestions() -> tuple[list[float], list[float]]:
    """Milliseconds per call of suggestions and of pinyin look-ups ("did you mean"), anonymous and member."""
    from search.engines.analysis import parse_query
    from search.engines.embedded import EmbeddedEngine
    from search.engines.results import Audience

    engine = EmbeddedEngine()
    audiences = (Audience(), Audience(levels=("public", "members"), all_units=True))
    suggest = [
        lambda q=query, a=audience: engine.suggest(parse_query(q), a, limit=10)
        for query in suggest_queries()
        for audience in audiences
    ]
    pinyin = [
        lambda q=query, a=audience: engine.pinyin_titles(q, a, limit=5)
        for query in PINYIN_LOOKUPS + PINYIN_QUERIES
        for audience in audiences
    ]
    for call in suggest + pinyin:  # warm-up: the database's caches, the analysis dictionaries
        call()
    return timed_calls(suggest), timed_calls(pinyin)


def report_suggestions(figures: tuple[list[float], list[float]], count: int) -> None:
    print(f"\nsuggestions at {count:,} documents ({database_name()}), ms   {'p50':>7} {'p95':>7}")
    for label, spent in zip(("suggest", "pinyin look-up"), figures, strict=True):
        print(f"  {label + f' ({len(spent)} calls)':48} {sorted(spent)[len(spent) // 2]:7.1f} {p95(spent):7.1f}")
    worst = max(p95(spent) for spent in figures)
    print(
        f"p95 ≤ {SUGGEST_AIM_MS} ms: {'met' if worst <= SUGGEST_AIM_MS else 'NOT met'} (aim for PostgreSQL at 300,000)"
    )


def row(label: str, cost: Cost, count: int) -> str:
    return f"{label:58} {cost.wall:7.1f}s {cost.cpu:8.1f}s {count / cost.wall if cost.wall else 0:8.0f}"


def report_embedded(figures: dict) -> None:
    count = figures["documents"]
    reference = figures["tokenise"] + figures["insert"]
    heading = f"embedded index, {count:,} documents ({database_name()})"
    print(f"\n{heading:58} {'wall':>8} {'CPU here':>9} {'docs/s':>8}")
    print(row("raw: tokenise (same terms) + plain INSERT executemany", reference, count))
    print(row("  of which the INSERT alone (triggers / GIN)", figures["insert"], count))
    print(row("drain: outbox entries → search_outbox_drain_all()", figures["drain"], count))
    value = ratio(reference.wall, figures["drain"].wall)
    print(f"\ndrain ÷ raw (docs/s): {value:.2f}×, {verdict(value, at_least=DRAIN_AIM)}")
    print(f"drain ÷ the INSERT alone: {ratio(figures['insert'].wall, figures['drain'].wall):.2f}× (no aim)")
    rate = count / figures["drain"].wall
    cpu_rate = count / figures["drain"].cpu if figures["drain"].cpu else 0
    print(f"drain per CPU-second of this process: {cpu_rate:,.0f} docs (what one idle core gives on SQLite)")
    if rate > IMPORT_RATE:
        batch_seconds = 1_000 / rate  # one drain batch of 1,000 documents
        print(
            f"at {IMPORT_RATE:,} rows/s the drain ({rate:,.0f} docs/s) keeps up: lag stays about one batch "
            f"(~{batch_seconds + 1:.0f} s with the queue's pickup), aim < 60 s: met"
        )
    else:
        lag = ISSUE_IMPORT / rate - ISSUE_IMPORT / IMPORT_RATE
        met = "met" if lag < LAG_AIM else "NOT met on this machine"
        print(
            f"at {IMPORT_RATE:,} rows/s the drain ({rate:,.0f} docs/s) falls behind: after {ISSUE_IMPORT:,} rows "
            f"the lag is {lag:,.0f} s, aim < {LAG_AIM} s: {met}"
        )


def report_engine(figures: dict | None) -> None:
    if figures is None:
        print("\nengine rebuild skipped: SEARCH_URL is unset (services/up, then source var/services/env)")
        return
    count = figures["count"]
    print(f"\n{'engine, ' + format(count, ',') + ' documents':58} {'wall':>8} {'CPU here':>9} {'docs/s':>8}")
    print("  (CPU here: this process and the rebuild's reading processes, not the node's)")
    print("  (each side twice, in the order rebuild, raw, raw, rebuild; the times are the sums)")
    print(row("search_rebuild(embedded=False)", figures["rebuild"], 2 * count))
    print(row(f"raw: the same {figures['requests']} _bulk bodies, then refresh", figures["raw"], 2 * count))
    value = ratio(figures["raw"].wall, figures["rebuild"].wall)
    print(f"\nrebuild ÷ raw _bulk (docs/s): {value:.2f}×, {verdict(value, at_least=REBUILD_AIM)}")


def main() -> None:
    count = document_count(30_000)
    url = engine_url()
    start(prefix="bench-search-build")
    print(f"machine: {cores()} cores, load average {load()}; {database_name()}; {engine_name(url)}")
    with measure() as making:
        pks = generate(count)
    print(f"generated {len(pks):,} library items in {making.wall:.1f} s (not part of any figure)", flush=True)
    started = time.perf_counter()
    embedded = measure_embedded(pks)
    engine = measure_engine() if url else None
    suggestions = measure_suggestions()
    report_embedded(embedded)
    report_engine(engine)
    report_suggestions(suggestions, embedded["documents"])
    print(f"\nload average at the end: {load()}; {time.perf_counter() - started:.0f} s measuring")


if __name__ == "__main__":
    main()
