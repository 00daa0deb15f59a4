"""Admin actions on jobs (retry, cancel, premiere priority) and the status JSON an item's edit page polls.

Each finds its job or asset among those the user manages (selectors.transcode_jobs_managed_by and
media_assets_managed_by): another unit's job or asset is a 404, whatever permission the user holds.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .selectors import asset_status, media_assets_managed_by, transcode_jobs_managed_by
from .services import transcode_job_cancel, transcode_job_prioritise, transcode_job_retry


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
