"""Documents: PDF pages, text, cover, metadata and outline; EPUB text, cover and contents; bad files refused.

Fixtures are tiny and made here: PDFs written object by object (Pillow can draw a PDF but gives it no text
layer, outline or encryption, and PDFium cannot write those either), EPUBs with EbookLib and zipfile.
"""

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from ebooklib import epub
from PIL import Image

from media_pipeline.errors import BadInputError, Cancelled
from media_pipeline.steps.contract import StepContext
from media_pipeline.steps.documents.epub import (
    check_epub_archive,
    epub_process,
    html_to_text,
    is_safe_member_name,
)
from media_pipeline.steps.documents.pdf import MAX_PAGE_PIXELS, MAX_PAGE_SIDE, pdf_process, render_scale
from media_pipeline.steps.documents.step import document_kind, produce
from media_pipeline.steps.documents.text import DocumentText
from media_pipeline.steps.profiles import DOCUMENT
from media_pipeline.synthetic.documents import (
    CONTAINER_XML,
    PAGE_TEXTS,
    chinese_epub,
    chinese_pdf,
    encrypted_pdf,
    png_bytes,
)


def _zip(path: Path, members: dict[str, bytes], *, first_mimetype: bool = True) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if first_mimetype:
            archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def docs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("documents")


@pytest.fixture(scope="module")
def pdf_file(docs_dir) -> Path:
    path = docs_dir / "book.pdf"
    path.write_bytes(chinese_pdf())
    return path


@pytest.fixture(scope="module")
def epub_file(docs_dir) -> Path:
    return chinese_epub(docs_dir / "book.epub")


def _ctx(source: Path, out_dir: Path, on_progress=lambda fraction: True) -> StepContext:
    # Documents have no ffprobe result: the engine passes probe=None for them.
    return StepContext(source=source, probe=None, out_dir=out_dir, work_dir=out_dir.parent, on_progress=on_progress)


@pytest.fixture(scope="module")
def pdf_run(pdf_file, docs_dir):
    """produce() on the 3-page PDF with the real profile, once for the module: (outputs, out_dir, progress)."""
    out_dir, progress = docs_dir / "pdf_out", []
    outputs = produce(_ctx(pdf_file, out_dir, lambda fraction: progress.append(fraction) or True), DOCUMENT)
    return {output.profile: output for output in outputs}, out_dir, progress


@pytest.fixture(scope="module")
def epub_run(epub_file, docs_dir):
    out_dir, progress = docs_dir / "epub_out", []
    outputs = produce(_ctx(epub_file, out_dir, lambda fraction: progress.append(fraction) or True), DOCUMENT)
    return {output.profile: output for output in outputs}, out_dir, progress


def _refusal(call) -> BadInputError:
    with pytest.raises(BadInputError) as caught:
        call()
    return caught.value


# --- Detection ------------------------------------------------------------------------------------------------------


def test_kind_comes_from_the_bytes_not_the_name(pdf_file, epub_file, tmp_path):
    """A PDF named .epub is a PDF, an EPUB named .pdf is an EPUB: the first bytes decide."""
    disguised_pdf, disguised_epub = tmp_path / "a.epub", tmp_path / "b.pdf"
    disguised_pdf.write_bytes(pdf_file.read_bytes())
    disguised_epub.write_bytes(epub_file.read_bytes())
    assert document_kind(path=disguised_pdf) == "pdf"
    assert document_kind(path=disguised_epub) == "epub"


def test_text_file_renamed_pdf_is_refused(tmp_path):
    """A text file called .pdf is neither PDF nor EPUB, and produce() says so before writing anything."""
    fake = tmp_path / "notes.pdf"
    fake.write_text("这不是PDF文件\n", encoding="utf-8")
    error = _refusal(lambda: produce(_ctx(fake, tmp_path / "out"), DOCUMENT))
    assert error.message == "不是 PDF 或 EPUB 文件，请检查后重新上传"
    assert not (tmp_path / "out" / "document").exists()


def test_a_plain_zip_is_not_an_epub(tmp_path):
    """A zip without the EPUB mimetype member is refused as neither format."""
    plain = _zip(tmp_path / "data.zip", {"a.txt": b"hello"}, first_mimetype=False)
    assert _refusal(lambda: document_kind(path=plain)).message == "不是 PDF 或 EPUB 文件，请检查后重新上传"


