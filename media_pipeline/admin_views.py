"""The jobs screens (转码任务) and their actions: list, job page, retry, cancel, premiere priority, the status JSON an
item's edit page polls, and the dashboard's failed transcodes.

Every screen and action finds its job or asset among those the user manages (selectors.transcode_jobs_managed_by
and media_assets_managed_by, fed by the MEDIA_ADMIN_ASSET_SCOPE seam): another unit's job or asset is a 404,
whatever permission the user holds. Errors are shown without server paths, and the log tail only to superusers.

A job is named by what it is for ("党史微课 第1集 · 网页多码率") and links there, yet the pipeline knows no library
item: the apps that attach assets register a ``media_pipeline_asset_labels`` Wagtail hook, a function
``(*, asset_ids, user) -> {asset_id: (title, admin URL)}`` naming the assets of theirs this user manages (the
library's is in library/wagtail_hooks.py). An asset nobody names is shown by its file name.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView

from .models import TranscodeJob
from .selectors import (
    asset_status,
    media_assets_managed_by,
    server_paths_hidden,
    transcode_job_state_display,
    transcode_jobs_failed,
    transcode_jobs_managed_by,
)
from .services import transcode_job_cancel, transcode_job_prioritise, transcode_job_retry

ASSET_LABELS_HOOK = "media_pipeline_asset_labels"


@dataclass(frozen=True)
class AssetLabel:
    """What an asset is for, as another app names it: a title and the admin URL of the thing it belongs to."""

    title: str
    url: str = ""


def asset_labels(*, asset_ids, user) -> dict[int, AssetLabel]:
    """Every registered app's names for these assets (the first app that names one wins)."""
    asset_ids = sorted(set(asset_ids))
    labels: dict[int, AssetLabel] = {}
    if not asset_ids:
        return labels
    for name_assets in hooks.get_hooks(ASSET_LABELS_HOOK):
        for asset_id, (title, url) in name_assets(asset_ids=asset_ids, user=user).items():
            labels.setdefault(asset_id, AssetLabel(title, url))
    return labels


def jobs_labelled(jobs, user) -> list[TranscodeJob]:
    """The jobs, each with ``owner_label`` set (an AssetLabel, or None when no app names its asset)."""
    jobs = list(jobs)
    labels = asset_labels(asset_ids=[job.asset_id for job in jobs], user=user)
    for job in jobs:
        job.owner_label = labels.get(job.asset_id)
    return jobs


def job_title(job: TranscodeJob) -> str:
    """The job's title: "党史微课 第1集 · 网页多码率" (the file's name where no app names the asset)."""
    label = getattr(job, "owner_label", None)
    return f"{label.title if label else job.asset} · {job.get_group_display()}"


# --- The list and the job page.


def progress_percent(job: TranscodeJob) -> str:
    return f"{round(job.progress * 100)}%"


def state_display(job: TranscodeJob) -> str:
    return transcode_job_state_display(job=job)


class OwnerColumn(Column):
    """条目: what the job's asset is for, linked to its edit page, with the file's name under it."""

    cell_template_name = "media_pipeline/admin/job_owner_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["label"] = getattr(instance, "owner_label", None)
        return context


class JobActionsColumn(Column):
    """Retry / cancel / priority buttons: small POST forms (they change state, so never plain links)."""

    cell_template_name = "media_pipeline/admin/job_actions_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        request = context["request"]
        context["can_manage"] = request.user.has_perm("media_pipeline.change_transcodejob")
        context["csrf_token"] = get_token(request)
        return context


JOB_COLUMNS = [
    OwnerColumn("owner", label=gettext_lazy("条目")),
    Column("group", label=gettext_lazy("任务组"), accessor="get_group_display", sort_key="group"),
    Column("state_display", label=gettext_lazy("状态"), accessor=state_display),
    Column("progress_percent", label=gettext_lazy("进度"), accessor=progress_percent),
    "priority",
    "attempts",
    "created_at",
    JobActionsColumn("actions", label=gettext_lazy("操作")),
]


class ScopedJobsMixin:
    """The one-job screens find the job among the user's own: another unit's job is a 404."""

    def get_base_object_queryset(self):
        return transcode_jobs_managed_by(self.request.user)


