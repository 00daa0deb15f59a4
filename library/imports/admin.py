"""The admin import screen: upload a catalogue (CSV, XLSX, JSON, MARC) for one of the editor's units and it is
checked first (a dry run); its page shows what would happen — counts, rejected rows, columns the import does not
know — and a 正式导入 button that imports exactly that file, kept on the server (never uploaded twice), with
导入为待审核 to let new items arrive unpublished. The column list and the templates (CSV, XLSX) are on the screen.
Recent batches refresh while they run; a batch's rejections download as CSV. An interrupted batch says how many
rows went in and how many did not, and offers "继续导入" (resume from the next chunk).

Uploads are saved in the media work folder and run by ``import_batch_run_task`` after the request commits;
editors see only the batches of units they manage."""

import io

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import include, path, re_path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from cms.models import OrgUnit, UnitRole
from cms.selectors import units_managed_by
from library.admin.units import UnitTreeChoiceField, owning_units_for
from library.models import ImportBatch

from .columns import COLUMN_DOCS
from .importer import (
    CONFIRM_TTL,
    ImportConfirmError,
    batch_confirmable,
    batch_confirmed_by,
    batch_kept,
    batch_rejections,
    batch_resumable_in_admin,
    batch_rows_processed,
    confirm_all_or_nothing,
    import_batch_confirm,
    import_batch_queue,
    import_batch_resume_queue,
    report_write_rejections,
)
from .readers import FORMATS
from .template_files import template_csv, template_xlsx

RECENT_BATCHES = 30
REPORT_PER_PAGE = 100
REFRESH_SECONDS = 5
UPLOAD_MAX_BYTES = 512 * 1024 * 1024  # a 300,000-row catalogue is well under this; media files go by command


