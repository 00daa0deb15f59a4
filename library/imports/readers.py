"""Catalogue files → rows: CSV, Excel (XLSX, the first sheet), JSON (a list, {"items": [...]}, JSON Lines), MARC
(ISO 2709: MARC21 and CNMARC/UNIMARC) and MARCXML.

Every reader gives ``Row``s: the row's line (CSV line, JSON entry or line, MARC record number), its values as
strings under our column names, and errors found while reading it (a ragged CSV line, a JSON entry that is not an
object, a damaged MARC record). A bad row is the row's problem; only a file that cannot be read at all (an unknown
encoding, a JSON document that does not parse) raises ``ImportReadError``, with a Chinese message.
"""

import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath
from xml.sax import SAXException

import pymarc
from django.utils.translation import gettext as _

from cms.spreadsheets import CSV_LIKELY_CAUSE

FORMATS = ("csv", "xlsx", "json", "marc", "marcxml")
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".mrc": "marc",
    ".marc": "marc",
    ".iso": "marc",
    ".iso2709": "marc",
    ".xml": "marcxml",
    ".marcxml": "marcxml",
}
ENCODINGS = ("auto", "utf-8", "gb18030")
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))

# Chinese headers that catalogue exports use, folded onto our column names.
HEADER_ALIASES = {
    "外部编号": "external_id",
    "编号": "external_id",
    "类型": "kind",
    "层级": "role",
    "上级编号": "parent_external_id",
    "序号": "position",
    "期号": "number",
    "标题": "title",
    "题名": "title",
    "副标题": "subtitle",
    "简介": "summary",
    "摘要": "summary",
    "正文": "body",
    "作者": "creators",
    "责任者": "creators",
    "出版者": "publisher",
    "出版社": "publisher",
    "出版日期": "issued",
    "语种": "language",
    "国内统一刊号": "cn_serial",
    "cn": "cn_serial",
    "中图法分类号": "clc",
    "分类号": "clc",
    "标签": "tags",
    "主题词": "tags",
    "阅读权限": "access",
    "可阅读单位": "access_unit",
    "下载权限": "download",
    "版权说明": "rights_note",
    "发布时间": "published_at",
    "已发布": "is_published",
    "文件": "file",
    "封面": "cover",
    "转码优先级": "priority",
    "优先级": "priority",
    "description": "summary",  # media_ingest's manifests say description
}


class ImportReadError(Exception):
    """The file as a whole cannot be read; the message (Chinese) says where and why."""


@dataclass(slots=True)
class Row:
    line: int
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)


def format_from_name(name: str) -> str:
    """The format a file name suggests (csv when nothing does: spreadsheets are saved as .txt too)."""
    return EXTENSIONS.get(PurePath(name).suffix.lower(), "csv")


def read_rows(*, data: bytes, file_format: str, encoding: str = "auto") -> tuple[list[Row], str]:
    """All rows of a file and the encoding it was read with."""
    encoding = (encoding or "auto").lower()
    if file_format == "marc":
        return marc_rows(data, encoding=encoding)
    if file_format == "marcxml":
        return marcxml_rows(data), "utf-8"
    if file_format == "xlsx":
        return xlsx_rows(data), "xlsx"
    text, used = decode_text(data, encoding=encoding)
    if file_format == "json":
        return json_rows(text), used
    if file_format == "csv":
        return csv_rows(text), used
    raise ImportReadError(
        _("不支持的文件格式：%(format)s（可选 csv、xlsx、json、marc、marcxml）") % {"format": file_format}
    )


# --- Text and encodings ----------------------------------------------------------------------------------------


def decode_text(data: bytes, *, encoding: str = "auto") -> tuple[str, str]:
    """A byte order mark wins, then strict UTF-8, then strict GB18030 (a superset of GBK and GB2312, what Chinese
    Windows Excel writes). A file that is neither is refused, naming the line and byte offset of the first bad
    byte so the editor can find it."""
    if encoding not in ("auto", ""):
        return _decode_strict(data, "utf-8-sig" if encoding in ("utf-8", "utf8") else encoding), encoding
    for bom, name in BOMS:
        if data.startswith(bom):
            return _decode_strict(data, name), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    return _decode_strict(data, "gb18030"), "gb18030"


