"""Relevance on a fixed test set: 449 documents of real Chinese text and 91 queries with the items they should find.

The corpus (tests/search/relevance/corpus.json, built by make_corpus.py from npm chinese-poetry 2.0.1 plus
hand-written library-like items) is indexed straight through each engine's `index()`; every query then goes through
`search.selectors.search` as an anonymous member would send it (synonyms, pinyin, auto-correction included). For
each group of queries and overall we print success@1 (the first hit is an expected item) and MRR@10 (1/rank of the
first expected item in the first ten, 0 when none), and fail below floors set from the measured figures. The
"exact tie" group (a title equal to the query beside titles that contain it, near-duplicates alike in all else) must
be first every time, on every engine: its order may not depend on luck. A second set (pinyin_queries.json, 60 queries)
types the full pinyin of phrases from body text, which only the conversion into Chinese finds: its success@10 (an
expected item in the first ten) has its own floor, on the same engines.
"""

import json
import os
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from search.registry import SearchDocument

DATA = Path(__file__).resolve().parent / "relevance"
CORPUS = json.loads((DATA / "corpus.json").read_text("utf-8"))
QUERIES = json.loads((DATA / "queries.json").read_text("utf-8"))
# The full pinyin of 5–7-character phrases from body text (make_pinyin_queries.py): bodies are not indexed in
# pinyin, so these are found only by converting the pinyin into Chinese (search/engines/pinyin_input.py).
PINYIN_QUERIES = json.loads((DATA / "pinyin_queries.json").read_text("utf-8"))
OPENSEARCH_URL = os.environ.get("SEARCH_URL", "")
TOP = 10

# Floors (success@1, MRR@10): the measured figures minus about three queries' worth, so a real regression fails.
# Measured 2026-11-28 on 84 queries: embedded on SQLite 0.976 / 0.988, on PostgreSQL 0.964 / 0.979; OpenSearch 3.8
# 1.000 / 1.000. 2026-12-07, 91 queries (the "exact tie" group added): embedded on SQLite 0.978 / 0.989 (before exact
# titles ranked first, the new group scored 0.000 / 0.290 there). Still missed on the embedded index: 辛弃疾 and
# 柳永 (a short body naming them outranks their own ci, rank 2), and on PostgreSQL jys (a long title's initials rank
# first, rank 5).
FLOORS = {"embedded": (0.93, 0.95), "opensearch": (0.96, 0.97)}


@dataclass
class Outcome:
    group: str
    query: str
    rank: int | None  # 1-based position of the first expected item in the first TOP hits
    top: str  # the first hit's title, for the report
    backend: str
    degraded: bool


def corpus_documents() -> list[SearchDocument]:
    """The corpus as SearchDocuments; ages are relative to today, so the freshness factor sees the same spread."""
    now = timezone.now()
    documents = []
    for row in CORPUS:
        date = now - timedelta(days=row["age_days"])
        documents.append(
            SearchDocument(
                doc_id=row["id"],
                kind=row["kind"],
                title=row["title"],
                subtitle=row["subtitle"],
                creators=row["creators"],
                body=row["body"],
                url=f"/relevance/{row['id']}/",
                year=date.year,
                date=date,
            )
        )
    return documents


@pytest.fixture
def synonym(db):
    """The editors' synonym group the synonym queries rely on (the cached map is dropped so it applies at once)."""
    from search.models import Synonym
    from search.selectors import SYNONYMS_CACHE_KEY

    Synonym.objects.create(terms="党史，中国共产党历史")
    cache.delete(SYNONYMS_CACHE_KEY)


def run_queries(cases=QUERIES) -> list[Outcome]:
    from search.selectors import search

    outcomes = []
    for case in cases:
        results = search(query=case["query"], user=None, per_page=TOP)
        ids = [hit.doc_id for hit in [*results.promoted, *results.hits]][:TOP]
        rank = next((n for n, doc_id in enumerate(ids, 1) if doc_id in case["expected"]), None)
        top = (results.promoted or results.hits)[0].title if ids else "—"
        outcomes.append(Outcome(case["group"], case["query"], rank, top, results.backend, results.degraded))
    return outcomes


def scores(outcomes: list[Outcome]) -> tuple[float, float]:
    """(success@1, MRR@TOP) over `outcomes`."""
    success = sum(outcome.rank == 1 for outcome in outcomes) / len(outcomes)
    mrr = sum(1 / outcome.rank for outcome in outcomes if outcome.rank) / len(outcomes)
    return success, mrr


def table(name: str, outcomes: list[Outcome]) -> list[str]:
    groups = list(dict.fromkeys(outcome.group for outcome in outcomes))
    lines = [f"relevance on {name}: {len(CORPUS)} documents, {len(outcomes)} queries", ""]
    lines.append(f"{'group':28} {'queries':>7} {'success@1':>10} {'MRR@10':>8}")
    for group in [*groups, "overall"]:
        chosen = [o for o in outcomes if group in ("overall", o.group)]
        success, mrr = scores(chosen)
        lines.append(f"{group:28} {len(chosen):>7} {success:>10.3f} {mrr:>8.3f}")
    misses = [o for o in outcomes if o.rank != 1]
    if misses:
        lines.append("not first: " + "; ".join(f"{o.query} → {o.rank or '-'} (top: {o.top})" for o in misses))
    return lines


def report(capsys, name: str, outcomes: list[Outcome]) -> None:
    """The table goes to the terminal whether or not pytest captures output (-s or not)."""
    with capsys.disabled():
        print("\n" + "\n".join(table(name, outcomes)))


