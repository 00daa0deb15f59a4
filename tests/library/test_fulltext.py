"""Full text for search from an item's files: PDF, EPUB, plain text and captions, queued when they change."""

import hashlib
import logging
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django_tasks_db.models import DBTaskResult

from cms.models import LighthouseDocument
from library import services
from library.models import LibraryItem
from library.services import library_item_fulltext_refresh, library_item_save
from library.text import extraction as text_extraction
from library.text.extraction import MAX_FULLTEXT_CHARS, clean_text, item_text
from media_pipeline.models import Caption, MediaAsset, TranscodeJob
from media_pipeline.services import caption_attach
from media_pipeline.synthetic.documents import chinese_epub, chinese_pdf, encrypted_pdf, pdf_from_objects
from search.models import OutboxEntry
from tests.factories import AudioFactory, EbookFactory, VideoFactory

pytestmark = pytest.mark.django_db
TASK_PATH = "library.tasks.library_item_fulltext_refresh_task"
SRT = (
    "1\n00:00:01,000 --> 00:00:03,000\n<i>同志们</i>，今天学习&amp;讨论红船精神\n\n"
    "2\n00:00:03,000 --> 00:00:05,000\n<i>同志们</i>，今天学习&amp;讨论红船精神\n\n"
    "3\n00:00:05,000 --> 00:00:07,000\n{\\an8}开天辟地 敢为人先\n"
)


def _document(name: str, data: bytes) -> LighthouseDocument:
    return LighthouseDocument.objects.create(title=name, file=ContentFile(data, name=name))


def _asset_with_captions(text: str, *, name: str = "talk.srt") -> MediaAsset:
    asset = MediaAsset.objects.create(file="uploads/2026/01/talk.mp4", kind="video", state="ready")
    Caption.objects.create(asset=asset, file=ContentFile(text.encode(), name=name))
    return asset


def _queued_ids() -> list[int]:
    return [result.args_kwargs["args"][0] for result in DBTaskResult.objects.filter(task_path=TASK_PATH)]


def test_pdf_text_layer_is_stored_with_its_source_and_reaches_the_outbox(unit):
    """A PDF's text layer, every page in order, becomes the item's full text ("pdf:<document id>"), and the change
    is recorded for the search index in the same step."""
    document = _document("book.pdf", chinese_pdf())
    item = EbookFactory(owning_unit=unit, document=document)
    OutboxEntry.objects.all().delete()
    assert library_item_fulltext_refresh(item_id=item.pk) == f"pdf:{document.pk}"
    item.refresh_from_db()
    assert item.fulltext == "第一页 序言\n第二页 灯塔照亮前路\n第三页 结语"
    assert item.fulltext_source == f"pdf:{document.pk}"
    assert OutboxEntry.objects.filter(doc_id=f"library.libraryitem:{item.pk}", op="upsert").exists()


def test_epub_chapters_and_gbk_text_files_are_read(unit, tmp_path):
    """EPUB chapters (scripts dropped) and a plain-text file written by a Chinese Windows tool (GB18030) are read."""
    epub_item = EbookFactory(
        owning_unit=unit, document=_document("book.epub", chinese_epub(tmp_path / "b.epub").read_bytes())
    )
    text_item = EbookFactory(owning_unit=unit, document=_document("notes.txt", "学习笔记：不忘初心".encode("gb18030")))
    library_item_fulltext_refresh(item_id=epub_item.pk)
    library_item_fulltext_refresh(item_id=text_item.pk)
    epub_item.refresh_from_db()
    text_item.refresh_from_db()
    assert "灯塔照亮前路。" in epub_item.fulltext and "不忘初心，牢记使命。" in epub_item.fulltext
    assert "alert" not in epub_item.fulltext
    assert epub_item.fulltext_source.startswith("epub:")
    assert text_item.fulltext == "学习笔记：不忘初心" and text_item.fulltext_source.startswith("text:")