def _decode_strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError as exc:
        raise ImportReadError(_("未知的编码：%(encoding)s") % {"encoding": encoding}) from exc
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportReadError(
            _("文件编码无法识别：第 %(line)d 行（字节偏移 %(offset)d）不是有效的 UTF-8 或 GB18030。")
            % {"line": line, "offset": exc.start}
            + _("请另存为 UTF-8 后再导入。")
        ) from exc


def column_name(header: str) -> str:
    name = (header or "").strip().lstrip("\ufeff").strip()
    return HEADER_ALIASES.get(name, HEADER_ALIASES.get(name.lower(), name.lower()))


# --- CSV -------------------------------------------------------------------------------------------------------


def csv_rows(text: str) -> list[Row]:
    """Rows under a header row. A line with more or fewer cells than the header, or quoting the csv module cannot
    follow, is rejected on its own; the rest of the file still goes in."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # article bodies are long; the default 128 KiB is not
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as exc:  # csv's messages are English: the editor gets the likely cause instead
        raise ImportReadError(
            _("第 1 行（标题行）不是有效的 CSV（%(cause)s）。") % {"cause": CSV_LIKELY_CAUSE}
        ) from exc
    names = [column_name(h) for h in header]
    rows = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            rows.append(Row(line, {}, {"__all__": [_("CSV 格式错误（%(cause)s）。") % {"cause": CSV_LIKELY_CAUSE}]}))
            continue
        if not any(cell.strip() for cell in cells):
            continue  # blank lines Excel leaves at the end
        rows.append(_csv_row(line, names, cells))
    return rows


def _csv_row(line: int, names: list[str], cells: list[str]) -> Row:
    if len(cells) != len(names):
        message = _("这一行有 %(cells)d 列，标题行有 %(names)d 列") % {"cells": len(cells), "names": len(names)}
        return Row(line, {}, {"__all__": [message]})
    return Row(line, {name: value for name, value in zip(names, cells, strict=True) if name})


# --- Excel (XLSX) ----------------------------------------------------------------------------------------------


def xlsx_rows(data: bytes) -> list[Row]:
    """The first sheet under its header row (the first row), like a CSV file; a row's line is its row number in
    Excel. Cells come back as the editor sees them: whole numbers without ".0" (an ISBN typed as a number), dates
    as 2026-03-05, 是/否 for TRUE/FALSE. Formulas give their last computed value, never the formula."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — zip, XML or openpyxl's own errors: the same answer to the editor
        message = _("无法读取这个 Excel 文件（请在 Excel 中另存为 .xlsx，或另存为 CSV 后导入）：%(reason)s")
        raise ImportReadError(message % {"reason": exc.__class__.__name__}) from None
    try:
        return _sheet_rows(workbook.worksheets[0]) if workbook.worksheets else []
    except Exception as exc:  # noqa: BLE001 — a damaged sheet inside a readable archive
        message = _("Excel 文件的第一个工作表已损坏，无法读取：%(reason)s")
        raise ImportReadError(message % {"reason": exc.__class__.__name__}) from None
    finally:
        workbook.close()


def _sheet_rows(sheet) -> list[Row]:
    lines = sheet.iter_rows(values_only=True)
    header = next(lines, None)
    if header is None:
        return []
    names = [column_name(_cell_text(cell)) for cell in header]
    while names and not names[-1]:
        names.pop()  # the sheet's width, not the header's: read-only sheets pad every row to the widest
    rows = []
    for line, cells in enumerate(lines, start=2):
        texts = [_cell_text(cell) for cell in cells]
        if not any(text.strip() for text in texts):
            continue
        if len(texts) > len(names) and any(text.strip() for text in texts[len(names) :]):
            message = _("这一行有 %(cells)d 列，标题行有 %(names)d 列") % {"cells": len(texts), "names": len(names)}
            rows.append(Row(line, {}, {"__all__": [message]}))
            continue
        texts += [""] * (len(names) - len(texts))  # Excel drops empty cells at a row's end
        rows.append(Row(line, {name: value for name, value in zip(names, texts, strict=False) if name}))
    return rows


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute) != (0, 0) else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- JSON ------------------------------------------------------------------------------------------------------


