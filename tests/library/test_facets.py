"""Browse counts (FacetCount): who is counted where, and how a refresh is queued and swapped in."""

import threading

import pytest
from django.db import DatabaseError, connection
from django_tasks_db.models import DBTaskResult

import library.facets as facets
from library.facets import facet_counts_refresh, facet_counts_refresh_soon, facet_rows
from library.models import FacetCount, LibraryItem
from library.services import library_changed
from tests.factories import AudioFactory, EbookFactory, VideoFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("db_tasks")]

TASK_PATH = "library.tasks.facet_counts_refresh_task"


def _counts(audience, kind="", dimension=None):
    rows = FacetCount.objects.filter(audience=audience, kind=kind)
    if dimension:
        rows = rows.filter(dimension=dimension)
    return {(row.dimension, row.value): row.count for row in rows}


def test_public_and_member_counts_and_unit_only_not_counted(unit_tree, unit):
    """Public counts hold public items only, members' counts public + members; unit-only, unpublished items and
    children (episodes) are counted nowhere."""
    series = AudioFactory(owning_unit=unit, title="有声系列", role="series", access="public", year=2024)
    AudioFactory(owning_unit=unit, title="第一集", role="episode", parent=series, year=2024)
    AudioFactory(owning_unit=unit, title="党员专享", access="members", year=2024)
    AudioFactory(owning_unit=unit, title="单位内部", access="unit", access_unit=unit_tree["zouping"], year=2024)
    AudioFactory(owning_unit=unit, title="未发布", is_published=False, year=2024)
    EbookFactory(owning_unit=unit, title="公开书", clc="D261.4", year=2023)
    facet_counts_refresh()
    public, members = _counts("public"), _counts("members")
    assert public[("kind", "audio")] == 1 and members[("kind", "audio")] == 2
    assert public[("kind", "ebook")] == 1 and members[("kind", "ebook")] == 1
    assert public[("year", "2024")] == 1 and members[("year", "2024")] == 2
    assert _counts("public", kind="audio")[("year", "2024")] == 1
    assert _counts("members", kind="audio")[("unit", str(unit.pk))] == 2
    assert ("unit", str(unit_tree["zouping"].pk)) not in members  # the unit-only item leaves no trace
    assert ("kind", "video") not in public  # no zero rows


def test_clc_counts_under_basic_class_and_second_level(unit):
    """A code counts under its basic class and under each listed second-level class it starts with, the same
    prefix match the browse filter uses (A49 counts under A4 too; a range class counts by its member prefix)."""
    for code in ("D261.4", "D267", "D352", "A49", "TP3", "K81"):
        EbookFactory(owning_unit=unit, clc=code)
    facet_counts_refresh()
    clc = {value: count for (dimension, value), count in _counts("public", dimension="clc").items()}
    assert clc["D"] == 3 and clc["D2"] == 2 and clc["D35"] == 1
    assert clc["A"] == 1 and clc["A4"] == 1 and clc["A49"] == 1
    assert clc["T"] == 1 and clc["TP"] == 1 and clc["K"] == 1 and clc["K81"] == 1
    assert set(_counts("public", kind="ebook", dimension="clc")) == set(_counts("public", dimension="clc"))


def test_tags_are_counted_per_kind(unit):
    """Tags count by slug, per kind and over all kinds."""
    book, talk = EbookFactory(owning_unit=unit), AudioFactory(owning_unit=unit)
    book.tags.add("党史")
    talk.tags.add("党史", "乡村振兴")
    facet_counts_refresh()
    assert _counts("public")[("tag", "党史")] == 2
    assert _counts("public", kind="audio")[("tag", "乡村振兴")] == 1
    assert ("tag", "乡村振兴") not in _counts("public", kind="ebook")


def test_refresh_replaces_every_row(unit):
    """A refresh leaves exactly the current counts: stale rows and values whose items went away disappear."""
    item = VideoFactory(owning_unit=unit, year=2020)
    facet_counts_refresh()
    FacetCount.objects.create(kind="", dimension="year", value="1900", audience="public", count=99)
    item.delete()
    EbookFactory(owning_unit=unit, year=2021)
    assert facet_counts_refresh() == FacetCount.objects.count()
    assert _counts("public") == {("kind", "ebook"): 1, ("year", "2021"): 1, ("unit", str(unit.pk)): 1}


