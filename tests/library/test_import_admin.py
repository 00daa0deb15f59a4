"""The import command and the admin import screen: exit codes, report CSV, upload (always a dry run first), the
real import from its page, unit scoping."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from cms.models import Member, OrgUnit
from library.imports.importer import import_batch_run_saved
from library.models import ImportBatch, LibraryItem
from tests.factories import OrgUnitFactory, editor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("db_tasks")]

GOOD = "external_id,title,creators,isbn\nC1,党章学习十讲,张三 主讲,\nC2,沂蒙精神,李四 著,7-02-000220-X\n"
BAD = GOOD + "C3,坏书号,王五,9787020002208\n"


def command(path, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("library_import", str(path), "--source", "cmd", "--unit", "shandong", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_command_imports_and_prints_a_chinese_summary(tmp_path, unit):
    """A clean file exits 0 with a Chinese summary; the report CSV has just its header."""
    path = tmp_path / "a.csv"
    path.write_text(GOOD, encoding="utf-8")
    output = command(path, "--report", str(tmp_path / "r.csv"))
    assert "导入完成" in output and "新增 2" in output and "拒绝 0" in output
    assert LibraryItem.objects.filter(source="cmd").count() == 2
    assert (tmp_path / "r.csv").read_text(encoding="utf-8-sig").strip() == "row,external_id,errors"


def test_command_exits_1_and_writes_the_rejections(tmp_path, unit):
    """Any rejected row makes the command exit with status 1; the report CSV names the row, id and reason."""
    path = tmp_path / "b.csv"
    path.write_bytes(BAD.encode("gb18030"))
    with pytest.raises(CommandError) as caught:
        command(path, "--report", str(tmp_path / "r.csv"))
    assert caught.value.returncode == 1 and "1 行被拒绝" in str(caught.value)
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    assert rows[1][:2] == ["4", "C3"] and "isbn" in rows[1][2] and "校验位" in rows[1][2]
    assert LibraryItem.objects.filter(source="cmd").count() == 2


def test_command_dry_run_and_bad_arguments(tmp_path, unit):
    """--dry-run says so and writes nothing; an unknown unit or an unreadable file is an error."""
    path = tmp_path / "a.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert "试运行" in command(path, "--dry-run") and not LibraryItem.objects.filter(source="cmd").exists()
    with pytest.raises(CommandError, match="找不到单位代码"):
        call_command("library_import", str(path), "--source", "cmd", "--unit", "nowhere")
    (tmp_path / "x.csv").write_bytes(b"external_id,title\n\xff\xff,x\n")
    with pytest.raises(CommandError, match="编码无法识别") as caught:
        command(tmp_path / "x.csv")
    assert caught.value.returncode == 1


def test_command_names_unknown_columns(tmp_path, unit):
    """Columns the import does not know are named on the command's error output too, and the rest goes in."""
    path = tmp_path / "u.csv"
    path.write_text("external_id,title,备注\nU1,党课讲稿,内部\n", encoding="utf-8")
    err = io.StringIO()
    call_command("library_import", str(path), "--source", "cmd", "--unit", "shandong", stdout=io.StringIO(), stderr=err)
    assert "1 列无法识别" in err.getvalue() and "备注" in err.getvalue()
    assert LibraryItem.objects.filter(source="cmd").count() == 1


def login(client, username):
    client.force_login(Member.objects.get(username=username))


def upload(client, content: bytes, *, unit="zouping", name="list.csv"):
    """The upload form: every upload is checked first (a dry run)."""
    data = {
        "file": SimpleUploadedFile(name, content),
        "file_format": "auto",
        "source": "web",
        "unit": OrgUnit.objects.get(code=unit).pk,
    }
    return client.post("/admin/library-import/", data)


def run_queued():
    """What the task worker does: run each queued import task (once: a batch already run is skipped)."""
    for result in DBTaskResult.objects.filter(task_path__endswith="import_batch_run_task"):
        batch_id, path = result.args_kwargs["args"]
        import_batch_run_saved(batch_id=batch_id, path=path)
        result.delete()


