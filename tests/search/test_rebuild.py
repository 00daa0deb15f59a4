"""Full rebuilds: a new engine index swapped in without downtime, the embedded index refreshed in place, and
nothing changed meanwhile lost."""

import json
import os
import threading
import time
import uuid
from functools import partial
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from search.engines import cluster
from search.engines.choice import get_cluster_engine
from search.engines.cluster import bulk_bodies, document_sources
from search.engines.results import SearchError
from search.models import IndexEntry, OutboxEntry
from search.registry import SearchDocument
from search.selectors import search_items
from search.services import RebuildInProgress, _Sender, search_outbox_drain_all, search_rebuild
from tests.search.test_registry import register_items, registrations, simple_document  # noqa: F401 — a fixture

pytestmark = pytest.mark.django_db
OPENSEARCH_URL = os.environ.get("SEARCH_URL", "")
needs_opensearch = pytest.mark.skipif(
    not OPENSEARCH_URL or os.environ.get("SEARCH_ENGINE", "opensearch") != "opensearch",
    reason="needs a real OpenSearch node: SEARCH_URL is unset (run `make test`, or source var/services/env)",
)


@pytest.fixture
def opensearch(settings):
    """The configured engine on a fresh index prefix; its indices are deleted afterwards."""
    settings.SEARCH_URL = OPENSEARCH_URL
    settings.SEARCH_ENGINE = "opensearch"
    settings.SEARCH_INDEX_PREFIX = f"lhtest-rebuild-{uuid.uuid4().hex[:8]}"
    engine = get_cluster_engine()
    yield engine
    engine.admin.indices.delete(index=f"{engine.alias}-*", params={"ignore_unavailable": "true"}, ignore=[404])


def _embedded_titles():
    return sorted(IndexEntry.objects.values_list("title", flat=True))


def _engine_titles(engine, query):
    engine.refresh()
    results = search_items(query=query, user=None)
    assert results.backend == "opensearch" and not results.degraded
    return sorted(hit.title for hit in results.hits)


def _changes_during_rebuild(make_item):
    """Three items, and a progress hook that, after the first chunk, edits the third, deletes the second, adds a
    fourth, and drains those changes (as the task queue would while a rebuild runs)."""
    _first, second, third = make_item("党史读本甲"), make_item("党史读本乙"), make_item("党史读本丙")
    search_outbox_drain_all()

    def hook(done, total):
        if done == 1:
            third.title = "党史读本丙（修订）"
            third.save()
            second.delete()
            make_item("党史读本丁")
            search_outbox_drain_all()

    return hook


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_rebuild_refreshes_the_embedded_index_in_place(embedded, make_item):
    """A rebuild indexes objects the outbox never saw and removes rows of objects that are gone."""
    item = make_item("红楼梦有声书")
    search_outbox_drain_all()
    LibraryItem = type(item)
    LibraryItem.objects.filter(pk=item.pk).update(title="红楼梦评书")  # bulk writes bypass the outbox
    IndexEntry.objects.create(
        doc_id="library.libraryitem:999999", kind="ebook", title="已删除", url="/", access="public"
    )
    assert search_rebuild() == 1
    assert _embedded_titles() == ["红楼梦评书"]


def test_rebuild_leaves_the_outbox_alone(embedded, make_item):
    """Entries recorded before a rebuild stay: one committed while it ran may not be in it; they replay harmlessly."""
    make_item("红楼梦有声书")
    search_rebuild()
    assert OutboxEntry.objects.count() == 1
    search_outbox_drain_all()
    assert _embedded_titles() == ["红楼梦有声书"]


def test_changes_during_a_rebuild_survive_in_the_embedded_index(embedded, make_item):
    """What drains write while a rebuild runs is not overwritten by the rebuild's older snapshot: an edit stays,
    a deleted item does not come back, a new item is not removed as stale."""
    hook = _changes_during_rebuild(make_item)
    search_rebuild(progress=hook, chunk_size=1)
    assert _embedded_titles() == ["党史读本丁", "党史读本丙（修订）", "党史读本甲"]


def test_a_second_rebuild_at_the_same_time_is_refused(embedded, make_item):
    """While a rebuild runs, another one (service or command) is refused with a clear message instead of
    rebuilding beside it; once it has finished, or failed, the next rebuild runs."""
    make_item("红楼梦有声书")
    refusals = []

    def second(done, total):
        with pytest.raises(RebuildInProgress, match="另一个搜索索引重建正在进行") as refused:
            search_rebuild()
        refusals.append(str(refused.value))
        with pytest.raises(CommandError, match="另一个搜索索引重建正在进行"):
            _run("search_rebuild")

    assert search_rebuild(progress=second) == 1 and len(refusals) == 1

    def fail(done, total):
        raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        search_rebuild(progress=fail)
    assert search_rebuild() == 1


