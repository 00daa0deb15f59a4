"""Transcode jobs end to end with real ffmpeg: upload, analyse, fan out, encode, check, store, publish, fail,
retry, cancel, requeue."""

import json
import subprocess
from datetime import timedelta

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from media_pipeline.errors import RETRIES_EXHAUSTED
from media_pipeline.events import renditions_published
from media_pipeline.jobs.recovery import worker_name
from media_pipeline.models import MediaAsset, Rendition, TranscodeJob
from media_pipeline.selectors import (
    asset_progress,
    asset_state_display,
    asset_status,
    rendition_hls_get,
    rendition_poster_get,
    renditions_by_profile,
    transcode_job_latest,
)
from media_pipeline.services import (
    media_asset_create,
    media_asset_replace_file,
    transcode_job_cancel,
    transcode_job_prioritise,
    transcode_job_retry,
    transcode_job_run,
    transcode_job_watch,
    transcode_jobs_requeue_stale,
)
from media_pipeline.tasks import transcode_job_task, transcode_job_watch_task

from .test_editor_messages import assert_plain_chinese

pytestmark = pytest.mark.django_db
State = TranscodeJob.State
LADDER_ONLY = {"only_groups": ["ladder"]}


def _upload(path, name=None, options=None):
    with path.open("rb") as handle:
        return media_asset_create(file=File(handle, name=name or path.name), options=options)


def _run_all(asset, worker="w1"):
    """Run the asset's queued jobs oldest first, as workers would, until none is left."""
    while job := TranscodeJob.objects.filter(asset=asset, state=State.QUEUED).order_by("pk").first():
        transcode_job_run(job_id=job.pk, worker_id=worker)
    asset.refresh_from_db()
    return asset


def _stored_text(name):
    with default_storage.open(name, "rb") as handle:
        return handle.read().decode()


def _ffprobe_streams(path):
    args = ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)]
    return json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)


def _download_dir(prefix, dest):
    """Copy one stored folder to local disk (works for S3 as well as local storage)."""
    dest.mkdir(parents=True)
    for name in default_storage.listdir(prefix)[1]:
        with default_storage.open(f"{prefix}/{name}") as stored:
            (dest / name).write_bytes(stored.read())
    return dest


def test_upload_is_analysed_then_fans_out_to_every_default_group(clip_short, django_capture_on_commit_callbacks):
    """One upload: an analysis job on the light queue, then ladder, TV, audio edition and pictures; each
    publishes its renditions and the asset ends ready with every profile's output."""
    with django_capture_on_commit_callbacks() as callbacks:
        asset = _upload(clip_short, "讲座.mp4")
    assert len(callbacks) == 1  # the task is enqueued after commit, not before
    analysis = transcode_job_latest(asset=asset)
    assert (analysis.group, analysis.state, asset.state) == ("analyse", State.QUEUED, MediaAsset.State.PENDING)

    transcode_job_run(job_id=analysis.pk, worker_id="w1")
    asset.refresh_from_db()
    assert asset.kind == "video" and asset.probe["loudness"]["input_i"] < 0
    children = list(analysis.children.order_by("pk"))
    assert [job.group for job in children] == ["ladder", "tv", "audio_edition", "images"]
    assert asset_state_display(asset=asset).startswith("转码中")

    asset = _run_all(asset)
    assert asset.state == MediaAsset.State.READY, asset.state_error
    assert asset_progress(asset=asset).progress == 1.0
    profiles = renditions_by_profile(asset=asset)
    assert {"hls_web", "tv_1080p", "tv_1080p_hls", "audio_m4a", "audio_mp3", "poster", "sprite"} <= set(profiles)
    assert "screen_landscape" not in profiles  # public screens only when an item asks for them


