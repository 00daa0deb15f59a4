"""正式导入 after a dry run in the admin: the checked file is kept on the server and imported as it was checked (no
second upload, no swapped file, once however often the button is pressed, not after it expires), all or nothing;
导入为待审核 and its default per role; unknown columns named; the column list and the templates on screen; the
dashboard's panels show what came in."""

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from cms.models import Member, OrgUnit
from library.imports import importer
from library.imports.columns import COLUMN_DOCS, KNOWN_COLUMNS
from library.imports.importer import ImportConfirmError, import_batch_confirm, import_uploads_sweep
from library.models import ImportBatch, LibraryItem
from tests.factories import LibraryItemFactory, OrgUnitFactory, editor
from tests.library.test_import_admin import login, run_queued, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("db_tasks")]

CATALOGUE = "外部编号,标题,作者,已发布\nR1,沂蒙精神读本,山东人民出版社 编,是\nR2,红嫂的故事,李四 著,是\n"


@pytest.fixture
def checked(client, editors, django_capture_on_commit_callbacks):
    """A county editor's dry run of CATALOGUE, finished: (the dry run batch, a function that presses 正式导入)."""
    login(client, "zouping_editor")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, CATALOGUE.encode("utf-8"))
    run_queued()
    dry = ImportBatch.objects.get(dry_run=True)

    def confirm(data=None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/admin/library-import/{dry.pk}/confirm/", data or {}, **extra)
        run_queued()
        return response

    return dry, confirm


def test_dry_run_page_offers_the_real_import_of_the_checked_file(client, checked):
    """The dry run's page says what the real import will do and offers 正式导入 with 导入为待审核; pressing it
    imports the file kept on the server (no upload in the request) with the dry run's source and unit, and the
    file is deleted once the real import is done. The dry run then links to the import it became."""
    dry, confirm = checked
    assert dry.state == "done" and not LibraryItem.objects.exists()
    path = Path(dry.run_options["path"])
    assert path.is_file() and dry.run_options["sha256"]  # kept for 正式导入
    page = client.get(f"/admin/library-import/{dry.pk}/").content.decode()
    assert "正式导入将新增 2 条" in page and 'name="for_review"' in page
    assert f'action="/admin/library-import/{dry.pk}/confirm/"' in page and 'type="file"' not in page

    response = confirm()
    real = ImportBatch.objects.get(dry_run=False)
    assert response["Location"] == f"/admin/library-import/{real.pk}/"
    assert (real.state, real.created, real.rejected) == ("done", 2, 0)
    assert (real.source, real.owning_unit, real.file_name) == (dry.source, dry.owning_unit, dry.file_name)
    assert sorted(LibraryItem.objects.values_list("external_id", flat=True)) == ["R1", "R2"]
    assert not path.exists()
    page = client.get(f"/admin/library-import/{dry.pk}/").content.decode()
    assert f'href="/admin/library-import/{real.pk}/"' in page and 'name="for_review"' not in page
    assert f"/admin/library-import/{dry.pk}/" in client.get(f"/admin/library-import/{real.pk}/").content.decode()


def test_a_double_click_imports_once(client, checked):
    """A second press (double click, second tab) starts nothing: it lands on the import the first one started."""
    _dry, confirm = checked
    confirm()
    second = confirm()
    real = ImportBatch.objects.get(dry_run=False)
    assert second["Location"] == f"/admin/library-import/{real.pk}/"
    assert ImportBatch.objects.filter(dry_run=False).count() == 1 and LibraryItem.objects.count() == 2


def test_two_presses_at_once_start_one_import(checked):
    """The guard is in the database, not only in the page: of two requests that both read the dry run before
    either marked it (two copies of the batch), the second is refused and told which import the first started."""
    dry, _confirm = checked
    first, second = ImportBatch.objects.get(pk=dry.pk), ImportBatch.objects.get(pk=dry.pk)
    user = Member.objects.get(username="zouping_editor")
    real = import_batch_confirm(batch=first, user=user, for_review=False)
    with pytest.raises(ImportConfirmError) as refused:
        import_batch_confirm(batch=second, user=user, for_review=True)
    assert refused.value.batch == real and "已经正式导入过" in refused.value.message
    assert list(ImportBatch.objects.filter(dry_run=False)) == [real]


def test_a_changed_or_expired_file_is_not_imported(client, checked, settings):
    """The file must be the bytes the dry run read (SHA-256): one changed on the server is refused. An expired dry
    run offers no 正式导入, says so, and refuses a posted one. Nothing is written either way."""
    dry, confirm = checked
    path = Path(dry.run_options["path"])
    path.write_bytes(CATALOGUE.encode("utf-8") + "R3,混进来的,王五,是\n".encode())
    confirm()
    assert not ImportBatch.objects.filter(dry_run=False).exists() and not LibraryItem.objects.exists()
    assert "文件被改动过" in client.get(f"/admin/library-import/{dry.pk}/").content.decode()

    path.write_bytes(CATALOGUE.encode("utf-8"))
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    ImportBatch.objects.filter(pk=dry.pk).update(run_options={**dry.run_options, "expires_at": past})
    page = client.get(f"/admin/library-import/{dry.pk}/").content.decode()
    assert "已过期" in page and 'name="for_review"' not in page
    confirm()
    assert not ImportBatch.objects.filter(dry_run=False).exists() and not LibraryItem.objects.exists()


def test_the_sweep_keeps_a_checked_file_until_it_expires(checked):
    """The work folder's sweep keeps a dry run's file while it can still be imported and removes it after."""
    dry, _confirm = checked
    path = Path(dry.run_options["path"])
    day_old = (timezone.now() - timedelta(days=2)).timestamp()
    os.utime(path, (day_old, day_old))
    import_uploads_sweep()
    assert path.exists()
    import_uploads_sweep(now=timezone.now() + importer.CONFIRM_TTL + timedelta(minutes=1))
    assert not path.exists()


def test_review_default_follows_the_role(client, checked, unit_tree):
    """导入为待审核 is ticked for an editor and not for the unit's administrator or a superuser (who review)."""
    dry, _confirm = checked

    def ticked(username):
        login(client, username)
        form = client.get(f"/admin/library-import/{dry.pk}/").context["confirm_form"]
        return form.initial["for_review"]

    editor(unit_tree["zouping"], "zouping_admin", role="administrator")
    Member.objects.create_superuser("root", password="x")
    assert ticked("zouping_editor") is True
    assert ticked("zouping_admin") is False and ticked("root") is False


def test_imported_for_review_items_wait_unpublished_and_show_on_the_dashboard(client, checked):
    """With 导入为待审核 the new items arrive unpublished although the file says 已发布=是; the file cannot publish
    an existing item that waits either. The dashboard's 最近导入 names the items (待审核), 未发布的馆藏 lists them,
    and the item list filtered by the batch shows exactly them."""
    dry, confirm = checked
    waiting = LibraryItemFactory(
        source="web", external_id="R2", title="红嫂的故事", is_published=False, owning_unit=dry.owning_unit
    )
    confirm({"for_review": "on"})
    real = ImportBatch.objects.get(dry_run=False)
    assert real.run_options["for_review"] and (real.created, real.updated) == (1, 1)
    new = LibraryItem.objects.get(external_id="R1")
    waiting.refresh_from_db()
    assert not new.is_published and not waiting.is_published
    assert waiting.creators == "李四 著"  # the rest of the row did go in

    html = client.get("/admin/").content.decode()
    panel = html.split('id="lighthouse-recent-imports-section"')[1].split("</table>")[0]
    assert f'href="/admin/library_items/edit/{new.pk}/"' in panel and "沂蒙精神读本" in panel and "待审核" in panel
    unpublished = html.split('id="lighthouse-unpublished-items-section"')[1].split("</table>")[0]
    assert "沂蒙精神读本" in unpublished and "红嫂的故事" in unpublished
    listing = client.get(f"/admin/library_items/?import_batch={real.pk}").content.decode()
    assert "沂蒙精神读本" in listing and "红嫂的故事" not in listing  # created by this import: R1 only


def test_without_review_the_files_published_column_applies(client, checked):
    """Unticked, the file's 已发布 column decides, as on the command line."""
    _dry, confirm = checked
    confirm({})
    assert set(LibraryItem.objects.values_list("is_published", flat=True)) == {True}


def test_nothing_is_half_applied_when_the_real_run_differs(client, checked):
    """正式导入 is all or nothing: a row the dry run accepted but the real run rejects (the library changed in
    between: another unit now owns R2) rolls the whole file back, R1 included, with a message naming the line."""
    _dry, confirm = checked
    other = OrgUnit.objects.get(code="yinan")
    LibraryItemFactory(source="web", external_id="R2", title="别的单位的", owning_unit=other)
    confirm()
    real = ImportBatch.objects.get(dry_run=False)
    assert real.state == "failed" and "第 3 行" in real.error and "没有写入任何条目" in real.error
    assert (real.created, real.rejected) == (0, 0)
    assert not LibraryItem.objects.filter(external_id="R1").exists()


def test_a_failure_in_the_middle_rolls_the_whole_file_back(
    client, editors, django_capture_on_commit_callbacks, monkeypatch
):
    """Rows go in by chunks; the second chunk breaking (a fault injected into the tag write) undoes the first."""
    login(client, "zouping_editor")
    monkeypatch.setattr(importer, "CHUNK_SIZE", 1)
    rows = "external_id,title,tags\n" + "".join(f"T{n},第{n}册,党史\n" for n in range(1, 4))
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, rows.encode())
    run_queued()
    dry = ImportBatch.objects.get(dry_run=True)
    assert dry.created == 3
    calls = []
    real_tags_write = importer.tags_write

    def breaks_on_the_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_tags_write(*args, **kwargs)

    monkeypatch.setattr(importer, "tags_write", breaks_on_the_second_chunk)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/library-import/{dry.pk}/confirm/", {})
    run_queued()
    real = ImportBatch.objects.get(dry_run=False)
    assert real.state == "failed" and "没有写入任何条目" in real.error and real.created == 0
    assert not LibraryItem.objects.exists()


