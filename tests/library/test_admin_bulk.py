"""The admin item list by organisation unit: who sees what, bulk actions, and a list that costs the same on
every page."""

import pytest

from cms.models import Member, OrgUnit
from library.models import LibraryItem
from search.models import OutboxEntry
from tests.factories import LibraryItemFactory, VideoFactory

pytestmark = pytest.mark.django_db
BULK = "/admin/bulk/library/libraryitem"


def _login(client, username):
    client.force_login(Member.objects.get(username=username))


def _ids(*items):
    return "&".join(f"id={item.pk}" for item in items)


def test_county_editors_cannot_see_or_bulk_change_each_others_items(client, unit_tree, editors):
    """Zouping's editor lists only Zouping's items; a bulk action naming a Yinan item is a 404 and changes
    nothing, not even the editor's own items in the same request."""
    own, other = (
        LibraryItemFactory(owning_unit=unit_tree["zouping"], title="邹平新闻"),
        LibraryItemFactory(owning_unit=unit_tree["yinan"], title="沂南新闻"),
    )
    _login(client, "zouping_editor")
    listing = client.get("/admin/library_items/").content.decode()
    assert own.title in listing and other.title not in listing
    assert client.get(f"{BULK}/unpublish/?{_ids(other)}").status_code == 404
    assert client.post(f"{BULK}/unpublish/?{_ids(own, other)}").status_code == 404
    assert client.post(f"{BULK}/delete/?{_ids(other)}").status_code == 404
    assert LibraryItem.objects.filter(is_published=True).count() == 2 and LibraryItem.objects.count() == 2
    for view in ("delete", "copy", "history", "usage"):
        assert client.get(f"/admin/library_items/{view}/{other.pk}/").status_code == 404, view
    assert client.get(f"/admin/library_items/copy/{own.pk}/").status_code == 200

    _login(client, "yinan_editor")
    listing = client.get("/admin/library_items/").content.decode()
    assert other.title in listing and own.title not in listing


def test_province_editor_bulk_unpublishes_and_publishes_across_counties(client, unit_tree, editors):
    """The province editor manages every county's items: unpublish then publish both, each change recorded in
    search's outbox (a bulk update sends no post_save)."""
    first, second = (
        LibraryItemFactory(owning_unit=unit_tree["zouping"], title="邹平新闻"),
        LibraryItemFactory(owning_unit=unit_tree["yinan"], title="沂南新闻"),
    )
    OutboxEntry.objects.all().delete()
    _login(client, "sheng_editor")
    confirm = client.get(f"{BULK}/unpublish/?{_ids(first, second)}")
    assert confirm.status_code == 200 and "邹平新闻" in confirm.content.decode()
    response = client.post(f"{BULK}/unpublish/?{_ids(first, second)}&next=/admin/library_items/")
    assert response.status_code == 302
    assert not LibraryItem.objects.filter(is_published=True).exists()
    doc_ids = set(OutboxEntry.objects.values_list("doc_id", flat=True))
    assert doc_ids == {f"library.libraryitem:{first.pk}", f"library.libraryitem:{second.pk}"}
    client.post(f"{BULK}/publish/?{_ids(first)}")
    assert list(LibraryItem.objects.filter(is_published=True)) == [first]


def test_bulk_set_access_requires_a_unit_in_the_editors_subtree(client, unit_tree, editors):
    """Setting "unit" access needs a unit, and only one the editor manages; public access clears the unit."""
    item = LibraryItemFactory(owning_unit=unit_tree["zouping"], title="邹平新闻")
    zouping, yinan = OrgUnit.objects.get(code="zouping"), OrgUnit.objects.get(code="yinan")
    _login(client, "zouping_editor")
    url = f"{BULK}/set_access/?{_ids(item)}"
    missing = client.post(url, {"access": "unit"})
    assert missing.status_code == 200 and "请选择可阅读的单位" in missing.content.decode()
    outside = client.post(url, {"access": "unit", "access_unit": yinan.pk})
    assert outside.status_code == 200 and "选择一个有效的选项" in outside.content.decode()
    item.refresh_from_db()
    assert item.access == "public"
    assert client.post(url, {"access": "unit", "access_unit": zouping.pk}).status_code == 302
    item.refresh_from_db()
    assert (item.access, item.access_unit) == ("unit", zouping)
    assert client.post(url, {"access": "members"}).status_code == 302
    item.refresh_from_db()
    assert (item.access, item.access_unit) == ("members", None)


def test_bulk_delete_takes_children_and_tells_search(client, unit_tree, editors):
    """Deleting a series deletes its episodes; search's outbox hears of every removed row."""
    series = VideoFactory(owning_unit=unit_tree["zouping"], title="党课系列", role="series")
    episode = VideoFactory(owning_unit=unit_tree["zouping"], title="第一集", role="episode", parent=series)
    keep = LibraryItemFactory(owning_unit=unit_tree["zouping"], title="留下")
    OutboxEntry.objects.all().delete()
    _login(client, "zouping_editor")
    assert client.post(f"{BULK}/delete/?{_ids(series)}").status_code == 302
    assert list(LibraryItem.objects.all()) == [keep]
    removed = set(OutboxEntry.objects.filter(op="delete").values_list("doc_id", flat=True))
    assert {f"library.libraryitem:{series.pk}", f"library.libraryitem:{episode.pk}"} <= removed


def test_list_shows_top_level_rows_children_on_request_and_filters(client, unit_tree, editors):
    """The list shows standalone items and series; a series' episodes show under ?parent= or by level; filters
    for unit (with its subtree), year and CLC class narrow it."""
    series = VideoFactory(owning_unit=unit_tree["zouping"], title="党课系列", role="series", clc="D26", year=2024)
    VideoFactory(owning_unit=unit_tree["zouping"], title="第一集", role="episode", parent=series)
    LibraryItemFactory(owning_unit=unit_tree["binzhou"], title="滨州新闻", clc="K29", year=2023)
    _login(client, "sheng_editor")
    listing = client.get("/admin/library_items/").content.decode()
    assert "党课系列" in listing and "第一集" not in listing and f"?parent={series.pk}" in listing
    assert "第一集" in client.get(f"/admin/library_items/?parent={series.pk}").content.decode()
    assert "第一集" in client.get("/admin/library_items/?role=episode").content.decode()
    binzhou = OrgUnit.objects.get(code="binzhou")
    by_city = client.get(f"/admin/library_items/?unit={binzhou.pk}").content.decode()
    assert "党课系列" in by_city and "滨州新闻" in by_city  # Zouping lies under Binzhou
    by_year = client.get("/admin/library_items/?year=2023").content.decode()
    assert "滨州新闻" in by_year and "党课系列" not in by_year
    by_clc = client.get("/admin/library_items/?clc=D").content.decode()
    assert "党课系列" in by_clc and "滨州新闻" not in by_clc
    assert "党课系列" in client.get("/admin/library_items/?q=党课").content.decode()


def test_list_query_count_is_the_same_on_every_page(client, unit_tree, editors, django_assert_max_num_queries):
    """Page 1 and page 3 of 120 rows cost the same number of queries: no per-row lookups."""
    for index in range(120):
        LibraryItemFactory(
            kind=("video", "ebook")[index % 2],
            owning_unit=unit_tree[("zouping", "yinan")[index % 2]],
            title=f"条目 {index}",
        )
    _login(client, "sheng_editor")
    client.get("/admin/library_items/")  # warm caches (permissions, site)
    counts = []
    for page in (1, 3):
        with django_assert_max_num_queries(25) as captured:
            assert client.get(f"/admin/library_items/?p={page}").status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