def test_real_transcode_publishes_hls_and_poster(clip_landscape, tmp_path):
    """A 4 s 640×360 clip becomes a master with measured rates, playable fMP4 variants and a JPEG poster."""
    asset = _run_all(_upload(clip_landscape, "讲座.mp4", options={"only_groups": ["ladder", "images"]}))

    job = TranscodeJob.objects.get(asset=asset, group="ladder")
    assert job.state == State.DONE and job.progress == 1.0 and job.attempts == 1 and job.lease_owner == "w1"
    assert (asset.kind, asset.width, asset.height) == ("video", 640, 360) and asset.probe["fps"] == 25.0
    hls = rendition_hls_get(asset=asset)
    assert hls.path == f"renditions/{asset.pk}/{job.pk}/hls_web/master.m3u8"
    master = _stored_text(hls.path)
    assert "AVERAGE-BANDWIDTH=" in master and "FRAME-RATE=25.000" in master
    assert 'CODECS="avc1.640' in master and "mp4a.40.2" in master
    assert "RESOLUTION=640x360" in master and "RESOLUTION=416x234" in master
    assert "audio/index.m3u8" in master and "1280x720" not in master
    # The stored 360p variant plays: ffprobe reads the playlist with its init segment and segments.
    variant = _download_dir(f"renditions/{asset.pk}/{job.pk}/hls_web/360p", tmp_path / "360p") / "index.m3u8"
    probed = _ffprobe_streams(str(variant))
    video = next(s for s in probed["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"], video["profile"]) == (640, 360, "High")
    assert any(s["codec_type"] == "audio" and s["sample_rate"] == "48000" for s in probed["streams"])
    assert float(probed["format"]["duration"]) == pytest.approx(4.0, abs=0.15)
    poster = rendition_poster_get(asset=asset)
    assert (poster.width, poster.height) == (640, 360)
    assert default_storage.open(poster.path).read(3) == b"\xff\xd8\xff"


def _ladder_job(asset):
    """Analyse (for real), then return the queued ladder job it started."""
    transcode_job_run(job_id=transcode_job_latest(asset=asset).pk, worker_id="analyser")
    return TranscodeJob.objects.get(asset=asset, group="ladder", state=State.QUEUED)


def test_rerunning_a_done_job_changes_nothing(clip_short):
    """A second run of a finished job claims nothing: no new renditions, attempts and timestamps unchanged."""
    asset = _upload(clip_short, options=LADDER_ONLY)
    job = transcode_job_run(job_id=_ladder_job(asset).pk, worker_id="w1")
    before = (job.state, job.attempts, job.finished_at, Rendition.objects.count())

    assert transcode_job_run(job_id=job.pk, worker_id="w2") is None
    job.refresh_from_db()
    assert (job.state, job.attempts, job.finished_at, Rendition.objects.count()) == before


def test_same_file_uploaded_twice_is_transcoded_once(clip_short):
    """Same SHA-256: the second upload returns the first asset and creates no second job."""
    first = _upload(clip_short, "a.mp4")
    second = _upload(clip_short, "b.mp4")
    assert second.pk == first.pk
    assert TranscodeJob.objects.count() == 1


def test_failed_upload_does_not_block_a_new_try_of_the_same_bytes(tmp_path):
    """Dedupe reuses only assets whose analysis did not fail: a failed file can be uploaded again."""
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    first = _run_all(_upload(bad))
    assert first.state == MediaAsset.State.FAILED
    assert _upload(bad).pk != first.pk


def test_bad_file_fails_without_retry_then_replacement_succeeds(tmp_path, clip_short):
    """A text file fails once (no retry: the input is bad) with a Chinese sentence saying what to do, the tool's
    English only in the log; replacing the file works."""
    bad = tmp_path / "lecture.mp4"
    bad.write_text("这是一个文本文件")
    asset = _run_all(_upload(bad, options=LADDER_ONLY))
    job = transcode_job_latest(asset=asset)
    assert job.state == State.FAILED and job.attempts == 1
    assert job.error == "不是可识别的音视频文件，或文件已损坏，请检查后重新上传" and "Invalid data" in job.log_tail
    assert asset.state == MediaAsset.State.FAILED and "不是可识别的音视频文件" in asset_state_display(asset=asset)
    assert_plain_chinese(asset_status(asset=asset)["error"])
    assert not Rendition.objects.filter(asset=asset).exists()

    with clip_short.open("rb") as handle:
        media_asset_replace_file(asset=asset, file=File(handle, name="lecture-fixed.mp4"))
    asset = _run_all(asset)
    assert asset.state == MediaAsset.State.READY
    assert rendition_hls_get(asset=asset).job.parent_id == transcode_job_latest(asset=asset).parent_id