def import_batches_visible_to(user):
    """Batches of the units the user manages (every batch for superusers)."""
    return ImportBatch.objects.filter(owning_unit__in=units_managed_by(user)).select_related(
        "owning_unit", "started_by"
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy(
            "Excel（.xlsx）、CSV、JSON、MARC（MARC21 或 CNMARC）或 MARCXML；CSV 用 UTF-8 或 GB18030/GBK 编码均可。"
        ),
        error_messages={"empty": gettext_lazy("上传的文件是空的（0 字节），请重新选择文件。")},
    )
    file_format = forms.ChoiceField(
        label=gettext_lazy("格式"),
        choices=[("auto", gettext_lazy("按扩展名自动判断"))] + [(name, name.upper()) for name in FORMATS],
        initial="auto",
    )
    source = forms.CharField(
        label=gettext_lazy("来源"),
        max_length=64,
        help_text=gettext_lazy("与外部编号一起识别条目：同一来源再次导入时更新已有条目，不会重复新增。"),
    )
    unit = UnitTreeChoiceField(label=gettext_lazy("所属单位"), queryset=OrgUnit.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = owning_units_for(user)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            limit = filesizeformat(UPLOAD_MAX_BYTES)
            raise forms.ValidationError(_("文件太大，最大允许 %(limit)s。") % {"limit": limit})
        return upload

    def clean_source(self):
        return self.cleaned_data["source"].strip()


class ConfirmForm(forms.Form):
    for_review = forms.BooleanField(
        label=gettext_lazy("导入为待审核"),
        required=False,
        help_text=gettext_lazy(
            "新条目先不发布，出现在首页“未发布的馆藏”中，检查后再发布；文件也不能把已有条目设为已发布。"
        ),
    )


def review_by_default(user) -> bool:
    """导入为待审核 is on for editors (someone checks their imports) and off for a unit's administrators and
    superusers, who are the ones who check."""
    if user.is_superuser:
        return False
    return not UnitRole.objects.filter(group__user=user, role=UnitRole.Role.ADMINISTRATOR).exists()


def _require_editor(request: HttpRequest) -> None:
    if not units_managed_by(request.user).exists():
        raise PermissionDenied


def import_index(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        batch = import_batch_queue(
            upload=data["file"],
            file_format=data["file_format"],
            source=data["source"],
            unit=data["unit"],
            user=request.user,
            dry_run=True,  # always checked first: 正式导入 follows from the dry run's page
        )
        message = _("正在试运行“%(name)s”（只检查，不写入），完成后在这里查看结果并正式导入。")
        messages.success(request, message % {"name": batch.file_name})
        return redirect("library_import:detail", batch_id=batch.pk)
    batches = list(import_batches_visible_to(request.user)[:RECENT_BATCHES])
    running = any(batch.state == ImportBatch.State.RUNNING for batch in batches)
    context = {
        "form": form,
        "batches": batches,
        "refresh": REFRESH_SECONDS if running else None,
        "columns": COLUMN_DOCS,
        "confirm_hours": int(CONFIRM_TTL.total_seconds() // 3600),
    }
    return TemplateResponse(request, "library/admin/import_index.html", context)


@require_GET
def import_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    _require_editor(request)
    batch = get_object_or_404(import_batches_visible_to(request.user), pk=batch_id)
    page = Paginator(batch_rejections(batch), REPORT_PER_PAGE).get_page(request.GET.get("p"))
    processed = batch_rows_processed(batch)
    context = {
        "batch": batch,
        "page": page,
        "kept": batch_kept(batch)[:REPORT_PER_PAGE],
        "kept_count": len(batch_kept(batch)),
        "refresh": REFRESH_SECONDS if batch.state == ImportBatch.State.RUNNING else None,
        "applied": batch.created + batch.updated,
        "processed": processed,
        "remaining": max(batch.total - processed, 0),
        "resumable": batch_resumable_in_admin(batch),
        "unknown_columns": (batch.run_options or {}).get("unknown_columns") or [],
        "atomic": bool((batch.run_options or {}).get("atomic")),
        **_confirm_context(request, batch),
    }
    return TemplateResponse(request, "library/admin/import_detail.html", context)


def _confirm_context(request: HttpRequest, batch: ImportBatch) -> dict:
    """正式导入 on a dry run's page (or which real import it became); on a real import, the dry run it came from."""
    options = batch.run_options or {}
    visible = import_batches_visible_to(request.user)
    confirmed = batch_confirmed_by(batch)
    context = {
        "confirmable": batch_confirmable(batch),
        "confirmed_batch": visible.filter(pk=confirmed).first() if confirmed else None,
        "confirmed_from": visible.filter(pk=options["confirmed_from"]).first()
        if options.get("confirmed_from")
        else None,
        "for_review": bool(options.get("for_review")),
    }
    for name in ("confirmed_batch", "confirmed_from"):
        if context[name] is not None:
            context[f"{name}_url"] = reverse("library_import:detail", args=[context[name].pk])
    if context["confirmable"]:
        context["confirm_form"] = ConfirmForm(initial={"for_review": review_by_default(request.user)})
        context["confirm_hours"] = int(CONFIRM_TTL.total_seconds() // 3600)
        context["confirm_atomic"] = confirm_all_or_nothing(batch)
    context["columns_url"] = reverse("library_import:index")
    return context


@require_POST
def import_confirm(request: HttpRequest, batch_id: int) -> HttpResponse:
    """正式导入: the real import of the file this dry run checked (it is on the server: nothing is uploaded)."""
    _require_editor(request)
    batch = get_object_or_404(import_batches_visible_to(request.user), pk=batch_id)
    form = ConfirmForm(request.POST)
    for_review = form.is_valid() and form.cleaned_data["for_review"]
    try:
        real = import_batch_confirm(batch=batch, user=request.user, for_review=for_review)
    except ImportConfirmError as refused:
        messages.error(request, refused.message)
        if refused.batch is not None:
            return redirect("library_import:detail", batch_id=refused.batch.pk)
        return redirect("library_import:detail", batch_id=batch.pk)
    message = _("已开始正式导入“%(name)s”，完成后在这里查看结果。") % {"name": real.file_name}
    messages.success(request, message)
    return redirect("library_import:detail", batch_id=real.pk)


@require_GET
def import_template(request: HttpRequest, file_format: str) -> HttpResponse:
    """The catalogue template: CSV (UTF-8 with BOM) or XLSX, the columns with an example row."""
    _require_editor(request)
    if file_format == "xlsx":
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = HttpResponse(template_xlsx(), content_type=content_type)
    else:
        response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="library-import-template.{file_format}"'
    return response


@require_POST
def import_resume(request: HttpRequest, batch_id: int) -> HttpResponse:
    """继续导入: an interrupted batch goes back to the queue and resumes from its first uncommitted chunk."""
    _require_editor(request)
    batch = get_object_or_404(import_batches_visible_to(request.user), pk=batch_id)
    if import_batch_resume_queue(batch=batch):
        messages.success(request, _("已重新排队，将从中断处继续导入“%(name)s”。") % {"name": batch.file_name})
    else:
        messages.error(request, _("这个批次现在不能继续导入（可能已在运行或已结束）。"))
    return redirect("library_import:detail", batch_id=batch.pk)


@require_GET
def import_rejections_csv(request: HttpRequest, batch_id: int) -> HttpResponse:
    _require_editor(request)
    batch = get_object_or_404(import_batches_visible_to(request.user), pk=batch_id)
    stream = io.StringIO()
    report_write_rejections(batch=batch, stream=stream)
    # With a BOM, Excel on Chinese Windows reads the file as UTF-8.
    response = HttpResponse("\ufeff" + stream.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-rejected.csv"'
    return response


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return units_managed_by(request.user).exists()


urls = [
    path("", import_index, name="index"),
    path("<int:batch_id>/", import_detail, name="detail"),
    path("<int:batch_id>/rejected.csv", import_rejections_csv, name="rejections_csv"),
    path("<int:batch_id>/resume/", import_resume, name="resume"),
    path("<int:batch_id>/confirm/", import_confirm, name="confirm"),
    re_path(r"^template\.(?P<file_format>csv|xlsx)$", import_template, name="template"),
]


@hooks.register("register_admin_urls")
def register_import_urls():
    return [path("library-import/", include((urls, "library_import"), namespace="library_import"))]


@hooks.register("register_admin_menu_item")
def register_import_menu_item():
    return ImportMenuItem(gettext_lazy("导入馆藏"), reverse("library_import:index"), icon_name="upload", order=155)