def test_captions_become_a_transcript(unit):
    """An SRT caption track becomes plain lines of speech: no timings, tags or ASS overrides, entities decoded,
    a line repeated by rolling captions kept once."""
    asset = _asset_with_captions(SRT)
    item = VideoFactory(owning_unit=unit, media_asset=asset)
    assert library_item_fulltext_refresh(item_id=item.pk) == f"captions:{asset.pk}"
    item.refresh_from_db()
    assert item.fulltext == "同志们，今天学习&讨论红船精神\n开天辟地 敢为人先"


@pytest.mark.parametrize("data", [encrypted_pdf(), b"%PDF-1.7\nnot really a pdf", chinese_pdf()[:200]])
def test_a_broken_or_encrypted_pdf_is_logged_and_leaves_no_text(unit, caplog, data):
    """A damaged, truncated or password-protected PDF is logged; the item keeps no full text (not even the text of
    the file it had before) and nothing is raised to the worker."""
    item = EbookFactory(
        owning_unit=unit, document=_document("bad.pdf", data), fulltext="旧文件的文字", fulltext_source="pdf:1"
    )
    with caplog.at_level(logging.WARNING, logger="library.text.extraction"):
        assert library_item_fulltext_refresh(item_id=item.pk) == ""
    item.refresh_from_db()
    assert (item.fulltext, item.fulltext_source) == ("", "")
    assert f"library item {item.pk}" in caplog.text


def test_unreadable_formats_and_missing_items_give_nothing(unit):
    """A document that is neither PDF, EPUB nor text gives no full text; an item id that is gone is not an error."""
    item = EbookFactory(owning_unit=unit, document=_document("slides.docx", b"PK\x03\x04 not an epub"))
    assert library_item_fulltext_refresh(item_id=item.pk) == ""
    assert library_item_fulltext_refresh(item_id=item.pk + 1000) == ""


def test_text_is_cleaned_and_capped():
    """NULs and control characters are dropped (PostgreSQL rejects NUL), blank runs folded, length capped."""
    assert clean_text("灯塔\x00大\x07课堂\u3000\u3000第一讲\r\n\n\n\n结束") == "灯塔 大 课堂 第一讲\n\n结束"
    assert len(clean_text("字" * (MAX_FULLTEXT_CHARS + 10))) == MAX_FULLTEXT_CHARS


@pytest.mark.usefixtures("db_tasks")
def test_extraction_is_queued_after_commit_when_the_source_changes(unit, django_capture_on_commit_callbacks):
    """Attaching a document through the item service queues one extraction after commit; editing the title does
    not; attaching captions to an item's media asset queues it (the pipeline's captions_changed event); running the
    queued task stores the text."""
    document = _document("book.pdf", chinese_pdf())
    with django_capture_on_commit_callbacks(execute=True):
        item = library_item_save(item=LibraryItem(title="学习手册", owning_unit=unit, kind="ebook"), user=None)
    assert _queued_ids() == []
    with django_capture_on_commit_callbacks(execute=True):
        item.document = document
        library_item_save(item=item, user=None)
    assert _queued_ids() == [item.pk]
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        item.title = "新标题"
        library_item_save(item=item, user=None)
    assert _queued_ids() == []
    with django_capture_on_commit_callbacks(execute=True):  # its own transaction, committed
        video = VideoFactory(
            owning_unit=unit, media_asset=MediaAsset.objects.create(file="uploads/v.mp4", kind="video")
        )
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        caption_attach(asset=video.media_asset, file=ContentFile(SRT.encode(), name="v.srt"))
    assert _queued_ids() == [video.pk]
    from library.tasks import library_item_fulltext_refresh_task

    library_item_fulltext_refresh_task.call(video.pk)
    assert "红船精神" in LibraryItem.objects.get(pk=video.pk).fulltext


@pytest.mark.usefixtures("db_tasks")
def test_replacing_the_document_file_queues_its_items(unit, django_capture_on_commit_callbacks):
    """A new file for a document already attached queues extraction for the items using it; editing only its
    title does not."""
    document = _document("book.pdf", chinese_pdf())
    with django_capture_on_commit_callbacks(execute=True):
        item = EbookFactory(owning_unit=unit, document=document)
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        document.title = "改名"
        document.save()
    assert _queued_ids() == []
    with django_capture_on_commit_callbacks(execute=True):
        document.file = ContentFile(chinese_pdf(), name="book-2.pdf")
        document.save()
    assert _queued_ids() == [item.pk]


