"""Text for search from an item's files: the PDF text layer, EPUB chapters, plain text, caption transcripts.

Readers only: the write (the item's `fulltext` and a search outbox entry) is `library_item_fulltext_refresh` in
library/services.py, run by `library_item_fulltext_refresh_task` in library/tasks.py.
A PDF or EPUB the pipeline has processed (the item's media asset, made from this very file) is read as the text the
pipeline stored (`stored_document_text`): nothing is parsed twice. Only a document it has not processed (not yet, or
never: an item saved outside the item form) is parsed, by the pipeline's own readers and safety checks
(`document_file_text`), so a file the pipeline refuses is refused here for the same reason. Captions are decoded as
the pipeline decodes them (`clean_vtt`). A bad file raises ExtractionError; the caller logs it and stores nothing.
"""

import hashlib
import html
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import webvtt

from media_pipeline.errors import BadInputError
from media_pipeline.selectors import DocumentText, clean_vtt, document_file_text, stored_document_text

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
COPY_CHUNK = 1024 * 1024


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
        return document_text(item.document, asset=item.media_asset)
    if item.media_asset_id:
        return captions_text(item.media_asset)
    return NOTHING


# --- Documents --------------------------------------------------------------------------------------------------


def document_text(document, *, asset=None) -> Extracted:
    """Text of a Wagtail document (PDF, EPUB or plain text); other formats give nothing. ``asset`` is the media
    asset the pipeline made from the document (the item's), if any: where it holds the document's stored text, that
    is read instead of the file."""
    if document.file_extension.lower() in TEXT_EXTENSIONS:
        with _local_copy(document.file) as path:
            return Extracted(plain_text(path.read_bytes()), f"text:{document.pk}")
    found = _processed_text(document, asset)
    if found is None:
        with _local_copy(document.file) as path:
            found = _parsed_text(path)
    if found is None:
        return NOTHING  # a Word file, a picture: nothing we can read, and nothing wrong either
    return Extracted(clean_text(found.text), f"{found.kind}:{document.pk}")


def _processed_text(document, asset) -> DocumentText | None:
    """The text the pipeline stored for ``asset``, if it made any and made it from the document's current file.

    The document's file can be replaced in Wagtail's document editor after the asset was made from it: the stored
    text is then another file's, and the file is read instead. The bytes decide (the asset's SHA-256), not a name."""
    if asset is None:
        return None
    stored = stored_document_text(asset=asset, limit=MAX_FULLTEXT_CHARS)
    if stored is None or _sha256(document.file) != asset.sha256:
        return None
    return stored


def _sha256(field_file) -> str:
    digest = hashlib.sha256()
    try:
        with field_file.open("rb") as handle:
            while chunk := handle.read(COPY_CHUNK):
                digest.update(chunk)
    except FileNotFoundError as exc:  # the record outlived its file: nothing to read, nothing to retry
        raise ExtractionError(f"file missing: {field_file.name}") from exc
    return digest.hexdigest()


def _parsed_text(path: Path) -> DocumentText | None:
    try:
        return document_file_text(path=path, limit=MAX_FULLTEXT_CHARS)
    except BadInputError as exc:
        raise ExtractionError(exc.reason or exc.message) from exc


@contextmanager
def _local_copy(field_file):
    """The stored file as a local path (PDFium and EbookLib need one; the storage may be S3), removed after."""
    with tempfile.TemporaryDirectory(prefix="fulltext-") as folder:
        path = Path(folder) / "source"
        try:
            with field_file.open("rb") as source, path.open("wb") as target:
                shutil.copyfileobj(source, target, length=COPY_CHUNK)
        except FileNotFoundError as exc:  # the record outlived its file: nothing to read, nothing to retry
            raise ExtractionError(f"file missing: {field_file.name}") from exc
        yield path


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