def test_transient_failure_is_retried_with_backoff(clip_short, settings, django_capture_on_commit_callbacks):
    """An ffmpeg that dies (not a bad input) puts the job back in the queue until attempts run out."""
    asset = _upload(clip_short, options=LADDER_ONLY)
    job = _ladder_job(asset)
    settings.FFMPEG_BINARY = "false"  # exits 1 with no output, like a process killed by the OOM killer
    settings.MEDIA_JOB_MAX_ATTEMPTS = 2
    with django_capture_on_commit_callbacks() as callbacks:
        job = transcode_job_run(job_id=job.pk, worker_id="w1")
    assert job.state == State.QUEUED and job.attempts == 1 and job.error == "转码意外中断，系统将自动重试"
    assert len(callbacks) == 2  # the claim's watch (jobs/recovery.py), and the re-enqueue with run_after back-off
    job = transcode_job_run(job_id=job.pk, worker_id="w1")
    assert job.state == State.FAILED and job.attempts == 2 and job.error == RETRIES_EXHAUSTED
    asset.refresh_from_db()
    assert asset.state == MediaAsset.State.FAILED


def test_failed_job_retried_from_the_admin_service_completes(clip_short, settings):
    """Retry makes a new job of the same group (the failed one stays as history); once it is done the
    asset is ready again and shows no error."""
    asset = _upload(clip_short, options=LADDER_ONLY)
    job = _ladder_job(asset)
    settings.FFMPEG_BINARY = "false"
    settings.MEDIA_JOB_MAX_ATTEMPTS = 1
    failed = transcode_job_run(job_id=job.pk, worker_id="w1")
    assert failed.state == State.FAILED
    settings.FFMPEG_BINARY = "ffmpeg"

    retry = transcode_job_retry(job=failed)
    assert (retry.group, retry.parent_id, retry.state) == ("ladder", failed.parent_id, State.QUEUED)
    asset = _run_all(asset)
    assert asset.state == MediaAsset.State.READY and asset.state_error == ""
    assert TranscodeJob.objects.filter(pk=failed.pk, state=State.FAILED).exists()


def test_cancelled_job_is_not_run(clip_short):
    """Cancelling a queued job means no worker will claim it, and the asset says it failed (cancelled)."""
    asset = _upload(clip_short)
    job = transcode_job_latest(asset=asset)
    assert transcode_job_cancel(job=job)
    assert transcode_job_run(job_id=job.pk, worker_id="w1") is None
    job.refresh_from_db()
    assert job.state == State.CANCELLED and job.attempts == 0
    asset.refresh_from_db()
    assert asset.state == MediaAsset.State.FAILED


def test_premiere_priority_moves_queued_work_to_the_front(clip_short, django_capture_on_commit_callbacks):
    """Prioritising an analysis raises it and its queued children to the top priority and re-enqueues them."""
    asset = _upload(clip_short, options=LADDER_ONLY)
    analysis = transcode_job_latest(asset=asset)
    with django_capture_on_commit_callbacks() as callbacks:
        transcode_job_prioritise(job=analysis)
    assert analysis.priority == 100 and len(callbacks) == 1
    transcode_job_run(job_id=analysis.pk, worker_id="w1")
    assert TranscodeJob.objects.get(asset=asset, group="ladder").priority == 100  # children inherit it


def test_live_lease_blocks_a_second_worker_and_expired_lease_is_requeued(clip_short, settings):
    """A job held under a live lease cannot be claimed; once the lease expires the watchdog requeues it."""
    asset = _upload(clip_short, options=LADDER_ONLY)
    job = _ladder_job(asset)
    live_until = timezone.now() + timedelta(seconds=settings.MEDIA_JOB_LEASE_SECONDS)
    TranscodeJob.objects.filter(pk=job.pk).update(
        state=State.ENCODING, lease_owner="dead-worker", lease_expires_at=live_until, attempts=1
    )
    assert transcode_job_run(job_id=job.pk, worker_id="w2") is None
    assert transcode_jobs_requeue_stale() == 0

    TranscodeJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert transcode_jobs_requeue_stale() == 1
    job.refresh_from_db()
    assert job.state == State.QUEUED and job.lease_owner == ""
    assert transcode_job_run(job_id=job.pk, worker_id="w2").state == State.DONE