def check(name: str, outcomes: list[Outcome]) -> None:
    ties = [f"{o.query} → {o.rank or '-'} (top: {o.top})" for o in outcomes if o.group == "exact tie" and o.rank != 1]
    assert not ties, f"{name}: an exact title or the shorter of two tied titles is not first: {ties}"
    success, mrr = scores(outcomes)
    floor_success, floor_mrr = FLOORS[name.split(" ")[0]]
    assert success >= floor_success, f"{name}: success@1 {success:.3f} < floor {floor_success}"
    assert mrr >= floor_mrr, f"{name}: MRR@10 {mrr:.3f} < floor {floor_mrr}"


@pytest.mark.django_db
def test_relevance_on_the_embedded_index(embedded, synonym, capsys):
    """The embedded index (SQLite FTS5, or PostgreSQL full-text) finds the expected items: success@1 and MRR@10
    overall stay at or above the measured floors."""
    from search.engines.embedded import EmbeddedEngine

    EmbeddedEngine().index(corpus_documents())
    outcomes = run_queries()
    report(capsys, f"embedded ({connection.vendor})", outcomes)
    assert {o.backend for o in outcomes if o.rank} <= {"embedded"}
    check(f"embedded ({connection.vendor})", outcomes)


@pytest.fixture
def opensearch(settings):
    """The configured OpenSearch node on a fresh index prefix; its indices are deleted afterwards."""
    from search.engines.choice import get_cluster_engine

    settings.SEARCH_URL = OPENSEARCH_URL
    settings.SEARCH_ENGINE = "opensearch"
    settings.SEARCH_INDEX_PREFIX = f"lhtest-rel-{uuid.uuid4().hex[:8]}"
    engine = get_cluster_engine()
    yield engine
    engine.client.indices.delete(index=f"{engine.alias}-*", params={"ignore_unavailable": "true"}, ignore=[404])


@pytest.mark.services
@pytest.mark.django_db
@pytest.mark.skipif(
    not OPENSEARCH_URL or os.environ.get("SEARCH_ENGINE", "opensearch") != "opensearch",
    reason="needs a real OpenSearch node: SEARCH_URL is unset (run `make test`, or source var/services/env)",
)
def test_relevance_on_opensearch(opensearch, synonym, capsys):
    """OpenSearch answers every query itself (never the embedded fallback, which is left empty here) and finds the
    expected items: success@1 and MRR@10 overall stay at or above the measured floors."""
    opensearch.ensure_index()
    opensearch.index(corpus_documents())
    opensearch.refresh()
    outcomes = run_queries()
    report(capsys, "opensearch", outcomes)
    fallen_back = [o.query for o in outcomes if o.degraded]
    assert not fallen_back, f"the engine failed and the embedded index answered for: {fallen_back}"
    check("opensearch", outcomes)


# success@10 of the pinyin-of-text queries (an expected item in the first ten). Measured 2026-12-07 on 60 queries:
# embedded on SQLite 1.000 (0.000 before the conversion: bodies have no pinyin terms); on PostgreSQL and on
# OpenSearch 3.8 also 1.000 (60/60, the conversion runs before the engine). Floors with room for a few misses.
PINYIN_FLOORS = {"embedded": 0.9, "opensearch": 0.9}


def check_pinyin(name: str, outcomes: list[Outcome]) -> None:
    found = sum(outcome.rank is not None for outcome in outcomes) / len(outcomes)
    floor = PINYIN_FLOORS[name.split(" ")[0]]
    misses = [f"{o.query} (top: {o.top})" for o in outcomes if o.rank is None]
    assert found >= floor, f"{name}: pinyin of text success@10 {found:.3f} < floor {floor}; missed: {misses}"


def pinyin_report(capsys, name: str, outcomes: list[Outcome]) -> None:
    found = sum(outcome.rank is not None for outcome in outcomes)
    misses = "; ".join(f"{o.query} (top: {o.top})" for o in outcomes if o.rank is None)
    with capsys.disabled():
        print(f"\npinyin of text on {name}: success@10 {found}/{len(outcomes)} = {found / len(outcomes):.3f}")
        if misses:
            print(f"not in the first {TOP}: {misses}")


@pytest.mark.django_db
def test_pinyin_of_text_on_the_embedded_index(embedded, capsys):
    """The full pinyin of a phrase from a body finds its document in the first ten on the embedded index (SQLite or
    PostgreSQL), through the conversion into Chinese: success@10 stays at or above the floor."""
    from search.engines.embedded import EmbeddedEngine

    EmbeddedEngine().index(corpus_documents())
    outcomes = run_queries(PINYIN_QUERIES)
    name = f"embedded ({connection.vendor})"
    pinyin_report(capsys, name, outcomes)
    check_pinyin(name, outcomes)


@pytest.mark.services
@pytest.mark.django_db
@pytest.mark.skipif(
    not OPENSEARCH_URL or os.environ.get("SEARCH_ENGINE", "opensearch") != "opensearch",
    reason="needs a real OpenSearch node: SEARCH_URL is unset (run `make test`, or source var/services/env)",
)
def test_pinyin_of_text_on_opensearch(opensearch, capsys):
    """The same on OpenSearch: the conversion happens before the engine, from the dictionary of the embedded index
    (which every engine writes too, as the outbox drain does), and OpenSearch answers every search itself."""
    from search.engines.embedded import EmbeddedEngine

    opensearch.ensure_index()
    opensearch.index(corpus_documents())
    opensearch.refresh()
    EmbeddedEngine().index(corpus_documents())
    outcomes = run_queries(PINYIN_QUERIES)
    pinyin_report(capsys, "opensearch", outcomes)
    fallen_back = [o.query for o in outcomes if o.degraded]
    assert not fallen_back, f"the engine failed and the embedded index answered for: {fallen_back}"
    check_pinyin("opensearch", outcomes)
