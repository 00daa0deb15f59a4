"""Text for search from an item's files: the PDF text layer, EPUB chapters, plain text, caption transcripts.

Readers only: the write (the item's `fulltext` and a search outbox entry) is `library_item_fulltext_refresh` in
library/services.py, run by `library_item_fulltext_refresh_task` in library/tasks.py.
Parsing is left to the libraries the media pipeline already uses (pypdfium2, EbookLib, webvtt-py), through
the pipeline's own safety checks (EPUB zip-bomb guard, caption decoding), so a file the pipeline refuses is
refused here for the same reason. A bad file raises ExtractionError; the caller logs it and stores nothing.
"""

import html
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import webvtt
from ebooklib import epub

from media_pipeline.captions import clean_vtt
from media_pipeline.documents import document_kind
from media_pipeline.documents_epub import EPUB_READ_ERRORS, check_epub_archive, html_to_text
from media_pipeline.documents_pdf import PDFIUM_LOCK, page_text  # PDFium is process-global: one lock for all
from media_pipeline.errors import BadInputError
from media_pipeline.profiles import DOCUMENT

# Search needs the words, not the whole of a 3,000-page book: the engines index all of this, the embedded index
# the first 20,000 characters. The cap also bounds the row and the outbox drain's memory.
MAX_FULLTEXT_CHARS = 200_000
# A caption file is a few hundred KB at most; anything far larger is not a caption file.
MAX_CAPTION_BYTES = 20 * 1024 * 1024
TEXT_EXTENSIONS = {"txt", "text"}
# C0/C1 control characters except tab and newline (PostgreSQL also rejects NUL), and lone surrogates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class ExtractionError(Exception):
    """The file cannot be read (damaged, encrypted, not what it claims to be)."""


@dataclass(frozen=True)
class Extracted:
    text: str
    source: str  # "pdf:<document id>", "epub:<id>", "text:<id>", "captions:<asset id>"; "" for nothing


NOTHING = Extracted(text="", source="")


def clean_text(text: str, *, limit: int = MAX_FULLTEXT_CHARS) -> str:
    """Control characters and NULs dropped, runs of spaces and blank lines folded, cut to `limit` characters."""
    text = _CONTROL.sub(" ", text.replace("\f", "\n").replace("\r\n", "\n").replace("\r", "\n"))
    text = _BLANK_LINES.sub("\n\n", _SPACES.sub(" ", text))
    return "\n".join(line.strip() for line in text.split("\n")).strip()[:limit]


def item_text(item) -> Extracted:
    """The item's searchable text: its document's, else its media asset's captions, else nothing."""
    if item.document_id:
        return document_text(item.document)
    if item.media_asset_id:
        return captions_text(item.media_asset)
    return NOTHING


# --- Documents --------------------------------------------------------------------------------------------------


def document_text(document) -> Extracted:
    """Text of a Wagtail document (PDF, EPUB or plain text); other formats give nothing."""
    with _local_copy(document.file) as path:
        if document.file_extension.lower() in TEXT_EXTENSIONS:
            return Extracted(plain_text(path.read_bytes()), f"text:{document.pk}")
        try:
            kind = document_kind(path)
        except BadInputError:
            return NOTHING  # a Word file, a picture: nothing we can read, and nothing wrong either
        reader = pdf_text if kind == "pdf" else epub_text
        return Extracted(reader(path), f"{kind}:{document.pk}")


@contextmanager
def _local_copy(field_file):
    """The stored file as a local path (PDFium and EbookLib need one; the storage may be S3), removed after."""
    with tempfile.TemporaryDirectory(prefix="fulltext-") as folder:
        path = Path(folder) / "source"
        try:
            with field_file.open("rb") as source, path.open("wb") as target:
                shutil.copyfileobj(source, target, length=1024 * 1024)
        except FileNotFoundError as exc:  # the record outlived its file: nothing to read, nothing to retry
            raise ExtractionError(f"file missing: {field_file.name}") from exc
        yield path