def test_epub_with_a_compressed_mimetype_later_in_the_zip_is_still_an_epub(tmp_path):
    """Sloppy packagers deflate "mimetype" or put it second; its content still identifies the book."""
    path = _zip(
        tmp_path / "sloppy.epub",
        {"META-INF/container.xml": CONTAINER_XML.encode(), "mimetype": b"application/epub+zip"},
        first_mimetype=False,
    )
    assert document_kind(path=path) == "epub"


# --- PDF ------------------------------------------------------------------------------------------------------------


def test_pdf_pages_are_rendered_at_every_width(pdf_run):
    """Every page gets a JPEG at 1600 and 400 px wide; the rotated landscape page 3 keeps its shape."""
    outputs, out_dir, _ = pdf_run
    pages = outputs["document"]
    assert (pages.kind, pages.path, pages.meta["page_count"], pages.meta["widths"]) == (
        "pages",
        "document/pages/manifest.json",
        3,
        [1600, 400],
    )
    heights_at_1600 = {1: 2267, 2: 2267, 3: 1129}
    for number, height in heights_at_1600.items():
        for target in (1600, 400):
            with Image.open(out_dir / f"document/pages/{target}/p{number:04d}.jpg") as image:
                assert image.format == "JPEG"
                assert image.width == target
                assert abs(image.height - height * target / 1600) <= 1
    assert len(pages.files) == 3 * 2 + 1 and pages.files[-1] == "document/pages/manifest.json"


def test_pdf_manifest_lists_each_page_with_its_sizes(pdf_run):
    """manifest.json lists pages 1–3 with a path (relative to the manifest) and size per width."""
    _, out_dir, _ = pdf_run
    manifest = json.loads((out_dir / "document/pages/manifest.json").read_text(encoding="utf-8"))
    assert [page["number"] for page in manifest["pages"]] == [1, 2, 3]
    third = manifest["pages"][2]["sizes"]
    assert third["400"]["path"] == "400/p0003.jpg" and third["400"]["width"] == 400
    assert third["400"]["height"] < third["400"]["width"]
    for page in manifest["pages"]:
        for size in page["sizes"].values():
            assert (out_dir / "document/pages" / size["path"]).is_file()


def test_pdf_text_is_extracted_per_page_with_chinese_intact(pdf_run):
    """p0002.txt holds page 2's Chinese text; all.txt has every page, separated by form feeds."""
    outputs, out_dir, _ = pdf_run
    text = outputs["document_text"]
    assert (text.kind, text.path, text.meta["pages"]) == ("text", "document/text/all.txt", 3)
    assert "灯塔照亮前路" in (out_dir / "document/text/p0002.txt").read_text(encoding="utf-8")
    assert "灯塔" not in (out_dir / "document/text/p0001.txt").read_text(encoding="utf-8")
    all_text = (out_dir / "document/text/all.txt").read_text(encoding="utf-8")
    assert all_text.split("\f") == list(PAGE_TEXTS)
    assert set(text.files) == {f"document/text/p000{n}.txt" for n in (1, 2, 3)} | {"document/text/all.txt"}


def test_pdf_metadata_decodes_utf16_chinese_title(pdf_run):
    """Title and author written as UTF-16BE come back as Chinese; the page count is in the metadata."""
    metadata = pdf_run[0]["document"].meta["metadata"]
    assert metadata == {"title": "灯塔学习手册", "author": "灯塔编辑部", "subject": "Party study", "page_count": 3}


def test_pdf_outline_becomes_the_table_of_contents(pdf_run):
    """The two-level outline comes back in order with 1-based pages and levels."""
    assert pdf_run[0]["document"].meta["toc"] == [
        {"title": "第一章 序言", "page": 1, "level": 1},
        {"title": "第二章 灯塔", "page": 2, "level": 1},
        {"title": "第一节 结语", "page": 3, "level": 2},
    ]


def test_pdf_cover_is_page_one_at_cover_width(pdf_run):
    """cover.jpg is page 1 rendered 600 px wide, and its Output carries the size."""
    outputs, out_dir, _ = pdf_run
    cover = outputs["document_cover"]
    assert (cover.kind, cover.path, cover.width, cover.height) == ("image", "document/cover.jpg", 600, 850)
    with Image.open(out_dir / "document/cover.jpg") as image:
        assert (image.format, image.size) == ("JPEG", (600, 850))


