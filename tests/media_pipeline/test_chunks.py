"""Long sources spread over workers: chunks claimed by whoever is free, stored, fetched and joined."""

import pytest
from django.core.files import File
from django.core.files.storage import default_storage

from media_pipeline.ffmpeg.encoders import encoder_in_force
from media_pipeline.ffmpeg.runner import check_run, run_ffmpeg
from media_pipeline.jobs.analysis import stored_probe
from media_pipeline.jobs.chunks import ChunkCoordinator, transcode_chunk_run
from media_pipeline.models import MediaAsset, TranscodeChunk, TranscodeJob
from media_pipeline.selectors import rendition_hls_get
from media_pipeline.services import media_asset_create, transcode_job_run
from media_pipeline.steps import chunked_ladder
from media_pipeline.steps.chunked_ladder import Chunk
from media_pipeline.steps.profiles import GROUPS, PROFILES
from media_pipeline.steps.web_hls import chunk_policy

pytestmark = pytest.mark.django_db
State = TranscodeJob.State


@pytest.fixture
def small_chunks(settings):
    """A 20 s clip counts as long: 6 s chunks (the 2 s tail joins the last one) → 0–6, 6–12, 12–20."""
    settings.MEDIA_CHUNK_MIN_SECONDS = 10
    settings.MEDIA_CHUNK_SECONDS = 6


def _ladder_job(clip):
    with clip.open("rb") as handle:
        asset = media_asset_create(file=File(handle, name="long.mp4"), options={"only_groups": ["ladder"]})
    analysis = TranscodeJob.objects.get(asset=asset)
    transcode_job_run(job_id=analysis.pk, worker_id="analyser")
    return asset, TranscodeJob.objects.get(asset=asset, group="ladder")


def test_coordinator_alone_encodes_every_chunk_and_joins(clip_long, small_chunks):
    """With no other worker free, the ladder job's own worker encodes all three chunks; the joined ladder
    passes the output checks, and its master names demuxed audio renditions."""
    asset, job = _ladder_job(clip_long)
    job = transcode_job_run(job_id=job.pk, worker_id="coordinator")
    assert job.state == State.DONE, job.error
    rows = list(TranscodeChunk.objects.filter(job=job).values_list("index", "state", "lease_owner", "stored_files"))
    assert rows == [(0, "done", "coordinator", []), (1, "done", "coordinator", []), (2, "done", "coordinator", [])]
    hls = rendition_hls_get(asset=asset)
    assert hls.meta["chunked"] is True
    with default_storage.open(hls.path) as master:
        text = master.read().decode()
    assert "#EXT-X-MEDIA:TYPE=AUDIO" in text and 'AUDIO="aac-' in text


def test_chunk_encoded_by_another_worker_is_fetched_and_a_restarted_job_keeps_it(clip_long, small_chunks):
    """A second worker encodes chunk 1 and stores it; when the job (requeued after its first worker died)
    runs again, it keeps that chunk, encodes only the others, joins, and removes the stored chunk files."""
    asset, job = _ladder_job(clip_long)
    TranscodeJob.objects.filter(pk=job.pk).update(state=State.ENCODING, lease_owner="dead", attempts=1)
    ChunkCoordinator(job, "dead").start([Chunk(0, 0, 6, 0), Chunk(1, 6, 12, 1), Chunk(2, 12, 20, 2)])

    row = transcode_chunk_run(chunk_id=TranscodeChunk.objects.get(job=job, index=1).pk, worker_id="helper")
    assert row.state == "done" and row.stored_files and all(default_storage.exists(n) for n in row.stored_files)
    assert transcode_chunk_run(chunk_id=row.pk, worker_id="late") is None  # done: nothing to claim

    TranscodeJob.objects.filter(pk=job.pk).update(state=State.QUEUED, lease_owner="")
    job = transcode_job_run(job_id=job.pk, worker_id="coordinator")
    assert job.state == State.DONE, job.error
    owners = dict(TranscodeChunk.objects.filter(job=job).values_list("index", "lease_owner"))
    assert owners == {0: "coordinator", 1: "helper", 2: "coordinator"}
    assert not any(default_storage.exists(name) for name in row.stored_files)
    asset.refresh_from_db()
    assert asset.state == MediaAsset.State.READY


def test_chunk_its_dead_coordinator_encoded_is_kept_by_the_next_attempt(clip_long, small_chunks, tmp_path):
    """The coordinator stores each chunk it encodes itself: when it dies before the join (here: after chunk
    0), the job's next attempt, on any machine, fetches that chunk and encodes only the other two."""
    asset, job = _ladder_job(clip_long)
    asset.refresh_from_db()  # analysed: its probe is stored
    TranscodeJob.objects.filter(pk=job.pk).update(state=State.ENCODING, lease_owner="dead", attempts=1)
    source = tmp_path / "source.mp4"  # a local copy, as a worker makes one (the master may be on S3)
    with asset.file.open("rb") as handle:
        source.write_bytes(handle.read())
    commands = chunked_ladder.chunk_commands(
        source=source,
        probe=stored_probe(asset=asset),
        profile=PROFILES[GROUPS["ladder"].profiles[0]],
        work_dir=tmp_path,
        policy=chunk_policy(),
        encoder=encoder_in_force(),
    )
    dead = ChunkCoordinator(job, "dead")
    dead.start([chunk for chunk, _args in commands])
    chunk = dead.claim_next()
    check_run(run_ffmpeg(commands[chunk.index][1], duration=chunk.length))
    dead.finish_local(chunk, chunked_ladder.chunk_dir(tmp_path, chunk))
    kept = TranscodeChunk.objects.get(job=job, index=chunk.index)
    assert kept.state == "done" and kept.stored_files and all(default_storage.exists(n) for n in kept.stored_files)

    TranscodeJob.objects.filter(pk=job.pk).update(state=State.QUEUED, lease_owner="")  # requeued after the death
    job = transcode_job_run(job_id=job.pk, worker_id="next")
    assert job.state == State.DONE, job.error
    rows = TranscodeChunk.objects.filter(job=job).order_by("index").values_list("index", "lease_owner", "attempts")
    assert list(rows) == [(0, "dead", 1), (1, "next", 1), (2, "next", 1)]  # chunk 0 encoded once, not again
    assert not any(default_storage.exists(name) for name in kept.stored_files)  # removed once published


def test_chunk_of_a_finished_job_is_not_claimed(clip_long, small_chunks):
    """A chunk task that arrives after its job ended (done, failed, cancelled) does nothing."""
    _asset, job = _ladder_job(clip_long)
    TranscodeJob.objects.filter(pk=job.pk).update(state=State.ENCODING, lease_owner="coordinator")
    ChunkCoordinator(job, "coordinator").start([Chunk(0, 0, 10, 0), Chunk(1, 10, 20, 1)])
    TranscodeJob.objects.filter(pk=job.pk).update(state=State.CANCELLED)
    assert transcode_chunk_run(chunk_id=TranscodeChunk.objects.get(job=job, index=0).pk, worker_id="w") is None
