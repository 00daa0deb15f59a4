"""Real worker processes: two share one upload's jobs; one killed mid-encode is recovered by the workers
themselves (a long ladder keeping the chunks it had encoded), or by hand with ``media_watchdog``.

Runs `manage.py db_worker` processes against a file-based SQLite database of their own (the test database
of pytest-django is invisible to other processes).
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from media_pipeline.synthetic.media import make_clip
from tests.processes import MANAGE, embedded_env, manage, wait_for

JOBS = "media_pipeline_transcodejob"
TASKS = "django_tasks_database_dbtaskresult"
WORKER_LEASE_SECONDS = 15


@pytest.fixture
def worker_env(tmp_path):
    # A lease long enough that starting a `manage.py` process on a busy machine cannot outlast a live one.
    return embedded_env(tmp_path, MEDIA_JOB_LEASE_SECONDS=str(WORKER_LEASE_SECONDS))


def _manage(env, *args, timeout=120) -> str:
    return manage(env, *args, timeout=timeout).stdout


def _job(db: Path, job_id: int) -> tuple[str, float, int]:
    with sqlite3.connect(db, timeout=10) as connection:
        return connection.execute(f"SELECT state, progress, attempts FROM {JOBS} WHERE id = ?", [job_id]).fetchone()


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children


def _descendants(pid: int) -> list[int]:
    children = _children(pid)
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_killed_worker_is_recovered_by_hand(worker_env, clip_long):
    """SIGKILL the worker while ffmpeg encodes: ffmpeg dies too, the lease expires, `media_watchdog --once`
    (the manual tool) requeues the job, and a fresh worker takes it to done. The heavy worker here serves only
    the `media` queue, so the workers' own watch (on `media_light`) never runs in this test."""
    db = _upload(worker_env, clip_long, ["ladder"])
    _manage(worker_env, *LIGHT_WORKER, "--batch", timeout=180)  # the analysis, on the light queue
    job_id = _job_id(db, "ladder")
    worker_args = HEAVY_WORKER
    worker = subprocess.Popen(
        [sys.executable, str(MANAGE), *worker_args], env=worker_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: _job(db, job_id)[0] == "encoding" and _job(db, job_id)[1] > 0, 60, "encoding progress")
        encoders = wait_for(lambda: _children(worker.pid), 10, "the ffmpeg child")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    # PR_SET_PDEATHSIG: the kernel kills the orphaned ffmpeg instead of letting it encode for nobody.
    wait_for(lambda: not any(_alive(pid) for pid in encoders), 10, "ffmpeg to die with its worker")
    state, progress, attempts = _job(db, job_id)
    assert state == "encoding" and 0 < progress < 1 and attempts == 1

    assert _manage(worker_env, "media_watchdog", "--once").strip() == "0"  # lease still live: nothing to do
    time.sleep(WORKER_LEASE_SECONDS + 0.5)
    assert _manage(worker_env, "media_watchdog", "--once").strip() == "1"
    assert _job(db, job_id)[0] == "queued"

    _manage(worker_env, *worker_args, "--batch", timeout=180)
    assert _job(db, job_id) == ("done", 1.0, 2)
    with sqlite3.connect(db) as connection:
        kinds = connection.execute("SELECT kind FROM media_pipeline_rendition WHERE job_id = ?", [job_id]).fetchall()
    assert sorted(kind for (kind,) in kinds) == ["hls"]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_killed_worker_is_recovered_by_a_plain_worker_keeping_the_chunks_it_encoded(worker_env, tmp_path):
    """A 30 s source in 6 s chunks, one worker on every media queue, SIGKILLed once it has stored two chunks.
    Then only a plain worker starts again (no watchdog): it finds the dead lease through the job's watch task,
    closes the killed task's result as failed, requeues the job, and the job completes re-encoding only the
    chunks that were not stored: the stored ones keep their first encoder and one attempt."""
    clip = make_clip(tmp_path / "lecture.mp4", size="320x180", seconds=30)
    env = {**worker_env, "MEDIA_CHUNK_MIN_SECONDS": "10", "MEDIA_CHUNK_SECONDS": "6"}
    db = _upload(env, clip, ["ladder"])
    first = _start_workers(env, 1)[0]
    chunks = 'SELECT "index", state, lease_owner, attempts FROM media_pipeline_transcodechunk ORDER BY "index"'
    try:
        wait_for(lambda: sum(state == "done" for _i, state, *_ in _query(db, chunks)) >= 2, 240, "two chunks")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    before = _query(db, chunks)
    stored_before = {index: (owner, attempts) for index, state, owner, attempts in before if state == "done"}
    assert 2 <= len(stored_before) < 5, before
    job_id = _job_id(db, "ladder")
    assert _job(db, job_id)[0] == "encoding"
    killed_task = _query(db, f"SELECT lease_owner FROM {JOBS} WHERE id = ?", [job_id])[0][0].split(":")[3]
    assert _query(db, f"SELECT id FROM {TASKS} WHERE status = 'RUNNING'") == [(uuid.UUID(killed_task).hex,)]

    second = _start_workers(env, 1)[0]
    try:
        wait_for(lambda: _job(db, job_id)[0] in ("done", "failed"), 300, "the ladder to finish")
    finally:
        _stop_workers([second])
    assert _job(db, job_id) == ("done", 1.0, 2)
    assert _query(db, f"SELECT count(*) FROM {TASKS} WHERE status = 'RUNNING'") == [(0,)]
    lost = _query(db, f"SELECT id, status FROM {TASKS} WHERE exception_class_path LIKE '%.WorkerLost'")
    assert lost == [(uuid.UUID(killed_task).hex, "FAILED")]
    after = {index: (state, owner, attempts) for index, state, owner, attempts in _query(db, chunks)}
    assert {state for state, _o, _a in after.values()} == {"done"} and len(after) == 5
    for index, (owner, attempts) in stored_before.items():
        assert after[index][1:] == (owner, attempts) == (owner, 1)  # kept, not encoded again
        assert owner.split(":")[1] == str(first.pid)
    encodes_after = [index for index, (_s, owner, _a) in after.items() if owner.split(":")[1] == str(second.pid)]
    assert sorted(encodes_after) == sorted(set(after) - set(stored_before))
    # Encodes counted: one per chunk, plus one for a chunk the kill interrupted (its files were never stored).
    interrupted = sum(state == "running" for _i, state, _o, _a in before)
    assert sum(attempts for _s, _o, attempts in after.values()) == len(after) + interrupted
    kinds = _query(db, "SELECT kind FROM media_pipeline_rendition WHERE job_id = ?", [job_id])
    assert kinds == [("hls",)]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (make test starts it)")
