"""The item form in the admin: identifiers, classification, access, the serial tree, credits, and what an
editor changed by hand."""

import pytest

from library.admin.credits import credits_parse
from library.models import ItemCredit, LibraryItem
from tests.factories import AudioFactory, LibraryItemFactory, PeriodicalFactory, VideoFactory
from tests.library.admin_forms import NEW_ITEM, item_form, login_as, unit_by_code

pytestmark = pytest.mark.django_db


def _errors(response):
    return response.context["form"].errors


def test_isbn_checksum_and_clc_are_checked_and_normalised(client, editors):
    """A wrong ISBN check digit and an unknown CLC class are refused in Chinese; good values are stored in their
    normal form (ISBN-10 becomes ISBN-13, full-width CLC letters fold)."""
    login_as(client, "zouping_editor")
    bad = client.post(NEW_ITEM, item_form(isbn="978-7-01-012345-0", clc="L12"))
    errors = _errors(bad)
    assert "ISBN 校验位不正确" in errors["isbn"] and "L 不是中图法基本大类" in errors["clc"]
    title = item_form(kind="periodical", role="series", issn="0317-8471", cn_serial="CN 99-1234/D")
    errors = _errors(client.post(NEW_ITEM, title))
    assert "地区代码 99" in str(errors["cn_serial"]) and "issn" not in errors
    assert not LibraryItem.objects.exists()
    good = client.post(NEW_ITEM, item_form(isbn="7-01-000000-X", clc="ｄ２６１.４"))
    assert good.status_code == 302, _errors(good)
    item = LibraryItem.objects.get()
    assert (item.isbn, item.clc) == ("9787010000008", "D261.4")


def test_unit_access_needs_a_unit_within_the_editors_subtree(client, editors):
    """“指定单位及下级” without a unit is refused, a unit outside the editor's subtree is refused, and public
    access stores no unit."""
    login_as(client, "zouping_editor")
    assert "请选择可阅读的单位" in str(_errors(client.post(NEW_ITEM, item_form(access="unit"))))
    outside = client.post(NEW_ITEM, item_form(access="unit", access_unit=unit_by_code("yinan").pk))
    assert "选择一个有效的选项" in str(_errors(outside)["access_unit"])
    assert client.post(NEW_ITEM, item_form(access="public", access_unit=unit_by_code("zouping").pk)).status_code == 302
    assert LibraryItem.objects.get().access_unit is None


def test_parent_must_be_of_the_same_kind_level_and_editors_unit(client, editors):
    """An episode goes under a video/audio series of its own kind, in the editor's units; another kind, an
    article-level parent or another unit's series is refused."""
    zouping, yinan = unit_by_code("zouping"), unit_by_code("yinan")
    video_series = VideoFactory(role="series", title="党课", owning_unit=zouping)
    audio_series = AudioFactory(role="series", title="有声党史", owning_unit=zouping)
    other_unit = VideoFactory(role="series", title="沂南党课", owning_unit=yinan)
    login_as(client, "zouping_editor")
    episode = item_form(kind="video", role="episode", title="第一集")
    assert "类型" in str(_errors(client.post(NEW_ITEM, episode | {"parent": audio_series.pk}))["parent"])
    assert _errors(client.post(NEW_ITEM, episode | {"parent": other_unit.pk}))["parent"]
    assert "需要选择所属" in str(_errors(client.post(NEW_ITEM, episode))["parent"])
    standalone = item_form(kind="video", role="item", parent=video_series.pk)
    assert "不能放在其他条目下面" in str(_errors(client.post(NEW_ITEM, standalone))["parent"])
    assert client.post(NEW_ITEM, episode | {"parent": video_series.pk, "position": "1"}).status_code == 302
    assert LibraryItem.objects.get(title="第一集").parent == video_series


def test_credits_are_saved_in_order_with_roles_and_edits_are_remembered(client, editors):
    """ "曹雪芹:著；高鹗:编" becomes two credits in that order with their roles and the display line; editing the
    title and the credits later records them in edited_fields, and tags and related items are saved too."""
    related = LibraryItemFactory(title="红学概论", owning_unit=unit_by_code("zouping"))
    login_as(client, "zouping_editor")
    response = client.post(NEW_ITEM, item_form(title="红楼梦", credits="曹雪芹:著；高鹗:编", tags="古典, 小说"))
    assert response.status_code == 302, _errors(response)
    item = LibraryItem.objects.get(title="红楼梦")
    assert [(c.name, c.role) for c in item.credits.all()] == [("曹雪芹", "author"), ("高鹗", "editor")]
    assert item.creators == "曹雪芹 著；高鹗 编"
    assert sorted(item.tags.names()) == ["古典", "小说"] and item.edited_fields == []

    edit = f"/admin/library_items/edit/{item.pk}/"
    page = client.get(edit).content.decode()
    assert "曹雪芹:著；高鹗:编" in page
    data = item_form(
        title="红楼梦（校注本）",
        credits="曹雪芹:著；脂砚斋:注",
        tags="古典, 小说",
        related_items=str(related.pk),
        version=item.updated_at.isoformat(),  # the version the form was opened at (a stale one is refused)
    )
    assert client.post(edit, data).status_code == 302
    item.refresh_from_db()
    assert {"title", "credits", "related_items"} <= set(item.edited_fields) and "tags" not in item.edited_fields
    assert [(c.name, c.role) for c in item.credits.order_by("position")] == [
        ("曹雪芹", "author"),
        ("脂砚斋", "annotator"),
    ]
    assert list(item.related_items.all()) == [related]


def test_unknown_credit_role_is_a_clear_error():
    """A role that is not in the list is named back to the editor with the roles they can use."""
    assert credits_parse("鲁迅 著；许广平:编者") == [("鲁迅", "author"), ("许广平", "editor")]
    assert credits_parse("王明") == [("王明", ItemCredit.Role.AUTHOR)]
    assert credits_parse("高鹗:续") == [("高鹗", "continuator")]
    with pytest.raises(Exception, match="不认识的责任方式“序”"):
        credits_parse("高鹗:序")


def test_series_edit_page_lists_children_and_prefills_the_next_one(client, editors):
    """A periodical issue's edit page lists its articles and links “添加文章” to a form prefilled with the kind,
    level, parent, unit and next position; the issue links to its pages."""
    zouping = unit_by_code("zouping")
    title = PeriodicalFactory(role="series", title="支部生活", owning_unit=zouping)
    issue = PeriodicalFactory(role="issue", title="2026年第1期", parent=title, owning_unit=zouping)
    PeriodicalFactory(role="article", title="开篇", parent=issue, position=1, owning_unit=zouping)
    login_as(client, "zouping_editor")
    page = client.get(f"/admin/library_items/edit/{issue.pk}/").content.decode()
    assert "开篇" in page and "添加文章" in page and f"/admin/library_issue_pages/?issue={issue.pk}" in page
    assert "添加一期" in client.get(f"/admin/library_items/edit/{title.pk}/").content.decode()
    form = client.get(f"{NEW_ITEM}?parent={issue.pk}").context["form"]
    assert form.initial["kind"] == "periodical" and form.initial["role"] == "article"
    assert form.initial["parent"] == issue.pk and form.initial["owning_unit"] == zouping.pk
    assert form.initial["position"] == 2
