"""Admin: transcode jobs (转码任务) with state, progress, retry, cancel and premiere priority, and the dashboard's
failed transcodes. The screens themselves, and who sees which job, are in admin_views."""

from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from . import admin_views
from .models import TranscodeJob


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    # Jobs change only through services (claim, lease, cancel, retry); the admin forms never edit them.
    def user_has_permission(self, user, action):
        return action not in {"add", "change", "delete"} and super().user_has_permission(user, action)


class TranscodeJobViewSet(ModelViewSet):
    model = TranscodeJob
    icon = "media"
    menu_label = _("转码任务")
    menu_order = 160
    add_to_admin_menu = True
    inspect_view_enabled = True
    index_view_class = admin_views.JobIndexView
    inspect_view_class = admin_views.JobInspectView
    history_view_class = admin_views.JobHistoryView
    usage_view_class = admin_views.JobUsageView
    copy_view_enabled = False
    form_fields = ["priority"]  # required by ModelViewSet; the edit view is never reachable
    list_display = admin_views.JOB_COLUMNS
    list_filter = ["state", "group"]
    list_per_page = 50
    inspect_view_fields = [
        "owner",
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


@hooks.register("construct_homepage_panels")
def dashboard_failed_transcodes(request, panels):
    panels.append(admin_views.FailedJobsPanel())


admin_urls = [
    path("jobs/<int:job_id>/retry/", admin_views.job_retry, name="job_retry"),
    path("jobs/<int:job_id>/cancel/", admin_views.job_cancel, name="job_cancel"),
    path("jobs/<int:job_id>/prioritise/", admin_views.job_prioritise, name="job_prioritise"),
    path("assets/<int:asset_id>/status/", admin_views.asset_status_json, name="asset_status"),
]


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [path("media-pipeline/", include((admin_urls, "media_pipeline_admin"), namespace="media_pipeline_admin"))]
