"""Transcode jobs end to end with real ffmpeg: upload, claim, encode, store, publish, fail, retry, requeue."""

import json
import subprocess
from datetime import timedelta

import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from media_pipeline.models import Rendition, TranscodeJob
from media_pipeline.selectors import rendition_hls_get, rendition_poster_get, transcode_job_latest
from media_pipeline.services import (
    media_asset_create,
    media_asset_replace_file,
    transcode_job_cancel,
    transcode_job_run,
    transcode_jobs_requeue_stale,
)

pytestmark = pytest.mark.django_db
State = TranscodeJob.State


def _upload(path, name=None):
    with path.open("rb") as handle:
        return media_asset_create(file=File(handle, name=name or path.name))


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


def test_real_transcode_publishes_hls_and_poster(clip_landscape, django_capture_on_commit_callbacks, tmp_path):
    """A 4 s 640×360 clip becomes a master with measured rates, playable fMP4 variants and a JPEG poster."""
    with django_capture_on_commit_callbacks() as callbacks:
        asset = _upload(clip_landscape, "讲座.mp4")
    assert len(callbacks) == 1  # the task is enqueued after commit, not before
    job = transcode_job_latest(asset=asset)
    assert job.state == State.QUEUED

    job = transcode_job_run(job_id=job.pk, worker_id="w1")

    assert job.state == State.DONE and job.progress == 1.0 and job.attempts == 1 and job.lease_owner == ""
    asset.refresh_from_db()
    assert (asset.kind, asset.width, asset.height) == ("video", 640, 360) and asset.probe["fps"] == 25.0
    hls = rendition_hls_get(asset=asset)
    assert hls.path == f"renditions/{asset.pk}/{job.pk}/hls/master.m3u8"
    master = _stored_text(hls.path)
    assert "AVERAGE-BANDWIDTH=" in master and "FRAME-RATE=25.000" in master
    assert 'CODECS="avc1.640' in master and "mp4a.40.2" in master
    assert "RESOLUTION=640x360" in master and "RESOLUTION=416x234" in master
    assert "audio/index.m3u8" in master and "1280x720" not in master
    # The stored 360p variant plays: ffprobe reads the playlist with its init segment and segments.
    variant = _download_dir(f"renditions/{asset.pk}/{job.pk}/hls/360p", tmp_path / "360p") / "index.m3u8"
    probed = _ffprobe_streams(str(variant))
    video = next(s for s in probed["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"], video["profile"]) == (640, 360, "High")
    assert any(s["codec_type"] == "audio" and s["sample_rate"] == "48000" for s in probed["streams"])
    assert float(probed["format"]["duration"]) == pytest.approx(4.0, abs=0.15)
    poster = rendition_poster_get(asset=asset)
    assert (poster.width, poster.height) == (640, 360)
    assert default_storage.open(poster.path).read(3) == b"\xff\xd8\xff"


def test_rerunning_a_done_job_changes_nothing(clip_short):
    """A second run of a finished job claims nothing: no new renditions, attempts and timestamps unchanged."""
    asset = _upload(clip_short)
    job = transcode_job_run(job_id=transcode_job_latest(asset=asset).pk, worker_id="w1")
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
    """Dedupe reuses only assets whose latest job is not failed: a failed file can be uploaded again."""
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    first = _upload(bad)
    transcode_job_run(job_id=transcode_job_latest(asset=first).pk, worker_id="w1")
    assert _upload(bad).pk != first.pk


def test_bad_file_fails_without_retry_then_replacement_succeeds(tmp_path, clip_short):
    """A text file fails once (no retry: the input is bad) with a Chinese reason; replacing the file works."""
    bad = tmp_path / "lecture.mp4"
    bad.write_text("这是一个文本文件")
    asset = _upload(bad)
    job = transcode_job_run(job_id=transcode_job_latest(asset=asset).pk, worker_id="w1")
    assert job.state == State.FAILED and job.attempts == 1
    assert "不是可识别的音视频文件" in job.error and "Invalid data" in job.error
    assert not Rendition.objects.filter(asset=asset).exists()

    with clip_short.open("rb") as handle:
        media_asset_replace_file(asset=asset, file=File(handle, name="lecture-fixed.mp4"))
    new_job = transcode_job_latest(asset=asset)
    assert new_job.pk != job.pk
    assert transcode_job_run(job_id=new_job.pk, worker_id="w1").state == State.DONE
    assert rendition_hls_get(asset=asset).job_id == new_job.pk


def test_transient_failure_is_retried_with_backoff(clip_short, settings, django_capture_on_commit_callbacks):
    """An ffmpeg that dies (not a bad input) puts the job back in the queue until attempts run out."""
    settings.FFMPEG_BINARY = "false"  # exits 1 with no output, like a process killed by the OOM killer
    settings.MEDIA_JOB_MAX_ATTEMPTS = 2
    asset = _upload(clip_short)
    job = transcode_job_latest(asset=asset)
    with django_capture_on_commit_callbacks() as callbacks:
        job = transcode_job_run(job_id=job.pk, worker_id="w1")
    assert job.state == State.QUEUED and job.attempts == 1 and "转码失败" in job.error
    assert len(callbacks) == 1  # re-enqueued (with run_after back-off)
    job = transcode_job_run(job_id=job.pk, worker_id="w1")
    assert job.state == State.FAILED and job.attempts == 2


def test_cancelled_job_is_not_run(clip_short):
    """Cancelling a queued job means no worker will claim it."""
    asset = _upload(clip_short)
    job = transcode_job_latest(asset=asset)
    assert transcode_job_cancel(job=job)
    assert transcode_job_run(job_id=job.pk, worker_id="w1") is None
    job.refresh_from_db()
    assert job.state == State.CANCELLED and job.attempts == 0


def test_live_lease_blocks_a_second_worker_and_expired_lease_is_requeued(clip_short, settings):
    """A job held under a live lease cannot be claimed; once the lease expires the watchdog requeues it."""
    asset = _upload(clip_short)
    job = transcode_job_latest(asset=asset)
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


def test_silent_video_transcodes_without_audio(clip_silent):
    """A source with no audio stream still ends done, with video-only variants and no audio rung."""
    asset = _upload(clip_silent)
    job = transcode_job_run(job_id=transcode_job_latest(asset=asset).pk, worker_id="w1")
    assert job.state == State.DONE, job.error
    master = _stored_text(rendition_hls_get(asset=asset).path)
    assert "mp4a" not in master and "audio/index.m3u8" not in master
