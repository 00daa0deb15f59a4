"""The catalogue templates an editor downloads from the import screen: CSV (UTF-8 with a BOM, so Excel on Chinese
Windows opens it as UTF-8) and XLSX (openpyxl). Both carry the Chinese headers of ``columns.COLUMN_DOCS`` the
reader understands and one example row that imports cleanly; the XLSX adds a second sheet explaining each column
(the reader reads only the first sheet). Columns that name files are left out: the admin cannot read files."""

import csv
import io

from django.utils.translation import gettext as _

from .columns import COLUMN_DOCS, ColumnDoc

TEXT_FORMAT = "@"  # Excel's "text": an ISBN or an external id stays as typed, never 9.78702E+12


def template_columns() -> list[ColumnDoc]:
    return [doc for doc in COLUMN_DOCS if not doc.command_only]


def template_csv() -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream)
    columns = template_columns()
    writer.writerow([doc.header for doc in columns])
    writer.writerow([doc.example for doc in columns])
    return ("\ufeff" + stream.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("馆藏目录")
    columns = template_columns()
    sheet.append([doc.header for doc in columns])
    sheet.append([doc.example for doc in columns])
    for index, doc in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(12, 2 * len(doc.header) + 4, len(doc.example) + 4)
        sheet.column_dimensions[letter].number_format = TEXT_FORMAT
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.cell(row=2, column=index).number_format = TEXT_FORMAT
    sheet.freeze_panes = "A2"
    _explanation_sheet(workbook.create_sheet(_("列说明")), Font(bold=True))
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def _explanation_sheet(sheet, bold) -> None:
    sheet.append([_("列名"), _("英文列名"), _("必填"), _("含义"), _("示例")])
    for cell in sheet[1]:
        cell.font = bold
    for doc in COLUMN_DOCS:
        meaning = str(doc.meaning) + (_("（仅命令行导入）") if doc.command_only else "")
        sheet.append([doc.header, doc.name, _("是") if doc.required else _("否"), meaning, doc.example])
    for letter, width in zip("ABCDE", (16, 20, 8, 70, 24), strict=True):
        sheet.column_dimensions[letter].width = width
