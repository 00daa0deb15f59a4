"""Bulk import of library items: validation, idempotent re-import, editors' changes kept, parents, files."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from PIL import Image

import library.imports.importer as importing
from cms.models import LighthouseImage
from library.imports.columns import parse_credits, rich_text_clean
from library.imports.importer import import_batches_interrupt_stale, import_file
from library.models import FacetCount, ImportBatch, ItemCredit, LibraryItem
from media_pipeline.models import MediaAsset
from media_pipeline.synthetic.documents import encrypted_pdf
from search.models import OutboxEntry
from tests.factories import editor

pytestmark = pytest.mark.django_db

COLUMNS = ["external_id", "kind", "title", "creators", "isbn", "clc", "tags", "access", "access_unit", "issued", "body"]


@pytest.fixture
def unit(unit_tree):
    """The province, with the demo tree's counties below it (rows open items to zouping or yinan)."""
    return unit_tree["shandong"]


def write_csv(path, rows, columns=COLUMNS, encoding="utf-8"):
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    path.write_bytes(stream.getvalue().encode(encoding))
    return path


def run(path, unit, **options):
    options.setdefault("source", "test")
    return import_file(path=path, file_format=options.pop("file_format", None), unit=unit, **options)


def errors_by_id(batch):
    return {entry["external_id"]: entry["errors"] for entry in batch.report if entry.get("errors")}


def good_row(n=1, **extra):
    return {"external_id": f"B{n}", "title": f"书{n}", "creators": "某某 著"} | extra


def test_csv_import_creates_items_with_credits_tags_and_search_records(tmp_path, unit):
    """A clean file creates every row: normalised ISBN and CLC, credits and their display copy, tags, unit access,
    issued date and year, search outbox entries, and a done batch with counts."""
    path = write_csv(
        tmp_path / "books.csv",
        [
            {
                "external_id": "HLM",
                "kind": "电子书",
                "title": "红楼梦",
                "creators": "[清]曹雪芹 著；高鹗 续、脂砚斋 注",
                "isbn": "7-02-000220-X",
                "clc": "ｉ242.4",
                "tags": "古典小说，名著、红学",
                "access": "指定单位",
                "access_unit": "zouping",
                "issued": "2026年3月",
            },
            good_row(2, issued="1998"),
        ],
    )
    batch = run(path, unit)
    assert (batch.state, batch.total, batch.created, batch.rejected) == ("done", 2, 2, 0)
    item = LibraryItem.objects.get(source="test", external_id="HLM")
    assert item.kind == "ebook" and item.isbn == "9787020002207" and item.clc == "I242.4"
    assert [(c.name, c.role) for c in item.credits.all()] == [
        ("曹雪芹", "author"),
        ("高鹗", "continuator"),
        ("脂砚斋", "annotator"),
    ]
    assert item.creators == "曹雪芹 著；高鹗 续；脂砚斋 注"
    assert sorted(item.tags.names()) == ["古典小说", "名著", "红学"]
    assert item.access == "unit" and item.access_unit.code == "zouping" and item.owning_unit == unit
    assert item.issued == date(2026, 3, 1) and item.year == 2026
    assert LibraryItem.objects.get(external_id="B2").year == 1998
    doc_ids = set(OutboxEntry.objects.values_list("doc_id", flat=True))
    assert {f"library.libraryitem:{item.pk}"} <= doc_ids