def test_unknown_columns_are_named_not_dropped_silently(client, editors, django_capture_on_commit_callbacks):
    """Columns no cleaner reads (a misspelt header, another system's column) are named on the dry run's page as a
    warning; the known columns still go in."""
    login(client, "zouping_editor")
    content = "外部编号,标题,备注,Titel\nU1,党课讲稿,内部,Lecture\n"
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, content.encode())
    run_queued()
    dry = ImportBatch.objects.get()
    assert dry.run_options["unknown_columns"] == ["备注", "titel"] and dry.created == 1
    page = client.get(f"/admin/library-import/{dry.pk}/").content.decode()
    warning = page.split('id="unknown-columns"')[1].split("</div>")[0]
    assert "2 列无法识别" in warning and "<code>备注</code>" in warning and "<code>titel</code>" in warning


def test_the_screen_lists_every_column_and_offers_the_templates(client, editors):
    """The import screen lists every column the importer reads (Chinese header, code name, required or not,
    meaning, example) and links both templates; the list and the cleaners name the same columns."""
    assert {doc.name for doc in COLUMN_DOCS} == KNOWN_COLUMNS
    login(client, "zouping_editor")
    page = client.get("/admin/library-import/").content.decode()
    table = page.split('id="import-columns"')[1].split("</table>")[0]
    for doc in COLUMN_DOCS:
        assert f'data-column="{doc.name}"' in table and doc.header in table
    assert table.count("<strong>必填</strong>") == 2
    assert 'href="/admin/library-import/template.xlsx"' in page
    assert 'href="/admin/library-import/template.csv"' in page


