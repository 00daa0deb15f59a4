"""Reading a question bank file into rows: XLSX (first sheet, openpyxl, read-only) or CSV (UTF-8 with or without
BOM, else GB18030, which Excel in China writes). The header row is the first of the first ten rows that names
题干, so a title row above the table is fine. Rows come back as (spreadsheet row number, {column: text})."""

import csv
import io
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

MAX_ROWS = 20_000
HEADER_SEARCH_ROWS = 10

# Column names Chinese organisations' bank templates use, folded (NFKC, no spaces), to the importer's names.
COLUMN_ALIASES = {
    "kind": ["题型", "类型", "试题类型", "题目类型"],
    "stem": ["题干", "题目", "试题内容", "题目内容", "试题"],
    "answer": ["答案", "正确答案", "标准答案", "参考答案"],
    "explanation": ["解析", "答案解析", "试题解析", "解释"],
    "difficulty": ["难度", "难易程度", "难易度", "难度系数"],
    "topic": ["知识点", "考点", "知识点分类", "分类"],
    "key": ["编号", "题号", "试题编号", "id"],
    "practice": ["练习", "用于练习", "是否练习", "练习题"],
}
for _label in "ABCDEF":
    COLUMN_ALIASES[f"option_{_label}"] = [f"选项{_label}", _label, f"{_label}选项", f"选项{_label.lower()}"]


class BankFileError(Exception):
    """The file as a whole cannot be read (not a spreadsheet, no header, too many rows)."""


def _fold(text) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


_ALIAS_TO_COLUMN = {_fold(alias): column for column, aliases in COLUMN_ALIASES.items() for alias in aliases}


def cell_text(value) -> str:
    """A cell as text: whole numbers without ".0", booleans as 是/否, everything stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_map(cells) -> dict[int, str]:
    return {index: _ALIAS_TO_COLUMN[_fold(cell)] for index, cell in enumerate(cells) if _fold(cell) in _ALIAS_TO_COLUMN}


def _rows_with_header(numbered_rows: Iterator[tuple[int, list]]) -> Iterator[tuple[int, dict[str, str]]]:
    header = None
    for number, cells in numbered_rows:
        texts = [cell_text(cell) for cell in cells]
        if header is None:
            candidate = _header_map(texts)
            if "stem" in candidate.values():
                header = candidate
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if not any(texts):
            continue
        if number > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise BankFileError(_("文件超过 %(n)d 行，请分成几个文件导入。") % {"n": MAX_ROWS})
        yield number, {column: texts[index] if index < len(texts) else "" for index, column in header.items()}
    if header is None:
        raise BankFileError(_("前 %(n)d 行中没有找到表头（须有“题干”一列）。") % {"n": HEADER_SEARCH_ROWS})


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — any unreadable workbook is the same answer to the editor (no English detail)
        raise BankFileError(_("无法读取这个 Excel 文件，请另存为 .xlsx 后重试。")) from None
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BankFileError(_("无法识别文件编码，请以 UTF-8 或 GBK 编码保存 CSV。"))


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    text = _decode(data)
    if "\x00" in text:
        raise BankFileError(_("文件含有空字符，不是有效的 CSV 文件。"))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error:  # its message is English: the editor gets the line and the likely cause instead
        raise BankFileError(
            _("CSV 第 %(line)d 行格式错误（多半是引号不配对，或一格内容过长）。") % {"line": reader.line_num}
        ) from None


def bank_rows(*, data: bytes, filename: str) -> Iterator[tuple[int, dict[str, str]]]:
    """The file's question rows; the extension picks the format (.xlsx, else CSV)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xls":
        raise BankFileError(_("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx。"))
    rows = _xlsx_rows(data) if suffix == ".xlsx" else _csv_rows(data)
    return _rows_with_header(rows)
