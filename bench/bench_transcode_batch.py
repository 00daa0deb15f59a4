"""Jobs per hour for a mixed batch: two real worker processes vs the same jobs run one by one in one process.

The batch (lengths scale with ``BENCH_SECONDS``/20): a 10 s 1280x720 talk, a 30 s audio programme, an 8 s
720x1280 portrait video and a 3-page Chinese PDF, uploaded with the default groups. Each upload starts an
analyse job, which starts the group jobs its kind gets (video: ladder, tv, audio_edition, images; audio:
ladder, audio_edition; document: document).

- reference: one process takes the queued jobs in id order and runs each with ``transcode_job_run``;
- two workers: ``manage.py db_worker --queue-name media,media_light`` twice, on a copy of the same database
  (same uploads, same queued tasks), timed from starting them until every job has finished. Their start-up
  (Django, the first poll) is inside the figure, as it is for a real deployment.
"""

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import (
    ROOT,
    Cost,
    bench_seconds,
    cores,
    isolated_env,
    load,
    machine_line,
    measure,
    ratio,
    remove_at_exit,
    setup_django,
)

JOBS = "media_pipeline_transcodejob"
TERMINAL = ("done", "failed", "cancelled")
WORKER = ["db_worker", "--queue-name", "media,media_light", "--interval", "0.2", "--no-startup-delay", "--no-reload"]
POLL_SECONDS = 0.2
TIMEOUT_SECONDS = 1800


def make_batch(folder: Path, scale: float) -> dict[str, Path]:
    """The four uploads; the PDF comes from the document tests' fixture (skipped if it cannot be imported)."""
    from media_pipeline.synthetic.media import make_clip

    batch = {
        "talk_720p.mp4": make_clip(folder / "talk_720p.mp4", size="1280x720", seconds=round(10 * scale, 1)),
        "programme.m4a": make_clip(folder / "programme.m4a", video=False, seconds=round(30 * scale, 1)),
        "portrait.mp4": make_clip(folder / "portrait.mp4", size="720x1280", seconds=round(8 * scale, 1)),
    }
    from media_pipeline.synthetic.documents import chinese_pdf

    pdf = folder / "handbook.pdf"
    pdf.write_bytes(chinese_pdf())
    return {**batch, pdf.name: pdf}


def upload(batch: dict[str, Path]) -> None:
    from django.core.files import File

    from media_pipeline.services import media_asset_create

    for name, path in batch.items():
        with path.open("rb") as handle:
            media_asset_create(file=File(handle, name=name))


def clone_var(source: Path, target: Path) -> None:
    """The database (through SQLite's backup API: consistent in WAL mode) and the stored uploads."""
    import shutil

    target.mkdir(parents=True)
    with sqlite3.connect(source / "db.sqlite3") as src, sqlite3.connect(target / "db.sqlite3") as dst:
        src.backup(dst)
    shutil.copytree(source / "media", target / "media")


def run_serially() -> tuple[Cost, list[tuple[str, str, Cost]]]:
    """Every queued job in id order, in this process, until none is left; each job id runs once."""
    from media_pipeline.models import TranscodeJob
    from media_pipeline.services import transcode_job_run

    seen, per_job = set(), []
    with measure() as total:
        while job := TranscodeJob.objects.filter(state="queued").exclude(pk__in=seen).order_by("id").first():
            seen.add(job.pk)
            with measure() as cost:
                transcode_job_run(job_id=job.pk, worker_id="bench-serial")
            per_job.append((job.group, job.asset.original_name, cost))
    return total, per_job


def run_workers(var: Path, uploads: int) -> Cost:
    """Two db_worker processes until every job is in a final state; their CPU is counted once they exit."""
    env = isolated_env(var)
    db = var / "db.sqlite3"
    log = (var / "workers.log").open("w")
    started = finished = time.perf_counter()
    with measure() as cost:
        workers = [
            subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), *WORKER], env=env, cwd=ROOT, stdout=log, stderr=log
            )
            for _ in range(2)
        ]
        try:
            _wait_until_finished(db, uploads, workers)
            finished = time.perf_counter()
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=60)
            log.close()
    # Wall up to the moment the last job finished (not the shutdown); CPU includes the shutdown, reaped above.
    cost.wall = finished - started
    return cost