def test_bad_rows_are_rejected_with_reasons_and_the_rest_go_in(tmp_path, unit):
    """Invalid and duplicate ISBNs, a duplicate external id, a missing title, a bad date, CLC, unit code or
    access value each reject their row with a Chinese reason under the column's name; nothing of them is stored."""
    rows = [
        good_row(1, isbn="9787020002207"),
        good_row(2, isbn="978-7-02-000220-7"),  # the same ISBN spelled differently
        good_row(3, isbn="9787020002208"),  # wrong check digit
        good_row(1, title="重复编号"),
        {"external_id": "B4", "title": ""},
        good_row(5, issued="2026年13月"),
        good_row(6, clc="Z9Q"),
        good_row(7, access="unit", access_unit="nowhere"),
        good_row(8, access="秘密"),
        good_row(9, access="unit"),
        good_row(10),
    ]
    batch = run(write_csv(tmp_path / "bad.csv", rows), unit)
    errors = errors_by_id(batch)
    assert (batch.created, batch.rejected, batch.total) == (2, 9, 11)
    assert set(LibraryItem.objects.values_list("external_id", flat=True)) >= {"B1", "B10"}
    assert "重复" in errors["B2"]["isbn"][0] and "第 2 行" in errors["B2"]["isbn"][0]
    assert "校验位" in errors["B3"]["isbn"][0]
    assert "缺少标题" in errors["B4"]["title"][0]
    assert "无法识别" in errors["B5"]["issued"][0]
    assert "clc" in errors["B6"] and "nowhere" in errors["B7"]["access_unit"][0]
    assert "秘密" in errors["B8"]["access"][0] and "access_unit" in errors["B9"]
    duplicate = next(e for e in batch.report if e.get("row") == 5)
    assert "第 2 行" in duplicate["errors"]["external_id"][0]
    assert LibraryItem.objects.get(external_id="B1").title == "书1"
    assert not LibraryItem.objects.filter(external_id__in=["B2", "B3", "B5", "B6", "B7", "B8", "B9"]).exists()


def test_html_and_script_in_titles_and_bodies_are_neutralised(tmp_path, unit):
    """Titles keep plain text only (script content gone); bodies keep the rich-text whitelist with no scripts,
    event handlers or javascript: URLs; plain-text bodies become paragraphs."""
    rows = [
        good_row(
            1,
            title='<script>alert("x")</script><b>党史</b> &amp; 国史',
            body='<p onclick="evil()">正文<a href="javascript:alert(1)">链接</a></p><script>alert(2)</script>'
            '<img src="javascript:alert(3)" onerror="x()"><img src="https://example.org/a.png" alt="图">'
            "<h2>小标题</h2>",
        ),
        good_row(2, body="第一段\n第二段 <3"),
    ]
    run(write_csv(tmp_path / "html.csv", rows), unit)
    item = LibraryItem.objects.get(external_id="B1")
    assert item.title == "党史 & 国史"
    assert "script" not in item.body and "onclick" not in item.body and "javascript" not in item.body
    assert "onerror" not in item.body and "<img" not in item.body  # the javascript: image and the external one
    assert "<h2>小标题</h2>" in item.body and "<p>正文链接</p>" in item.body
    assert LibraryItem.objects.get(external_id="B2").body == "<p>第一段</p><p>第二段 &lt;3</p>"


def test_reimport_is_idempotent_and_updates_changed_fields(tmp_path, unit):
    """The same file again changes nothing; a changed row updates just that item, in place."""
    rows = [good_row(n, tags="党史") for n in range(1, 4)]
    path = write_csv(tmp_path / "a.csv", rows)
    first = run(path, unit)
    ids = dict(LibraryItem.objects.values_list("external_id", "pk"))
    second = run(path, unit)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    rows[1] = good_row(2, title="书二（修订）", tags="党史；新中国史", creators="某某 编")
    third = run(write_csv(tmp_path / "b.csv", rows), unit)
    assert (first.created, third.created, third.updated, third.unchanged) == (3, 0, 1, 2)
    item = LibraryItem.objects.get(external_id="B2")
    assert item.pk == ids["B2"] and item.title == "书二（修订）" and item.creators == "某某 编"
    assert sorted(item.tags.names()) == ["党史", "新中国史"]
    assert list(item.credits.values_list("role", flat=True)) == ["editor"]
    assert LibraryItem.objects.count() == 3


def test_fields_an_editor_changed_are_kept_and_counted(tmp_path, unit):
    """A re-import leaves fields named in edited_fields as the editor wrote them and reports them as kept."""
    path = write_csv(tmp_path / "a.csv", [good_row(1, tags="党史")])
    run(path, unit)
    item = LibraryItem.objects.get(external_id="B1")
    item.title, item.edited_fields = "编辑改过的标题", ["title", "tags"]
    item.save()
    batch = run(
        write_csv(tmp_path / "b.csv", [good_row(1, title="文件里的新标题", tags="别的", creators="新人 著")]), unit
    )
    item.refresh_from_db()
    assert item.title == "编辑改过的标题" and list(item.tags.names()) == ["党史"]
    assert item.creators == "新人 著"  # not edited: updated from the file
    assert batch.updated == 1
    assert [entry["kept"] for entry in importing.batch_kept(batch)] == [["title", "tags"]]