def test_page_rows_come_in_one_query(unit, django_assert_num_queries):
    """What a browse page shows (per-kind totals and the kind's facets) is one query."""
    EbookFactory(owning_unit=unit, clc="D2", year=2022)
    facet_counts_refresh()
    with django_assert_num_queries(1):
        rows = facet_rows(kind="ebook", audience="public")
    assert {(row.kind, row.dimension, row.value) for row in rows} >= {
        ("", "kind", "ebook"),
        ("ebook", "clc", "D"),
        ("ebook", "year", "2022"),
    }
    assert all(row.kind == "ebook" or row.dimension == "kind" for row in rows)


def test_changes_queue_one_refresh_until_it_runs(django_capture_on_commit_callbacks):
    """Several committed changes queue a single refresh; once it has run, the next change queues another."""
    with django_capture_on_commit_callbacks(execute=True):
        library_changed()
    with django_capture_on_commit_callbacks(execute=True):
        library_changed()
        library_changed()
    facet_counts_refresh_soon()
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 1
    facet_counts_refresh()  # what the task runs
    with django_capture_on_commit_callbacks(execute=True):
        library_changed()
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 2


def test_a_lost_refresh_is_queued_again():
    """If a queued refresh never ran (its mark is old), the next change queues one again."""
    facet_counts_refresh_soon()
    FacetCount.objects.filter(dimension="_refresh").update(count=1)
    facet_counts_refresh_soon()
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 2
    assert not any(row.dimension == "_refresh" for row in facet_rows(kind=None, audience="public"))


def test_saving_through_the_service_refreshes_after_commit(unit_tree, django_capture_on_commit_callbacks):
    """An item saved by library_item_save, once its refresh task runs, shows in the counts."""
    from library.services import library_item_save

    with django_capture_on_commit_callbacks(execute=True):
        library_item_save(item=LibraryItem(kind="article", title="新文章", owning_unit=unit_tree["binzhou"]), user=None)
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 1
    facet_counts_refresh()
    assert _counts("public")[("kind", "article")] == 1


def test_a_failed_refresh_keeps_the_old_counts_and_marks_one_pending(unit, monkeypatch):
    """A refresh that fails part-way leaves the previous counts whole and marks a refresh pending again, dated as
    lost, so the next change queues one at once (a change had deleted nothing pending)."""
    VideoFactory(owning_unit=unit, year=2020)
    facet_counts_refresh()
    before = _counts("public")
    facet_counts_refresh_soon()  # the change whose refresh is about to fail
    real_counts = facets._counts

    def failing_counts(dimension, audience):
        if dimension == "tag":
            raise DatabaseError("could not serialize access")
        return real_counts(dimension, audience)

    monkeypatch.setattr(facets, "_counts", failing_counts)
    EbookFactory(owning_unit=unit, year=2021)
    with pytest.raises(DatabaseError):
        facet_counts_refresh()
    assert {key: n for key, n in _counts("public").items() if key[0] != "_refresh"} == before
    assert FacetCount.objects.filter(**facets.PENDING).exists()
    facet_counts_refresh_soon()
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_refreshes_run_one_at_a_time_so_the_last_counted_is_kept(unit):
    """A refresh counts and swaps while holding the refresh lock: a change and a second refresh that come while the
    first is counting wait for it, so the first's older counts never replace the second's newer ones."""
    VideoFactory(owning_unit=unit, title="旧")
    counted, later_done = threading.Event(), threading.Event()
    calls, real_counts, failures = [], facets._counts, []

    def slow_counts(dimension, audience):
        result = real_counts(dimension, audience)
        if threading.current_thread() is first:
            calls.append(dimension)
            if len(calls) == len(facets.DIMENSIONS) * len(facets.AUDIENCE_ACCESS):
                counted.set()
                later_done.wait(timeout=3)  # with the lock held, the change below cannot come before it ends
        return result

    def first_refresh():
        try:
            facet_counts_refresh()
        except Exception as exc:  # noqa: BLE001 - reported to the test below
            failures.append(exc)
        finally:
            connection.close()

    facets._counts, first = slow_counts, threading.Thread(target=first_refresh)
    try:
        first.start()
        assert counted.wait(timeout=30)
        LibraryItem.objects.create(owning_unit=unit, kind="ebook", title="新")
        facet_counts_refresh()
        later_done.set()
        first.join(timeout=30)
    finally:
        facets._counts = real_counts
        later_done.set()
    assert not failures
    assert _counts("public", dimension="kind") == {("kind", "video"): 1, ("kind", "ebook"): 1}
