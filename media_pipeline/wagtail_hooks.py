"""Admin: a read-only list of transcode jobs (转码任务). Retry/cancel buttons are later work (issue 3)."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from .models import TranscodeJob
from .selectors import transcode_job_state_display


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    # Jobs change only through services (claim, lease, cancel); the admin may look, never edit.
    def user_has_permission(self, user, action):
        return action not in {"add", "change", "delete"} and super().user_has_permission(user, action)


def progress_percent(job: TranscodeJob) -> str:
    return f"{round(job.progress * 100)}%"


def state_display(job: TranscodeJob) -> str:
    return transcode_job_state_display(job=job)


class TranscodeJobViewSet(ModelViewSet):
    model = TranscodeJob
    icon = "media"
    menu_label = _("转码任务")
    menu_order = 160
    add_to_admin_menu = True
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields = ["priority"]  # required by ModelViewSet; the edit view is never reachable
    list_display = [
        "asset",
        Column("state_display", label=_("状态"), accessor=state_display),
        Column("progress_percent", label=_("进度"), accessor=progress_percent),
        "attempts",
        "error",
        "created_at",
    ]
    list_filter = ["state"]
    list_per_page = 50
    inspect_view_fields = [
        "asset",
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

    def get_queryset(self, request):
        return TranscodeJob.objects.select_related("asset")


register_permission_policy(TranscodeJob, ReadOnlyPermissionPolicy(TranscodeJob))


@hooks.register("register_admin_viewset")
def register_transcode_job_viewset():
    return TranscodeJobViewSet("transcode_jobs")
