"""Browse counts (FacetCount): who is counted where, and how a refresh is queued and swapped in."""

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from cms.models import OrgUnit
from library.facets import facet_counts_refresh, facet_counts_refresh_soon, facet_rows
from library.models import FacetCount, LibraryItem
from library.services import library_changed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("db_tasks")]

TASK_PATH = "library.tasks.facet_counts_refresh_task"


@pytest.fixture
def demo():
    call_command("load_demo", "--no-media")


def _unit(code):
    return OrgUnit.objects.get(code=code)


def _item(unit="shandong", **fields):
    fields.setdefault("kind", "ebook")
    fields.setdefault("title", "测试条目")
    return LibraryItem.objects.create(owning_unit=_unit(unit), **fields)


def _counts(audience, kind="", dimension=None):
    rows = FacetCount.objects.filter(audience=audience, kind=kind)
    if dimension:
        rows = rows.filter(dimension=dimension)
    return {(row.dimension, row.value): row.count for row in rows}


def test_public_and_member_counts_and_unit_only_not_counted(demo):
    """Public counts hold public items only, members' counts public + members; unit-only, unpublished items and
    children (episodes) are counted nowhere."""
    series = _item(kind="audio", title="有声系列", role="series", access="public", year=2024)
    _item(kind="audio", title="第一集", role="episode", parent=series, year=2024)
    _item(kind="audio", title="党员专享", access="members", year=2024)
    _item(kind="audio", title="单位内部", access="unit", access_unit=_unit("zouping"), year=2024)
    _item(kind="audio", title="未发布", is_published=False, year=2024)
    _item(kind="ebook", title="公开书", clc="D261.4", year=2023)
    facet_counts_refresh()
    public, members = _counts("public"), _counts("members")
    assert public[("kind", "audio")] == 1 and members[("kind", "audio")] == 2
    assert public[("kind", "ebook")] == 1 and members[("kind", "ebook")] == 1
    assert public[("year", "2024")] == 1 and members[("year", "2024")] == 2
    assert _counts("public", kind="audio")[("year", "2024")] == 1
    assert _counts("members", kind="audio")[("unit", str(_unit("shandong").pk))] == 2
    assert ("unit", str(_unit("zouping").pk)) not in members  # the unit-only item leaves no trace
    assert ("kind", "video") not in public  # no zero rows


def test_clc_counts_under_basic_class_and_second_level(demo):
    """A code counts under its basic class and under each listed second-level class it starts with, the same
    prefix match the browse filter uses (A49 counts under A4 too; a range class counts by its member prefix)."""
    for code in ("D261.4", "D267", "D352", "A49", "TP3", "K81"):
        _item(clc=code)
    facet_counts_refresh()
    clc = {value: count for (dimension, value), count in _counts("public", dimension="clc").items()}
    assert clc["D"] == 3 and clc["D2"] == 2 and clc["D35"] == 1
    assert clc["A"] == 1 and clc["A4"] == 1 and clc["A49"] == 1
    assert clc["T"] == 1 and clc["TP"] == 1 and clc["K"] == 1 and clc["K81"] == 1
    assert set(_counts("public", kind="ebook", dimension="clc")) == set(_counts("public", dimension="clc"))


def test_tags_are_counted_per_kind(demo):
    """Tags count by slug, per kind and over all kinds."""
    book, talk = _item(kind="ebook"), _item(kind="audio")
    book.tags.add("党史")
    talk.tags.add("党史", "乡村振兴")
    facet_counts_refresh()
    assert _counts("public")[("tag", "党史")] == 2
    assert _counts("public", kind="audio")[("tag", "乡村振兴")] == 1
    assert ("tag", "乡村振兴") not in _counts("public", kind="ebook")


def test_refresh_replaces_every_row(demo):
    """A refresh leaves exactly the current counts: stale rows and values whose items went away disappear."""
    item = _item(kind="video", year=2020)
    facet_counts_refresh()
    FacetCount.objects.create(kind="", dimension="year", value="1900", audience="public", count=99)
    item.delete()
    _item(kind="ebook", year=2021)
    assert facet_counts_refresh() == FacetCount.objects.count()
    assert _counts("public") == {("kind", "ebook"): 1, ("year", "2021"): 1, ("unit", str(_unit("shandong").pk)): 1}


def test_page_rows_come_in_one_query(demo, django_assert_num_queries):
    """What a browse page shows (per-kind totals and the kind's facets) is one query."""
    _item(kind="ebook", clc="D2", year=2022)
    facet_counts_refresh()
    with django_assert_num_queries(1):
        rows = facet_rows(kind="ebook", audience="public")
    assert {(row.kind, row.dimension, row.value) for row in rows} >= {
        ("", "kind", "ebook"),
        ("ebook", "clc", "D"),
        ("ebook", "year", "2022"),
    }
    assert all(row.kind == "ebook" or row.dimension == "kind" for row in rows)


def test_changes_queue_one_refresh_until_it_runs(demo, django_capture_on_commit_callbacks):
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


def test_a_lost_refresh_is_queued_again(demo):
    """If a queued refresh never ran (its mark is old), the next change queues one again."""
    facet_counts_refresh_soon()
    FacetCount.objects.filter(dimension="_refresh").update(count=1)
    facet_counts_refresh_soon()
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 2
    assert not any(row.dimension == "_refresh" for row in facet_rows(kind=None, audience="public"))


def test_saving_through_the_service_refreshes_after_commit(demo, django_capture_on_commit_callbacks):
    """An item saved by library_item_save, once its refresh task runs, shows in the counts."""
    from library.services import library_item_save

    with django_capture_on_commit_callbacks(execute=True):
        library_item_save(item=LibraryItem(kind="article", title="新文章", owning_unit=_unit("binzhou")), user=None)
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 1
    facet_counts_refresh()
    assert _counts("public")[("kind", "article")] == 1
