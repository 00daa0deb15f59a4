"""Search latency through our JSON API, served by gunicorn, against the same query sent straight to the engine.

``BENCH_SEARCH_DOCS`` poems of chinese-poetry (default 300,000; ``BENCH_SEARCH_DOCS=20000`` for a quick check) go
into the embedded index and, when ``SEARCH_URL`` is set, into OpenSearch (an index of the benchmark's own). Two
gunicorn servers (2 sync workers each, ``cms.settings.production``) read the same database: one with the engine,
one with the embedded index only. Then ``BENCH_SEARCH_QUERIES`` queries (default 200; in equal shares: 2-, 3- and
4-character substrings of poems, poets' names, and the full pinyin of a title's first characters, all sampled
with a fixed seed) are sent in turn, each as:

- ``GET /api/v1/search/?q=…`` on the engine's server (facets on, 20 hits: the API's defaults; everything the
  page needs: hits, snippets, facets, did-you-mean, promotions, the analytics upsert);
- ``search.selectors.search`` called in this process with the same arguments (no HTTP, no request, no
  analytics): where the API's time goes;
- the same query body sent straight to the engine: the first ``_search`` request our search sends for that query,
  recorded in this process beforehand, POSTed as is with ``http.client``;
- ``GET /api/v1/search/?q=…`` on the embedded server;

and ``BENCH_SEARCH_QUERIES`` prefixes (the first 1–3 characters of a title, or the first one or two pinyin
syllables) to ``GET /api/v1/search/suggest?q=…`` on both servers. Every request is a new connection. It prints
p50/p95 of each, the API's p95 minus the engine's own (aim ≤ +15 ms) and the suggestions' p95 (aim ≤ 30 ms).
"""

import http.client
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_library_pages import free_port, get, percentile, stop_gunicorn
from bench_transcode_common import ROOT, cores, load, measure
from search_common import (
    CJK_RUN,
    RequestRecorder,
    chunks,
    database_name,
    document_count,
    engine_name,
    engine_url,
    first_run,
    full_pinyin,
    poetry_documents,
    start,
)

SEED = 7
WARM_UP = 20
AIM_OVERHEAD_MS = 15
AIM_SUGGEST_MS = 30
API = "/api/v1/search/"


# -- what is asked ----------------------------------------------------------------------------------------------


def _substring(rng: random.Random, documents: list, length: int) -> str:
    while True:
        runs = [run for run in CJK_RUN.findall(rng.choice(documents).body) if len(run) >= length]
        if runs:
            run = rng.choice(runs)
            start = rng.randrange(len(run) - length + 1)
            return run[start : start + length]


def _pinyin(text: str, syllables: int) -> str:
    return full_pinyin(first_run(text)[:syllables])


def query_mix(documents: list, count: int) -> list[tuple[str, str]]:
    """(kind, query) pairs, in equal shares of each kind, shuffled."""
    rng = random.Random(SEED)
    makers = {
        "2 characters": lambda: _substring(rng, documents, 2),
        "3 characters": lambda: _substring(rng, documents, 3),
        "4 characters": lambda: _substring(rng, documents, 4),
        "poet": lambda: rng.choice(documents).creators,
        "pinyin": lambda: _pinyin(rng.choice(documents).title, rng.choice((2, 3))),
    }
    queries = []
    while len(queries) < count:
        for kind, make in makers.items():
            query = ""
            while not query:
                query = make()
            queries.append((kind, query))
    rng.shuffle(queries)
    return queries[:count]


def prefix_mix(documents: list, count: int) -> list[str]:
    rng = random.Random(SEED + 1)
    prefixes = []
    while len(prefixes) < count:
        title = rng.choice(documents).title
        if rng.random() < 0.5:
            prefixes.append(title[: rng.choice((1, 2, 3))])
        else:
            prefixes.append(_pinyin(title, rng.choice((1, 2))) or title[:2])
    return prefixes


# -- setting up -------------------------------------------------------------------------------------------------


def fill(documents: list, *, with_engine: bool) -> None:
    from search.engines.embedded import EmbeddedEngine

    embedded = EmbeddedEngine()
    for chunk in chunks(documents, 500):
        embedded.index(chunk)
    if with_engine:
        from search.engines.choice import get_cluster_engine

        engine = get_cluster_engine()
        engine.ensure_index()
        for chunk in chunks(documents, 500):
            engine.index(chunk)
        engine.refresh()


def engine_requests(queries: list[tuple[str, str]]) -> tuple[list[tuple], float]:
    """Each query's first `_search` request as our search sends it (same arguments as the API's defaults), and
    how many requests one search sends to the engine on average."""
    from search.engines.choice import get_cluster_engine
    from search.selectors import search

    client = get_cluster_engine().client
    first, sent = [], 0
    for _kind, query in queries:
        with RequestRecorder(client, "/_search") as recorder:
            search(query=query, user=None, page=1, per_page=20, facets=True)
        if not recorder.requests:
            raise RuntimeError(f"{query!r}: our search sent nothing to the engine")
        first.append(recorder.requests[0])
        sent += len(recorder.requests)
    return first, sent / len(queries)


def start_server(env: dict[str, str], var: Path, name: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = (var / f"gunicorn-{name}.log").open("w")
    args = [sys.executable, "-m", "gunicorn", "cms.project.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode}): {(var / log.name).read_text()[-2000:]}")
        try:
            get(port, f"{API}?q=1", cookie="")
            return server, port
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


# -- measuring --------------------------------------------------------------------------------------------------


def post_engine(node: str, request: tuple) -> float:
    """One request straight to the engine, on a new connection; seconds until the whole answer is read."""
    method, url, params, body = request
    parts = urlsplit(node)
    path = url + (f"?{urlencode(params)}" if params else "")
    payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"{method} {url}: HTTP {response.status}")
    return time.perf_counter() - started