def test_dry_run_writes_nothing_but_reports_everything(tmp_path, unit):
    """A dry run validates every row and counts what would happen, writing no items, credits, tags or outbox."""
    run(write_csv(tmp_path / "a.csv", [good_row(1)]), unit)
    before = (LibraryItem.objects.count(), ItemCredit.objects.count(), OutboxEntry.objects.count())
    rows = [good_row(1, title="改了"), good_row(2, tags="新标签"), good_row(3, isbn="123")]
    batch = run(write_csv(tmp_path / "b.csv", rows), unit, dry_run=True)
    assert batch.dry_run and batch.state == "done"
    assert (batch.created, batch.updated, batch.rejected) == (1, 1, 1)
    assert "isbn" in errors_by_id(batch)["B3"]
    assert (LibraryItem.objects.count(), ItemCredit.objects.count(), OutboxEntry.objects.count()) == before
    assert LibraryItem.objects.get(external_id="B1").title == "书1"


def test_children_before_parents_and_parents_in_the_database(tmp_path, unit, monkeypatch):
    """Articles listed before their issue and the issue before its title still link up, across chunks; a parent
    may also be an item imported earlier; a missing parent or a cycle rejects the rows concerned."""
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    columns = ["external_id", "kind", "role", "parent_external_id", "position", "number", "title"]
    rows = [
        {
            "external_id": "A1",
            "kind": "periodical",
            "role": "article",
            "parent_external_id": "I1",
            "position": "2",
            "title": "文章二",
        },
        {
            "external_id": "A0",
            "kind": "periodical",
            "role": "article",
            "parent_external_id": "I1",
            "position": "1",
            "title": "文章一",
        },
        {
            "external_id": "I1",
            "kind": "periodical",
            "role": "issue",
            "parent_external_id": "T",
            "number": "2026年第3期",
            "title": "第3期",
        },
        {"external_id": "T", "kind": "periodical", "role": "series", "title": "刊名"},
        {"external_id": "X", "title": "孤儿", "parent_external_id": "NOPE"},
        {"external_id": "C1", "title": "环一", "parent_external_id": "C2"},
        {"external_id": "C2", "title": "环二", "parent_external_id": "C1"},
        {"external_id": "C3", "title": "环下", "parent_external_id": "C1"},
    ]
    batch = run(write_csv(tmp_path / "tree.csv", rows, columns), unit)
    title = LibraryItem.objects.get(external_id="T")
    issue = LibraryItem.objects.get(external_id="I1")
    assert issue.parent == title and issue.number == "2026年第3期"
    assert list(issue.children.order_by("position").values_list("title", flat=True)) == ["文章一", "文章二"]
    errors = errors_by_id(batch)
    assert "NOPE" in errors["X"]["parent_external_id"][0]
    assert {"C1", "C2", "C3"} <= errors.keys()
    more = [{"external_id": "I2", "kind": "periodical", "role": "issue", "parent_external_id": "T", "title": "第4期"}]
    run(write_csv(tmp_path / "more.csv", more, columns), unit)
    assert LibraryItem.objects.get(external_id="I2").parent == title


def test_child_of_a_rejected_parent_is_rejected(tmp_path, unit):
    """When the parent row is rejected, its children are rejected too, naming the parent's line."""
    rows = [{"external_id": "C", "title": "子", "parent_external_id": "P"}, {"external_id": "P", "title": ""}]
    batch = run(write_csv(tmp_path / "t.csv", rows, ["external_id", "title", "parent_external_id"]), unit)
    assert "第 3 行" in errors_by_id(batch)["C"]["parent_external_id"][0]
    assert not LibraryItem.objects.exists()


