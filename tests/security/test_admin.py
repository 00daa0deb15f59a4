"""Issue 11, the admin side: lost updates on the item form, transcode job screens scoped like items with no server
path shown, documents for e-books in unit editors' hands, and what malformed or hostile input does in the item form
and the item list's export."""

import csv
import importlib
import io
import re

import openpyxl
import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse
from wagtail.models import GroupCollectionPermission

from cms.models import LighthouseDocument, Member, UnitRole
from library.models import LibraryItem
from media_pipeline.models import MediaAsset, TranscodeJob
from media_pipeline.services import media_asset_create
from tests.library.admin_forms import NEW_ITEM, item_form, login_as, unit_by_code

pytestmark = pytest.mark.django_db


def _edit_url(item):
    return reverse("library_items:edit", args=[item.pk])


def _version(response):
    return response.context["form"]["version"].value()


# --- Item 6: lost updates --------------------------------------------------------------------------------------


def test_a_stale_edit_form_does_not_silently_win(client, demo):
    """Two editors open one item; the first saves; the second's stale form is refused with "此条目已被其他编辑修改，
    请刷新后重试" naming who saved, re-shown with the second editor's values, and the first editor's change stays.
    Saving the re-shown form again (a deliberate choice, after seeing the conflict) goes through."""
    item = LibraryItem.objects.create(
        kind="ebook", title="原标题", owning_unit=unit_by_code("zouping"), access="public"
    )
    login_as(client, "zouping_editor")
    first_version = _version(client.get(_edit_url(item)))
    login_as(client, "binzhou_editor")
    second_version = _version(client.get(_edit_url(item)))
    assert first_version and first_version == second_version

    login_as(client, "zouping_editor")
    saved = client.post(_edit_url(item), item_form(title="第一位编辑的标题", version=first_version))
    assert saved.status_code == 302, saved.context and saved.context["form"].errors

    login_as(client, "binzhou_editor")
    stale = client.post(_edit_url(item), item_form(title="第二位编辑的标题", version=second_version))
    assert stale.status_code == 200
    page = stale.content.decode()
    assert "此条目已被其他编辑修改，请刷新后重试" in page and "邹平市编辑" in page
    assert "第二位编辑的标题" in page  # the second editor's input is still in the form
    item.refresh_from_db()
    assert item.title == "第一位编辑的标题"

    again = client.post(_edit_url(item), item_form(title="第二位编辑的标题", version=_version(stale)))
    assert again.status_code == 302
    item.refresh_from_db()
    assert item.title == "第二位编辑的标题"


def test_an_edit_form_without_a_version_is_refused(client, demo):
    """A post that carries no version (an old tab, a hand-made request) cannot overwrite blindly either."""
    item = LibraryItem.objects.create(
        kind="ebook", title="原标题", owning_unit=unit_by_code("zouping"), access="public"
    )
    login_as(client, "zouping_editor")
    response = client.post(_edit_url(item), item_form(title="盲改"))
    assert response.status_code == 200 and "此条目已被其他编辑修改" in response.content.decode()
    item.refresh_from_db()
    assert item.title == "原标题"


# --- Item 8: transcode job screens -----------------------------------------------------------------------------


@pytest.fixture
def unit_jobs(demo, settings):
    """One failed job per unit (邹平 under 滨州, and 沂南 under 临沂) whose error and log name server paths."""
    jobs = {}
    for code in ("zouping", "yinan"):
        asset = media_asset_create(file=ContentFile(f"{code} 母版".encode() * 40, name=f"{code}-secret.mp4"))
        LibraryItem.objects.create(
            kind="video", title=f"{code} 视频", owning_unit=unit_by_code(code), media_asset=asset
        )
        job = asset.transcode_jobs.get()
        TranscodeJob.objects.filter(pk=job.pk).update(
            state=TranscodeJob.State.FAILED,
            error=f"转码失败：{settings.MEDIA_WORK_DIR}/job-{job.pk}/{code}-secret.mp4: Invalid data",
            log_tail=f"Input #0, from '{settings.MEDIA_ROOT}/uploads/2026/12/{code}-secret.mp4'\n"
            f"/tmp/lighthouse-abc123/seg-0001.ts: No space left on device",
        )
        jobs[code] = TranscodeJob.objects.get(pk=job.pk)
    return jobs


