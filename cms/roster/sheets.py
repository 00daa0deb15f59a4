"""Reading a roster file into rows: XLSX (first sheet, openpyxl, read-only) or CSV (UTF-8 with or without BOM,
else GB18030, what Excel in China writes). The header is the first of the first ten rows that names 身份证号, so a
title row above the table is fine. Rows come back as (spreadsheet row number, {column: value}); dates stay dates."""

import csv
import datetime
import io
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

MAX_ROWS = 50_000
HEADER_SEARCH_ROWS = 10

# Column names as organisation departments' rosters spell them, folded (NFKC, no spaces, lower case).
COLUMNS = {
    "name": ("姓名", ["姓名", "名字", "党员姓名"]),
    "id_number": ("身份证号", ["身份证号", "身份证号码", "公民身份号码", "身份证"]),
    "phone": ("手机号", ["手机号", "手机号码", "手机", "联系电话", "电话"]),
    "branch": ("支部代码", ["支部代码", "党支部代码", "组织代码", "支部编码"]),
    "role": ("身份", ["身份", "党内身份", "职务", "党内职务", "角色"]),
    "joined": ("入党日期", ["入党日期", "入党时间", "转正日期"]),
}
REQUIRED = ("name", "id_number", "branch")


class RosterFileError(Exception):
    """The file as a whole cannot be read (not a spreadsheet, no header, too many rows)."""


def _fold(text) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


_ALIASES = {_fold(alias): column for column, (_label, aliases) in COLUMNS.items() for alias in aliases}


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(cells) -> tuple[dict[int, str], list[str]]:
    mapped, unknown = {}, []
    for index, cell in enumerate(cells):
        column = _ALIASES.get(_fold(cell))
        if column and column not in mapped.values():
            mapped[index] = column
        elif str(cell).strip():
            unknown.append(str(cell).strip())
    return mapped, unknown


def _rows_with_header(numbered: Iterator[tuple[int, list]], unknown_columns: list[str]):
    header = None
    for number, cells in numbered:
        values = [_cell(cell) for cell in cells]
        if header is None:
            candidate, unknown = _header(values)
            if "id_number" in candidate.values():
                missing = [COLUMNS[c][0] for c in REQUIRED if c not in candidate.values()]
                if missing:
                    raise RosterFileError(_("表头缺少必填列：%(columns)s。") % {"columns": "、".join(missing)})
                header = candidate
                unknown_columns.extend(unknown)
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if not any(values):
            continue
        if number > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise RosterFileError(_("文件超过 %(n)d 行，请分成几个文件导入。") % {"n": MAX_ROWS})
        yield number, {column: values[index] if index < len(values) else "" for index, column in header.items()}
    if header is None:
        raise RosterFileError(_("前 %(n)d 行中没有找到表头（须有“身份证号”一列）。") % {"n": HEADER_SEARCH_ROWS})


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — any unreadable workbook is the same answer to the editor
        raise RosterFileError(_("无法读取这个 Excel 文件，请另存为 .xlsx 后重试。")) from None
    try:
        for number, row in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RosterFileError(_("无法识别文件编码，请以 UTF-8 或 GBK 编码保存 CSV。"))
    if "\x00" in text:
        raise RosterFileError(_("文件含有空字符，不是有效的 CSV 文件。"))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error:
        raise RosterFileError(_("CSV 第 %(line)d 行格式错误。") % {"line": reader.line_num}) from None


def roster_rows(*, data: bytes, filename: str) -> tuple[list[tuple[int, dict]], list[str]]:
    """Every row of the file and the header's columns the importer does not know (to warn about, not to drop
    silently). The extension picks the format (.xlsx, else CSV); the old binary .xls is refused by name."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xls":
        raise RosterFileError(_("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx。"))
    unknown: list[str] = []
    rows = list(_rows_with_header(_xlsx_rows(data) if suffix == ".xlsx" else _csv_rows(data), unknown))
    return rows, unknown