def test_files_become_media_assets_and_missing_files_reject_rows(tmp_path, unit):
    """A row's file becomes a media asset (the same bytes one asset, even a password-protected PDF that the
    pipeline will refuse later); its cover a LighthouseImage; a missing file or a non-image cover rejects the row."""
    files = tmp_path / "files"
    (files / "books").mkdir(parents=True)
    (files / "books" / "locked.pdf").write_bytes(encrypted_pdf())
    (files / "books" / "copy.pdf").write_bytes(encrypted_pdf())
    Image.new("RGB", (60, 80), "red").save(files / "cover.png")
    (files / "fake.png").write_bytes(b"not an image")
    columns = ["external_id", "title", "file", "cover"]
    rows = [
        {"external_id": "F1", "title": "加密的书", "file": "books/locked.pdf", "cover": "cover.png"},
        {"external_id": "F2", "title": "同一文件", "file": "books\\copy.pdf"},
        {"external_id": "F3", "title": "缺文件", "file": "books/missing.pdf"},
        {"external_id": "F4", "title": "坏封面", "cover": "fake.png"},
        {"external_id": "F5", "title": "越界", "file": "../secret.pdf"},
    ]
    batch = run(write_csv(tmp_path / "f.csv", rows, columns), unit, files_root=files)
    first, second = LibraryItem.objects.get(external_id="F1"), LibraryItem.objects.get(external_id="F2")
    assert first.kind == "ebook" and first.media_asset is not None and first.media_asset == second.media_asset
    assert MediaAsset.objects.count() == 1 and first.media_asset.original_name == "locked.pdf"
    assert first.cover is not None and (first.cover.width, first.cover.height) == (60, 80)
    errors = errors_by_id(batch)
    assert "不存在" in errors["F3"]["file"][0] and "图片" in errors["F4"]["cover"][0] and "file" in errors["F5"]
    again = run(write_csv(tmp_path / "f.csv", rows, columns), unit, files_root=files)
    assert (again.unchanged, MediaAsset.objects.count(), LighthouseImage.objects.count()) == (2, 1, 1)


def test_files_without_a_folder_are_rejected(tmp_path, unit):
    """Without --files or --s3-prefix a row naming a file cannot go in half: it is rejected, saying why."""
    batch = run(
        write_csv(
            tmp_path / "f.csv", [{"external_id": "F", "title": "t", "file": "a.pdf"}], ["external_id", "title", "file"]
        ),
        unit,
    )
    assert "--files" in errors_by_id(batch)["F"]["file"][0]


@pytest.mark.parametrize("bom", [b"", "\ufeff".encode("gb18030")])
def test_gb18030_file_imports(tmp_path, unit, bom):
    """A GB18030 file with or without its BOM imports with the Chinese intact."""
    path = write_csv(tmp_path / "gbk.csv", [good_row(1, title="沂蒙精神", tags="红色；山东")], encoding="gb18030")
    path.write_bytes(bom + path.read_bytes())
    batch = run(path, unit)
    assert batch.encoding == "gb18030" and batch.created == 1
    assert LibraryItem.objects.get().title == "沂蒙精神"


def test_unreadable_file_fails_the_batch_with_a_reason(tmp_path, unit):
    """A file that is neither UTF-8 nor GB18030 fails its batch with the Chinese reason; nothing is written."""
    path = tmp_path / "bad.csv"
    path.write_bytes(b"external_id,title\nA,\xff\xff\n")
    batch = run(path, unit)
    assert batch.state == "failed" and "编码无法识别" in batch.error and not LibraryItem.objects.exists()


def test_other_units_items_are_not_overwritten(tmp_path, unit_tree):
    """A county's import cannot update an item of the same source and id that belongs to another county."""
    yinan, zouping = unit_tree["yinan"], unit_tree["zouping"]
    run(write_csv(tmp_path / "a.csv", [good_row(1)]), yinan)
    batch = run(write_csv(tmp_path / "b.csv", [good_row(1, title="改")]), zouping)
    assert "其他单位" in errors_by_id(batch)["B1"]["external_id"][0]
    assert LibraryItem.objects.get().title == "书1"


