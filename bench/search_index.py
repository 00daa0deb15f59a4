"""Bulk indexing rate: our pipeline against a raw ``_bulk`` of the same JSON on the same OpenSearch node.

``BENCH_SEARCH_DOCS`` poems of chinese-poetry (default 300,000; ``BENCH_SEARCH_DOCS=20000`` for a quick check) are
read into ``SearchDocument``s first (not timed: a rebuild reads them from the database, which is not what this
measures). Then, in one run:

- warm-up: 2,000 documents through the pipeline into a throwaway index (the JVM, analysers, Python dictionaries);
- pipeline: ``index(chunk, index=…)`` of the cluster engine into an index made by its ``create_index()``, in
  chunks of 500, as ``search_rebuild`` does (our analysis in Python: folding, rjieba words, pinyin; the bodies;
  opensearch-py's bulk helper), then a refresh. Every ``_bulk`` request it sends is recorded as sent;
- raw: each recorded ``_bulk`` request body sent again with the client right after the pipeline sent it,
  unchanged but for the index name, into an index with the same settings and mappings (made before the timing,
  like the pipeline's), then a refresh: what the node itself needs for the same documents. The two take turns
  chunk by chunk, so the machine's other load falls on both alike;
- the embedded index (SQLite FTS5, or PostgreSQL full-text): ``EmbeddedEngine.index(chunk)`` in chunks of 500.

Prints docs/s for each and pipeline ÷ raw (aim ≥ 0.7), with this process's CPU time and the node's (both sides
together). Needs ``SEARCH_URL`` for the engine half (``services/up && set -a && source var/services/env && set +a``).
"""

import inspect
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import Cost, _cpu_now, cores, load, measure, ratio, verdict
from search_common import (
    RequestRecorder,
    chunks,
    database_name,
    document_count,
    engine_name,
    engine_url,
    poetry_documents,
    start,
)

CHUNK = 500  # search_rebuild's chunk size
WARM_UP = 2_000
AIM = 0.7


def node_cpu_seconds(client) -> float:
    """CPU time the engine's process(es) have used so far (one JVM may hold several nodes: counted once)."""
    stats = client.nodes.stats(metric="process")["nodes"].values()
    # Nodes sharing one JVM report the same process total: each distinct total counted once.
    return sum({node["process"]["cpu"]["total_in_millis"] for node in stats}) / 1000


def index_kwargs(engine) -> dict:
    # Writes carry an external version taken before the documents were read (see the search contract).
    return {"version": time.time_ns()} if "version" in inspect.signature(engine.index).parameters else {}


def copy_index(client, source: str, target: str) -> None:
    """An empty index with `source`'s settings and mappings (no aliases: the raw writes must not reach them)."""
    described = client.indices.get(index=source)[source]
    settings = dict(described["settings"]["index"])
    for key in ("uuid", "creation_date", "provided_name", "version", "routing", "resize", "history"):
        settings.pop(key, None)
    client.indices.create(index=target, body={"settings": {"index": settings}, "mappings": described["mappings"]})


def raw_bulk(client, requests: list[tuple], *, source: str, target: str) -> None:
    for method, url, params, body in requests:
        text = body.decode() if isinstance(body, bytes) else body
        response = client.transport.perform_request(
            method, url.replace(source, target), params=params, body=text.replace(source, target)
        )
        if response.get("errors"):
            failed = next(item for item in response["items"] if next(iter(item.values())).get("error"))
            raise RuntimeError(f"raw _bulk failed: {failed}")


def warm_up(engine, documents: list) -> None:
    name = engine.create_index()
    for chunk in chunks(documents, CHUNK):
        engine.index(chunk, index=name, **index_kwargs(engine))
    engine.admin.indices.delete(index=name)


