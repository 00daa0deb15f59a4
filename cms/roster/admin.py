"""The roster screen in the Wagtail admin (花名册导入), for editors and administrators of units: upload, check
(every row, nothing written), then 正式导入 the very file that was checked. The column list and templates are on
the screen; unknown columns are named; errors are per row, in Chinese, and nothing is imported while any remain."""

import csv
import io

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path, re_path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from ..models import RosterImport
from ..selectors import units_managed_by
from .importer import OUTCOME_LABELS
from .sheets import COLUMNS, REQUIRED

MAX_BYTES = 20 * 1024 * 1024
# What the screen and the templates say about each column (the importer's names, in sheets.COLUMNS' order).
COLUMN_HELP = {
    "name": (gettext_lazy("党员姓名"), "张三"),
    "id_number": (gettext_lazy("18 位公民身份号码，按 GB 11643 校验；加密保存，页面只显示首尾"), "370102196503120012"),
    "phone": (gettext_lazy("11 位手机号，可用于登录；可空"), "13800000000"),
    "branch": (gettext_lazy("党支部的组织代码（须在您管理的单位内）"), "zouping-daixi-1"),
    "role": (gettext_lazy("党员、支部书记或支委委员；空为党员"), "党员"),
    "joined": (gettext_lazy("入党日期，如 2001-07-01；可空"), "2001-07-01"),
}


class RosterForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("花名册文件（.xlsx 或 .csv）"))
    effective_on = forms.DateField(
        label=gettext_lazy("组织关系转接生效日期"),
        required=False,
        help_text=gettext_lazy("支部代码变了的党员从这一天起算新支部；留空为今天。"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("文件超过 20 MB，请分成几个文件导入。"))
        return upload


def _require_manager(request: HttpRequest) -> None:
    if not units_managed_by(request.user).exists():
        raise PermissionDenied


def _columns() -> list[dict]:
    return [
        {"label": label, "required": key in REQUIRED, "meaning": COLUMN_HELP[key][0], "example": COLUMN_HELP[key][1]}
        for key, (label, _aliases) in COLUMNS.items()
    ]


def roster_index(request: HttpRequest) -> HttpResponse:
    from .. import services

    _require_manager(request)
    form = RosterForm(request.POST or None, request.FILES or None)
    context = {"form": form, "columns": _columns()}
    if request.method == "POST" and "upload_id" in request.POST:
        effective_on = forms.DateField(required=False).clean(request.POST.get("effective_on") or None)
        upload_id = int(request.POST["upload_id"]) if request.POST["upload_id"].isdigit() else 0
        report = services.roster_upload_apply(by=request.user, upload_id=upload_id, effective_on=effective_on)
        if report is None:
            context["gone"] = True
        context |= {"report": report, "form": RosterForm()}
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        kept, report = services.roster_upload_check(
            by=request.user, filename=upload.name, data=upload.read(), effective_on=form.cleaned_data["effective_on"]
        )
        context |= {"report": report, "upload": kept, "effective_on": form.cleaned_data["effective_on"]}
    if context.get("report"):
        counts = context["report"].counts.items()
        context["count_rows"] = [(OUTCOME_LABELS[key], count) for key, count in counts if count]
    context["recent"] = RosterImport.objects.filter(created_by=request.user)[:10]
    return render(request, "cms/admin/roster.html", context)


def roster_template(request: HttpRequest, file_format: str) -> HttpResponse:
    _require_manager(request)
    header = [label for label, _aliases in COLUMNS.values()]
    example = [COLUMN_HELP[key][1] for key in COLUMNS]
    if file_format == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, example])
        response = HttpResponse(("\ufeff" + buffer.getvalue()).encode(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "花名册"
        sheet.append(header)
        sheet.append(example)
        for column in ("B", "C", "E"):  # ID numbers, phones and codes stay text in Excel, never 3.7E+17
            for cell in sheet[column]:
                cell.number_format = "@"
        output = io.BytesIO()
        workbook.save(output)
        response = HttpResponse(
            output.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="roster-template.{file_format}"'
    return response


class RosterMenuItem(MenuItem):
    def is_shown(self, request):
        return units_managed_by(request.user).exists()


urls = [
    path("", roster_index, name="index"),
    re_path(r"^template\.(?P<file_format>csv|xlsx)$", roster_template, name="template"),
]


@hooks.register("register_admin_urls")
def register_roster_urls():
    return [path("roster/", include((urls, "cms_roster"), namespace="cms_roster"))]


@hooks.register("register_admin_menu_item")
def register_roster_menu_item():
    return RosterMenuItem(gettext_lazy("花名册导入"), reverse("cms_roster:index"), icon_name="group", order=158)