def test_watch_requeues_a_dead_workers_job_and_closes_its_task_result(
    clip_short, settings, django_capture_on_commit_callbacks
):
    """The watch each claim schedules (jobs/recovery.py): while the lease is live it only looks again later;
    once the lease ran out (the worker was killed) it puts the job back in the queue and marks the dead task's
    result failed (WorkerLost) in the database backend, so no task result stays RUNNING."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}
    job = _ladder_job(_upload(clip_short, options=LADDER_ONLY))
    result = transcode_job_task.enqueue(job.pk)
    DBTaskResult.objects.filter(id=result.id).update(status=TaskResultStatus.RUNNING)  # a worker took it, then died
    TranscodeJob.objects.filter(pk=job.pk).update(
        state=State.ENCODING,
        lease_owner=worker_name(result.id),
        lease_expires_at=timezone.now() + timedelta(seconds=settings.MEDIA_JOB_LEASE_SECONDS),
        attempts=1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        transcode_job_watch(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == State.ENCODING
    again = DBTaskResult.objects.get(task_path__endswith="transcode_job_watch_task")
    assert again.run_after > job.lease_expires_at  # looks again just after the renewed lease would end

    TranscodeJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        transcode_job_watch(job_id=job.pk)
    job.refresh_from_db()
    dead = DBTaskResult.objects.get(id=result.id)
    assert job.state == State.QUEUED and job.lease_owner == ""
    assert dead.status == TaskResultStatus.FAILED and dead.exception_class_path.endswith(".WorkerLost")
    assert dead.finished_at is not None
    assert DBTaskResult.objects.filter(task_path__endswith="transcode_job_watch_task").count() == 1  # no more watch
    assert DBTaskResult.objects.filter(task_path__endswith="transcode_job_task", status="READY").count() == 1


def test_a_jobs_last_watch_clears_finished_watches_older_than_a_day(settings):
    """Watches are one row per lease period of every running job: on the database backend the last watch of a
    job deletes finished watch rows older than a day (WATCH_RESULTS_KEPT), keeping newer ones and other tasks."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}
    watches = [transcode_job_watch_task.enqueue(0) for _ in range(3)]
    other = transcode_job_task.enqueue(0)
    now = timezone.now()
    finished = {watches[0].id: now - timedelta(days=2), watches[1].id: now - timedelta(hours=1), other.id: now}
    for result_id, at in finished.items():
        DBTaskResult.objects.filter(id=result_id).update(status=TaskResultStatus.SUCCESSFUL, finished_at=at)
    DBTaskResult.objects.filter(id=other.id).update(finished_at=now - timedelta(days=3))
    transcode_job_watch(job_id=0)  # no such running job: its last watch
    left = set(DBTaskResult.objects.values_list("id", flat=True))
    assert str(watches[0].id) not in {str(i) for i in left}
    assert {str(watches[1].id), str(watches[2].id), str(other.id)} <= {str(i) for i in left}


def test_stale_job_out_of_attempts_fails(clip_short, settings):
    """A job whose workers keep dying stops after MEDIA_JOB_MAX_ATTEMPTS with a Chinese reason."""
    asset = _upload(clip_short)
    job = transcode_job_latest(asset=asset)
    TranscodeJob.objects.filter(pk=job.pk).update(
        state=State.ENCODING,
        lease_owner="dead",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        attempts=settings.MEDIA_JOB_MAX_ATTEMPTS,
    )
    assert transcode_jobs_requeue_stale() == 0
    job.refresh_from_db()
    assert job.state == State.FAILED and "多次意外中断" in job.error
    asset.refresh_from_db()
    assert asset.state == MediaAsset.State.FAILED and "多次意外中断" in asset.state_error


