"""Admin: transcode jobs (转码任务) with state, progress, retry, cancel and premiere priority.

Every screen (list, job page, history, usage, export) shows only the jobs of assets the editor manages
(selectors.transcode_jobs_managed_by, fed by the MEDIA_ADMIN_ASSET_SCOPE seam): another unit's job is a 404.
Errors are shown without server paths, and the log tail only to superusers.
"""

from django.contrib.admin.utils import unquote
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from . import admin_views
from .models import TranscodeJob
from .selectors import server_paths_hidden, transcode_job_state_display, transcode_jobs_managed_by


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    # Jobs change only through services (claim, lease, cancel, retry); the admin forms never edit them.
    def user_has_permission(self, user, action):
        return action not in {"add", "change", "delete"} and super().user_has_permission(user, action)


def progress_percent(job: TranscodeJob) -> str:
    return f"{round(job.progress * 100)}%"


def state_display(job: TranscodeJob) -> str:
    return transcode_job_state_display(job=job)


class JobActionsColumn(Column):
    """Retry / cancel / priority buttons: small POST forms (they change state, so never plain links)."""

    cell_template_name = "media_pipeline/admin/job_actions_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        request = context["request"]
        context["can_manage"] = request.user.has_perm("media_pipeline.change_transcodejob")
        context["csrf_token"] = get_token(request)
        return context


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


class JobInspectView(generic.InspectView):
    def get_object(self, queryset=None):
        return get_object_or_404(transcode_jobs_managed_by(self.request.user), pk=unquote(str(self.pk)))

    def get_error_display_value(self):
        return server_paths_hidden(self.object.error) or "-"

    def get_log_tail_display_value(self):
        # ffmpeg's own words name files, folders and the machine's layout: for the people who run the servers.
        if not self.request.user.is_superuser:
            return _("（仅系统管理员可见）")
        return server_paths_hidden(self.object.log_tail) or "-"


class TranscodeJobViewSet(ModelViewSet):
    model = TranscodeJob
    icon = "media"
    menu_label = _("转码任务")
    menu_order = 160
    add_to_admin_menu = True
    inspect_view_enabled = True
    index_view_class = JobIndexView
    inspect_view_class = JobInspectView
    history_view_class = type("JobHistoryView", (ScopedJobsMixin, HistoryView), {})
    usage_view_class = type("JobUsageView", (ScopedJobsMixin, UsageView), {})
    copy_view_enabled = False
    form_fields = ["priority"]  # required by ModelViewSet; the edit view is never reachable
    list_display = [
        "asset",
        "group",
        Column("state_display", label=_("状态"), accessor=state_display),
        Column("progress_percent", label=_("进度"), accessor=progress_percent),
        "priority",
        "attempts",
        "created_at",
        JobActionsColumn("actions", label=_("操作")),
    ]
    list_filter = ["state", "group"]
    list_per_page = 50
    inspect_view_fields = [
        "asset",
        "group",
        "parent",
        "state",
        "progress",
        "priority",
        "attempts",
        "error",
        "log_tail",
        "lease_owner",
        "lease_expires_at",
        "created_at",
        "started_at",
        "finished_at",
    ]


register_permission_policy(TranscodeJob, ReadOnlyPermissionPolicy(TranscodeJob))


@hooks.register("register_admin_viewset")
def register_transcode_job_viewset():
    return TranscodeJobViewSet("transcode_jobs")


admin_urls = [
    path("jobs/<int:job_id>/retry/", admin_views.job_retry, name="job_retry"),
    path("jobs/<int:job_id>/cancel/", admin_views.job_cancel, name="job_cancel"),
    path("jobs/<int:job_id>/prioritise/", admin_views.job_prioritise, name="job_prioritise"),
    path("assets/<int:asset_id>/status/", admin_views.asset_status_json, name="asset_status"),
]


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [path("media-pipeline/", include((admin_urls, "media_pipeline_admin"), namespace="media_pipeline_admin"))]