def test_killed_rq_worker_is_recovered_by_a_plain_worker(worker_env, tmp_path):
    """The same kill on RQ (the production backend): the whole `rqworker` (work-horse and ffmpeg too) SIGKILLed
    once two chunks are stored; a plain `rqworker --with-scheduler` started again runs the job's watch, which
    requeues the job and has RQ fail the killed job (AbandonedJobError); the job completes, the stored chunks
    are not encoded again, and no RQ job is left started."""
    import redis
    from rq.job import Job, JobStatus
    from rq.registry import StartedJobRegistry

    connection = redis.Redis.from_url(os.environ["REDIS_URL"])
    connection.flushdb()
    clip = make_clip(tmp_path / "lecture.mp4", size="320x180", seconds=30)
    env = {**worker_env, "REDIS_URL": os.environ["REDIS_URL"], "MEDIA_CHUNK_MIN_SECONDS": "10"}
    env["MEDIA_CHUNK_SECONDS"] = "6"
    db = _upload(env, clip, ["ladder"])
    rq_worker = [sys.executable, str(MANAGE), "rqworker", "--with-scheduler", "--job-class", "django_tasks_rq.Job"]
    rq_worker += ["media", "media_light"]
    chunks = 'SELECT "index", state, lease_owner, attempts FROM media_pipeline_transcodechunk ORDER BY "index"'
    first = subprocess.Popen(
        rq_worker, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: sum(state == "done" for _i, state, *_ in _query(db, chunks)) >= 2, 240, "two chunks")
        job_id = _job_id(db, "ladder")
        killed = _query(db, f"SELECT lease_owner FROM {JOBS} WHERE id = ?", [job_id])[0][0].split(":")[3]
        for pid in [first.pid, *_descendants(first.pid)]:  # the worker, its work-horse (a session of its own)
            os.kill(pid, signal.SIGKILL)  # and ffmpeg: as when the machine is lost
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    before = {index: (owner, attempts) for index, state, owner, attempts in _query(db, chunks) if state == "done"}
    assert 2 <= len(before) < 5
    assert Job.fetch(killed, connection=connection).get_status() == JobStatus.STARTED
    # RQ's scheduler (which runs every run_after task: the watch, a retry's back-off) is locked per queue for
    # 61 s by the dead worker; a worker that starts before that only retries at its 10-minute maintenance. A
    # machine that comes back starts after that. The locks do expire by themselves (their TTL, checked here);
    # the test lets that minute pass at once by taking them away, instead of sleeping through it.
    locks = connection.keys("rq:scheduler-lock:*")
    assert locks and all(0 < connection.ttl(lock) <= 61 for lock in locks)
    connection.delete(*locks)

    second = subprocess.Popen(
        rq_worker, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: _job(db, job_id)[0] in ("done", "failed"), 300, "the ladder to finish")
        wait_for(lambda: Job.fetch(killed, connection=connection).get_status() == JobStatus.FAILED, 60, "RQ to fail it")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=60)
    assert _job(db, job_id) == ("done", 1.0, 2)
    after = {index: (owner, attempts) for index, _state, owner, attempts in _query(db, chunks)}
    assert all(after[index] == kept for index, kept in before.items())  # stored chunks: not encoded again
    for queue in ("media", "media_light"):
        assert StartedJobRegistry(queue, connection=connection).get_job_ids() == []