def test_pdf_progress_is_reported_per_page(pdf_run):
    """One report per page, rising to 1.0."""
    progress = pdf_run[2]
    assert progress == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_every_listed_file_exists(pdf_run, epub_run):
    """Every path an Output names exists under out_dir: the engine stores exactly these."""
    for outputs, out_dir, _ in (pdf_run, epub_run):
        for output in outputs.values():
            for name in output.all_files():
                assert (out_dir / name).is_file(), name


def test_encrypted_pdf_is_refused(tmp_path):
    """A PDF behind a user password is refused with the password message (the fixture opens with it)."""
    path = tmp_path / "locked.pdf"
    path.write_bytes(encrypted_pdf())
    with pdfium.PdfDocument(path, password="secret") as pdf:
        assert len(pdf) == 1  # a valid encrypted file, not merely a broken one
    error = _refusal(lambda: produce(_ctx(path, tmp_path / "out"), DOCUMENT))
    assert error.message == "PDF 文件受密码保护，请上传未加密的版本"
    assert "password" in error.reason
    assert not (tmp_path / "out" / "document").exists()


def test_truncated_pdf_is_refused_with_pdfium_reason(pdf_file, tmp_path):
    """Half a PDF is refused as damaged, with PDFium's own words as the reason."""
    path = tmp_path / "half.pdf"
    data = pdf_file.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    error = _refusal(lambda: pdf_process(source=path, out_dir=tmp_path, profile=DOCUMENT, on_progress=lambda f: True))
    assert error.message == "PDF 文件已损坏，无法读取，请重新导出后上传"
    assert "PDFium" in error.reason


def test_pdf_cut_just_before_its_end_is_refused(pdf_file, tmp_path):
    """PDFium would repair a file that lost its last bytes; it is refused instead of published incomplete."""
    path = tmp_path / "cut.pdf"
    path.write_bytes(pdf_file.read_bytes()[:-10])
    error = _refusal(lambda: produce(_ctx(path, tmp_path / "out"), DOCUMENT))
    assert error.message.startswith("PDF 文件不完整")


def test_too_many_pages_is_refused_and_nothing_is_left(pdf_file, tmp_path):
    """A PDF over max_pages is refused (not truncated) before any page is rendered."""
    error = _refusal(lambda: produce(_ctx(pdf_file, tmp_path / "out"), replace(DOCUMENT, max_pages=2)))
    assert "3 页" in error.message and "2 页" in error.message
    assert not (tmp_path / "out" / "document").exists()


def test_cancelling_stops_and_removes_the_partial_work(pdf_file, tmp_path):
    """When the engine answers False (job cancelled), the step raises Cancelled and leaves no files."""
    with pytest.raises(Cancelled):
        produce(_ctx(pdf_file, tmp_path / "out", lambda fraction: False), replace(DOCUMENT, page_widths=(100,)))
    assert not (tmp_path / "out" / "document").exists()


def test_absurd_page_sizes_are_capped():
    """A 1 pt × 14,400 pt strip at 1600 px wide would be 23 Mpx tall; the scale keeps it within the caps."""
    scale = render_scale((1.0, 14_400.0), width=1600)
    assert 14_400 * scale <= MAX_PAGE_SIDE and 1 * scale * 14_400 * scale <= MAX_PAGE_PIXELS
    assert render_scale((595.0, 842.0), width=400) == pytest.approx(400 / 595, rel=1e-4)
    with pytest.raises(BadInputError):
        render_scale((0.0, 842.0), width=400)


# --- EPUB -----------------------------------------------------------------------------------------------------------


def test_epub_text_per_chapter_keeps_chinese_and_drops_scripts(epub_run):
    """Two chapters of text (the cover and nav pages have none); scripts are gone, paragraphs are lines."""
    outputs, out_dir, _ = epub_run
    text = outputs["document_text"]
    assert (text.kind, text.path, text.meta["chapters"]) == ("text", "document/text/all.txt", 2)
    first = (out_dir / "document/text/c0001.txt").read_text(encoding="utf-8")
    assert first == "第一章 灯塔\n灯塔照亮前路。\n第二段。"
    all_text = (out_dir / "document/text/all.txt").read_text(encoding="utf-8")
    assert all_text.split("\f")[1] == "第二章 初心\n不忘初心，牢记使命。"