def json_rows(text: str) -> list[Row]:
    """A list of objects, an object with an ``items`` list, or JSON Lines (one object per line).

    Valid JSON can still be no catalogue: nesting thousands deep (RecursionError in the parser) or a number of
    more than 4,300 digits (Python refuses to convert it) is refused as a whole, with a message, not a 500."""
    try:
        return _json_document_rows(text)
    except RecursionError as exc:
        raise ImportReadError(_("JSON 嵌套层数过多，不是可导入的目录")) from exc


def _json_document_rows(text: str) -> list[Row]:
    try:
        document = _loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise ImportReadError(
                _("不是有效的 JSON：第 %(line)d 行第 %(column)d 列，%(reason)s")
                % {"line": exc.lineno, "column": exc.colno, "reason": exc.msg}
            ) from exc
        return _json_lines(text)
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        document = document["items"]
    elif isinstance(document, dict):
        document = [document]  # a JSON Lines file of one line
    if not isinstance(document, list):
        raise ImportReadError(_("JSON 应是对象列表，或含 items 列表的对象"))
    return [_json_row(number, entry) for number, entry in enumerate(document, start=1)]


def _json_lines(text: str) -> list[Row]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = _loads(line)
        except json.JSONDecodeError as exc:
            rows.append(Row(number, {}, {"__all__": [_("这一行不是有效的 JSON：%(reason)s") % {"reason": exc.msg}]}))
            continue
        rows.append(_json_row(number, entry))
    return rows


def _loads(text: str):
    """json.loads, with a number too long to convert reported as the JSON error it is."""
    try:
        return json.loads(text)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise ImportReadError(_("JSON 中有过长的数字，不是可导入的目录")) from exc


def _json_row(number: int, entry) -> Row:
    if not isinstance(entry, dict):
        return Row(number, {}, {"__all__": [_('这一项不是对象（应为 {"external_id": …, "title": …}）')]})
    return Row(number, {column_name(key): _json_value(value) for key, value in entry.items()})


