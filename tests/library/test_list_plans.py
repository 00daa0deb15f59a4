"""Browse lists are read in their order from an index, never sorted, on the embedded default as on PostgreSQL.

At 300,000 items a list that sorts its matches costs a second (issue 13: SQLite took "parent IS NULL" for a
selective equality on an index led by parent and sorted every top-level item). These tests prove the plans, not
the time: on a library of a few thousand generated items (every kind and level, as ``library_generate`` makes
them) with the planner's statistics refreshed, ``EXPLAIN`` of the query each list page sends names one of the
library's list indexes and has no sort for its ORDER BY. The children of a series or issue, looked up by parent,
use the children's index; the browse counts read their own index alone.
"""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.db.models import Count

from cms.selectors import unit_and_ancestors
from library import selectors, services
from library.facets import _counts, facet_counts_refresh
from library.imports import importer
from library.management.generator import library_generate
from library.models import LISTED, LibraryItem, LibraryItemTag, LibraryTag
from library.selectors import item_children, items_page
from library.services import descendant_ids, library_statistics_refresh
from tests import factories

ROWS = 4000  # a few thousand rows: enough that reading 25 rows in order beats sorting them, as at any real size
# The indexes a browse list may be read from (library.models: LibraryItem.Meta.indexes).
LIST_INDEXES = {
    "library_listed_published",
    "library_listed_read",
    "library_kind_published",
    "library_kind_read",
    "library_kind_year",
    "library_year_published",
    "library_year_read",
    "library_unit_published",
    "library_unit_read",
}


