"""The reports page (/study/reports/): a course's figures for a unit and each unit below it, a chart of the
children's rates (ECharts, loaded only when the chart is on screen), CSV and XLSX exports identical to the table
(numbers as numbers), drill-down by unit; a branch's individuals for that branch's own secretary only."""

import csv
import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from cms.models import OrgUnit

from .. import selectors
from ..reports.reads import COLUMNS, RATES, branch_individuals, course_report, report_root, units_reported_to
from .views import _private


def _course(request):
    courses = list(selectors.courses_live().order_by("-premiere_at")[:36])
    chosen = request.GET.get("course", "")
    course = next((c for c in courses if str(c.pk) == chosen), None)
    return course or (courses[0] if courses else None), courses


def _unit(request):
    chosen = request.GET.get("unit", "")
    allowed = units_reported_to(request.user)
    if chosen:
        unit = allowed.filter(pk=int(chosen)).first() if chosen.isdigit() else None
        if unit is None:
            raise Http404
        return unit
    unit = report_root(request.user)
    if unit is None:
        raise Http404
    return unit


@login_required
def reports_page(request):
    unit = _unit(request)
    course, courses = _course(request)
    if course is None:
        return _private(TemplateResponse(request, "courses/reports.html", {"unit": unit, "courses": []}))
    total, rows = course_report(course=course, unit=unit)
    export = request.GET.get("format")
    if export in ("csv", "xlsx"):
        return _export(export, course, [total, *rows])
    allowed = set(units_reported_to(request.user).filter(pk__in=[r.unit.pk for r in rows]).values_list("pk", flat=True))
    ancestors = [a for a in unit.get_ancestors() if units_reported_to(request.user).filter(pk=a.pk).exists()]
    context = {
        "unit": unit,
        "course": course,
        "courses": courses,
        "total": total,
        "rows": rows,
        "drill": allowed,
        "ancestors": ancestors,
        "columns": COLUMNS,
        "rates": RATES,
        "chart": {
            "units": [row.unit.name for row in rows],
            "studied": [round((row.studied_rate or 0) * 100, 1) for row in rows],
            "passed": [round((row.passed_rate or 0) * 100, 1) for row in rows],
            "labels": [str(_("参学率")), str(_("合格率"))],
        },
        "individuals": (
            branch_individuals(course=course, branch=unit, user=request.user)
            if unit.level == OrgUnit.Level.BRANCH
            else None
        ),
    }
    return _private(TemplateResponse(request, "courses/reports.html", context))


def _export(kind: str, course, rows) -> HttpResponse:
    header = [str(label) for _key, label in COLUMNS]
    values = [[row.value(key) for key, _label in COLUMNS] for row in rows]
    name = f"report-{course.issue_number}"
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in line] for line in values])
        response = HttpResponse(("\ufeff" + buffer.getvalue()).encode(), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(_xlsx(header, values), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return _private(response)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(header, values) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "报表"
    sheet.append(header)
    rate_columns = [index + 1 for index, (key, _label) in enumerate(COLUMNS) if key in RATES]
    for line in values:
        sheet.append(line)
        for column in rate_columns:
            sheet.cell(row=sheet.max_row, column=column).number_format = "0.0%"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