def _json_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "；".join(_json_value(part) for part in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --- MARC (ISO 2709) -------------------------------------------------------------------------------------------

RECORD_END = b"\x1d"


def marc_rows(data: bytes, *, encoding: str = "auto") -> tuple[list[Row], str]:
    """One row per record. MARC21 says its encoding in leader/09 ('a' = UTF-8, else MARC-8); CNMARC says nothing,
    and Chinese vendors write UTF-8 or GB18030: strict UTF-8 first, then GB18030, per record."""
    rows, used = [], set()
    for number, raw in enumerate(_raw_records(data), start=1):
        try:
            record, record_encoding = _marc_record(raw, encoding)
        except (UnicodeDecodeError, ValueError, pymarc.exceptions.PymarcException) as exc:
            rows.append(Row(number, {}, {"__all__": [_marc_error(exc)]}))
            continue
        used.add(record_encoding)
        rows.append(Row(number, marc_values(record)))
    if data.strip() and not rows:
        raise ImportReadError(_("文件中没有 MARC 记录（ISO 2709）"))
    return rows, ",".join(sorted(used))[:32]


def _raw_records(data: bytes) -> Iterator[bytes]:
    """Records by the length in their leader; a record whose length is damaged ends at the next record end."""
    position = 0
    while position < len(data):
        if data[position : position + 1] in (b"\n", b"\r", b" "):
            position += 1  # line breaks some exports put between records
            continue
        head = data[position : position + 5]
        length = int(head) if head.isdigit() else 0
        if length > 24 and data[position + length - 1 : position + length] == RECORD_END:
            yield data[position : position + length]
            position += length
            continue
        end = data.find(RECORD_END, position)
        end = len(data) if end < 0 else end + 1
        yield data[position:end]
        position = end


def _marc_record(raw: bytes, encoding: str) -> tuple[pymarc.Record, str]:
    if len(raw) < 25 or not raw[:5].isdigit():
        raise ValueError("leader")
    unimarc = _is_unimarc(raw)
    if encoding in ("utf-8", "utf8"):
        return pymarc.Record(data=raw, force_utf8=True), "utf-8"
    if encoding == "gb18030":
        return pymarc.Record(data=raw, file_encoding="gb18030"), "gb18030"
    if not unimarc:
        leader9 = raw[9:10]
        return pymarc.Record(data=raw, hide_utf8_warnings=True), "utf-8" if leader9 == b"a" else "marc-8"
    try:
        raw.decode("utf-8")
        return pymarc.Record(data=raw, force_utf8=True), "utf-8"
    except UnicodeDecodeError:
        return pymarc.Record(data=raw, file_encoding="gb18030"), "gb18030"


def _is_unimarc(raw: bytes) -> bool:
    """UNIMARC (CNMARC) has its title in 200, MARC21 in 245: the directory's tags tell them apart."""
    base = raw[12:17]
    end = int(base) - 1 if base.isdigit() else len(raw)
    directory = raw[24:end]
    tags = {directory[i : i + 3] for i in range(0, len(directory) - 11, 12)}
    return b"245" not in tags and (b"200" in tags or b"010" in tags)


def _marc_error(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return _("MARC 记录编码无法识别（不是 UTF-8、GB18030 或 MARC-8）")
    return _("MARC 记录格式损坏：%(reason)s") % {"reason": exc.__class__.__name__}


# --- MARCXML ---------------------------------------------------------------------------------------------------


def marcxml_rows(data: bytes) -> list[Row]:
    try:
        records = pymarc.parse_xml_to_array(io.BytesIO(data), strict=False)
    except (SAXException, ValueError, pymarc.exceptions.PymarcException) as exc:
        raise ImportReadError(_("不是有效的 MARCXML：%(reason)s") % {"reason": exc}) from exc
    return [Row(number, marc_values(record)) for number, record in enumerate(records, start=1) if record]


# --- MARC fields → our columns ---------------------------------------------------------------------------------

# Relator codes (MARC21 letters, UNIMARC digits) and $e terms → the role words the creators column uses.
RELATORS = {
    "aut": "著",
    "cre": "著",
    "edt": "编",
    "trl": "译",
    "ann": "注",
    "nrt": "播讲",
    "pre": "主讲",
    "drt": "导演",
    "ill": "绘",
    "070": "著",
    "340": "编",
    "651": "编",
    "730": "译",
    "020": "注",
    "550": "播讲",
    "605": "主讲",
    "300": "导演",
    "440": "绘",
    "author": "著",
    "editor": "编",
    "translator": "译",
    "annotator": "注",
    "narrator": "播讲",
    "presenter": "主讲",
    "director": "导演",
    "illustrator": "绘",
}
TRAILING_PUNCTUATION = " /:;=,.，。：；／"
LEADER_KINDS = {"g": "video", "i": "audio", "j": "audio"}


def marc_values(record: pymarc.Record) -> dict[str, str]:
    return (
        _unimarc_values(record)
        if record.get("245") is None and record.get("200") is not None
        else _marc21_values(record)
    )


def _marc21_values(record: pymarc.Record) -> dict[str, str]:
    language = _first(record, "041", "a") or _control(record, "008")[35:38].strip()
    chinese = language in ("chi", "zho")
    publication = record.get("264") or record.get("260")
    values = {
        "external_id": _control(record, "001"),
        "kind": _kind(record),
        "isbn": _identifier(_first(record, "020", "a")),
        "issn": _identifier(_first(record, "022", "a")),
        "title": _clean(_first(record, "245", "a")),
        "subtitle": _clean(_first(record, "245", "b")),
        "creators": _credits(record, ("100", "110", "700", "710"), name_codes="a", chinese=chinese),
        "publisher": _clean(_sub(publication, "b")),
        "issued": _date(_sub(publication, "c")),
        "clc": _marc21_clc(record, chinese=chinese),
        "tags": "；".join(_clean(v) for f in record.get_fields("650", "653") for v in f.get_subfields("a")),
        "summary": _first(record, "520", "a"),
        "language": language,
    }
    return {key: value for key, value in values.items() if value}


def _unimarc_values(record: pymarc.Record) -> dict[str, str]:
    title = record.get("200")
    creators = _credits(record, ("701", "702", "711", "712"), name_codes="ab", chinese=True)
    values = {
        "external_id": _control(record, "001"),
        "kind": _kind(record),
        "isbn": _identifier(_first(record, "010", "a")),
        "issn": _identifier(_first(record, "011", "a")),
        "title": _clean(_sub(title, "a")),
        "subtitle": _clean(_sub(title, "e")),
        "creators": creators or _clean(_sub(title, "f")),
        "publisher": _clean(_first(record, "210", "c")),
        "issued": _date(_first(record, "210", "d")),
        "clc": _clean(_first(record, "690", "a")),
        "tags": "；".join(_clean(v) for f in record.get_fields("606", "610") for v in f.get_subfields("a")),
        "summary": _first(record, "330", "a"),
        "language": _first(record, "101", "a"),
    }
    return {key: value for key, value in values.items() if value}


def _control(record: pymarc.Record, tag: str) -> str:
    found = record.get(tag)
    return (found.data or "").strip() if found is not None and found.is_control_field() else ""


def _sub(found, code: str) -> str:
    if found is None or found.is_control_field():
        return ""
    values = found.get_subfields(code)
    return values[0].strip() if values else ""


def _first(record: pymarc.Record, tag: str, code: str) -> str:
    return _sub(record.get(tag), code)


def _clean(value: str) -> str:
    return value.strip().rstrip(TRAILING_PUNCTUATION).strip()


def _identifier(value: str) -> str:
    """'9787020002207 (平装) : CNY59.70' → '9787020002207': the number comes first, qualifiers after."""
    match = re.match(r"[\dXx\-－]+", value.strip())
    return match.group(0) if match else value.strip()


def _date(value: str) -> str:
    """'2019.', 'c2019', '2019年3月', '2019-03' → '2019' or '2019-03'."""
    match = re.search(r"(\d{4})(?:[.\-/年](\d{1,2}))?", value)
    if not match:
        return ""
    return f"{match[1]}-{int(match[2]):02d}" if match[2] and 1 <= int(match[2]) <= 12 else match[1]


def _kind(record: pymarc.Record) -> str:
    leader = str(record.leader)
    if leader[6:7] in LEADER_KINDS:
        return LEADER_KINDS[leader[6]]
    return "periodical" if leader[7:8] == "s" else "ebook"


def _credits(record: pymarc.Record, tags: tuple[str, ...], *, name_codes: str, chinese: bool) -> str:
    parts = []
    for found in record.get_fields(*tags):
        name = _clean("".join(v for code in name_codes for v in found.get_subfields(code) if v.strip()))
        if not name:
            continue
        codes = [c.strip().lower() for c in found.get_subfields("4", "e")]
        word = next((RELATORS.get(c.rstrip(".,")) for c in codes if RELATORS.get(c.rstrip(".,"))), "")
        word = word or next((_clean(c) for c in found.get_subfields("e") if not c.isascii()), "")
        parts.append(f"{name} {word}" if word else name)
    return "；".join(parts)


def _marc21_clc(record: pymarc.Record, *, chinese: bool) -> str:
    for found in record.get_fields("084", "093"):
        scheme = (found.get_subfields("2") or [""])[0].strip().lower()
        if scheme.startswith("clc") or (chinese and not scheme):
            value = _clean(_sub(found, "a"))
            if value:
                return value
    return ""