def measure_engine(documents: list) -> dict:
    """Chunk by chunk, in turn: the pipeline indexes a chunk, then the raw side sends what it just sent, so the
    machine's other load falls on both alike; each side's refresh at the end counts for it."""
    from opensearchpy import OpenSearch

    from search.engines.choice import get_cluster_engine
    from search.engines.cluster import ADMIN_TIMEOUT

    engine = get_cluster_engine()
    client = engine.admin
    warm_up(engine, documents[:WARM_UP])
    version_kwargs = index_kwargs(engine)
    name = engine.create_index()
    target = f"{name}-raw"
    copy_index(client, name, target)
    # The raw side's own client (not the recorded one): the same hosts, its own connections.
    raw_client = OpenSearch(hosts=engine.nodes, timeout=ADMIN_TIMEOUT)
    ours, raw, cpu_before = Tally(), Tally(), node_cpu_seconds(client)
    with RequestRecorder(client, "/_bulk") as recorder:
        for chunk in chunks(documents, CHUNK):
            sent = len(recorder.requests)
            with ours.timing():
                engine.index(chunk, index=name, **version_kwargs)
            with raw.timing():
                raw_bulk(raw_client, recorder.requests[sent:], source=name, target=target)
    with ours.timing():
        client.indices.refresh(index=name)
    with raw.timing():
        raw_client.indices.refresh(index=target)
    node_cpu = node_cpu_seconds(client) - cpu_before
    counts = [client.count(index=index)["count"] for index in (name, target)]
    if counts != [len(documents)] * 2:
        raise RuntimeError(f"indexed {counts}, expected {len(documents)} in each")
    return {
        "pipeline": ours,
        "raw": raw,
        "node_cpu": node_cpu,
        "requests": len(recorder.requests),
        "megabytes": sum(len(request[3]) for request in recorder.requests) / 1e6,
    }


class Tally(Cost):
    """Wall and CPU time (this process and the processes it started and reaped, e.g. a rebuild's reading processes)
    added up over many blocks."""

    @contextmanager
    def timing(self):
        wall, cpu = time.perf_counter(), _cpu_now()
        try:
            yield
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += _cpu_now() - cpu


def measure_embedded(documents: list):
    from search.engines.embedded import EmbeddedEngine
    from search.models import IndexEntry

    engine = EmbeddedEngine()
    with measure() as cost:
        for chunk in chunks(documents, CHUNK):
            engine.index(chunk)
    if IndexEntry.objects.count() != len(documents):
        raise RuntimeError(f"embedded index holds {IndexEntry.objects.count()}, expected {len(documents)}")
    return cost


def row(label: str, cost: Cost, count: int) -> str:
    return f"{label:52} {cost.wall:7.1f}s {cost.cpu:8.1f}s {count / cost.wall:8.0f}"


def report(count: int, engine: dict | None, embedded: Cost) -> None:
    heading = f"indexing {count:,} documents"
    print(f"\n{heading:52} {'wall':>8} {'CPU here':>9} {'docs/s':>8}")
    if engine:
        print(row("pipeline: engine.index() in chunks of 500", engine["pipeline"], count))
        print(row("raw: the same _bulk bodies, sent with the client", engine["raw"], count))
    print(row(f"embedded index ({database_name()})", embedded, count))
    if engine:
        value = ratio(engine["raw"].wall, engine["pipeline"].wall)
        print(
            f"\npipeline ÷ raw (docs/s): {value:.2f}×, {verdict(value, at_least=AIM)}; the node used "
            f"{engine['node_cpu']:.1f} CPU-s for both; {engine['requests']} _bulk requests each, "
            f"{engine['megabytes']:.0f} MB of JSON"
        )
    else:
        print("\nengine half skipped: SEARCH_URL is unset (services/up, then source var/services/env)")


def main() -> None:
    count = document_count()
    url = engine_url()
    start(prefix="bench-search-index")
    print(f"machine: {cores()} cores, load average {load()}; {database_name()}; {engine_name(url)}")
    with measure() as reading:
        documents = poetry_documents(count)
    print(f"read {count:,} poems in {reading.wall:.1f} s (not part of any figure)", flush=True)
    engine = measure_engine(documents) if url else None
    embedded = measure_embedded(documents)
    report(count, engine, embedded)
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
