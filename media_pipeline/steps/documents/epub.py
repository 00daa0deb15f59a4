"""EPUB books: a zip safety check first, then metadata, table of contents, text per chapter and the cover.

EbookLib reads every member of the book into memory, so the archive is vetted with ``zipfile`` before it is
parsed: paths, member count, total size, compression ratio (zip bombs) and encryption. ``zipfile`` never
returns more than a member's declared size (a member that lies fails its CRC), so the declared sizes checked
here bound what EbookLib can be made to load.
"""

import codecs
import io
import logging
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import ebooklib
from django.utils.translation import gettext as _
from ebooklib import epub
from lxml import etree, html
from PIL import Image, ImageOps

from ...errors import BadInputError
from ..contract import Output, ProgressCallback
from ..profiles import DOCUMENT, DocumentProfile
from .step import PART_SEPARATOR, clip, report_progress, save_jpeg, write_json, write_text

logger = logging.getLogger(__name__)

MAX_EPUB_MEMBERS = 20_000
# Members smaller than this are never judged by their ratio: deflate tops out near 1032:1, so they cannot
# unpack to anything harmful, while a small blank stylesheet or page legitimately compresses past 200:1.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
ENCRYPTION_XML = "META-INF/encryption.xml"
XMLENC_METHOD = "{http://www.w3.org/2001/04/xmlenc#}EncryptionMethod"
# Font obfuscation (IDPF and Adobe) is not DRM: the text stays readable. Anything else encrypts content.
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
# A cover is judged by its header before decoding: 40 Mpx is already ~120 MB of RGB for a 600 px thumbnail.
COVER_MAX_PIXELS = 40_000_000
TOC_MAX_DEPTH = 15
TOC_MAX_ENTRIES = 10_000
# Elements after which a reader sees a line break; the rest of the markup only styles text.
BLOCK_TAGS = (
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "section", "article",
    "aside", "header", "footer", "dt", "dd", "figcaption", "table", "ul", "ol", "hr",
)  # fmt: skip
ISBN_PATTERN = re.compile(r"97[89]\d{10}|\d{9}[\dX]")
# EbookLib and lxml fail on broken books with these; anything else is a bug on our side, not bad input.
EPUB_READ_ERRORS = (
    epub.EpubException,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    KeyError,
    IndexError,
    AttributeError,
    TypeError,
    ValueError,
    etree.LxmlError,
)


def epub_process(
    *, source: Path, out_dir: Path, profile: DocumentProfile, on_progress: ProgressCallback
) -> list[Output]:
    """Vet the archive, then write chapter texts, the cover and a manifest with metadata and contents."""
    check_epub_archive(source=source, profile=profile)
    book = _read(source)
    metadata, toc = epub_metadata(book), epub_toc(book)
    chapters, texts = _chapters(book, out_dir, toc, on_progress)
    write_text(out_dir / "text" / "all.txt", PART_SEPARATOR.join(texts))
    cover = _cover(book, out_dir / "cover.jpg", profile)
    manifest = {"format": "epub", "metadata": metadata, "toc": toc, "chapters": chapters}
    write_json(out_dir / "epub" / "manifest.json", manifest)
    outputs = [
        Output(
            profile=profile.name,
            kind=profile.kind,
            path="epub/manifest.json",
            files=("epub/manifest.json",),
            meta={"format": "epub", "toc": toc, "metadata": metadata, "chapters": len(chapters)},
        ),
        Output(
            profile=f"{profile.name}_text",
            kind="text",
            path="text/all.txt",
            files=(*(f"text/{chapter['text']}" for chapter in chapters), "text/all.txt"),
            meta={"chapters": len(chapters), "characters": sum(chapter["characters"] for chapter in chapters)},
        ),
    ]
    if cover is not None:
        outputs.append(
            Output(profile=f"{profile.name}_cover", kind="image", path="cover.jpg", width=cover[0], height=cover[1])
        )
    return outputs


# --- The archive, before anything parses it ------------------------------------------------------------------