class JobIndexView(generic.IndexView):
    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.is_export = self.is_export and bool(self.list_export)  # no columns to export: no file of blank lines

    def get_base_queryset(self):
        return transcode_jobs_managed_by(self.request.user)

    def get_table(self, object_list):
        # One question to the naming apps for the whole page, not one per row.
        return super().get_table(jobs_labelled(object_list, self.request.user))


class JobInspectView(generic.InspectView):
    def get_object(self, queryset=None):
        job = get_object_or_404(transcode_jobs_managed_by(self.request.user), pk=unquote(str(self.pk)))
        return jobs_labelled([job], self.request.user)[0]

    def get_page_subtitle(self):
        return job_title(self.object)

    def get_field_label(self, field_name, field):
        if field_name == "owner":
            return _("条目")
        return super().get_field_label(field_name, field)

    def get_field_display_value(self, field_name, field):
        value = super().get_field_display_value(field_name, field)
        return "-" if value is None else value  # a job not started yet has no lease or times: not "None"

    def get_owner_display_value(self):
        label = self.object.owner_label
        if label is None:
            return "-"
        return format_html('<a href="{}">{}</a>', label.url, label.title) if label.url else label.title

    def get_error_display_value(self):
        return server_paths_hidden(self.object.error) or "-"

    def get_log_tail_display_value(self):
        # ffmpeg's own words name files, folders and the machine's layout: for the people who run the servers.
        if not self.request.user.is_superuser:
            return _("（仅系统管理员可见）")
        return server_paths_hidden(self.object.log_tail) or "-"


JobHistoryView = type("JobHistoryView", (ScopedJobsMixin, HistoryView), {})
JobUsageView = type("JobUsageView", (ScopedJobsMixin, UsageView), {})


# --- The dashboard: failed transcodes of the editor's units.


class FailedJobsPanel(Component):
    """转码失败: jobs of the editor's assets that failed and were not run again, each named by its item."""

    name = "lighthouse_failed_transcodes"
    template_name = "media_pipeline/admin/dashboard_failed_jobs.html"
    order = 30

    def get_context_data(self, parent_context):
        user = parent_context["request"].user
        jobs = jobs_labelled(transcode_jobs_failed(user), user)
        for job in jobs:
            job.title, job.reason = job_title(job), server_paths_hidden(job.error)
        return {"jobs": jobs}


# --- Actions on jobs, and the status JSON.


def _require_job_manager(request: HttpRequest) -> None:
    # Changing jobs is for media administrators (the "change transcode job" permission), not every editor.
    if not request.user.has_perm("media_pipeline.change_transcodejob"):
        raise PermissionDenied


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "transcode_jobs:index"
    return redirect(target)


@require_POST
def job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    _require_job_manager(request)
    job = get_object_or_404(transcode_jobs_managed_by(request.user), pk=job_id)
    try:
        new_job = transcode_job_retry(job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已重新排队：任务 #%(id)d") % {"id": new_job.pk})
    return _back(request)


@require_POST
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    _require_job_manager(request)
    job = get_object_or_404(transcode_jobs_managed_by(request.user), pk=job_id)
    if transcode_job_cancel(job=job):
        messages.success(request, _("已取消任务 #%(id)d") % {"id": job.pk})
    else:
        messages.warning(request, _("任务 #%(id)d 已结束，无法取消") % {"id": job.pk})
    return _back(request)


@require_POST
def job_prioritise(request: HttpRequest, job_id: int) -> HttpResponse:
    _require_job_manager(request)
    job = get_object_or_404(transcode_jobs_managed_by(request.user), pk=job_id)
    transcode_job_prioritise(job=job)
    messages.success(request, _("任务 #%(id)d 已设为优先（首播）") % {"id": job.pk})
    return _back(request)


@require_GET
def asset_status_json(request: HttpRequest, asset_id: int) -> JsonResponse:
    if not request.user.has_perm("wagtailadmin.access_admin"):
        raise PermissionDenied
    asset = get_object_or_404(media_assets_managed_by(request.user), pk=asset_id)
    response = JsonResponse(asset_status(asset=asset), json_dumps_params={"ensure_ascii": False})
    add_never_cache_headers(response)
    return response