def test_management_command_fills_missing_text_and_goes_on_after_a_bad_file(unit):
    """`library_fulltext` extracts every item that has a file but no text yet; a damaged file does not stop it."""
    good = EbookFactory(owning_unit=unit, document=_document("a.pdf", chinese_pdf()))
    bad = EbookFactory(owning_unit=unit, document=_document("b.pdf", b"%PDF-1.7 broken"))
    captioned = AudioFactory(owning_unit=unit, media_asset=_asset_with_captions(SRT))
    plain = EbookFactory(owning_unit=unit)
    out = StringIO()
    call_command("library_fulltext", stdout=out, stderr=StringIO())
    texts = dict(LibraryItem.objects.values_list("pk", "fulltext"))
    assert "灯塔照亮前路" in texts[good.pk] and "红船精神" in texts[captioned.pk]
    assert texts[bad.pk] == "" and texts[plain.pk] == ""
    assert "3 个条目" in out.getvalue()


def _editor_changes_during_the_read(monkeypatch, change) -> None:
    """The extraction reads the files as it does in production, and the editor's change lands while it reads
    (a race that cannot be timed for real in a test: the change is made between the read and the write)."""

    def read_then_change(item):
        extracted = item_text(item)
        change()
        OutboxEntry.objects.all().delete()  # the editor's own save records the item; the extraction must not
        return extracted

    monkeypatch.setattr(services, "item_text", read_then_change)


def _replace_document(item, old):
    item.document = _document("new.txt", "新文件的文字".encode())
    item.save()


def _replace_file(item, old):
    old.file = ContentFile("新文件的文字".encode(), name="replaced.txt")
    old.save()


def _replace_captions(item, old):
    caption = item.media_asset.captions.get()
    caption.file = ContentFile("1\n00:00:01,000 --> 00:00:02,000\n新文件的文字\n".encode(), name="new.srt")
    caption.save()


@pytest.mark.parametrize("change", [_replace_document, _replace_file, _replace_captions])
def test_an_extraction_that_read_an_old_file_stores_nothing(unit, monkeypatch, change):
    """When the item's document, the document's file or the asset's captions change while an extraction is still
    reading the old ones, that stale extraction writes neither text nor outbox entry; the extraction queued by the
    change (run here afterwards) stores the new text."""
    if change is _replace_captions:
        item = VideoFactory(owning_unit=unit, media_asset=_asset_with_captions(SRT))
        old = None
    else:
        old = _document("old.txt", "旧文件的文字".encode())
        item = EbookFactory(owning_unit=unit, document=old)
    OutboxEntry.objects.all().delete()
    _editor_changes_during_the_read(monkeypatch, lambda: change(LibraryItem.objects.get(pk=item.pk), old))
    assert library_item_fulltext_refresh(item_id=item.pk) == ""
    item.refresh_from_db()
    assert (item.fulltext, item.fulltext_source) == ("", "")
    assert not OutboxEntry.objects.filter(doc_id=f"library.libraryitem:{item.pk}").exists()
    monkeypatch.undo()
    assert library_item_fulltext_refresh(item_id=item.pk)
    assert LibraryItem.objects.get(pk=item.pk).fulltext == "新文件的文字"


def test_the_text_is_not_stored_without_its_outbox_entry(unit, monkeypatch):
    """The text and the search outbox entry are one transaction: when recording the entry fails (a fault injected
    here: the database refusing the insert), the item keeps its old text, so the index never misses a change."""

    def refuse(*, instance):
        raise DatabaseError("outbox insert refused")

    item = EbookFactory(owning_unit=unit, document=_document("a.pdf", chinese_pdf()))
    monkeypatch.setattr(services, "search_document_changed", refuse)
    with pytest.raises(DatabaseError):
        library_item_fulltext_refresh(item_id=item.pk)
    item.refresh_from_db()
    assert (item.fulltext, item.fulltext_source) == ("", "")


