"""The jobs screen (转码任务): state and progress, and retry / cancel / premiere priority for media admins."""

import pytest
from django.core.files.base import ContentFile

from media_pipeline.models import MediaAsset, TranscodeJob
from media_pipeline.services import media_asset_create, transcode_job_run

pytestmark = pytest.mark.django_db
State = TranscodeJob.State


@pytest.fixture
def failed_job(tmp_path):
    asset = media_asset_create(file=ContentFile("不是视频".encode() * 50, name="bad.mp4"))
    return transcode_job_run(job_id=TranscodeJob.objects.get(asset=asset).pk, worker_id="w1")


def test_admin_sees_jobs_with_state_and_a_retry_button(client, admin_user, failed_job):
    """The list shows the group, the Chinese failure reason and a 重试 button (a POST form, not a link)."""
    client.force_login(admin_user)
    page = client.get("/admin/transcode_jobs/").content.decode()
    assert "转码失败" in page and "重试" in page
    assert f'action="/admin/media-pipeline/jobs/{failed_job.pk}/retry/"' in page


def test_retry_makes_a_new_queued_job_and_cancel_stops_it(client, admin_user, failed_job):
    """Retry queues a new job of the same group; cancelling that one marks it cancelled; both say so."""
    client.force_login(admin_user)
    response = client.post(f"/admin/media-pipeline/jobs/{failed_job.pk}/retry/", {"next": "/admin/transcode_jobs/"})
    assert response.status_code == 302 and response["Location"] == "/admin/transcode_jobs/"
    retry = TranscodeJob.objects.exclude(pk=failed_job.pk).get()
    assert (retry.group, retry.state) == ("analyse", State.QUEUED)

    client.post(f"/admin/media-pipeline/jobs/{retry.pk}/cancel/")
    retry.refresh_from_db()
    assert retry.state == State.CANCELLED
    messages = client.get("/admin/transcode_jobs/").content.decode()
    assert "已取消任务" in messages


def test_retrying_a_running_job_is_refused_with_a_message(client, admin_user, failed_job):
    """Only failed or cancelled jobs can be retried: a queued one gets a Chinese message, nothing new."""
    client.force_login(admin_user)
    queued = media_asset_create(file=ContentFile(b"x" * 100, name="other.mp4")).transcode_jobs.get()
    client.post(f"/admin/media-pipeline/jobs/{queued.pk}/retry/")
    assert TranscodeJob.objects.count() == 2
    assert "只有失败或已取消的任务可以重试" in client.get("/admin/transcode_jobs/").content.decode()


def test_editors_cannot_change_jobs(client, editors, failed_job):
    """A county editor may not retry, cancel or prioritise jobs: refused (Wagtail turns the 403 into a
    redirect with its "no permission" message), nothing changes."""
    client.force_login(editors["zouping_editor"])
    for action in ("retry", "cancel", "prioritise"):
        response = client.post(f"/admin/media-pipeline/jobs/{failed_job.pk}/{action}/")
        assert response.status_code in (302, 403) and "transcode_jobs" not in response.get("Location", "")
    assert TranscodeJob.objects.count() == 1
    failed_job.refresh_from_db()
    assert (failed_job.state, failed_job.priority) == (State.FAILED, 0)


def test_premiere_button_raises_priority(client, admin_user):
    """优先（首播）: a queued job goes to the top priority."""
    client.force_login(admin_user)
    job = media_asset_create(file=ContentFile(b"y" * 100, name="premiere.mp4")).transcode_jobs.get()
    assert "优先（首播）" in client.get("/admin/transcode_jobs/").content.decode()
    client.post(f"/admin/media-pipeline/jobs/{job.pk}/prioritise/")
    job.refresh_from_db()
    assert job.priority == 100


def assets_of_nobody_but_failed(*, user):
    """A stand-in for the library's scope: the assets with a failed job."""
    return MediaAsset.objects.filter(transcode_jobs__state=State.FAILED).values("pk")


def test_asset_status_json_for_the_item_page(client, editors, failed_job, settings):
    """The item page polls this: overall state, Chinese display text, progress and every current job, for an
    editor whose scope (MEDIA_ADMIN_ASSET_SCOPE) holds the asset; outside it, a 404."""
    settings.MEDIA_ADMIN_ASSET_SCOPE = "tests.media_pipeline.test_admin.assets_of_nobody_but_failed"
    client.force_login(editors["sheng_editor"])
    data = client.get(f"/admin/media-pipeline/assets/{failed_job.asset_id}/status/").json()
    assert data["state"] == MediaAsset.State.FAILED and data["state_display"].startswith("转码失败")
    assert [job["group"] for job in data["jobs"]] == ["analyse"]
    client.logout()
    assert client.get(f"/admin/media-pipeline/assets/{failed_job.asset_id}/status/").status_code in (302, 403)
    other = media_asset_create(file=ContentFile(b"z" * 100, name="other-unit.mp4"))
    client.force_login(editors["sheng_editor"])
    assert client.get(f"/admin/media-pipeline/assets/{other.pk}/status/").status_code == 404
