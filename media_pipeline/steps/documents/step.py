"""The document step: tells PDF from EPUB by its bytes, hands it to its module, and shares their file helpers.

``pdf.py`` renders PDF pages (PDFium, in-process) and ``epub.py`` reads EPUB books
(EbookLib, after a zip safety check). Both write under ``out_dir`` with paths relative to it; ``produce``
puts them under the profile's own folder and prefixes the paths, as the step contract asks.
"""

import json
import shutil
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

from django.utils.translation import gettext as _
from PIL import Image

from ...errors import BadInputError, Cancelled
from ..contract import Output, ProgressCallback, StepContext
from ..profiles import DocumentProfile

EPUB_MIMETYPE = b"application/epub+zip"
# OCF asks for an uncompressed "mimetype" member first, so its name and content sit at fixed offsets of the
# first local header: the EPUB "magic number" that `file` also uses. It survives a lost central directory.
EPUB_MAGIC = b"mimetype" + EPUB_MIMETYPE
EPUB_MAGIC_OFFSET = 30
ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"
# Readers accept a PDF header anywhere in the first 1 KB (ISO 32000 implementation note), so do we.
HEAD_BYTES = 1024
# Pages or chapters are joined with a form feed in all.txt, as pdftotext does: indexers read it as space.
PART_SEPARATOR = "\f"


def document_kind(path: Path) -> str:
    """ "pdf" or "epub", from the file's first bytes (never its name); anything else is refused."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head.startswith(ZIP_MAGIC):
        if _is_epub(path, head):
            return "epub"
    elif PDF_MAGIC in head:
        return "pdf"
    raise BadInputError(_("不是 PDF 或 EPUB 文件，请检查后重新上传"), _describe_head(head))


def _is_epub(path: Path, head: bytes) -> bool:
    if head[EPUB_MAGIC_OFFSET : EPUB_MAGIC_OFFSET + len(EPUB_MAGIC)] == EPUB_MAGIC:
        return True
    # Sloppy packagers compress "mimetype" or put it later; its content still says what the zip is.
    try:
        with zipfile.ZipFile(path) as archive, archive.open("mimetype") as member:
            return member.read(len(EPUB_MIMETYPE) + 8).strip() == EPUB_MIMETYPE
    except (zipfile.BadZipFile, KeyError, zlib.error, EOFError, NotImplementedError, RuntimeError):
        return False


def _describe_head(head: bytes) -> str:
    return f"first bytes: {head[:8]!r}" if head else "empty file"


def produce(ctx: StepContext, profile: DocumentProfile) -> list[Output]:
    """Pages, text, cover and metadata of a PDF or EPUB, written under ``ctx.out_dir / profile.name``."""
    kind = document_kind(ctx.source)
    # Imported here so that only workers that process documents load PDFium's native library.
    if kind == "pdf":
        from .pdf import pdf_process as process
    else:
        from .epub import epub_process as process
    step_dir = ctx.out_dir / profile.name
    step_dir.mkdir(parents=True, exist_ok=True)
    try:
        outputs = process(source=ctx.source, out_dir=step_dir, profile=profile, on_progress=ctx.on_progress)
    except BaseException:
        # Half a book must never look like a finished one to whoever lists the folder next.
        shutil.rmtree(step_dir, ignore_errors=True)
        raise
    return [_under(output, profile.name) for output in outputs]


def _under(output: Output, folder: str) -> Output:
    return replace(output, path=f"{folder}/{output.path}", files=tuple(f"{folder}/{name}" for name in output.files))


# --- Helpers shared by the PDF and EPUB modules -------------------------------------------------------------


def report_progress(on_progress: ProgressCallback, fraction: float) -> None:
    """Pass progress on; the engine answers False when the job was cancelled or taken over."""
    if on_progress(min(max(fraction, 0.0), 1.0)) is False:
        raise Cancelled()


def save_jpeg(image: Image.Image, path: Path, *, quality: int) -> tuple[int, int]:
    """Write ``image`` as a baseline JPEG (every browser and TV box decodes it); returns its size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.save(path, "JPEG", quality=quality)
    return image.size


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def clip(text: str | None, limit: int = 1000) -> str:
    """A metadata string, trimmed: a hostile file can put megabytes into a title that ends up in JSON rows."""
    return (text or "").replace("\x00", "").strip()[:limit]
