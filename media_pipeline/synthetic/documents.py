"""Small documents made from scratch for tests, the demo and benchmarks: PDFs written object by object
(Pillow can draw a PDF but gives it no text layer, outline or encryption, and PDFium cannot write those
either) and EPUBs made with EbookLib. Nothing here is downloaded.
"""

import hashlib
import io
from pathlib import Path

from ebooklib import epub
from PIL import Image

# --- PDF fixtures: a minimal writer --------------------------------------------------------------------------


def pdf_text_string(text: str) -> str:
    """A PDF text string as Chinese producers write it: UTF-16BE with a byte-order mark."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def pdf_from_objects(objects: list, trailer: str) -> bytes:
    """Objects numbered from 1, a classic xref table with exact offsets, and the trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        body = body if isinstance(body, bytes) else body.encode()
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} {trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pdf_stream(data: bytes) -> bytes:
    return f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


PAGE_TEXTS = ("第一页 序言", "第二页 灯塔照亮前路", "第三页 结语")


def chinese_pdf() -> bytes:
    """3 A5 pages of real (extractable) Chinese text, a two-level outline and a UTF-16BE title.

    The text uses Adobe's predefined STSong-Light with the UniGB-UCS2-H CMap, so no font is embedded.
    Page 3 is portrait with /Rotate 90: shown, and rendered, in landscape.
    """
    first_page = 11  # objects 11, 13, 15 are pages; 12, 14, 16 their content streams

    def page(i):
        return f"{first_page + 2 * i} 0 R"

    objects = [
        "<< /Type /Catalog /Pages 2 0 R /Outlines 3 0 R /PageMode /UseOutlines >>",
        f"<< /Type /Pages /Kids [{page(0)} {page(1)} {page(2)}] /Count 3 >>",
        "<< /Type /Outlines /First 4 0 R /Last 5 0 R /Count 3 >>",
        f"<< /Title {pdf_text_string('第一章 序言')} /Parent 3 0 R /Next 5 0 R /Dest [{page(0)} /Fit] >>",
        f"<< /Title {pdf_text_string('第二章 灯塔')} /Parent 3 0 R /Prev 4 0 R /First 6 0 R /Last 6 0 R /Count 1 "
        f"/Dest [{page(1)} /Fit] >>",
        f"<< /Title {pdf_text_string('第一节 结语')} /Parent 5 0 R /Dest [{page(2)} /XYZ null null null] >>",
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [8 0 R] >>",
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 9 0 R >>",
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] /ItalicAngle 0 "
        "/Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>",
        f"<< /Title {pdf_text_string('灯塔学习手册')} /Author {pdf_text_string('灯塔编辑部')} "
        "/Subject (Party study) >>",
    ]
    for i, text in enumerate(PAGE_TEXTS):
        rotate = " /Rotate 90" if i == 2 else ""
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 595]{rotate} "
            f"/Resources << /Font << /F1 7 0 R >> >> /Contents {first_page + 2 * i + 1} 0 R >>"
        )
        objects.append(pdf_stream(f"BT /F1 24 Tf 40 515 Td <{text.encode('utf-16-be').hex()}> Tj ET".encode()))
    return pdf_from_objects(objects, "/Root 1 0 R /Info 10 0 R")


# Standard security handler, revision 2 (RC4, 40-bit key), ISO 32000-1 §7.6.3: the oldest encryption every
# reader supports. A fixture for a fault only: no tool that can encrypt a PDF is installed here.
PASSWORD_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key: bytes, data: bytes) -> bytes:
    state, j = list(range(256)), 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def encrypted_pdf(user: bytes = b"secret", owner: bytes = b"owner") -> bytes:
    """One blank page behind a user password. With no strings or streams, nothing else needs encrypting."""
    file_id, permissions = bytes(range(16)), -44
    owner_entry = rc4(hashlib.md5((owner + PASSWORD_PAD)[:32]).digest()[:5], (user + PASSWORD_PAD)[:32])
    key_input = (user + PASSWORD_PAD)[:32] + owner_entry + permissions.to_bytes(4, "little", signed=True) + file_id
    user_entry = rc4(hashlib.md5(key_input).digest()[:5], PASSWORD_PAD)
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        f"<< /Filter /Standard /V 1 /R 2 /O <{owner_entry.hex()}> /U <{user_entry.hex()}> /P {permissions} >>",
    ]
    return pdf_from_objects(objects, f"/Root 1 0 R /Encrypt 4 0 R /ID [<{file_id.hex()}> <{file_id.hex()}>]")


# --- EPUB fixtures ------------------------------------------------------------------------------------------------

CONTAINER_XML = (
    '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>'
    "</container>"
)


def png_bytes(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def chinese_epub(path: Path) -> Path:
    """An EPUB 3 made with EbookLib: two Chinese chapters, nested contents, an ISBN and an 800×1200 cover."""
    book = epub.EpubBook()
    book.set_identifier("urn:isbn:978-7-01-000000-0")
    book.set_title("灯塔学习读本")
    book.set_language("zh")
    book.add_author("灯塔编辑部")
    book.add_metadata("DC", "publisher", "人民出版社")
    book.add_metadata("DC", "date", "2024-07-01")
    book.set_cover("cover.png", png_bytes(800, 1200))
    chapter1 = epub.EpubHtml(title="第一章 灯塔", file_name="c1.xhtml", lang="zh")
    chapter1.content = "<h1>第一章 灯塔</h1><p>灯塔照亮前路。</p><script>alert(1)</script><p>第二段。</p>"
    chapter2 = epub.EpubHtml(title="第二章 初心", file_name="c2.xhtml", lang="zh")
    chapter2.content = "<h1>第二章 初心</h1><p>不忘初心，牢记使命。</p>"
    for item in (chapter1, chapter2, epub.EpubNcx(), epub.EpubNav()):
        book.add_item(item)
    book.toc = (
        epub.Link("c1.xhtml", "第一章 灯塔", "c1"),
        (epub.Section("第二部分", href="c2.xhtml"), (epub.Link("c2.xhtml#s1", "第二章 初心", "c2"),)),
    )
    book.spine = ["cover", "nav", chapter1, chapter2]
    epub.write_epub(str(path), book)
    return path