def upload_and_import(client, content: bytes, capture, **extra) -> ImportBatch:
    """Upload, run the dry run, press 正式导入 (its defaults) and run the real import; returns the real batch."""
    with capture(execute=True):
        upload(client, content, **extra)
    run_queued()
    dry = ImportBatch.objects.filter(dry_run=True).latest("pk")
    with capture(execute=True):
        client.post(f"/admin/library-import/{dry.pk}/confirm/", {})
    run_queued()
    return ImportBatch.objects.filter(dry_run=False).latest("pk")


def test_editor_uploads_and_sees_the_report(client, editors, django_capture_on_commit_callbacks):
    """An editor's upload queues a background dry run for their unit; after 正式导入 the real batch's page shows
    the counts and the rejected row, and the rejections download as CSV."""
    login(client, "zouping_editor")
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, BAD.encode("gb18030"))
    dry = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/admin/library-import/{dry.pk}/")
    assert dry.state == "running" and dry.owning_unit.code == "zouping" and dry.dry_run
    assert 'http-equiv="refresh"' in client.get(f"/admin/library-import/{dry.pk}/").content.decode()
    run_queued()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/library-import/{dry.pk}/confirm/", {})
    run_queued()
    batch = ImportBatch.objects.get(dry_run=False)
    assert (batch.state, batch.created, batch.rejected) == ("done", 2, 1)
    assert set(LibraryItem.objects.values_list("owning_unit__code", flat=True)) == {"zouping"}
    page = client.get(f"/admin/library-import/{batch.pk}/").content.decode()
    assert "新增 2" in page and "拒绝 1" in page and "C3" in page and "校验位" in page and "refresh" not in page
    download = client.get(f"/admin/library-import/{batch.pk}/rejected.csv")
    assert download["Content-Type"].startswith("text/csv") and "C3" in download.content.decode("utf-8-sig")
    listing = client.get("/admin/library-import/").content.decode()
    assert "list.csv" in listing and "已完成" in listing


def test_dry_run_upload_writes_nothing(client, editors, django_capture_on_commit_callbacks):
    """A dry-run upload reports what would happen and stores no items."""
    login(client, "zouping_editor")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, GOOD.encode())
    run_queued()
    batch = ImportBatch.objects.get()
    assert batch.dry_run and batch.created == 2 and not LibraryItem.objects.exists()
    assert "试运行" in client.get(f"/admin/library-import/{batch.pk}/").content.decode()


def test_editor_cannot_import_for_or_see_another_unit(client, editors, django_capture_on_commit_callbacks):
    """A county editor cannot choose another county, nor open its batches or their rejections."""
    login(client, "yinan_editor")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, GOOD.encode(), unit="yinan")
    other = ImportBatch.objects.get()
    login(client, "zouping_editor")
    response = upload(client, GOOD.encode(), unit="yinan")
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    assert ImportBatch.objects.count() == 1
    assert client.get(f"/admin/library-import/{other.pk}/").status_code == 404
    assert client.get(f"/admin/library-import/{other.pk}/rejected.csv").status_code == 404
    assert other.file_name not in client.get("/admin/library-import/").content.decode()


def test_screen_is_for_editors_and_shows_in_the_menu(client, unit_tree, editors):
    """Editors get the “导入馆藏” menu item and the form; a branch secretary who manages no unit is refused."""
    login(client, "zouping_editor")
    assert "/admin/library-import/" in client.get("/admin/").content.decode()  # the sidebar (JSON props)
    page = client.get("/admin/library-import/").content.decode()
    assert "上传并试运行" in page and "邹平市" in page and "沂南县" not in page
    branch = OrgUnitFactory(name="常山庄村党支部", level=OrgUnit.Level.BRANCH, parent=unit_tree["yinan"])
    editor(branch, "changshanzhuang_secretary", role="secretary")
    login(client, "changshanzhuang_secretary")
    assert client.get("/admin/library-import/").status_code in (302, 403)


def test_empty_upload_is_refused_in_chinese(client, editors):
    """A 0-byte file never becomes a batch."""
    login(client, "zouping_editor")
    response = upload(client, b"")
    assert "上传的文件是空的" in response.content.decode() and not ImportBatch.objects.exists()