def test_a_crash_leaves_the_committed_chunks_and_their_report(tmp_path, unit, monkeypatch):
    """If the run fails mid-way, the chunks before stay in and the batch, interrupted, says how far it got (no
    exception text for the editor); a later run marks a batch whose lease ran out as interrupted."""
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    real_write, calls = importing._Import._write, []

    def dying_write(self, *args):
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("out of memory")
        return real_write(self, *args)

    monkeypatch.setattr(importing._Import, "_write", dying_write)
    rows = [good_row(9, isbn="bad")] + [good_row(n) for n in range(1, 6)]
    with pytest.raises(MemoryError):
        run(write_csv(tmp_path / "a.csv", rows), unit)
    batch = ImportBatch.objects.get()
    assert batch.state == "interrupted" and "中断" in batch.error and "out of memory" not in batch.error
    assert (batch.created, batch.rejected, LibraryItem.objects.count()) == (1, 1, 1)
    batch.state = ImportBatch.State.RUNNING
    batch.lease_owner, batch.lease_expires_at = "elsewhere:x:1:1:t", timezone.now() - timedelta(seconds=1)
    batch.save()
    assert import_batches_interrupt_stale() == 1
    batch.refresh_from_db()
    assert batch.state == "interrupted" and "中断" in batch.error and not batch.lease_owner


@pytest.mark.usefixtures("db_tasks")
def test_a_crash_after_committed_chunks_still_refreshes_browse_counts(
    tmp_path, unit, monkeypatch, django_capture_on_commit_callbacks
):
    """Rows committed before a crash are in the library, so the batch queues the browse-count refresh all the same;
    a dry run, or a crash before anything went in, queues none."""
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    real_write, calls = importing._Import._write, []

    def dying_write(self, *args):
        calls.append(1)
        if len(calls) in (2, 3):
            raise MemoryError("out of memory")
        return real_write(self, *args)

    monkeypatch.setattr(importing._Import, "_write", dying_write)
    refreshes = DBTaskResult.objects.filter(task_path="library.tasks.facet_counts_refresh_task")
    path = write_csv(tmp_path / "a.csv", [good_row(n) for n in range(1, 6)])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(MemoryError):
        run(path, unit)
    assert LibraryItem.objects.count() == 2 and refreshes.count() == 1
    refreshes.delete()
    FacetCount.objects.all().delete()  # the pending mark too: a wrongly queued refresh must show
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(MemoryError):
        run(write_csv(tmp_path / "b.csv", [good_row(n) for n in range(6, 9)]), unit)  # its first chunk dies
    with django_capture_on_commit_callbacks(execute=True):
        run(write_csv(tmp_path / "c.csv", [good_row(9)]), unit, dry_run=True)
    assert not refreshes.exists()


def test_access_unit_and_unit_must_be_managed_by_the_importing_user(tmp_path, unit, unit_tree):
    """With a user (admin screen or --user), a row may give access only to a unit that user manages, and only
    into a unit the user manages; a superuser or an import without a user may name any unit."""
    zouping = unit_tree["zouping"]
    county_editor = editor(zouping, "zouping-editor")
    rows = [
        good_row(1, access="unit", access_unit="zouping"),
        good_row(2, access="unit", access_unit="yinan"),
        good_row(3, access="unit", access_unit="shandong"),
    ]
    batch = run(write_csv(tmp_path / "a.csv", rows), zouping, user=county_editor)
    errors = errors_by_id(batch)
    assert (batch.created, batch.rejected) == (1, 2)
    assert "yinan" in errors["B2"]["access_unit"][0] and "access_unit" in errors["B3"]
    assert LibraryItem.objects.get(external_id="B1").access_unit == zouping
    batch = run(write_csv(tmp_path / "b.csv", [good_row(4)]), unit, user=county_editor)
    assert "__all__" in errors_by_id(batch)["B4"] and not LibraryItem.objects.filter(external_id="B4").exists()
    boss = type(county_editor).objects.create_superuser("boss", password="pw-123456")
    assert run(write_csv(tmp_path / "c.csv", rows[1:]), zouping, user=boss, source="other").created == 2
    assert run(write_csv(tmp_path / "d.csv", rows[1:]), zouping, source="third").created == 2


def test_xml_invalid_control_characters_are_stripped(tmp_path, unit):
    """Control characters XML cannot carry (\\x00-\\x08, \\x0b, \\x0c, \\x0e-\\x1f), raw or as character
    references, are removed from titles, credits, tags and bodies; tabs and line breaks are kept as text."""
    rows = [
        good_row(
            1,
            title="党\x01史\x0b&#2;",
            creators="某\x08某 著",
            tags="红\x1f色",
            body="<p>正\x0c文&#1;</p>",
        ),
        good_row(2, body="一\x00段\n二\x0e段"),
    ]
    run(write_csv(tmp_path / "c.csv", rows), unit)
    item = LibraryItem.objects.get(external_id="B1")
    assert (item.title, item.creators, list(item.tags.names())) == ("党史", "某某 著", ["红色"])
    assert item.body == "<p>正文</p>"
    assert LibraryItem.objects.get(external_id="B2").body == "<p>一段</p><p>二段</p>"


