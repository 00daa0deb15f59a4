"""Reading a question bank file into rows (through ``cms.spreadsheets``: XLSX or CSV in UTF-8 or GB18030, the header
found among the first ten rows): the header is the first row that names 题干, so a title row above the table is
fine. Rows come back as (spreadsheet row number, {column: text})."""

from collections.abc import Iterator

from django.utils.translation import gettext as _

from cms.spreadsheets import HEADER_SEARCH_ROWS, SheetError, fold, rows_under_header, sheet_lines

MAX_ROWS = 20_000

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

BankFileError = SheetError  # what the importer catches: the file as a whole cannot be read

_ALIAS_TO_COLUMN = {fold(alias): column for column, aliases in COLUMN_ALIASES.items() for alias in aliases}


def cell_text(value) -> str:
    """A cell as text: whole numbers without ".0", booleans as 是/否, everything stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(cells) -> dict[int, str] | None:
    mapped = {index: _ALIAS_TO_COLUMN[fold(cell)] for index, cell in enumerate(cells) if fold(cell) in _ALIAS_TO_COLUMN}
    return mapped if "stem" in mapped.values() else None


def bank_rows(*, data: bytes, filename: str) -> Iterator[tuple[int, dict[str, str]]]:
    """The file's question rows; the extension picks the format (.xlsx, else CSV)."""
    return rows_under_header(
        sheet_lines(data=data, filename=filename),
        find_header=_header,
        cell=cell_text,
        max_rows=MAX_ROWS,
        header_missing=_("前 %(n)d 行中没有找到表头（须有“题干”一列）。") % {"n": HEADER_SEARCH_ROWS},
    )