def _waits_for_the_index_lock() -> bool:
    """Whether another session of this database waits for an advisory lock (the drain's index lock)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("registrations")
def test_an_object_unpublished_while_a_rebuild_reads_it_stays_out(embedded, make_item):
    """A drain that unpublishes an object while a rebuild is reading it (another worker, its own connection)
    cannot be undone by the rebuild writing its older snapshot afterwards: the object stays out of the index.
    (PostgreSQL: the other worker really runs beside the rebuild.)"""
    if connection.vendor != "postgresql":
        pytest.skip("needs two sessions that run at once: PostgreSQL")
    item = make_item("即将下架的书")  # its outbox entry is not drained yet: the index does not know it

    def unpublish_and_drain():
        try:
            type(item).objects.filter(pk=item.pk).update(is_published=False)
            search_outbox_drain_all()
        finally:
            connection.close()

    def to_document(instance):
        document = simple_document(instance)  # the rebuild has read the object, still published
        if instance.pk == item.pk:
            worker = threading.Thread(target=unpublish_and_drain)
            worker.start()
            deadline = time.monotonic() + 60  # only against a hang; the test asserts no timing
            while worker.is_alive() and not _waits_for_the_index_lock() and time.monotonic() < deadline:
                time.sleep(0.01)
            to_document.worker = worker
        return document

    register_items(to_document)
    search_rebuild()
    to_document.worker.join(timeout=60)
    assert _embedded_titles() == []


def test_rebuild_reports_progress_per_chunk(embedded, make_item):
    """The progress callback gets (done, total) after every chunk."""
    for number in range(5):
        make_item(f"党史读本第{number}卷")
    seen = []
    assert search_rebuild(progress=lambda done, total: seen.append((done, total)), chunk_size=2) == 5
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_rebuild_on_an_unreachable_engine_fails_clearly(settings, closed_port_url, make_item):
    """With the engine down a rebuild raises SearchError before touching anything; the command says so in
    Chinese and points to --embedded-only, which still works."""
    settings.SEARCH_URL = closed_port_url
    make_item("红楼梦有声书")
    with pytest.raises(SearchError):
        search_rebuild()
    assert _embedded_titles() == []
    with pytest.raises(CommandError, match=r"搜索引擎无法连接或出错.*--embedded-only"):
        _run("search_rebuild")
    assert "已索引 1 个文档" in _run("search_rebuild", "--embedded-only")
    assert _embedded_titles() == ["红楼梦有声书"]


def test_rebuild_command_logs_plain_progress_lines_without_a_terminal(embedded, make_item):
    """Without a terminal the command prints plain progress lines (count, share, rate) and a summary."""
    make_item("红楼梦有声书")
    make_item("西游记连环画")
    output = _run("search_rebuild", "--chunk-size", "1")
    assert "已索引 2/2（100%），每秒" in output and "已索引 2 个文档" in output


def test_rebuild_command_refuses_engine_only_without_an_engine(embedded, db):
    """--engine-only with no engine configured is refused with a clear message, as is a chunk size of 0."""
    with pytest.raises(CommandError, match="没有配置搜索引擎"):
        _run("search_rebuild", "--engine-only")
    with pytest.raises(CommandError, match="--chunk-size"):
        _run("search_rebuild", "--chunk-size", "0")


@pytest.mark.services
@needs_opensearch
def test_rebuild_swaps_in_a_new_index_with_changes_made_meanwhile(opensearch, make_item):
    """Changes drained while the rebuild runs reach the index being built (alias `-building`), and the rebuild's
    own older writes do not overwrite them: after the swap the new index has the edit, not the deleted item,
    and the new item. The old index is gone, and so is the `-building` alias."""
    hook = _changes_during_rebuild(make_item)
    before = opensearch.indices_behind_alias()
    search_rebuild(progress=hook, chunk_size=1)
    after = opensearch.indices_behind_alias()
    assert len(after) == 1 and after != before
    assert not opensearch.admin.indices.exists(index=before[0])
    assert not opensearch.admin.indices.exists_alias(name=f"{opensearch.alias}-building")
    assert _engine_titles(opensearch, "党史读本") == ["党史读本丁", "党史读本丙（修订）", "党史读本甲"]


@pytest.mark.services
@needs_opensearch
def test_a_failed_rebuild_leaves_the_live_index(opensearch, make_item):
    """A rebuild that fails midway leaves the live alias where it was and drops its half-built index."""
    make_item("红楼梦有声书")
    make_item("西游记连环画")
    search_outbox_drain_all()
    before = opensearch.indices_behind_alias()

    def fail(done, total):
        raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        search_rebuild(progress=fail, chunk_size=1)
    assert opensearch.indices_behind_alias() == before
    assert sorted(opensearch.admin.indices.get(index=f"{opensearch.alias}-*")) == before
    assert _engine_titles(opensearch, "红楼梦") == ["红楼梦有声书"]


@pytest.mark.services
@needs_opensearch
def test_engine_only_and_embedded_only(opensearch, make_item):
    """--engine-only leaves the embedded index alone; --embedded-only leaves the engine's index alone."""
    make_item("红楼梦有声书")
    opensearch.ensure_index()
    live = opensearch.indices_behind_alias()
    assert "已索引 1 个文档" in _run("search_rebuild", "--embedded-only")
    assert _embedded_titles() == ["红楼梦有声书"] and opensearch.indices_behind_alias() == live
    IndexEntry.objects.all().delete()
    assert "已索引 1 个文档" in _run("search_rebuild", "--engine-only")
    assert _embedded_titles() == [] and opensearch.indices_behind_alias() != live
    assert _engine_titles(opensearch, "红楼梦") == ["红楼梦有声书"]