def test_both_templates_open_in_excel_and_import_cleanly(client, editors, django_capture_on_commit_callbacks):
    """The CSV template is UTF-8 with a BOM and the XLSX has the same header (text cells) and a sheet explaining
    the columns; uploaded as they are, each is a clean dry run: its example row accepted, no unknown column."""
    login(client, "zouping_editor")
    csv_response = client.get("/admin/library-import/template.csv")
    assert csv_response["Content-Type"].startswith("text/csv") and "attachment" in csv_response["Content-Disposition"]
    assert csv_response.content.startswith(b"\xef\xbb\xbf")
    header = csv_response.content.decode("utf-8-sig").splitlines()[0].split(",")
    xlsx_response = client.get("/admin/library-import/template.xlsx")
    workbook = load_workbook(io.BytesIO(xlsx_response.content))
    first, second = workbook.worksheets
    assert [cell.value for cell in first[1]] == header and header[:2] == ["外部编号", "标题"]
    assert first["A2"].number_format == "@" and second.max_row == len(COLUMN_DOCS) + 1
    for name, response in (("t.csv", csv_response), ("t.xlsx", xlsx_response)):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                "/admin/library-import/",
                {
                    "file": SimpleUploadedFile(name, response.content),
                    "file_format": "auto",
                    "source": name,
                    "unit": OrgUnit.objects.get(code="zouping").pk,
                },
            )
        run_queued()
        batch = ImportBatch.objects.get(source=name)
        assert (batch.state, batch.created, batch.rejected) == ("done", 1, 0), batch.report
        assert batch.run_options["unknown_columns"] == []
    assert client.get("/admin/library-import/template.txt").status_code in (301, 404)  # no such template