def in_process(query: str) -> float:
    """`search.selectors.search` called here, as the API calls it (no HTTP, no Django request, no analytics):
    what our search adds to the engine, apart from serving the request."""
    from search.selectors import search

    started = time.perf_counter()
    search(query=query, user=None, page=1, per_page=20, facets=True)
    return time.perf_counter() - started


def api_path(query: str) -> str:
    return f"{API}?q={quote(query)}"


def suggest_path(prefix: str) -> str:
    return f"{API}suggest?q={quote(prefix)}"


def time_all(calls: dict[str, list]) -> dict[str, list[float]]:
    """`calls`: label → one zero-argument function per sample. Samples go round-robin over the labels, so the
    machine's other load falls on all of them alike; the first WARM_UP of each are not counted."""
    times: dict[str, list[float]] = {label: [] for label in calls}
    for n in range(max(len(samples) for samples in calls.values())):
        for label, samples in calls.items():
            if n < len(samples):
                elapsed = samples[n]()
                if n >= WARM_UP:
                    times[label].append(elapsed)
    return times


def plan(ports: dict[str, int], queries, prefixes, requests, node: str) -> dict[str, list]:
    def api(port, path):
        return lambda: get(port, path, cookie="")

    warm_queries = queries[:WARM_UP] + queries
    warm_prefixes = prefixes[:WARM_UP] + prefixes
    calls = {}
    if "engine" in ports:
        warm_requests = requests[:WARM_UP] + requests
        calls["search, API (engine)"] = [api(ports["engine"], api_path(q)) for _, q in warm_queries]
        calls["search, in this process"] = [lambda q=q: in_process(q) for _, q in warm_queries]
        calls["search, engine alone"] = [lambda r=r: post_engine(node, r) for r in warm_requests]
    calls["search, API (embedded)"] = [api(ports["embedded"], api_path(q)) for _, q in warm_queries]
    if "engine" in ports:
        calls["suggest, API (engine)"] = [api(ports["engine"], suggest_path(p)) for p in warm_prefixes]
    calls["suggest, API (embedded)"] = [api(ports["embedded"], suggest_path(p)) for p in warm_prefixes]
    return calls


def by_kind(times: list[float], queries: list[tuple[str, str]]) -> dict[str, float]:
    kinds: dict[str, list[float]] = {}
    for elapsed, (kind, _query) in zip(times, queries, strict=True):
        kinds.setdefault(kind, []).append(elapsed)
    return {kind: percentile(values, 0.95) * 1000 for kind, values in kinds.items()}


def report(times: dict[str, list[float]], queries: list[tuple[str, str]], engine_calls: float | None) -> None:
    print(f"\n{'':26} {'p50 ms':>8} {'p95 ms':>8}   p95 by query kind (ms)")
    for label, samples in times.items():
        kinds = ""
        if label.startswith("search"):
            kinds = ", ".join(f"{kind} {value:.0f}" for kind, value in by_kind(samples, queries).items())
        p50, p95 = percentile(samples, 0.5) * 1000, percentile(samples, 0.95) * 1000
        print(f"{label:26} {p50:8.1f} {p95:8.1f}   {kinds}")
    p95 = {label: percentile(samples, 0.95) * 1000 for label, samples in times.items()}
    if engine_calls is not None:
        overhead = p95["search, API (engine)"] - p95["search, engine alone"]
        met = "met" if overhead <= AIM_OVERHEAD_MS else "NOT met"
        print(f"\nAPI p95 − engine p95: {overhead:+.1f} ms (aim ≤ +{AIM_OVERHEAD_MS} ms: {met}); one API search sends")
        print(f"  {engine_calls:.2f} requests to the engine on average (the search; a correction or suggestion more)")
        suggest = p95["suggest, API (engine)"]
        met = "met" if suggest <= AIM_SUGGEST_MS else "NOT met"
        print(f"suggestions p95 (engine): {suggest:.1f} ms (aim ≤ {AIM_SUGGEST_MS} ms: {met})")
    else:
        print("\nengine half skipped: SEARCH_URL is unset (services/up, then source var/services/env)")
    print(f"suggestions p95 (embedded): {p95['suggest, API (embedded)']:.1f} ms")


def main() -> None:
    count = document_count()
    n = int(os.environ.get("BENCH_SEARCH_QUERIES", 200))
    url = engine_url()
    env, var = start(prefix="bench-search-query")
    print(f"machine: {cores()} cores, load average {load()}; {database_name()}; {engine_name(url)}")
    print(f"{count:,} documents; {n} queries and {n} prefixes; gunicorn, 2 workers per server", flush=True)
    documents = poetry_documents(count)
    with measure() as filling:
        fill(documents, with_engine=bool(url))
    print(f"indexed in {filling.wall:.0f} s (load average {load()})", flush=True)
    queries, prefixes = query_mix(documents, n), prefix_mix(documents, n)
    requests, engine_calls = engine_requests(queries) if url else ([], None)
    servers, ports = [], {}
    try:
        for name, search_url in (("engine", url), ("embedded", "")):
            if name == "engine" and not url:
                continue
            server, ports[name] = start_server({**env, "SEARCH_URL": search_url}, var, name)
            servers.append(server)
        times = time_all(plan(ports, queries, prefixes, requests, url.split(",")[0]))
    finally:
        for server in servers:
            stop_gunicorn(server)
    report(times, queries, engine_calls)
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