def test_epub_metadata_and_isbn(epub_run):
    """Title, creators, language, publisher, date and the ISBN come from the package document."""
    metadata = epub_run[0]["document"].meta["metadata"]
    assert metadata["title"] == "灯塔学习读本"
    assert metadata["creators"] == ["灯塔编辑部"]
    assert (metadata["language"], metadata["publisher"], metadata["date"]) == ("zh", "人民出版社", "2024-07-01")
    assert metadata["isbn"] == "9787010000000"
    assert metadata["identifiers"][0]["value"] == "urn:isbn:978-7-01-000000-0"


def test_epub_manifest_has_contents_and_chapters(epub_run):
    """The main Output points at epub/manifest.json with the nav contents (nested levels) and chapter count."""
    outputs, out_dir, progress = epub_run
    main = outputs["document"]
    assert (main.kind, main.path, main.files) == (
        "pages",
        "document/epub/manifest.json",
        ("document/epub/manifest.json",),
    )
    assert (main.meta["format"], main.meta["chapters"]) == ("epub", 2)
    assert main.meta["toc"] == [
        {"title": "第一章 灯塔", "href": "c1.xhtml", "level": 1},
        {"title": "第二部分", "href": "c2.xhtml", "level": 1},
        {"title": "第二章 初心", "href": "c2.xhtml#s1", "level": 2},
    ]
    manifest = json.loads((out_dir / "document/epub/manifest.json").read_text(encoding="utf-8"))
    assert [(c["number"], c["href"], c["title"]) for c in manifest["chapters"]] == [
        (1, "c1.xhtml", "第一章 灯塔"),
        (2, "c2.xhtml", "第二部分"),
    ]
    assert progress[-1] == 1.0


def test_epub_cover_is_scaled_to_cover_width(epub_run):
    """The 800×1200 cover-image becomes a 600×900 JPEG."""
    outputs, out_dir, _ = epub_run
    cover = outputs["document_cover"]
    assert (cover.path, cover.width, cover.height) == ("document/cover.jpg", 600, 900)
    with Image.open(out_dir / "document/cover.jpg") as image:
        assert (image.format, image.size) == ("JPEG", (600, 900))


def test_epub_without_cover_has_no_cover_output(tmp_path):
    """A book without a declared cover gives text and manifest outputs only."""
    book = epub.EpubBook()
    book.set_identifier("id-1")
    book.set_title("无封面")
    book.set_language("zh")
    chapter = epub.EpubHtml(title="一", file_name="c1.xhtml")
    chapter.content = "<p>正文</p>"
    book.add_item(chapter)
    book.add_item(epub.EpubNav())
    book.spine = [chapter]
    epub.write_epub(str(tmp_path / "plain.epub"), book)
    outputs = epub_process(source=tmp_path / "plain.epub", out_dir=tmp_path / "out", profile=DOCUMENT,
                           on_progress=lambda f: True)  # fmt: skip
    assert [output.profile for output in outputs] == ["document", "document_text"]