def _no_server_path(text: str, settings) -> bool:
    return str(settings.MEDIA_ROOT) not in text and str(settings.MEDIA_WORK_DIR) not in text and "/tmp/" not in text


def test_city_editor_sees_only_jobs_of_their_units(client, unit_jobs):
    """滨州's editor sees the 邹平 job (a county of theirs) in the list, its page, its status JSON and its asset's
    status JSON; the 沂南 job is absent from the list and a 404/403 everywhere else."""
    mine, theirs = unit_jobs["zouping"], unit_jobs["yinan"]
    login_as(client, "binzhou_editor")
    listing = client.get(reverse("transcode_jobs:index")).content.decode()
    assert "zouping-secret.mp4" in listing and "yinan-secret.mp4" not in listing
    assert client.get(reverse("transcode_jobs:inspect", args=[mine.pk])).status_code == 200
    assert client.get(reverse("transcode_jobs:inspect", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("transcode_jobs:history", args=[theirs.pk])).status_code in (403, 404)
    assert client.get(reverse("media_pipeline:job_status", args=[mine.pk])).status_code == 200
    assert client.get(reverse("media_pipeline:job_status", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("media_pipeline_admin:asset_status", args=[mine.asset_id])).status_code == 200
    assert client.get(reverse("media_pipeline_admin:asset_status", args=[theirs.asset_id])).status_code == 404
    exported = client.get(reverse("transcode_jobs:index") + "?export=csv")
    assert "yinan-secret" not in b"".join(getattr(exported, "streaming_content", [exported.content])).decode()


def test_job_actions_are_scoped_for_media_managers(client, unit_jobs):
    """An editor who may change jobs (a media manager of 滨州) retries, cancels and prioritises 邹平's jobs but gets a
    404 on 沂南's, which stay as they were."""
    editor = Member.objects.get(username="binzhou_editor")
    editor.user_permissions.add(Permission.objects.get(codename="change_transcodejob"))
    client.force_login(editor)
    theirs = unit_jobs["yinan"]
    for action in ("retry", "cancel", "prioritise"):
        assert client.post(f"/admin/media-pipeline/jobs/{theirs.pk}/{action}/").status_code == 404
    assert TranscodeJob.objects.filter(asset=theirs.asset).count() == 1
    response = client.post(f"/admin/media-pipeline/jobs/{unit_jobs['zouping'].pk}/retry/")
    assert response.status_code == 302
    assert TranscodeJob.objects.filter(asset=unit_jobs["zouping"].asset).count() == 2


def test_without_the_scope_setting_only_superusers_see_jobs(client, unit_jobs, settings):
    """The seam fails closed: with MEDIA_ADMIN_ASSET_SCOPE unset, an editor sees no job and no status; the
    superuser still sees all."""
    settings.MEDIA_ADMIN_ASSET_SCOPE = ""
    login_as(client, "binzhou_editor")
    assert "zouping-secret.mp4" not in client.get(reverse("transcode_jobs:index")).content.decode()
    assert client.get(reverse("media_pipeline:job_status", args=[unit_jobs["zouping"].pk])).status_code == 404
    login_as(client, "admin")
    listing = client.get(reverse("transcode_jobs:index")).content.decode()
    assert "zouping-secret.mp4" in listing and "yinan-secret.mp4" in listing


def test_editors_see_no_server_path_and_no_log_tail(client, unit_jobs, settings):
    """The job list, the job page, the job and asset status JSON and the item's edit page show an editor the
    failure without MEDIA_ROOT, MEDIA_WORK_DIR or /tmp paths; the raw log tail is for superusers only."""
    job = unit_jobs["zouping"]
    item = LibraryItem.objects.get(media_asset=job.asset)
    login_as(client, "zouping_editor")
    pages = {
        "list": client.get(reverse("transcode_jobs:index")).content.decode(),
        "inspect": client.get(reverse("transcode_jobs:inspect", args=[job.pk])).content.decode(),
        "job json": client.get(reverse("media_pipeline:job_status", args=[job.pk])).content.decode(),
        "asset json": client.get(reverse("media_pipeline_admin:asset_status", args=[job.asset_id])).content.decode(),
        "item": client.get(_edit_url(item)).content.decode(),
    }
    for name, text in pages.items():
        assert _no_server_path(text, settings), name
    assert "zouping-secret.mp4" in pages["inspect"]  # the file's own name still helps the editor
    assert "No space left on device" not in pages["inspect"]  # the log tail: superusers only
    login_as(client, "admin")
    inspect = client.get(reverse("transcode_jobs:inspect", args=[job.pk])).content.decode()
    assert "No space left on device" in inspect and _no_server_path(inspect, settings)


# --- Item 9: documents for e-books ------------------------------------------------------------------------------


def _document(unit_code, title):
    return LighthouseDocument.objects.create(
        title=title,
        file=ContentFile(b"%PDF-1.4\n%%EOF\n", name=f"{unit_code}.pdf"),
        collection=unit_by_code(unit_code).collection,
    )


def test_county_editor_uploads_and_attaches_a_document_to_an_ebook(client, demo):
    """邹平's editor uploads a PDF into 邹平's collection, finds it in the document chooser and files it on an e-book;
    沂南's document is neither offered nor accepted."""
    login_as(client, "zouping_editor")
    upload = client.post(
        reverse("wagtaildocs:add"),
        {
            "title": "邹平党员手册",
            "file": ContentFile(b"%PDF-1.4\n%%EOF\n", name="shouce.pdf"),
            "collection": unit_by_code("zouping").collection_id,
        },
    )
    assert upload.status_code == 302, upload.context and upload.context["form"].errors
    own = LighthouseDocument.objects.get(title="邹平党员手册")
    other = _document("yinan", "沂南内部资料")
    chooser = client.get(reverse("wagtaildocs_chooser:choose")).json()["html"]
    assert "邹平党员手册" in chooser and "沂南内部资料" not in chooser

    refused = client.post(NEW_ITEM, item_form(document=other.pk))
    assert refused.status_code == 200 and "document" in refused.context["form"].errors
    saved = client.post(NEW_ITEM, item_form(document=own.pk))
    assert saved.status_code == 302, saved.context and saved.context["form"].errors
    assert LibraryItem.objects.get().document_id == own.pk


def test_migration_grants_choose_document_to_existing_role_groups(demo):
    """Databases made before the fix: the data migration gives every editor/administrator group the choose
    permission on its unit's collection (and running it twice changes nothing)."""
    choose = Permission.objects.get(content_type__app_label="wagtaildocs", codename="choose_document")
    GroupCollectionPermission.objects.filter(permission=choose).delete()
    migration = importlib.import_module("cms.migrations.0003_role_groups_choose_document")
    migration.grant_choose_document(apps, None)
    migration.grant_choose_document(apps, None)
    role = UnitRole.objects.get(unit__code="zouping", role=UnitRole.Role.EDITOR)
    granted = GroupCollectionPermission.objects.filter(permission=choose, group=role.group)
    assert list(granted.values_list("collection_id", flat=True)) == [role.unit.collection_id]
    secretaries = UnitRole.objects.filter(role=UnitRole.Role.SECRETARY).values("group")
    assert not GroupCollectionPermission.objects.filter(permission=choose, group__in=secretaries).exists()


# --- Item 10: hostile input in the form and the export ----------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[1, 2, 3]",
        '{"blocks": 5, "entityMap": []}',
        '{"blocks": [{"type": "unstyled", "text": 7}], "entityMap": {}}',
        "[" * 100_000 + "]" * 100_000,
        '"<p><b>unbalanced' + "<div>" * 5000 + '"',
    ],
    ids=["broken", "list", "wrong-types", "text-not-string", "deep-nesting", "html-string"],
)
def test_malformed_rich_text_is_a_validation_error(client, demo, body):
    """Whatever arrives as the body, the form answers with a Chinese error on the body (or accepts clean text),
    never a 500."""
    login_as(client, "zouping_editor")
    response = client.post(NEW_ITEM, item_form(body=body))
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert "正文格式不正确" in str(response.context["form"].errors.get("body"))