def pdf_text(path: Path, *, limit: int = MAX_FULLTEXT_CHARS) -> str:
    """The text layer of each page in order, until `limit` characters (a scanned PDF without one gives "")."""
    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as exc:
            raise ExtractionError(f"PDF cannot be opened ({exc})") from exc
        try:
            return clean_text("\n".join(_pages(pdf, limit)), limit=limit)
        except pdfium.PdfiumError as exc:
            raise ExtractionError(f"PDF page cannot be read ({exc})") from exc
        finally:
            pdf.close()


def _pages(pdf, limit: int):
    total = 0
    for index in range(len(pdf)):
        page = pdf[index]
        try:
            text = page_text(page)
        finally:
            page.close()
        yield text
        total += len(text)
        if total >= limit:
            return


def epub_text(path: Path, *, limit: int = MAX_FULLTEXT_CHARS) -> str:
    """Chapter texts in reading (spine) order, after the pipeline's zip-bomb and encryption checks."""
    try:
        check_epub_archive(source=path, profile=DOCUMENT)
        book = epub.read_epub(str(path), options={"ignore_ncx": True})
    except BadInputError as exc:
        raise ExtractionError(exc.reason or exc.message) from exc
    except EPUB_READ_ERRORS as exc:
        raise ExtractionError(f"EPUB cannot be read ({type(exc).__name__}: {exc})") from exc
    texts, total = [], 0
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if isinstance(item, epub.EpubHtml) and not isinstance(item, epub.EpubNav) and item.content:
            texts.append(html_to_text(item.content))
            total += len(texts[-1])
            if total >= limit:
                break
    return clean_text("\n".join(texts), limit=limit)


def plain_text(data: bytes, *, limit: int = MAX_FULLTEXT_CHARS) -> str:
    """A text file: UTF-8 (with or without BOM), else GB18030 (what Chinese Windows tools write)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return clean_text(data.decode(encoding), limit=limit)
        except UnicodeDecodeError:
            continue
    return clean_text(data.decode("utf-8", errors="replace"), limit=limit)


# --- Captions ---------------------------------------------------------------------------------------------------


def captions_text(asset) -> Extracted:
    """The transcript of an asset's caption tracks (default track first); nothing when it has none."""
    tracks = list(asset.captions.order_by("-is_default", "language", "pk"))
    texts = [transcript(_read_capped(track.file)) for track in tracks]
    text = clean_text("\n".join(texts))
    return Extracted(text, f"captions:{asset.pk}") if text else NOTHING


def _read_capped(field_file) -> bytes:
    try:
        with field_file.open("rb") as handle:
            data = handle.read(MAX_CAPTION_BYTES + 1)
    except FileNotFoundError as exc:
        raise ExtractionError(f"file missing: {field_file.name}") from exc
    if len(data) > MAX_CAPTION_BYTES:
        raise ExtractionError(f"caption file over {MAX_CAPTION_BYTES} bytes")
    return data


def transcript(data: bytes) -> str:
    """An SRT or WebVTT file as plain lines of speech: no timings, no cue tags, a line repeated by rolling
    captions kept once."""
    try:
        captions = webvtt.from_string(clean_vtt(data)).captions
    except BadInputError as exc:
        raise ExtractionError(exc.reason or exc.message) from exc
    lines: list[str] = []
    for caption in captions:
        for line in html.unescape(caption.text).split("\n"):
            line = line.strip()
            if line and (not lines or lines[-1] != line):
                lines.append(line)
    return "\n".join(lines)


# --- What the text was read from ---------------------------------------------------------------------------------


def item_sources(item) -> tuple:
    """What the item's text is read from, as comparable values: its document (id and stored file name), its media
    asset and that asset's caption tracks. The write compares this before and after a long read, so an extraction
    that started before an editor changed the file stores nothing."""
    document_file = item.document.file.name if item.document_id else ""
    captions = tuple(item.media_asset.captions.order_by("pk").values_list("pk", "file")) if item.media_asset_id else ()
    return item.document_id, document_file, item.media_asset_id, captions