def _bomb(path: Path) -> Path:
    """One member of 50 MB of zeros, written in 1 MB pieces (it deflates to about 50 KB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        with archive.open("OEBPS/zeros.xhtml", "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(50):
                member.write(chunk)
    return path


def test_zip_bomb_epub_is_refused_before_parsing(tmp_path):
    """A member that unpacks 1000:1 is refused by its declared ratio, without being decompressed."""
    path = _bomb(tmp_path / "bomb.epub")
    assert document_kind(path=path) == "epub"
    error = _refusal(lambda: produce(_ctx(path, tmp_path / "out"), DOCUMENT))
    assert error.message == "EPUB 文件解压后过大（疑似压缩炸弹），请检查后重新上传"
    assert "zeros.xhtml" in error.reason
    assert not (tmp_path / "out" / "document").exists()


def test_epub_over_the_total_size_limit_is_refused(epub_file):
    """The sum of declared member sizes is checked against max_epub_bytes."""
    error = _refusal(lambda: check_epub_archive(source=epub_file, profile=replace(DOCUMENT, max_epub_bytes=1000)))
    assert error.message == "EPUB 文件解压后过大（疑似压缩炸弹），请检查后重新上传"


def test_epub_with_path_traversal_is_refused(tmp_path):
    """A member named ../evil.txt is refused before EbookLib sees the book."""
    path = _zip(tmp_path / "evil.epub", {"META-INF/container.xml": CONTAINER_XML.encode(), "../evil.txt": b"x"})
    error = _refusal(lambda: produce(_ctx(path, tmp_path / "out"), DOCUMENT))
    assert (error.message, error.reason) == ("EPUB 文件含有不安全的路径，请重新导出后上传", "../evil.txt")


def test_member_names_are_judged_safe_or_not():
    """Relative names inside the book pass; absolute, drive-letter, backslash-.. and NUL names do not."""
    assert is_safe_member_name("OEBPS/Text/c1.xhtml") and is_safe_member_name("a..b/c.xhtml")
    for bad in ("/etc/passwd", "../x", "OEBPS/../../x", "C:/x", "..\\x", "a\x00b"):
        assert not is_safe_member_name(bad), bad


def test_drm_encrypted_epub_is_refused(epub_file, tmp_path):
    """encryption.xml naming AES (DRM) is refused; IDPF font obfuscation alone is accepted."""

    def with_encryption(algorithm: str) -> Path:
        path = tmp_path / f"{algorithm[-6:]}.epub"
        xml = (
            '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
            'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
            f'<enc:EncryptionMethod Algorithm="{algorithm}"/></enc:EncryptedData></encryption>'
        )
        with zipfile.ZipFile(epub_file) as source, zipfile.ZipFile(path, "w") as target:
            for member in source.infolist():
                target.writestr(member, source.read(member))
            target.writestr("META-INF/encryption.xml", xml)
        return path

    drm = with_encryption("http://www.w3.org/2001/04/xmlenc#aes128-cbc")
    assert _refusal(lambda: check_epub_archive(source=drm, profile=DOCUMENT)).message == (
        "EPUB 文件受加密或 DRM 保护，请上传未加密的版本"
    )
    check_epub_archive(source=with_encryption("http://www.idpf.org/2008/embedding"), profile=DOCUMENT)


def test_epub_without_container_is_refused_as_damaged(tmp_path):
    """A zip with the EPUB mimetype but no META-INF/container.xml is a damaged EPUB."""
    path = _zip(tmp_path / "broken.epub", {"OEBPS/c1.xhtml": b"<p>x</p>"})
    error = _refusal(lambda: produce(_ctx(path, tmp_path / "out"), DOCUMENT))
    assert error.message == "EPUB 文件已损坏，无法读取，请重新导出后上传"
    assert "container.xml" in error.reason


def test_truncated_epub_is_refused_as_damaged(epub_file, tmp_path):
    """An EPUB cut after its first kilobyte is still recognised as EPUB, then refused as damaged."""
    path = tmp_path / "cut.epub"
    path.write_bytes(epub_file.read_bytes()[:1024])
    assert document_kind(path=path) == "epub"
    assert (
        _refusal(lambda: produce(_ctx(path, tmp_path / "out"), DOCUMENT)).message
        == "EPUB 文件已损坏，无法读取，请重新导出后上传"
    )


def test_html_to_text_keeps_paragraphs_and_drops_markup():
    """Head, style and script vanish; block elements and <br> end lines; inline markup joins its text."""
    content = (
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>T</title>'
        "<style>p{}</style></head><body><h1>第一章</h1><p>党员<b>学习</b>教育</p>一行<br/>下一行"
        "<script>x()</script></body></html>"
    )
    assert html_to_text(content.encode()) == "第一章\n党员学习教育\n一行\n下一行"
    assert html_to_text(content.replace("utf-8", "utf-16").encode("utf-16")) == "第一章\n党员学习教育\n一行\n下一行"
    assert html_to_text(b"") == ""


EPUB2_OPF = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="bookid">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
  <dc:title>党章学习</dc:title><dc:creator opf:role="aut">甲</dc:creator><dc:creator>乙</dc:creator>
  <dc:language>zh-CN</dc:language><dc:identifier id="bookid" opf:scheme="ISBN">7-01-000000-1</dc:identifier>
  <meta name="cover" content="cover-img"/>
 </metadata>
 <manifest>
  <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
  <item id="ch1" href="Text/ch1.html" media-type="application/xhtml+xml"/>
  <item id="cover-img" href="Images/cover.png" media-type="image/png"/>
 </manifest>
 <spine toc="ncx"><itemref idref="ch1"/></spine>
</package>"""

