"""One item form per content kind: a new item starts with its kind, each kind's form shows its own fields (no
video upload or public-screen options on a newspaper issue, the upload first for video and audio) and levels,
fields a kind does not show are left as they were, and the unit pickers show the editor's tree indented."""

import pytest

from library.models import LibraryItem
from tests.factories import EbookFactory, NewspaperFactory
from tests.library.admin_forms import NEW_ITEM, item_form, login_as, unit_by_code

pytestmark = pytest.mark.django_db

MEDIA_ONLY = ("upload", "captions", "public_screens", "portrait_fill", "focal_x")


def _visible(response) -> list[str]:
    return [field.name for field in response.context["form"].visible_fields()]


def test_a_new_item_starts_by_choosing_its_kind(client, editors):
    """/new/ without a kind offers the six kinds as links to their forms (keeping a unit asked for); a link that
    adds a child (?parent=) brings its kind and goes straight to the form."""
    login_as(client, "zouping_editor")
    zouping = unit_by_code("zouping")
    page = client.get(f"{NEW_ITEM}?owning_unit={zouping.pk}").content.decode()
    assert "要添加哪一类馆藏" in page and 'id="w-editor-form"' not in page
    for kind in LibraryItem.Kind.values:
        assert f'href="?owning_unit={zouping.pk}&amp;kind={kind}"' in page
    title = NewspaperFactory(role="series", title="邹平日报", owning_unit=zouping)
    response = client.get(f"{NEW_ITEM}?parent={title.pk}")
    assert (
        response.context["form"].kind == "newspaper" and "类型：<strong>电子报纸</strong>" in response.content.decode()
    )


def test_a_newspaper_issue_shows_no_video_upload_or_public_screen_fields(client, editors):
    """A newspaper issue's form (new or edited) has its document, number, ISSN and CN, and none of the video
    upload, captions or public-screen fields; its levels are a newspaper's."""
    zouping = unit_by_code("zouping")
    title = NewspaperFactory(role="series", title="邹平日报", owning_unit=zouping)
    issue = NewspaperFactory(role="issue", title="2026年11月1日", parent=title, owning_unit=zouping)
    login_as(client, "zouping_editor")
    for response in (client.get(f"/admin/library_items/edit/{issue.pk}/"), client.get(f"{NEW_ITEM}?parent={title.pk}")):
        html = response.content.decode()
        fields = _visible(response)
        assert {"document", "number", "issn", "cn_serial"} <= set(fields)
        assert not set(MEDIA_ONLY) & set(fields) and 'name="upload"' not in html and 'name="public_screens"' not in html
        roles = [value for value, _label in response.context["form"].fields["role"].choices if value]
        assert set(roles) == {"series", "issue", "article", "item"}


def test_video_and_audio_forms_start_with_the_upload(client, editors):
    """For video the upload is the first field (then captions), with the public-screen options further down; audio
    starts with its upload too and has no public-screen options; neither shows a document or an ISSN. The form
    names the kind chosen and links back to the choice."""
    login_as(client, "zouping_editor")
    video = client.get(f"{NEW_ITEM}?kind=video")
    fields = _visible(video)
    assert fields[:2] == ["upload", "captions"] and "public_screens" in fields
    assert not {"document", "issn", "cn_serial", "number"} & set(fields)
    assert (
        "类型：<strong>视频</strong>" in video.content.decode()
        and 'href="/admin/library_items/new/"' in video.content.decode()
    )
    audio = _visible(client.get(f"{NEW_ITEM}?kind=audio"))
    assert audio[:2] == ["upload", "captions"] and "public_screens" not in audio and "isbn" in audio
    ebook = client.get(f"{NEW_ITEM}?kind=ebook")
    assert "upload" not in _visible(ebook) and _visible(ebook)[0] != "upload"
    assert [value for value, _label in ebook.context["form"].fields["role"].choices if value] == ["item"]


def test_fields_a_kind_does_not_show_are_kept_on_save(client, editors):
    """Saving an e-book through its form (which has no ISSN) leaves the ISSN an import gave it as it was."""
    item = EbookFactory(title="红岩", issn="0317-8471", owning_unit=unit_by_code("zouping"))
    login_as(client, "zouping_editor")
    data = item_form(title="红岩（新版）", version=item.updated_at.isoformat())
    response = client.post(f"/admin/library_items/edit/{item.pk}/", data)
    assert response.status_code == 302, response.context["form"].errors
    item.refresh_from_db()
    assert (item.title, item.issn) == ("红岩（新版）", "0317-8471")


def test_the_unit_pickers_show_the_editors_tree_indented(client, editors):
    """所属单位 lists the editor's own units only, in tree order, one '— ' per level below their top unit: the
    province editor sees 省 › 市 › 县, the city editor their city and its county, never another city's."""
    login_as(client, "sheng_editor")
    form = client.get(f"{NEW_ITEM}?kind=article").context["form"]
    labels = [label for value, label in form.fields["owning_unit"].choices if value]
    assert labels == ["山东省", "— 滨州市", "— — 邹平市", "— 临沂市", "— — 沂南县"]
    login_as(client, "binzhou_editor")
    form = client.get(f"{NEW_ITEM}?kind=article").context["form"]
    assert [label for value, label in form.fields["owning_unit"].choices if value] == ["滨州市", "— 邹平市"]
    assert [label for value, label in form.fields["access_unit"].choices if value] == ["滨州市", "— 邹平市"]


def test_the_curated_list_form_shows_the_same_tree(client, editors):
    """专题与推荐's 所属单位 is the same indented tree of the editor's own units."""
    login_as(client, "binzhou_editor")
    form = client.get("/admin/library_lists/new/").context["form"]
    assert [label for value, label in form.fields["owning_unit"].choices if value] == ["滨州市", "— 邹平市"]