@pytest.mark.usefixtures("db_tasks")
def test_withdrawing_the_document_queues_extraction(unit, django_capture_on_commit_callbacks):
    """An editor who takes an e-book's document away (a takedown) queues extraction, so its old text leaves the
    index with it."""
    with django_capture_on_commit_callbacks(execute=True):
        book = LibraryItem(title="学习手册", owning_unit=unit, kind="ebook", document=_document("a.pdf", chinese_pdf()))
        item = library_item_save(item=book, user=None)
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        item.document = None
        library_item_save(item=item, user=None)
    assert _queued_ids() == [item.pk]


@pytest.mark.usefixtures("db_tasks")
def test_a_caption_upload_queues_one_extraction(unit, django_capture_on_commit_callbacks):
    """Attaching captions saves the caption row twice (created, then its file saved), and one editor's save can
    attach captions and change the item's sources at once: each item is still queued once per transaction."""
    asset = MediaAsset.objects.create(file="uploads/v.mp4", kind="video", state="ready", sha256="ab" * 32)
    with django_capture_on_commit_callbacks(execute=True):
        item = VideoFactory(owning_unit=unit, media_asset=asset)
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        caption_attach(asset=asset, file=ContentFile(SRT.encode(), name="talk.srt"))
    assert _queued_ids() == [item.pk]
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        caption_attach(asset=asset, file=ContentFile(SRT.encode(), name="talk.srt"))
        item.media_asset = MediaAsset.objects.create(file="uploads/w.mp4", kind="video", sha256="cd" * 32)
        library_item_save(item=item, user=None)
        caption_attach(asset=item.media_asset, file=ContentFile(SRT.encode(), name="talk.srt"))
    assert _queued_ids() == [item.pk]


@pytest.mark.usefixtures("db_tasks")
def test_an_item_recorded_only_in_a_rolled_back_savepoint_is_not_queued(unit, django_capture_on_commit_callbacks):
    """Ids travel with their own on-commit callback: a change undone by a savepoint is not queued, while the
    transaction's other changes still are."""
    kept = EbookFactory(owning_unit=unit, document=_document("a.pdf", chinese_pdf()))
    dropped = EbookFactory(owning_unit=unit, document=_document("b.pdf", chinese_pdf()))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.fulltext_refresh_soon(item_ids=[kept.pk])
        try:
            with transaction.atomic():
                services.fulltext_refresh_soon(item_ids=[dropped.pk, kept.pk])
                raise DatabaseError("undone")
        except DatabaseError:
            pass
    assert _queued_ids() == [kept.pk]


def _scanned_pdf() -> bytes:
    """A one-page PDF with no text layer (what a scanner makes)."""
    return pdf_from_objects(
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 595] >>",
        ],
        "/Root 1 0 R",
    )


def test_a_file_without_text_is_read_once_not_on_every_run(unit):
    """A scanned PDF (no text layer) is remembered as read and empty ("none:pdf:<id>"): the next `library_fulltext`
    run skips it, `--all` reads it again, and so does a plain run once the item points at another document."""
    scan = _document("scan.pdf", _scanned_pdf())
    item = EbookFactory(owning_unit=unit, document=scan)

    def run(*args) -> str:
        out = StringIO()
        call_command("library_fulltext", *args, stdout=out, stderr=StringIO())
        return out.getvalue()

    assert "已处理 1 个条目，其中 0 个" in run()
    item.refresh_from_db()
    assert (item.fulltext, item.fulltext_source) == ("", f"none:pdf:{scan.pk}")
    assert "已处理 0 个条目" in run()
    assert "已处理 1 个条目" in run("--all")
    other = _document("scan-2.pdf", _scanned_pdf())
    LibraryItem.objects.filter(pk=item.pk).update(document=other)  # a bulk import: no signals
    assert "已处理 1 个条目" in run()
    assert LibraryItem.objects.get(pk=item.pk).fulltext_source == f"none:pdf:{other.pk}"