def test_control_and_bidi_override_characters_are_stripped_from_titles(client, demo):
    """A title with a right-to-left override, zero-width and control characters is stored without them; a title
    of nothing but such characters is refused as missing."""
    login_as(client, "zouping_editor")
    saved = client.post(NEW_ITEM, item_form(title="\u202e党员\u0007手册", subtitle="\u2066副\u2069标题\x1b[31m"))
    assert saved.status_code == 302, saved.context and saved.context["form"].errors
    item = LibraryItem.objects.get()
    assert item.title == "党员手册" and "\u2066" not in item.subtitle and "\x1b" not in item.subtitle
    empty = client.post(NEW_ITEM, item_form(title="\u202e\u0007"))
    assert empty.status_code == 200 and "title" in empty.context["form"].errors


HOSTILE_TITLES = ['=HYPERLINK("http://evil.example","点我")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)"]


@pytest.fixture
def hostile_items(demo):
    for title in HOSTILE_TITLES:
        LibraryItem.objects.create(
            kind="article", title=title, summary="第一行\r\n第二行", owning_unit=unit_by_code("zouping")
        )
    LibraryItem.objects.create(kind="article", title="沂南的条目", owning_unit=unit_by_code("yinan"))


def test_item_list_csv_export_has_no_blank_lines_and_no_formulas(client, hostile_items):
    """The item list's CSV export has a header and one line per item (it used to write only blank lines), only the
    editor's items, and every cell that a spreadsheet would run as a formula starts with an apostrophe."""
    login_as(client, "zouping_editor")
    response = client.get(reverse("library_items:index") + "?export=csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert all(any(cell.strip() for cell in row) for row in rows)
    assert len(rows) == 1 + len(HOSTILE_TITLES) and "标题" in rows[0]
    titles = {row[rows[0].index("标题")] for row in rows[1:]}
    assert titles == {"'" + title for title in HOSTILE_TITLES}
    assert not re.search(r"^[=+\-@\t\r]", "\n".join(",".join(row) for row in rows[1:]), re.M)


def test_item_list_xlsx_export_has_no_formulas(client, hostile_items):
    """The XLSX export keeps every hostile title as text, neutralised the same way."""
    login_as(client, "zouping_editor")
    response = client.get(reverse("library_items:index") + "?export=xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    values = [cell.value for row in workbook.active.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)]
    assert {"'" + title for title in HOSTILE_TITLES} <= set(values)
    assert not any(value[:1] in "=+-@\t\r" for value in values if value)


def test_index_views_without_an_export_refuse_to_write_blank_files(client, unit_jobs):
    """Lists that offer no export (curated lists) answer ?export=csv with the ordinary page, not a file of blank
    lines."""
    login_as(client, "zouping_editor")
    response = client.get(reverse("library_lists:index") + "?export=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")


def test_asset_ids_are_not_a_side_door(client, unit_jobs):
    """An asset no item uses (an orphan upload) is the superuser's alone."""
    orphan = MediaAsset.objects.create(original_name="orphan.mp4", file="uploads/orphan.mp4")
    login_as(client, "sheng_editor")
    assert client.get(reverse("media_pipeline_admin:asset_status", args=[orphan.pk])).status_code == 404