def test_two_workers_share_one_uploads_jobs(worker_env, clip_short):
    """Two worker processes on the same queues: the jobs one upload fans out to are claimed by both (each
    job by exactly one), and all of them finish."""
    db = _upload(worker_env, clip_short, ["ladder", "tv", "audio_edition", "images"])
    workers = _start_workers(worker_env, 2)
    try:
        finished = f"SELECT count(*) FROM {JOBS} WHERE state IN ('done', 'failed')"
        wait_for(lambda: _query(db, finished)[0][0] == 5, 240, "all five jobs to finish")
    finally:
        _stop_workers(workers)
    rows = _query(db, f"SELECT state, lease_owner FROM {JOBS}")
    assert {state for state, _owner in rows} == {"done"}
    pids = {owner.split(":")[1] for _state, owner in rows}
    assert pids == {str(worker.pid) for worker in workers}


def test_two_workers_share_the_chunks_of_a_long_source(worker_env, tmp_path):
    """A 48 s source counted as long (6 s chunks, so 8 of them): the ladder job's worker and the other
    worker both encode chunks of it at the same time, and the joined ladder is published."""
    clip = make_clip(tmp_path / "lecture.mp4", size="320x180", seconds=48)
    env = {**worker_env, "MEDIA_CHUNK_MIN_SECONDS": "10", "MEDIA_CHUNK_SECONDS": "6"}
    db = _upload(env, clip, ["ladder"])
    workers = _start_workers(env, 2)
    try:
        finished = f"SELECT count(*) FROM {JOBS} WHERE state IN ('done', 'failed')"
        wait_for(lambda: _query(db, finished)[0][0] == 2, 300, "the analysis and the ladder to finish")
    finally:
        _stop_workers(workers)
    assert {state for (state,) in _query(db, f"SELECT state FROM {JOBS}")} == {"done"}
    chunks = _query(db, 'SELECT state, lease_owner FROM media_pipeline_transcodechunk ORDER BY "index"')
    assert [state for state, _owner in chunks] == ["done"] * 8
    # Each worker encoded some: the coordinator does not wait for idle workers, nor do they for it.
    assert {owner.split(":")[1] for _state, owner in chunks} == {str(worker.pid) for worker in workers}


def _start_workers(env, count: int) -> list[subprocess.Popen]:
    args = [sys.executable, str(MANAGE), "db_worker", "--queue-name", "media,media_light", "--interval", "0.2"]
    return [subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]


def _stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
        worker.wait(timeout=30)


LIGHT_WORKER = ["db_worker", "--queue-name", "media_light", "--interval", "0.2", "--no-startup-delay"]
HEAVY_WORKER = ["db_worker", "--queue-name", "media", "--interval", "0.2", "--no-startup-delay"]


def _upload(env, clip: Path, groups: list[str]) -> Path:
    """Migrate the worker's own database and upload ``clip`` there, limited to ``groups``."""
    _manage(env, "migrate", "--run-syncdb", "-v0", timeout=300)
    create = (
        "from django.core.files import File; from media_pipeline.services import media_asset_create; "
        f"media_asset_create(file=File(open({str(clip)!r}, 'rb'), name='clip.mp4'), "
        f"options={{'only_groups': {groups!r}}})"
    )
    _manage(env, "shell", "-c", create)
    return Path(env["LIGHTHOUSE_VAR_DIR"]) / "db.sqlite3"


def _query(db: Path, sql: str, params=()) -> list[tuple]:
    with sqlite3.connect(db, timeout=10) as connection:
        return connection.execute(sql, params).fetchall()


def _job_id(db: Path, group: str) -> int:
    return _query(db, f'SELECT id FROM {JOBS} WHERE "group" = ?', [group])[0][0]