@pytest.fixture(autouse=True)
def _media_root():
    """Replaces the suite's per-test media folder: these tests write no files."""


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction rolled back afterwards: the organisation tree, ROWS generated
    items, and a tag on every other listed item (the generator's tags are each on a few percent); then the browse
    counts and the planner's statistics refreshed, as at the end of an import."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            units = factories.unit_tree(local=True)
            library_generate(count=ROWS, source="synthetic", seed=7, batch_size=1000)
            common = LibraryTag.objects.create(name="常见", slug="常见")
            listed = LibraryItem.objects.filter(LISTED)
            every_other = listed.order_by("pk").values_list("pk", flat=True)[::2]
            LibraryItemTag.objects.bulk_create(LibraryItemTag(tag=common, content_object_id=pk) for pk in every_other)
            facet_counts_refresh()
            _statistics_refresh()
            yield {
                "year": _commonest(listed, "year"),
                "unit": _commonest(listed, "owning_unit_id"),
                "tag": common.slug,
                "member_unit": units["zouping"],
            }
            transaction.set_rollback(True)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE sqlite_schema")  # the planner rereads the (rolled back) statistics


def _statistics_refresh():
    """The statistics a bulk import leaves in a large library (SQLite is given none below STATISTICS_MIN_ROWS), and
    on PostgreSQL the organisation tree's, which autovacuum keeps in a running database: a stale estimate of one
    unit had the planner start list pages from cms_orgunit and sort the rows it joined (seen in make test)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "STATISTICS_MIN_ROWS", 0)
        library_statistics_refresh()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cms_orgunit")


def _commonest(rows, field):
    return rows.values(field).annotate(n=Count("pk")).order_by("-n", field).values_list(field, flat=True).first()


# -- reading plans ------------------------------------------------------------------------------------------------


def _sent(call) -> list[tuple[str, list]]:
    """Every statement ``call()`` sends, with its parameters."""
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call()
    return sent


def _page_query(**kwargs) -> tuple[str, list]:
    """The query items_page reads a page of items with (the tag filter first reads how common its tag is)."""
    kwargs.setdefault("user", AnonymousUser())
    sent = _sent(lambda: items_page(**kwargs))
    return next((sql, params) for sql, params in sent if 'FROM "library_libraryitem"' in sql and "ORDER BY" in sql)


def _plan(sql: str, params) -> str:
    """The database's plan, as ``QuerySet.explain()`` asks for it (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
    PostgreSQL), one step a line."""
    with connection.cursor() as cursor:
        cursor.execute(f"{connection.ops.explain_query_prefix()} {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def _list_index(plan: str) -> str | None:
    """The index the items themselves are read from (not a subquery's table), or None."""
    if connection.vendor == "sqlite":
        pattern = r"^(?:SCAN|SEARCH) library_libraryitem USING (?:COVERING )?INDEX (\w+)"
    else:
        pattern = r"Index (?:Only )?Scan(?: Backward)? using (\w+) on library_libraryitem\b"
    match = re.search(pattern, plan, flags=re.MULTILINE)
    return match[1] if match else None


def _sorts(plan: str) -> bool:
    if connection.vendor == "sqlite":
        return "TEMP B-TREE FOR ORDER BY" in plan or "TEMP B-TREE FOR RIGHT PART OF ORDER BY" in plan
    return re.search(r"\bSort\b", plan) is not None  # "Sort", "Incremental Sort"


def _assert_read_in_order(plan: str) -> None:
    assert _list_index(plan) in LIST_INDEXES, plan
    assert not _sorts(plan), plan
    assert "library_children" not in plan, plan


# -- the lists ----------------------------------------------------------------------------------------------------

# Each browse list as its page asks for it, unfiltered or by one filter: (name, items_page arguments).
LISTS = {
    "newest": lambda w: {},
    "popular": lambda w: {"sort": "popular"},
    "kind": lambda w: {"kind": "ebook"},
    "kind, popular": lambda w: {"kind": "audio", "sort": "popular"},
    "year": lambda w: {"filters": {"year": w["year"]}},
    "year, popular": lambda w: {"filters": {"year": w["year"]}, "sort": "popular"},
    "unit": lambda w: {"filters": {"unit": w["unit"]}},
    "unit, popular": lambda w: {"filters": {"unit": w["unit"]}, "sort": "popular"},
    "class": lambda w: {"filters": {"clc": "D"}},
    "class, second level, popular": lambda w: {"filters": {"clc": "D2"}, "sort": "popular"},
    "tag": lambda w: {"filters": {"tag": w["tag"]}},
    "tag, popular": lambda w: {"filters": {"tag": w["tag"]}, "sort": "popular"},
}
# Filters together. With a few thousand items they leave a few dozen rows, and PostgreSQL, which knows that from
# its statistics, rightly sorts those few instead (at 300,000 items a few thousand: still cheap, either way).
COMBINED = {
    "kind, class and year": lambda w: {"kind": "ebook", "filters": {"clc": "D", "year": w["year"]}},
    "kind and unit": lambda w: {"kind": "article", "filters": {"unit": w["unit"]}},
    "kind and tag": lambda w: {"kind": "audio", "filters": {"tag": w["tag"]}},
}


def _half_way_cursor(arguments: dict) -> tuple:
    """The cursor of a page half-way down the list (at the very end PostgreSQL rightly sorts the last few rows)."""
    key = "read_count" if arguments.get("sort") == "popular" else "published_at"
    rows = selectors.listed_items_visible_to(AnonymousUser()).filter(**_filters_of(arguments))
    rows = rows.order_by(f"-{key}", "-id").values_list(key, "id")
    return rows[rows.count() // 2]


def _filters_of(arguments: dict) -> dict:
    fields = {"year": "year", "unit": "owning_unit_id", "clc": "clc__startswith", "tag": "tagged_items__tag__slug"}
    kind = {"kind": arguments["kind"]} if arguments.get("kind") else {}
    return kind | {fields[key]: value for key, value in arguments.get("filters", {}).items()}


@pytest.mark.django_db
class TestListPlans:
    @pytest.mark.parametrize("name", LISTS)
    def test_first_page_read_in_order(self, world, name):
        """Each list's first page (newest or most read; unfiltered, or by kind, year, unit, 中图法 class or tag) is
        read from a list index in the list's order: no sort, no children's index."""
        _assert_read_in_order(_plan(*_page_query(**LISTS[name](world))))

    @pytest.mark.parametrize("name", COMBINED)
    def test_filters_together_read_through_an_index(self, world, name, monkeypatch):
        """Filters together read the items through the library's indexes, never the whole table; on SQLite, which
        cannot know how few rows they leave, in the list's order."""
        monkeypatch.setattr(selectors, "TAG_COMMON", 100)  # the tag's share of audio here, as 1,000 at full size
        plan = _plan(*_page_query(**COMBINED[name](world)))
        if connection.vendor == "sqlite":
            _assert_read_in_order(plan)
        else:
            assert not re.search(r"Seq Scan on library_libraryitem\b", plan), plan
            assert re.search(r"(Index|Index Only|Bitmap Index) Scan (Backward )?(using|on) library_\w+", plan), plan

    @pytest.mark.parametrize("name", ["newest", "popular", "kind", "unit", "class", "tag"])
    def test_deep_page_starts_at_its_cursor(self, world, name):
        """A keyset page half-way down a list of a thousand rows or more reads the same index from its cursor on
        (the cursor bounds the index range), never sorting and never walking the rows before it. (Half-way down a
        year's few hundred rows here, PostgreSQL rightly sorts the few dozen its statistics say are left.)"""
        arguments = LISTS[name](world)
        plan = _plan(*_page_query(**arguments, before=_half_way_cursor(arguments)))
        _assert_read_in_order(plan)
        if connection.vendor == "sqlite":
            assert re.search(r"USING (COVERING )?INDEX \w+ \(.*(published_at|read_count)<\?", plan), plan
        else:
            assert re.search(r"Index Cond: .*(published_at|read_count) <=", plan), plan

    def test_member_with_unit_access_reads_in_order(self, world):
        """A member's list (public, members-only and their units' items) is read in order too."""
        member = factories.MemberFactory(org_unit=world["member_unit"])
        assert unit_and_ancestors(member).exists()
        _assert_read_in_order(_plan(*_page_query(user=member)))

    def test_rare_tag_reads_its_own_rows(self, world):
        """A tag on few items is read from the tag's rows (its few items then sorted), not by walking the list."""
        rare = LibraryTag.objects.create(name="罕见标签", slug="罕见标签")
        for item in LibraryItem.objects.filter(LISTED, access="public").order_by("pk")[:3]:
            item.tags.add(rare)
        plan = _plan(*_page_query(filters={"tag": rare.slug}))
        assert "libraryitemtag" in plan and "Seq Scan on library_libraryitem " not in plan, plan
        assert not re.search(r"^SCAN library_libraryitem\b", plan, flags=re.MULTILINE), plan
        assert [item.title for item in items_page(user=AnonymousUser(), filters={"tag": rare.slug})[0]]

    @pytest.mark.skipif(
        "connection.vendor != 'sqlite'",
        reason="PostgreSQL always has statistics (autovacuum); SQLite has none until ANALYZE",
    )
    def test_without_statistics_too(self, world, monkeypatch):
        """A fresh embedded database has no statistics until a bulk import into a large library: its lists are
        read in order as well (there is no index that holds the top-level rows' NULL parent for SQLite to mistake
        for a key); and a library this small is given none (they would mislead SQLite once it has grown)."""
        monkeypatch.setattr(selectors, "TAG_COMMON", 100)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM sqlite_stat1")
            cursor.execute("ANALYZE sqlite_schema")  # the planner rereads them: none
        try:
            for arguments in [*LISTS.values(), *COMBINED.values()]:
                _assert_read_in_order(_plan(*_page_query(**arguments(world))))
            library_statistics_refresh()  # a library this small is given none
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM sqlite_stat1")
                assert cursor.fetchone() == (0,)
        finally:
            _statistics_refresh()


@pytest.mark.django_db
class TestOtherPlans:
    @pytest.mark.parametrize("who", ["anonymous", "member"])
    def test_home_newest_issues_read_in_order(self, world, who):
        """The home page's newest newspaper and periodical issues (selectors.latest_issues, one card per title) are
        read in the issues' own date order from their index, a bounded number of rows, never sorted (at 300,000
        items the issues are tens of thousands of rows); on PostgreSQL never a scan of the table."""
        user = AnonymousUser() if who == "anonymous" else factories.MemberFactory(org_unit=world["member_unit"])
        sent = _sent(lambda: selectors.latest_issues(user=user, count=4))
        sql, params = next((sql, p) for sql, p in sent if 'FROM "library_libraryitem"' in sql and "ORDER BY" in sql)
        plan = _plan(sql, params)
        if connection.vendor == "sqlite":
            issues_index = r"^SEARCH library_libraryitem USING INDEX library_children_issued \(role="
            assert re.search(issues_index, plan, re.MULTILINE), plan
            assert not _sorts(plan), plan
        else:
            assert "library_children_issued" in plan and not re.search(r"Seq Scan on library_libraryitem\b", plan), plan
        issues = selectors.latest_issues(user=user, count=4)
        assert issues and len({issue.parent_id for issue in issues}) == len(issues)
        assert [issue.issued for issue in issues] == sorted((issue.issued for issue in issues), reverse=True)

    def test_children_by_parent_use_the_children_index(self, world):
        """A series' episodes in order, and the children and grandchildren a change of access reaches (the same
        lookups a cascading delete makes), use the children's index; "parent IS NOT NULL" is implied by them."""
        title = LibraryItem.objects.filter(kind="newspaper", parent__isnull=True).order_by("pk").first()
        children = item_children(user=AnonymousUser(), item=title)
        plan = _plan(*children.query.sql_with_params())
        assert "library_children" in plan and not _sorts(plan), plan
        for sql, params in _sent(lambda: descendant_ids(item_ids=[title.pk])):
            assert "library_children" in _plan(sql, params), sql
        assert len(descendant_ids(item_ids=[title.pk])) > len(list(children))  # grandchildren found too

    @pytest.mark.skipif(
        "connection.vendor != 'sqlite'",
        reason="the covering index is for SQLite's plan; PostgreSQL counts from the table with its own statistics",
    )
    def test_browse_counts_read_their_index(self, world):
        """Each browse count but the tags' walks the counts' index, which holds every column they group and filter
        by (SQLite never needs the table's rows; its refresh holds the database's write lock while it counts)."""
        for dimension in ("kind", "clc", "year", "unit"):
            sent = _sent(lambda dimension=dimension: _counts(dimension, "members"))
            plan = _plan(*sent[-1])
            assert re.match(r"SCAN library_libraryitem USING (COVERING )?INDEX library_listed_facets\b", plan), plan


def _csv(path, count: int):
    lines = ["external_id,kind,title"] + [f"S{n},电子书,书{n}" for n in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.django_db
def test_bulk_imports_refresh_the_statistics(tmp_path, unit_tree, monkeypatch):
    """An import that wrote BULK_ROWS rows or more refreshes the planner's statistics at its end (what these plans
    are chosen with); a smaller one leaves them (a second's work at 300,000 items)."""
    calls = []
    real = importer.library_statistics_refresh
    monkeypatch.setattr(importer, "library_statistics_refresh", lambda: calls.append("refresh") or real())
    monkeypatch.setattr(importer, "BULK_ROWS", 3)
    importer.import_file(path=_csv(tmp_path / "two.csv", 2), file_format=None, unit=unit_tree["shandong"], source="t")
    assert calls == []
    importer.import_file(path=_csv(tmp_path / "three.csv", 3), file_format=None, unit=unit_tree["shandong"], source="u")
    assert calls == ["refresh"] and LibraryItem.objects.filter(source__in=["t", "u"]).count() == 5