EPUB2_NCX = """<?xml version="1.0" encoding="utf-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><head/><docTitle><text>党章学习</text></docTitle>
 <navMap><navPoint id="n1" playOrder="1"><navLabel><text>总纲</text></navLabel><content src="Text/ch1.html"/>
  <navPoint id="n2" playOrder="2"><navLabel><text>第一条</text></navLabel><content src="Text/ch1.html#a1"/></navPoint>
 </navPoint></navMap></ncx>"""


def test_epub2_with_ncx_and_meta_cover(tmp_path):
    """An EPUB 2 book: NCX contents, <meta name="cover">, two creators and an opf:scheme ISBN-10."""
    path = _zip(
        tmp_path / "old.epub",
        {
            "META-INF/container.xml": CONTAINER_XML.encode(),
            "OEBPS/content.opf": EPUB2_OPF.encode(),
            "OEBPS/toc.ncx": EPUB2_NCX.encode(),
            "OEBPS/Text/ch1.html": "<html><body><h2>总纲</h2><p>党是先锋队。</p></body></html>".encode(),
            "OEBPS/Images/cover.png": png_bytes(300, 400),
        },
    )
    outputs = {o.profile: o for o in epub_process(source=path, out_dir=tmp_path / "out", profile=DOCUMENT,
                                                   on_progress=lambda f: True)}  # fmt: skip
    meta = outputs["document"].meta
    assert meta["metadata"]["creators"] == ["甲", "乙"] and meta["metadata"]["isbn"] == "7010000001"
    assert meta["toc"] == [
        {"title": "总纲", "href": "Text/ch1.html", "level": 1},
        {"title": "第一条", "href": "Text/ch1.html#a1", "level": 2},
    ]
    assert (outputs["document_cover"].width, outputs["document_cover"].height) == (300, 400)  # never enlarged
    assert "先锋队" in (tmp_path / "out/text/c0001.txt").read_text(encoding="utf-8")


# --- A document's text for search (selectors.document_file_text, selectors.stored_document_text) -------------------


def test_a_document_files_text_is_what_the_step_stores(pdf_file, epub_file, pdf_run, epub_run, tmp_path):
    """Read from the file itself, a PDF's and an EPUB's text is the step's all.txt; a file that is neither gives
    None, and one the step refuses is refused here too."""
    from media_pipeline.selectors import document_file_text

    for path, (outputs, out_dir, _progress), kind in ((pdf_file, pdf_run, "pdf"), (epub_file, epub_run, "epub")):
        stored = (out_dir / outputs["document_text"].path).read_text(encoding="utf-8")
        assert document_file_text(path=path, limit=1_000_000) == DocumentText(kind=kind, text=stored)
    assert document_file_text(path=pdf_file, limit=1).text == PAGE_TEXTS[0]  # stops after the page that reaches it
    other = tmp_path / "notes.docx"
    other.write_bytes(b"PK\x03\x04 not an epub")
    assert document_file_text(path=other, limit=100) is None
    encrypted = tmp_path / "locked.pdf"
    encrypted.write_bytes(encrypted_pdf())
    assert "密码" in _refusal(lambda: document_file_text(path=encrypted, limit=100)).message


@pytest.mark.django_db
def test_the_stored_text_is_read_as_it_is_cut_on_a_whole_character():
    """The text rendition's file is read as stored, at least ``limit`` characters of it and never half a character
    (a UTF-8 Chinese character is three bytes); an asset without one, or whose file is gone, has none."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from media_pipeline.models import MediaAsset, TranscodeJob
    from media_pipeline.selectors import stored_document_text

    asset = MediaAsset.objects.create(file="uploads/book.epub", kind=MediaAsset.Kind.DOCUMENT)
    assert stored_document_text(asset=asset, limit=10) is None
    job = TranscodeJob.objects.create(asset=asset, state=TranscodeJob.State.DONE)
    path = default_storage.save("renditions/1/2/document/text/all.txt", ContentFile(("灯塔" * 50).encode()))
    asset.renditions.create(job=job, profile="document_text", kind="text", path=path, meta={"chapters": 1})
    whole = stored_document_text(asset=asset, limit=1000)
    assert whole == DocumentText(kind="epub", text="灯塔" * 50)
    cut = stored_document_text(asset=asset, limit=5)
    assert len(cut.text) >= 5 and "\ufffd" not in cut.text and ("灯塔" * 50).startswith(cut.text)
    default_storage.delete(path)
    assert stored_document_text(asset=asset, limit=10) is None