def _wait_until_finished(db: Path, uploads: int, workers: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if any(worker.poll() is not None for worker in workers):
            raise RuntimeError("a worker exited early; run with BENCH_KEEP=1 and read workers.log in the var folder")
        open_jobs, analysed = _query(
            db,
            f"SELECT (SELECT count(*) FROM {JOBS} WHERE state NOT IN {TERMINAL}),"
            f" (SELECT count(*) FROM {JOBS} WHERE \"group\" = 'analyse' AND state IN {TERMINAL})",
        )[0]
        if open_jobs == 0 and analysed >= uploads:
            return
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"the workers did not finish the batch within {TIMEOUT_SECONDS} s")


def _query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db, timeout=10) as connection:
        return connection.execute(sql).fetchall()


def job_states(db: Path) -> dict[str, int]:
    return dict(_query(db, f"SELECT state, count(*) FROM {JOBS} GROUP BY state"))


def main() -> None:
    scale = bench_seconds(20) / 20
    var = setup_django(prefix="lh-bench-batch-")
    from django.db import connection

    print(machine_line())
    batch = make_batch(var, scale)
    upload(batch)
    connection.close()
    clone = remove_at_exit(var.with_name(var.name + "-workers"))
    clone_var(var, clone)
    print(f"batch: {', '.join(batch)} (uploaded with the default groups)", flush=True)

    serial, per_job = run_serially()
    serial_states = job_states(var / "db.sqlite3")
    print(f"  serial run done, load average {load()}", flush=True)
    workers = run_workers(clone, uploads=len(batch))
    worker_states = job_states(clone / "db.sqlite3")
    print(f"  two-worker run done, load average {load()}\n", flush=True)
    report(batch, serial, per_job, serial_states, workers, worker_states)


def report(batch, serial: Cost, per_job, serial_states, workers: Cost, worker_states) -> None:
    n = cores()
    print(f"{'serial run, job by job':40s}{'wall':>9s}{'CPU':>14s}")
    for group, name, cost in per_job:
        print(f"  {group:14s} {name:23s}{cost.wall:7.2f} s{cost.cpu:9.2f} CPU-s")
    jobs = sum(serial_states.values())
    print(f"\njobs: {jobs} ({len(batch)} analyse + {jobs - len(batch)} group jobs); serial {serial_states}, ", end="")
    print(f"two workers {worker_states}")
    print(f"\n{'':40s}{'wall':>9s}{'CPU':>14s}{'jobs/h':>9s}{'assets/h':>10s}{'cores busy':>12s}")
    for label, cost in (("one process, job after job", serial), ("two db_worker processes", workers)):
        print(
            f"{label:40s}{cost.wall:7.2f} s{cost.cpu:9.2f} CPU-s{ratio(jobs * 3600, cost.wall):9.0f}"
            f"{ratio(len(batch) * 3600, cost.wall):10.0f}{ratio(cost.cpu, cost.wall):9.2f}/{n}"
        )
    speedup = ratio(serial.wall, workers.wall)
    ceiling = min(2.0, ratio(n, ratio(serial.cpu, serial.wall)))
    print(f"\nspeed-up from two workers: {speedup:.2f}× (the same jobs, the same machine)")
    print(
        f"ceiling: {ceiling:.2f}× (two workers, or cores ÷ cores the serial run kept busy if fewer: x264 already "
        "spreads one encode over the cores, so a second worker can only fill what the first leaves idle). On a "
        f"shared machine both runs get only what the other load leaves (load average now {load()})."
    )
    if worker_states != serial_states:
        print("NOTE: the two runs ended in different job states; compare them before trusting the figures")


if __name__ == "__main__":
    sys.exit(main())
