"""Reading a roster file into rows (through ``cms.spreadsheets``: XLSX or CSV in UTF-8 or GB18030): the header is
the first of the first ten rows that names 身份证号, so a title row above the table is fine. Rows come back as
(spreadsheet row number, {column: value}); dates stay dates."""

import datetime

from django.utils.translation import gettext as _

from ..spreadsheets import HEADER_SEARCH_ROWS, SheetError, fold, rows_under_header, sheet_lines

MAX_ROWS = 50_000

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

RosterFileError = SheetError  # what the importer catches: the file as a whole cannot be read

_ALIASES = {fold(alias): column for column, (_label, aliases) in COLUMNS.items() for alias in aliases}


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


def _header_finder(unknown_columns: list[str]):
    """The roster's header test: a row naming 身份证号, with every required column (else the file is refused);
    the names it does not know go to ``unknown_columns`` to be reported, not dropped silently."""

    def find(cells) -> dict[int, str] | None:
        mapped, unknown = {}, []
        for index, cell in enumerate(cells):
            column = _ALIASES.get(fold(cell))
            if column and column not in mapped.values():
                mapped[index] = column
            elif str(cell).strip():
                unknown.append(str(cell).strip())
        if "id_number" not in mapped.values():
            return None
        missing = [COLUMNS[c][0] for c in REQUIRED if c not in mapped.values()]
        if missing:
            raise RosterFileError(_("表头缺少必填列：%(columns)s。") % {"columns": "、".join(missing)})
        unknown_columns.extend(unknown)
        return mapped

    return find


def roster_rows(*, data: bytes, filename: str) -> tuple[list[tuple[int, dict]], list[str]]:
    """Every row of the file and the header's columns the importer does not know (to warn about, not to drop
    silently). The extension picks the format (.xlsx, else CSV); the old binary .xls is refused by name."""
    unknown: list[str] = []
    rows = rows_under_header(
        sheet_lines(data=data, filename=filename),
        find_header=_header_finder(unknown),
        cell=_cell,
        max_rows=MAX_ROWS,
        header_missing=_("前 %(n)d 行中没有找到表头（须有“身份证号”一列）。") % {"n": HEADER_SEARCH_ROWS},
    )
    return list(rows), unknown