def _processed(document: LighthouseDocument, text: str, *, meta: dict, sha256: str = "") -> MediaAsset:
    """The media asset the pipeline made from `document` (the item form makes one when a document is chosen), with
    the text its document step stored: a finished job's text rendition, as the step writes it (parts separated by
    form feeds). `sha256` stands for another file's bytes."""
    with document.file.open("rb") as handle:
        digest = sha256 or hashlib.sha256(handle.read()).hexdigest()
    asset = MediaAsset.objects.create(file="uploads/2026/01/book", kind="document", state="ready", sha256=digest)
    job = TranscodeJob.objects.create(asset=asset, state=TranscodeJob.State.DONE)
    path = default_storage.save(f"renditions/{asset.pk}/{job.pk}/document/text/all.txt", ContentFile(text.encode()))
    asset.renditions.create(job=job, profile="document_text", kind="text", path=path, meta=meta)
    return asset


def _parse_nothing(*, path, limit):
    raise AssertionError("the document was parsed again although the pipeline had stored its text")


@pytest.mark.parametrize(("name", "data", "meta"), [("book.pdf", chinese_pdf, {"pages": 2}),
                                                    ("book.epub", None, {"chapters": 2})])  # fmt: skip
def test_a_document_the_pipeline_processed_is_read_from_its_stored_text(unit, monkeypatch, tmp_path, name, data, meta):
    """Where the pipeline has turned the item's PDF or EPUB into text, search gets that stored text, with the same
    source as a parsed file ("pdf:<document id>", "epub:<document id>"); the file is not parsed again."""
    raw = data() if data else chinese_epub(tmp_path / "b.epub").read_bytes()
    document = _document(name, raw)
    asset = _processed(document, "管道存好的第一部分\f管道存好的第二部分", meta=meta)
    item = EbookFactory(owning_unit=unit, document=document, media_asset=asset)
    monkeypatch.setattr(text_extraction, "document_file_text", _parse_nothing)
    kind = name.rsplit(".", 1)[1]
    assert library_item_fulltext_refresh(item_id=item.pk) == f"{kind}:{document.pk}"
    item.refresh_from_db()
    assert item.fulltext == "管道存好的第一部分\n管道存好的第二部分"


def test_a_document_replaced_since_it_was_processed_is_read_from_its_file(unit):
    """Once the document's file was replaced (its bytes are no longer the asset's), the stored text is another
    file's: the file itself is read instead."""
    document = _document("book.pdf", chinese_pdf())
    asset = _processed(document, "旧文件的文字", meta={"pages": 1}, sha256="0" * 64)
    item = EbookFactory(owning_unit=unit, document=document, media_asset=asset)
    assert library_item_fulltext_refresh(item_id=item.pk) == f"pdf:{document.pk}"
    item.refresh_from_db()
    assert item.fulltext == "第一页 序言\n第二页 灯塔照亮前路\n第三页 结语"


@pytest.mark.usefixtures("db_tasks")
def test_published_renditions_refresh_the_items_text_and_index_entries(unit, django_capture_on_commit_callbacks):
    """The end of a transcode reaches the library: when the pipeline announces an asset's renditions
    (media_pipeline.events.renditions_published), every item using that asset is queued for its text once and
    gets a fresh search outbox entry; items on other assets are untouched."""
    from media_pipeline.events import renditions_published

    asset = MediaAsset.objects.create(file="uploads/book.pdf", kind="document", state="ready", sha256="cd" * 32)
    other = MediaAsset.objects.create(file="uploads/other.pdf", kind="document", state="ready", sha256="ef" * 32)
    with django_capture_on_commit_callbacks(execute=True):
        item = EbookFactory(owning_unit=unit, media_asset=asset)
        EbookFactory(owning_unit=unit, media_asset=other)
    DBTaskResult.objects.all().delete()
    OutboxEntry.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        renditions_published.send(sender=MediaAsset, asset_id=asset.pk, group="documents")
    assert _queued_ids() == [item.pk]
    assert list(OutboxEntry.objects.values_list("doc_id", flat=True)) == [f"library.libraryitem:{item.pk}"]
