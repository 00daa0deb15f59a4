"""PDF e-books and periodical issues: page images at each width, text per page, cover, metadata, outline.

PDFium (through pypdfium2) runs in-process, so nothing here can be killed from outside: every call is
bounded instead. The page count is checked before any page is rendered, and a rendered page never exceeds
``MAX_PAGE_PIXELS`` however absurd its declared size.
"""

import itertools
import math
import threading
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from django.utils.translation import gettext as _

from ...errors import BadInputError
from ..contract import Output, ProgressCallback
from ..profiles import DocumentProfile
from .step import PART_SEPARATOR, clip, report_progress, save_jpeg, write_json, write_text

# A rendered page's area and longest side: a 1 pt × 10 m page at 1600 px wide would otherwise need gigabytes.
MAX_PAGE_PIXELS = 16_000_000
MAX_PAGE_SIDE = 16_384
# pypdfium2 sizes the bitmap as ceil(page size × scale); aiming a hair under the width keeps a float error
# from making a 1600 px rendition 1601 px wide.
CEIL_MARGIN = 0.001
TOC_MAX_DEPTH = 15
TOC_MAX_ENTRIES = 10_000
# A file cut short loses its final "%%EOF" (which ISO 32000 puts in the last 1 KB).
EOF_MARKER, TAIL_BYTES = b"%%EOF", 1024
METADATA_KEYS = {
    "Title": "title",
    "Author": "author",
    "Subject": "subject",
    "Keywords": "keywords",
    "Creator": "creator",
    "Producer": "producer",
    "CreationDate": "created",  # PDF date strings as written, e.g. "D:20240501120000+08'00'"
    "ModDate": "modified",
}
# PDFium is not thread-safe; a worker that ran steps on threads must still open one document at a time.
PDFIUM_LOCK = threading.Lock()


def pdf_process(
    *, source: Path, out_dir: Path, profile: DocumentProfile, on_progress: ProgressCallback
) -> list[Output]:
    """Render every page at each of ``profile.page_widths``, extract its text, render the cover; describe all."""
    with PDFIUM_LOCK, _open(source) as pdf:
        try:
            return _process(pdf, out_dir, profile, on_progress)
        except pdfium.PdfiumError as exc:
            raise BadInputError(_("PDF 文件已损坏，无法读取，请重新导出后上传"), str(exc)) from exc


def _process(
    pdf: pdfium.PdfDocument, out_dir: Path, profile: DocumentProfile, on_progress: ProgressCallback
) -> list[Output]:
    count = len(pdf)
    if count > profile.max_pages:
        raise BadInputError(
            _("PDF 共 %(pages)d 页，超过 %(limit)d 页的上限，请拆分后再上传")
            % {"pages": count, "limit": profile.max_pages}
        )
    metadata = {**pdf_metadata(pdf), "page_count": count}
    toc = pdf_toc(pdf)
    pages, texts = [], []
    for index in range(count):
        page_entry, text = _page(pdf, index, out_dir, profile)
        pages.append(page_entry)
        texts.append(text)
        report_progress(on_progress, (index + 1) / count)
    cover_size = _cover(pdf, out_dir / "cover.jpg", profile)
    write_text(out_dir / "text" / "all.txt", PART_SEPARATOR.join(texts))
    write_json(
        out_dir / "pages" / "manifest.json", {"format": "pdf", "widths": list(profile.page_widths), "pages": pages}
    )
    return _outputs(profile, pages, texts, metadata, toc, cover_size)


def _open(source: Path) -> pdfium.PdfDocument:
    try:
        pdf = pdfium.PdfDocument(source)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise BadInputError(_("PDF 文件受密码保护，请上传未加密的版本"), str(exc)) from exc
        raise BadInputError(_("PDF 文件已损坏，无法读取，请重新导出后上传"), str(exc)) from exc
    if _cut_short(pdf, source):
        pdf.close()
        raise BadInputError(_("PDF 文件不完整，可能上传时中断，请重新上传"), "no %%EOF at the end, xref rebuilt")
    return pdf


def _cut_short(pdf: pdfium.PdfDocument, source: Path) -> bool:
    """PDFium repairs a truncated file into fewer pages; publishing that would lose the end of the book.

    Sloppy writers also make PDFium rebuild the cross-reference table, so both signs must be present.
    """
    if pdfium_c.FPDF_DocumentHasValidCrossReferenceTable(pdf):
        return False
    with source.open("rb") as handle:
        handle.seek(max(source.stat().st_size - TAIL_BYTES, 0))
        return EOF_MARKER not in handle.read()


def pdf_metadata(pdf: pdfium.PdfDocument) -> dict:
    """The info dictionary; PDFium decodes PDFDocEncoding and UTF-16BE (Chinese titles) to str for us."""
    found = pdf.get_metadata_dict(skip_empty=True)
    values = {name: clip(found.get(key)) for key, name in METADATA_KEYS.items()}
    return {name: value for name, value in values.items() if value}