def test_silent_video_transcodes_without_audio(clip_silent):
    """A source with no audio stream still ends ready, with video-only variants, no audio rung and no
    audio edition job."""
    asset = _run_all(_upload(clip_silent, options={"only_groups": ["ladder", "audio_edition"]}))
    assert asset.state == MediaAsset.State.READY, asset.state_error
    assert not TranscodeJob.objects.filter(asset=asset, group="audio_edition").exists()
    master = _stored_text(rendition_hls_get(asset=asset).path)
    assert "mp4a" not in master and "audio/index.m3u8" not in master


def test_queued_job_whose_task_was_lost_is_enqueued_again(clip_short, settings, django_capture_on_commit_callbacks):
    """A job still queued long after it was due (its task lost with a flushed queue) gets a new task from the
    watchdog; one that is merely waiting its turn does not."""
    job = transcode_job_latest(asset=_upload(clip_short))
    assert transcode_jobs_requeue_stale() == 0
    lost = timezone.now() - timedelta(seconds=settings.MEDIA_JOB_REQUEUE_SECONDS + 60)
    TranscodeJob.objects.filter(pk=job.pk).update(due_at=lost)
    with django_capture_on_commit_callbacks() as callbacks:
        assert transcode_jobs_requeue_stale() == 1
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.due_at > lost and job.state == State.QUEUED


def test_cancelled_rendition_job_leaves_the_asset_not_ready(clip_short):
    """Cancelling the ladder while the rest finish: the asset says cancelled, not 已完成 without a stream."""
    asset = _upload(clip_short, options={"only_groups": ["ladder", "images"]})
    transcode_job_run(job_id=transcode_job_latest(asset=asset).pk, worker_id="w1")
    transcode_job_cancel(job=TranscodeJob.objects.get(asset=asset, group="ladder"))
    asset = _run_all(asset)
    assert asset.state == MediaAsset.State.FAILED and asset.state_error == "已取消"


def test_new_captions_while_the_ladder_waits_make_no_second_job(clip_short):
    """Captions attached while the ladder is still queued: that job reads them when it starts; no duplicate."""
    from django.core.files.base import ContentFile

    from media_pipeline.services import caption_attach

    asset = _upload(clip_short, options=LADDER_ONLY)
    _ladder_job(asset)
    caption_attach(asset=asset, file=ContentFile(b"1\n00:00:00,000 --> 00:00:01,000\nA\n", name="a.srt"))
    assert TranscodeJob.objects.filter(asset=asset, group="ladder").count() == 1


def test_every_profile_a_group_runs_has_a_step():
    """The registry is keyed by the profile's class: every profile of every job group finds its step, and the step
    it names can be imported."""
    from django.utils.module_loading import import_string

    from media_pipeline.jobs.producers import PRODUCERS
    from media_pipeline.steps.profiles import JOB_GROUPS, PROFILES

    for group in JOB_GROUPS:
        for name in group.profiles:
            assert callable(import_string(PRODUCERS[type(PROFILES[name])])), name


def test_a_finished_job_announces_its_renditions_after_commit(clip_short, django_capture_on_commit_callbacks):
    """The end of a transcode is the one event the pipeline sends (media_pipeline.events.renditions_published):
    once per finished job, after the renditions it describes are committed, naming the asset and the group."""
    heard = []

    def listener(sender, *, asset_id, group, **kwargs):
        heard.append((asset_id, group, Rendition.objects.filter(asset_id=asset_id).exists()))

    renditions_published.connect(listener, dispatch_uid="test:renditions-published")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            asset = _upload(clip_short, options=LADDER_ONLY)
        while job := TranscodeJob.objects.filter(asset=asset, state=State.QUEUED).order_by("pk").first():
            with django_capture_on_commit_callbacks(execute=True):
                transcode_job_run(job_id=job.pk, worker_id="w1")
    finally:
        renditions_published.disconnect(dispatch_uid="test:renditions-published")
    assert (asset.pk, "ladder", True) in heard
    assert len(heard) == TranscodeJob.objects.filter(asset=asset, state=State.DONE).exclude(group="analyse").count()
