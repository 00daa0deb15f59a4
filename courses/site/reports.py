"""The reports pages: a month's course (/study/reports/) or a year's study hours (/study/reports/hours/) for a unit
and each unit below it, a chart of the children's rates (ECharts, loaded only when the chart is on screen), CSV and
XLSX exports identical to the table (numbers as numbers), drill-down by unit; a branch's individuals for that
branch's own secretary only."""

import csv
import io
import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from cms.models import OrgUnit
from cms.spreadsheets import neutralise_formula

from .. import selectors
from ..credits.hours import rule as hour_rule
from ..reports import hours as report_hours
from ..reports.reads import (
    COLUMNS,
    RATES,
    branch_hours,
    branch_individuals,
    course_report,
    report_root,
    units_reported_to,
)
from .views import _private


def _course(request):
    courses = list(selectors.courses_live().order_by("-premiere_at")[:36])
    chosen = request.GET.get("course", "")
    course = next((c for c in courses if str(c.pk) == chosen), None)
    return course or (courses[0] if courses else None), courses


def _number(text: str) -> int | None:
    """A plain decimal id or year from the query string (ASCII digits only: "²" is a digit to str.isdigit)."""
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


def _unit(request):
    chosen = request.GET.get("unit", "")
    allowed = units_reported_to(request.user)
    if chosen:
        number = _number(chosen)
        unit = allowed.filter(pk=number).first() if number is not None else None
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
        return _export(export, f"report-{course.issue_number}", COLUMNS, RATES, [total, *rows])
    context = {
        **_tree(request, unit, rows),
        "query": f"course={course.pk}",
        "course": course,
        "courses": courses,
        "total": total,
        "rows": rows,
        "columns": COLUMNS,
        "rates": RATES,
        "chart": _chart(rows, {_("参学率"): "studied_rate", _("合格率"): "passed_rate"}),
        "individuals": (
            branch_individuals(course=course, branch=unit, user=request.user)
            if unit.level == OrgUnit.Level.BRANCH
            else None
        ),
    }
    return _private(TemplateResponse(request, "courses/reports.html", context))


def _tree(request, unit: OrgUnit, rows) -> dict:
    """Which children link down and which units above the user may climb to."""
    allowed = units_reported_to(request.user)
    drill = set(allowed.filter(pk__in=[r.unit.pk for r in rows]).values_list("pk", flat=True))
    ancestors = [a for a in unit.get_ancestors() if allowed.filter(pk=a.pk).exists()]
    return {"unit": unit, "drill": drill, "ancestors": ancestors}


def _chart(rows, rates: dict) -> dict:
    """The children's rates as percentages, one bar series per rate."""
    return {
        "units": [row.unit.name for row in rows],
        "series": [
            {"name": str(name), "values": [round((getattr(row, key) or 0) * 100, 1) for row in rows]}
            for name, key in rates.items()
        ],
    }


@login_required
def hours_report_page(request):
    """A year's study hours (学时) for a unit and its children: who has hours, the total, the average per member,
    who met the annual requirement."""
    unit = _unit(request)
    years = report_hours.report_years()
    chosen = _number(request.GET.get("year", ""))
    year = chosen if chosen in years else years[0]
    total, rows = report_hours.hours_report(unit=unit, year=year)
    if request.GET.get("format") in ("csv", "xlsx"):
        columns, rates = report_hours.COLUMNS, report_hours.RATES
        return _export(request.GET["format"], f"hours-{year}", columns, rates, [total, *rows])
    context = {
        **_tree(request, unit, rows),
        "query": f"year={year}",
        "year": year,
        "years": years,
        "total": total,
        "rows": rows,
        "columns": report_hours.COLUMNS,
        "rates": report_hours.RATES,
        "chart": _chart(rows, {_("学时达标率"): "met_rate"}),
        "individuals": branch_hours(branch=unit, year=year, user=request.user),
        "rules": {
            "minutes": hour_rule("COURSES_HOUR_MINUTES"),
            "session": hour_rule("COURSES_SESSION_HOURS"),
            "quiz": hour_rule("COURSES_QUIZ_HOURS"),
            "member": hour_rule("COURSES_ANNUAL_HOURS")["member"],
            "secretary": hour_rule("COURSES_ANNUAL_HOURS")["secretary"],
        },
    }
    return _private(TemplateResponse(request, "courses/reports_hours.html", context))


def _cell(value):
    """Names come from editors and rosters: none may start a formula in the spreadsheet that opens the export."""
    return neutralise_formula(value) if isinstance(value, str) else value


def _export(kind: str, name: str, columns, rates, rows) -> HttpResponse:
    header = [str(label) for _key, label in columns]
    values = [[_cell(row.value(key)) for key, _label in columns] for row in rows]
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in line] for line in values])
        response = HttpResponse(("\ufeff" + buffer.getvalue()).encode(), content_type="text/csv; charset=utf-8")
    else:
        rate_columns = [index + 1 for index, (key, _label) in enumerate(columns) if key in rates]
        response = HttpResponse(_xlsx(header, values, rate_columns), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return _private(response)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(header, values, rate_columns) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "报表"
    sheet.append(header)
    for line in values:
        sheet.append(line)
        for column in rate_columns:
            sheet.cell(row=sheet.max_row, column=column).number_format = "0.0%"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