class _SlowEngine:
    """Stands in for a cluster engine's `index`: records what it was given, fails when told to."""

    def __init__(self, fail_on: int | None = None):
        self.calls, self.fail_on = [], fail_on

    def index_bodies(self, bodies, *, index):
        lines = [json.loads(line) for body in bodies for line in body.decode().splitlines()]
        self.calls.append(([line["index"]["_id"] for line in lines[::2]], index))
        if len(self.calls) == self.fail_on:
            raise RuntimeError("bulk refused")


def test_the_rebuild_sender_sends_every_chunk_in_order_and_raises_a_failure_at_the_next_chunk():
    """Chunks go to the engine one at a time, in order, to the rebuild's index; a chunk that failed stops the
    rebuild when the next chunk is handed over (or at the final wait), never silently."""
    engine = _SlowEngine()
    sender = _Sender(engine, "idx-new")
    for n in range(3):
        sources = document_sources([SearchDocument(doc_id=f"t:{n}", kind="ebook", title="x", url="/")])
        sender.send(bulk_bodies(sources, version=1) if n else partial(bulk_bodies, sources, version=1))
    sender.wait()
    sender.close()
    assert engine.calls == [(["t:0"], "idx-new"), (["t:1"], "idx-new"), (["t:2"], "idx-new")]
    failing = _SlowEngine(fail_on=1)
    sender = _Sender(failing, "idx-new")
    sender.send([])
    with pytest.raises(RuntimeError, match="bulk refused"):
        sender.send([])
    sender.close()


def test_a_chunk_is_cut_into_bodies_of_at_most_bulk_chunk_documents_and_about_bulk_bytes(monkeypatch):
    """A chunk's documents go as several _bulk bodies, each of at most BULK_CHUNK documents and BULK_BYTES (500
    e-books with 600 KB of full text each would be a 300 MB request, which the nodes refuse); a document longer than
    BULK_BYTES goes alone; every document is in exactly one body, in order; no documents, no body."""

    def cut(sizes: list[int]) -> tuple[list[bytes], list[list[str]]]:
        sources = [(f"t:{n}", {"body": "a" * size}) for n, size in enumerate(sizes)]
        bodies = bulk_bodies(sources, version=1)
        ids = [[json.loads(line)["index"]["_id"] for line in body.splitlines()[::2]] for body in bodies]
        assert [doc_id for body in ids for doc_id in body] == [doc_id for doc_id, _ in sources]
        return bodies, ids

    _, ids = cut([10] * 300)
    assert [len(body) for body in ids] == [cluster.BULK_CHUNK, 300 - cluster.BULK_CHUNK]
    monkeypatch.setattr(cluster, "BULK_BYTES", 4_000)
    bodies, ids = cut([10, 10, 1_500, 2_500, 9_000, 10])
    assert ids == [["t:0", "t:1", "t:2"], ["t:3"], ["t:4"], ["t:5"]]
    assert all(len(body) <= 4_000 for body in bodies if body.count(b"\n") > 2)
    assert bulk_bodies([], version=1) == []


@pytest.mark.services
@needs_opensearch
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rebuild_read_by_several_processes_indexes_everything_in_order(opensearch, make_item, monkeypatch):
    """Chunks read and analysed in forked processes (as for a large rebuild; here forced from the first object) reach
    both indexes whole, progress counts up chunk by chunk in order, and the new index replaces the live one."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "reading processes are forked on PostgreSQL only (SQLite rebuilds read in one process); "
            "make test runs this on PostgreSQL"
        )
    monkeypatch.setattr("search.services.PROCESSES_FROM", 0)
    titles = [f"党史读本第{number}卷" for number in range(7)]
    for title in titles:
        make_item(title)
    IndexEntry.objects.all().delete()
    before = opensearch.indices_behind_alias() if opensearch.admin.indices.exists_alias(name=opensearch.alias) else []
    counted = []
    assert search_rebuild(chunk_size=2, processes=2, progress=lambda done, total: counted.append(done)) == 7
    assert counted == [2, 4, 6, 7]
    assert _embedded_titles() == sorted(titles)
    assert opensearch.indices_behind_alias() != before
    assert _engine_titles(opensearch, "党史读本") == sorted(titles)