def test_body_images_only_from_our_own_site_or_media(settings):
    """Relative images and images on our own site or media host stay; images on any other host (a member's IP
    would reach it), however the URL is disguised, are dropped whole."""
    settings.WAGTAILADMIN_BASE_URL = "https://dangjian.example.cn"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "x", "OPTIONS": {"custom_domain": "cdn.example.cn"}},
    }
    kept = [
        '<img src="/media/images/a.png" alt="甲">',
        '<img src="images/b.png">',
        '<img src="https://dangjian.example.cn/media/c.png">',
        '<img src="https://cdn.example.cn/d.png">',
    ]
    dropped = [
        '<img src="https://example.org/a.png" alt="图">',
        '<img alt="x&gt;y" src="http://tracker.example.com/p.gif">',
        '<img src="//tracker.example.com/p.gif">',
        '<img src="/\\tracker.example.com/p.gif">',
        '<img src="https:tracker.example.com/p.gif">',
        '<img src="data:image/png;base64,AAAA">',
    ]
    body = rich_text_clean("<p>正文</p>" + "".join(kept + dropped))
    assert body == "<p>正文</p>" + "".join(kept)


def test_json_and_marc_import_end_to_end(tmp_path, unit):
    """JSON Lines and CNMARC files import through the same rules as CSV."""
    from tests.library.test_import_readers import cnmarc_bytes

    (tmp_path / "a.jsonl").write_text('{"external_id": "J1", "title": "甲", "tags": ["党史"], "is_published": false}\n')
    (tmp_path / "b.mrc").write_bytes(cnmarc_bytes("gb18030"))
    assert run(tmp_path / "a.jsonl", unit).created == 1
    batch = run(tmp_path / "b.mrc", unit, source="cnmarc")
    item = LibraryItem.objects.get(source="cnmarc")
    assert batch.created == 1 and item.title == "骆驼祥子" and item.isbn == "9787020002207"
    assert item.creators == "老舍 著；张三 译" and item.language == "zh" and item.issued == date(2000, 3, 1)
    assert LibraryItem.objects.get(external_id="J1").is_published is False


def test_names_ending_in_a_role_character_are_kept_as_written():
    """A role word is split off only where the source marks it (a space or brackets): 陳著 and 關注 are names, and
    曹雪芹著 stays one name rather than losing a character; 陳著 著 is 陳著 as author, 鲁迅（译） a translator."""
    assert parse_credits("陳著；關注；曹雪芹著") == [("陳著", "author"), ("關注", "author"), ("曹雪芹著", "author")]
    assert parse_credits("陳著 著；鲁迅（译）；[清]高鹗 续") == [
        ("陳著", "author"),
        ("鲁迅", "translator"),
        ("高鹗", "continuator"),
    ]


def test_an_import_stores_names_exactly_and_refuses_one_it_would_have_to_cut(tmp_path, unit):
    """Through a real import: 陳著 keeps both characters in its credit (the display line adds the role: 陳著 著,
    where 陳 著 was written before); a 120-character name
    (a list whose separators were lost) is refused with a Chinese reason instead of being cut to 100."""
    rows = [good_row(1, creators="陳著"), good_row(2, creators="某" * 120)]
    batch = run(write_csv(tmp_path / "names.csv", rows), unit)
    item = LibraryItem.objects.get(external_id="B1")
    assert item.creators == "陳著 著" and list(item.credits.values_list("name", "role")) == [("陳著", "author")]
    assert "超过 100 个字" in str(errors_by_id(batch)["B2"])
    assert not LibraryItem.objects.filter(external_id="B2").exists()


def test_parse_credits_role_words():
    """Role words after names map to credit roles; names without one are authors."""
    assert parse_credits("张三 主编/李四 译；王五、赵六 播讲;（英）莎士比亚") == [
        ("张三", "editor"),
        ("李四", "translator"),
        ("王五", "author"),
        ("赵六", "narrator"),
        ("莎士比亚", "author"),
    ]