def test_the_unit_picker_is_the_editors_tree_indented(client, editors):
    """The upload's unit picker lists only the editor's units, as a tree: 滨州市, then — 邹平市 under it."""
    login(client, "binzhou_editor")
    form = client.get("/admin/library-import/").context["form"]
    labels = [label for _value, label in form.fields["unit"].choices][1:]
    assert labels[:2] == ["滨州市", "— 邹平市"] and not any("沂南" in label for label in labels)


def test_the_import_screens_and_the_kind_page_are_in_chinese(client, checked, django_capture_on_commit_callbacks):
    """The screens this work adds, in the states the admin walk (tests/cms/test_admin_language.py) does not reach
    with its one running batch: a finished dry run with 正式导入 and an unknown-column warning, the real import it
    became (待审核), an expired dry run, the import screen with its column list, and the new item's kind page —
    no English interface words (column code names are <code>, data such as the source is not interface)."""
    from tests.cms.test_admin_language import VisibleText, english_runs

    dry, confirm = checked
    ImportBatch.objects.filter(pk=dry.pk).update(run_options={**dry.run_options, "unknown_columns": ["remarks"]})
    pages = [f"/admin/library-import/{dry.pk}/", "/admin/library-import/", "/admin/library_items/new/"]
    confirm({"for_review": "on"})
    real = ImportBatch.objects.get(dry_run=False)
    expired = ImportBatch.objects.create(
        source="web", file_name="old.csv", file_format="csv", dry_run=True, state="done", owning_unit=dry.owning_unit
    )
    pages += [f"/admin/library-import/{dry.pk}/", f"/admin/library-import/{real.pk}/"]
    pages += [f"/admin/library-import/{expired.pk}/", "/admin/", "/admin/library_items/new/?kind=video"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = VisibleText()
        text.feed(response.content.decode())
        runs = [run for part in text.texts for run in english_runs(part, {"web", "list", "csv"})]
        assert not runs, (url, runs)


def test_a_file_too_large_for_one_sqlite_transaction_goes_in_by_chunks(client, checked, monkeypatch):
    """On SQLite 正式导入 holds the database's one write lock while it runs, so a file above SQLITE_ATOMIC_ROWS goes
    in by resumable chunks instead, and the confirm box says so before the editor presses it (PostgreSQL takes any
    file in one transaction)."""
    from django.db import connection

    dry, confirm = checked
    monkeypatch.setattr(importer, "SQLITE_ATOMIC_ROWS", 1)
    page = client.get(f"/admin/library-import/{dry.pk}/").content.decode()
    real_sqlite = connection.vendor == "sqlite"
    assert ("这个文件有 2 行，将分批写入" in page) is real_sqlite
    assert ("导入中途出错时，不会写入任何条目" in page) is not real_sqlite
    confirm()
    real = ImportBatch.objects.get(dry_run=False)
    assert real.run_options["atomic"] is not real_sqlite and (real.state, real.created) == ("done", 2)


def test_another_units_editor_cannot_confirm_and_only_editors_get_templates(client, checked, unit_tree):
    """正式导入 of a dry run is for editors of its unit: another county's editor gets a 404 and nothing is imported;
    the templates are for editors (a branch secretary, who manages no unit, is refused)."""
    dry, _confirm = checked
    login(client, "yinan_editor")
    assert client.post(f"/admin/library-import/{dry.pk}/confirm/", {}).status_code == 404
    assert not ImportBatch.objects.filter(dry_run=False).exists()
    secretary_branch = OrgUnitFactory(name="常山庄村党支部", level=OrgUnit.Level.BRANCH, parent=unit_tree["yinan"])
    editor(secretary_branch, "changshanzhuang_secretary", role="secretary")
    login(client, "changshanzhuang_secretary")
    assert client.get("/admin/library-import/template.csv").status_code in (302, 403)
