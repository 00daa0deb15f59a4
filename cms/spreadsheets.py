"""Reading the spreadsheets organisations send (rosters, question banks, catalogues): XLSX through openpyxl (first
sheet, read-only) or CSV (UTF-8 with or without BOM, else GB18030, which Excel in China writes), each row numbered
as the editor's spreadsheet numbers it, and the header found among the first rows by the column names the file's
kind knows. Every failure is a Chinese sentence an editor can act on: csv's and openpyxl's messages are English and
name nothing the editor can see, so they are never shown."""

import csv
import io
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# What is nearly always behind a line csv cannot read, said where an importer reports one.
CSV_LIKELY_CAUSE = gettext_lazy("多半是引号不配对，或一格内容过长")
HEADER_SEARCH_ROWS = 10
# What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")

Line = tuple[int, list]  # (the spreadsheet's row number, its cells)


class SheetError(Exception):
    """The file as a whole cannot be read (not a spreadsheet, no header, too many rows); the message is Chinese."""


def fold(text) -> str:
    """A column name as files spell it in many ways: NFKC (full-width letters), no spaces, lower case."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


def decode_csv(data: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without BOM), else GB18030; never a file with NUL characters."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError(_("无法识别文件编码，请以 UTF-8 或 GBK 编码保存 CSV。"))
    if "\x00" in text:
        raise SheetError(_("文件含有空字符，不是有效的 CSV 文件。"))
    return text


def csv_lines(data: bytes) -> Iterator[Line]:
    reader = csv.reader(io.StringIO(decode_csv(data), newline=""))
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error:
        raise SheetError(
            _("CSV 第 %(line)d 行格式错误（%(cause)s）。") % {"line": reader.line_num, "cause": CSV_LIKELY_CAUSE}
        ) from None


def xlsx_lines(data: bytes) -> Iterator[Line]:
    from openpyxl import load_workbook

    unreadable = _("无法读取这个 Excel 文件，请另存为 .xlsx 后重试。")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — any unreadable workbook is the same answer to the editor (no English detail)
        raise SheetError(unreadable) from None
    try:
        rows = enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1)
        while True:
            try:  # a workbook that opens may still break while its rows are read (a bad shared string, a bad number)
                number, row = next(rows)
            except StopIteration:
                return
            except Exception:  # noqa: BLE001 — the same answer as a workbook that does not open
                raise SheetError(unreadable) from None
            yield number, list(row)
    finally:
        workbook.close()


def sheet_lines(*, data: bytes, filename: str) -> Iterator[Line]:
    """The file's rows; the extension picks the format (.xlsx, else CSV); the old binary .xls is refused by name."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xls":
        raise SheetError(_("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx。"))
    return xlsx_lines(data) if suffix == ".xlsx" else csv_lines(data)


def rows_under_header(
    lines: Iterator[Line],
    *,
    find_header: Callable[[list], dict[int, str] | None],
    cell: Callable,
    max_rows: int,
    header_missing: str,
) -> Iterator[tuple[int, dict]]:
    """Rows as {column: value} under the first of the first ten rows that ``find_header`` accepts (it maps cell
    positions to column names, or returns None), blank rows skipped; a title row above the table is fine."""
    header = None
    for number, cells in lines:
        values = [cell(value) for value in cells]
        if header is None:
            header = find_header(values)
            if header is None and number >= HEADER_SEARCH_ROWS:
                break
            continue
        if not any(values):
            continue
        if number > max_rows + HEADER_SEARCH_ROWS:
            raise SheetError(_("文件超过 %(n)d 行，请分成几个文件导入。") % {"n": max_rows})
        yield number, {column: values[index] if index < len(values) else "" for index, column in header.items()}
    if header is None:
        raise SheetError(header_missing)


def neutralise_formula(value: str) -> str:
    """A cell we write (CSV or XLSX) that a spreadsheet shows as text: a leading ``'`` when it would start a formula.
    Leading spaces are looked past, since some spreadsheets skip them before reading a formula."""
    if value.lstrip(" ").startswith(FORMULA_START):
        return "'" + value
    return value
