"""Spreadsheet export for the library's admin lists (Wagtail's ?export=csv / ?export=xlsx), made safe to open.

Wagtail answers ?export= on every index view; a view with no export columns used to write a file of blank lines
(one empty row per item). Exports go to editors' spreadsheets, so a cell that would run as a formula
(``=HYPERLINK(…)``, ``=cmd|…``, ``+``, ``-``, ``@``, tab, CR) is written as text (text.cleaning.neutralise_formula),
in CSV and XLSX alike, and the CSV starts with a byte-order mark so that Excel reads its Chinese as UTF-8.
The CSV streams; the XLSX (a zip, written at the end) goes through a temporary file rather than memory, so an
export of the whole catalogue (hundreds of thousands of rows) does not hold the workbook in a web process.
"""

import tempfile

from django.http import FileResponse

from library.text.cleaning import neutralise_formula

UTF8_BOM = "\ufeff".encode()
XLSX_IN_MEMORY_BYTES = 4 * 1024 * 1024  # a small export stays in memory; a larger one spills to disk


class SafeExportMixin:
    """Mixed into an admin IndexView before Wagtail's."""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.is_export = self.is_export and bool(self.list_export)  # nothing to export: the ordinary page

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        return neutralise_formula(value) if isinstance(value, str) else value

    def stream_csv(self, queryset):
        yield UTF8_BOM
        yield from super().stream_csv(queryset)

    def write_xlsx_response(self, queryset):
        output = tempfile.SpooledTemporaryFile(max_size=XLSX_IN_MEMORY_BYTES)  # closed by FileResponse when sent
        self.write_xlsx(queryset, output)
        output.seek(0)
        return FileResponse(
            output,
            as_attachment=True,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=f"{self.get_filename()}.xlsx",
        )
