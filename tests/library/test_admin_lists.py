"""Curated lists (专题与推荐) in the admin, the item chooser, and library documents served only to readers."""

import pytest
from django.core.files.base import ContentFile

from cms.models import LighthouseDocument, Member, OrgUnit
from library.models import ItemList, LibraryItem
from tests.factories import LibraryItemFactory

pytestmark = pytest.mark.django_db


def _login(client, username):
    client.force_login(Member.objects.get(username=username))


def _entries(items, order=None):
    data = {
        "entries-TOTAL_FORMS": str(len(items)),
        "entries-INITIAL_FORMS": "0",
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
    }
    for index, item in enumerate(items):
        data |= {
            f"entries-{index}-item": item.pk,
            f"entries-{index}-note": f"推荐{index}",
            f"entries-{index}-ORDER": str((order or range(len(items)))[index]),
            f"entries-{index}-id": "",
            f"entries-{index}-DELETE": "",
        }
    return data


def test_curated_list_keeps_the_editors_order(client, unit_tree, editors):
    """Entries are stored in the order the editor arranged them (the ORDER fields), not the order posted."""
    first, second, third = (
        LibraryItemFactory(owning_unit=unit_tree["zouping"], title="甲"),
        LibraryItemFactory(owning_unit=unit_tree["zouping"], title="乙"),
        LibraryItemFactory(owning_unit=unit_tree["shandong"], title="丙"),
    )
    _login(client, "zouping_editor")
    data = {
        "title": "本月推荐",
        "slug": "benyue",
        "kind": "curated",
        "owning_unit": OrgUnit.objects.get(code="zouping").pk,
        "is_published": "on",
    } | _entries([first, second, third], order=[2, 0, 1])
    response = client.post("/admin/library_lists/new/", data)
    assert response.status_code == 302, response.context["form"].errors
    item_list = ItemList.objects.get()
    entries = item_list.entries.order_by("sort_order")
    assert [entry.item.title for entry in entries] == ["乙", "丙", "甲"]
    assert [entry.sort_order for entry in entries] == [0, 1, 2]
    assert "本月推荐" in client.get("/admin/library_lists/").content.decode()
    _login(client, "yinan_editor")
    assert client.get(f"/admin/library_lists/edit/{item_list.pk}/").status_code == 404
    assert "本月推荐" not in client.get("/admin/library_lists/").content.decode()


def test_item_chooser_finds_own_and_public_items_by_title(client, unit_tree, editors):
    """The chooser searches titles and offers the editor's own items and published public ones, never another
    unit's members-only item."""
    LibraryItemFactory(owning_unit=unit_tree["zouping"], title="邹平党课")
    LibraryItemFactory(owning_unit=unit_tree["yinan"], title="沂南党课", access="members")
    LibraryItemFactory(owning_unit=unit_tree["yinan"], title="沂南公开党课")
    _login(client, "zouping_editor")
    html = client.get("/admin/library_item_chooser/results/", {"q": "党课"}).content.decode()
    assert "邹平党课" in html and "沂南公开党课" in html and "沂南党课<" not in html


def test_library_documents_are_served_only_to_readers(client, unit_tree, editors):
    """A document used by a members-only item is a login redirect for visitors, a 404 for a member of another
    unit when the item is opened to one unit only, and served whole only to those who may download it (a reader
    without the download right reads in the reader instead); other documents are untouched."""
    yinan = OrgUnit.objects.get(code="yinan")
    guarded = LighthouseDocument(title="内部资料")
    guarded.file.save("neibu.txt", ContentFile(b"neibu"), save=False)
    guarded.save()
    free = LighthouseDocument(title="公开资料")
    free.file.save("gongkai.txt", ContentFile(b"gongkai"), save=False)
    free.save()
    item = LibraryItemFactory(
        owning_unit=unit_tree["yinan"], title="沂南内部资料", document=guarded, access="unit", access_unit=yinan
    )
    guarded_url, free_url = guarded.url, free.url  # a name already in the bucket gets a suffix

    assert client.get(free_url).status_code in (200, 302)
    anonymous = client.get(guarded_url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    _login(client, "zouping_editor")  # a member of Zouping: may not read Yinan's unit-only item
    assert client.get(guarded_url).status_code == 404
    _login(client, "yinan_editor")
    assert client.get(guarded_url).status_code in (200, 302)
    LibraryItem.objects.filter(pk=item.pk).update(access="members")
    _login(client, "zouping_editor")
    assert client.get(guarded_url).status_code == 404  # may read, may not download
    LibraryItem.objects.filter(pk=item.pk).update(download="readers")
    assert client.get(guarded_url).status_code in (200, 302)