def pdf_toc(pdf: pdfium.PdfDocument) -> list[dict]:
    """The outline as a flat list; ``level`` starts at 1, ``page`` is 1-based (None: no page destination)."""
    entries = []
    # pypdfium2 stops at cycles and at max_depth; islice stops a flat outline of millions of entries.
    for bookmark in itertools.islice(pdf.get_toc(max_depth=TOC_MAX_DEPTH), TOC_MAX_ENTRIES):
        dest = bookmark.get_dest()
        index = dest.get_index() if dest is not None else None
        entries.append(
            {
                "title": clip(bookmark.get_title(), 500),
                "page": index + 1 if index is not None else None,
                "level": bookmark.level + 1,
            }
        )
    return entries


def _page(pdf: pdfium.PdfDocument, index: int, out_dir: Path, profile: DocumentProfile) -> tuple[dict, str]:
    """Images at every width plus text for one page; returns its manifest entry and its text."""
    name = f"p{index + 1:04d}"
    page = pdf[index]
    try:
        sizes = {}
        for width in profile.page_widths:
            relative = f"{width}/{name}.jpg"
            w, h = render_page(page, out_dir / "pages" / relative, width=width, quality=profile.page_quality)
            sizes[str(width)] = {"path": relative, "width": w, "height": h}
        text = page_text(page)
    finally:
        page.close()
    write_text(out_dir / "text" / f"{name}.txt", text)
    return {"number": index + 1, "sizes": sizes}, text


def render_page(page: pdfium.PdfPage, path: Path, *, width: int, quality: int) -> tuple[int, int]:
    """Render ``page`` ``width`` pixels wide (less if that breaks the pixel caps) as a JPEG; returns its size."""
    bitmap = page.render(scale=render_scale(page.get_size(), width=width))
    try:
        return save_jpeg(bitmap.to_pil(), path, quality=quality)
    finally:
        bitmap.close()


def render_scale(page_size: tuple[float, float], *, width: int) -> float:
    """Pixels per PDF unit for a ``width``-pixel image, reduced so the image stays within the caps."""
    page_width, page_height = page_size
    if not (page_width > 0 and page_height > 0):
        raise BadInputError(_("PDF 页面尺寸无效，请重新导出后上传"), f"page size {page_width} × {page_height}")
    scale = (width - CEIL_MARGIN) / page_width
    pixels_w, pixels_h = page_width * scale, page_height * scale
    fit = min(1.0, MAX_PAGE_SIDE / max(pixels_w, pixels_h), math.sqrt(MAX_PAGE_PIXELS / (pixels_w * pixels_h)))
    return scale * fit


def page_text(page: pdfium.PdfPage) -> str:
    """The page's text in reading order as PDFium sees it, with Unix line ends."""
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
    finally:
        textpage.close()
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def pdf_text(source: Path, *, limit: int) -> str:
    """The text layer of each page in order, joined as ``text/all.txt`` joins them, until at least ``limit``
    characters are read (a scanned PDF without a text layer gives ""). Refused as the step refuses the file."""
    with PDFIUM_LOCK, _open(source) as pdf:
        try:
            return PART_SEPARATOR.join(_page_texts(pdf, limit))
        except pdfium.PdfiumError as exc:
            raise BadInputError(_("PDF 文件已损坏，无法读取，请重新导出后上传"), str(exc)) from exc


def _page_texts(pdf: pdfium.PdfDocument, limit: int):
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


def _cover(pdf: pdfium.PdfDocument, path: Path, profile: DocumentProfile) -> tuple[int, int]:
    page = pdf[0]
    try:
        return render_page(page, path, width=profile.cover_width, quality=profile.page_quality)
    finally:
        page.close()


def _outputs(
    profile: DocumentProfile, pages: list[dict], texts: list[str], metadata: dict, toc: list, cover: tuple[int, int]
) -> list[Output]:
    images = [f"pages/{size['path']}" for page in pages for size in page["sizes"].values()]
    page_texts = [f"text/p{page['number']:04d}.txt" for page in pages]
    return [
        Output(
            profile=profile.name,
            kind=profile.kind,
            path="pages/manifest.json",
            files=(*images, "pages/manifest.json"),
            meta={"page_count": len(pages), "widths": list(profile.page_widths), "toc": toc, "metadata": metadata},
        ),
        Output(
            profile=f"{profile.name}_text",
            kind="text",
            path="text/all.txt",
            files=(*page_texts, "text/all.txt"),
            meta={"pages": len(pages), "characters": sum(len("".join(text.split())) for text in texts)},
        ),
        Output(profile=f"{profile.name}_cover", kind="image", path="cover.jpg", width=cover[0], height=cover[1]),
    ]