def check_epub_archive(*, source: Path, profile: DocumentProfile) -> None:
    """Refuse archives that escape their folder, unpack too big, hide a zip bomb, or are encrypted."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
            _check_members(members, profile)
            if ENCRYPTION_XML in archive.namelist():
                _check_encryption(archive.read(ENCRYPTION_XML))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise BadInputError(_("EPUB 文件已损坏，无法读取，请重新导出后上传"), str(exc)) from exc


def _check_members(members: list[zipfile.ZipInfo], profile: DocumentProfile) -> None:
    if len(members) > MAX_EPUB_MEMBERS:
        raise BadInputError(
            _("EPUB 文件包含的文件过多，请检查后重新上传"), f"{len(members)} members, limit {MAX_EPUB_MEMBERS}"
        )
    total = 0
    for member in members:
        if not is_safe_member_name(member.filename):
            raise BadInputError(_("EPUB 文件含有不安全的路径，请重新导出后上传"), member.filename)
        if member.flag_bits & 0x1:  # the zip "encrypted" flag
            raise BadInputError(
                _("EPUB 文件受加密或 DRM 保护，请上传未加密的版本"), f"encrypted member {member.filename}"
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_CHECK_MIN_BYTES and ratio > profile.max_epub_ratio:
            raise BadInputError(
                _("EPUB 文件解压后过大（疑似压缩炸弹），请检查后重新上传"),
                f"{member.filename}: compression ratio {ratio:.0f}:1",
            )
        total += member.file_size
    if total > profile.max_epub_bytes:
        raise BadInputError(
            _("EPUB 文件解压后过大（疑似压缩炸弹），请检查后重新上传"),
            f"{total} bytes unpacked, limit {profile.max_epub_bytes}",
        )


def is_safe_member_name(name: str) -> bool:
    """No absolute paths, drive letters or ``..``: such names attack whatever unpacks the book next."""
    path = PurePosixPath(name.replace("\\", "/"))
    return not (path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name) or "\x00" in name)


def _check_encryption(data: bytes) -> None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.LxmlError as exc:
        raise BadInputError(_("EPUB 文件已损坏，无法读取，请重新导出后上传"), f"{ENCRYPTION_XML}: {exc}") from exc
    algorithms = {method.get("Algorithm") for method in root.iter(XMLENC_METHOD)}
    if algorithms - FONT_OBFUSCATION:
        raise BadInputError(
            _("EPUB 文件受加密或 DRM 保护，请上传未加密的版本"), ", ".join(sorted(map(str, algorithms)))
        )


def _read(source: Path) -> epub.EpubBook:
    try:
        # ignore_ncx: EPUB 3 books are read through their nav document; the NCX only when there is none.
        return epub.read_epub(str(source), options={"ignore_ncx": True})
    except EPUB_READ_ERRORS as exc:
        raise BadInputError(_("EPUB 文件已损坏，无法读取，请重新导出后上传"), f"{type(exc).__name__}: {exc}") from exc


# --- What the book says about itself ----------------------------------------------------------------------------


def epub_metadata(book: epub.EpubBook) -> dict:
    """Dublin Core metadata from the package document, plus the first ISBN among the identifiers."""
    identifiers = [
        {"value": clip(value, 200), "scheme": _scheme(attrs)}
        for value, attrs in _metadata(book, "DC", "identifier")
        if clip(value)
    ]
    isbns = [isbn for isbn in (_isbn(i["value"], i["scheme"]) for i in identifiers) if isbn]
    return {
        "title": _first(book, "title"),
        "creators": _all(book, "creator"),
        "language": _first(book, "language"),
        "publisher": _first(book, "publisher"),
        "date": _first(book, "date"),
        "description": clip(_first(book, "description"), 5000),
        "identifiers": identifiers,
        "isbn": isbns[0] if isbns else "",
    }


def _all(book: epub.EpubBook, name: str) -> list[str]:
    return [clip(value) for value, _attrs in _metadata(book, "DC", name) if clip(value)]


def _metadata(book: epub.EpubBook, namespace: str, name: str) -> list[tuple]:
    # EbookLib raises KeyError when the package document never declared the namespace.
    try:
        return book.get_metadata(namespace, name)
    except KeyError:
        return []


def _first(book: epub.EpubBook, name: str) -> str:
    values = _all(book, name)
    return values[0] if values else ""


def _scheme(attrs: dict) -> str:
    # EPUB 2 writes opf:scheme="ISBN"; lxml gives the attribute as "{namespace}scheme".
    return next((str(value) for key, value in attrs.items() if key.endswith("scheme")), "")


def _isbn(value: str, scheme: str) -> str:
    """The ISBN in an identifier such as "urn:isbn:978-7-01-…" or opf:scheme="ISBN" "7-01-…", else ""."""
    lowered = value.lower()
    marked = "isbn" in scheme.lower() or lowered.startswith(("urn:isbn:", "isbn"))
    digits = re.sub(r"[\s-]", "", re.sub(r"^(urn:)?isbn:?", "", lowered)).upper()
    if ISBN_PATTERN.fullmatch(digits) and (marked or len(digits) == 13):
        return digits
    return ""


def epub_toc(book: epub.EpubBook) -> list[dict]:
    """The nav (or NCX) table of contents as a flat list: title, href (relative to the package), level from 1."""
    entries: list[dict] = []
    toc = book.toc if isinstance(book.toc, list | tuple) else [book.toc]
    _flatten_toc(toc, 1, entries)
    return entries


def _flatten_toc(nodes, level: int, entries: list[dict]) -> None:
    for node in nodes:
        if len(entries) >= TOC_MAX_ENTRIES or level > TOC_MAX_DEPTH:
            return
        # EbookLib gives a section with children as a (Section, [children]) pair, a leaf as a Link.
        if isinstance(node, tuple | list) and len(node) == 2 and isinstance(node[1], list | tuple):
            node, children = node
        else:
            children = ()
        title, href = clip(getattr(node, "title", ""), 500), clip(getattr(node, "href", ""), 500)
        if title or href:
            entries.append({"title": title, "href": href, "level": level})
        _flatten_toc(children, level + 1, entries)


# --- Chapters and cover ------------------------------------------------------------------------------------------


def _chapters(
    book: epub.EpubBook, out_dir: Path, toc: list[dict], on_progress: ProgressCallback
) -> tuple[list[dict], list[str]]:
    """Text of each spine document that has any, in reading order (a cover page or blank page has none)."""
    titles: dict[str, str] = {}
    for entry in toc:
        titles.setdefault(entry["href"].split("#", 1)[0], entry["title"])
    chapters, texts = [], []
    spine = list(book.spine)
    for position, (idref, _linear) in enumerate(spine, start=1):
        item = book.get_item_with_id(idref)
        text = html_to_text(item.content) if _is_chapter(item) else ""
        if text:
            name = f"c{len(chapters) + 1:04d}.txt"
            write_text(out_dir / "text" / name, text)
            href = item.get_name()
            chapters.append(
                {"number": len(chapters) + 1, "href": href, "title": titles.get(href, ""), "text": name,
                 "characters": len("".join(text.split()))}
            )  # fmt: skip
            texts.append(text)
        report_progress(on_progress, position / len(spine))
    return chapters, texts


def epub_text(source: Path, *, limit: int) -> str:
    """Chapter texts in reading (spine) order, joined as ``text/all.txt`` joins them, until at least ``limit``
    characters are read; after the same archive checks as the step, so a book it refuses is refused here too."""
    check_epub_archive(source=source, profile=DOCUMENT)
    book = _read(source)
    texts, total = [], 0
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        text = html_to_text(item.content) if _is_chapter(item) else ""
        if text:
            texts.append(text)
            total += len(text)
            if total >= limit:
                break
    return PART_SEPARATOR.join(texts)


def _is_chapter(item) -> bool:
    return isinstance(item, epub.EpubHtml) and not isinstance(item, epub.EpubNav) and bool(item.content)


def html_to_text(content: bytes) -> str:
    """Readable text of an XHTML document: no markup, scripts or styles; one line per paragraph."""
    # EPUB allows only UTF-8 and UTF-16; telling lxml so keeps Chinese intact without a charset declaration.
    encoding = "utf-16" if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8"
    try:
        root = html.document_fromstring(content, parser=html.HTMLParser(encoding=encoding))
    except (etree.LxmlError, ValueError):
        return ""
    for element in root.xpath("//script|//style|//head"):
        element.drop_tree()
    for element in root.iter(*BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def _cover(book: epub.EpubBook, path: Path, profile: DocumentProfile) -> tuple[int, int] | None:
    """The declared cover image, at most ``cover_width`` wide (never enlarged); None when there is none."""
    item = cover_item(book)
    if item is None:
        return None
    try:
        with Image.open(io.BytesIO(item.content)) as image:
            if image.width * image.height > COVER_MAX_PIXELS:
                raise ValueError(f"{image.width}×{image.height} pixels")
            image.draft("RGB", (profile.cover_width, profile.cover_width * 4))  # JPEG: decode at a smaller scale
            picture = _flatten(ImageOps.exif_transpose(image))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        # A broken cover should not cost the reader the book: it is published without one.
        logger.warning("EPUB cover %s unreadable: %s", item.get_name(), exc)
        return None
    if picture.width > profile.cover_width:
        height = max(1, round(picture.height * profile.cover_width / picture.width))
        picture = picture.resize((profile.cover_width, height), Image.Resampling.LANCZOS)
    return save_jpeg(picture, path, quality=profile.page_quality)


def cover_item(book: epub.EpubBook):
    """EPUB 3's ``properties="cover-image"`` item, else EPUB 2's ``<meta name="cover" content="id">``."""
    for item in book.get_items_of_type(ebooklib.ITEM_COVER):
        if (item.media_type or "").startswith("image/") and item.content:
            return item
    # EbookLib files EPUB 2's <meta> elements under "meta" when it reads a book, under "cover" when it writes one.
    for _value, attrs in (*_metadata(book, "OPF", "meta"), *_metadata(book, "OPF", "cover")):
        if attrs.get("name") != "cover":
            continue
        item = book.get_item_with_id(attrs.get("content"))
        if item is not None and (item.media_type or "").startswith("image/") and item.content:
            return item
    return None


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency, and a transparent PNG cover would turn black."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
