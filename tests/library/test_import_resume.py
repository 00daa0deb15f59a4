"""Interrupted imports (issue 11, item 7): a batch whose process dies becomes "中断", says how far it got, and
resumes from its first uncommitted chunk to a finished batch that counts every row once.

The first test kills a real `manage.py library_import` process with SIGKILL mid-way, against a file-based SQLite
database of its own (as tests/media_pipeline/test_worker_kill.py does for transcode workers)."""

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

import library.imports.importer as importing
from cms.models import Member, OrgUnit
from library.imports.importer import (
    import_batch_check,
    import_batch_resume,
    import_batch_run_saved,
    import_batches_interrupt_stale,
    import_file,
)
from library.imports.leases import _namespace, _start_time, worker_id
from library.models import ImportBatch, LibraryItem
from tests.library.test_import import good_row, write_csv
from tests.processes import MANAGE, embedded_env, manage, wait_for

pytestmark = pytest.mark.django_db

ROWS = 10_000


def _csv_bytes(count: int) -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(["external_id", "title", "creators", "is_published"])
    for n in range(1, count + 1):
        writer.writerow([f"K{n}", f"第{n}本书", "某某 著", "是"])
    return stream.getvalue().encode()


@pytest.fixture
def command_env(tmp_path):
    return embedded_env(tmp_path)


def _manage(env, *args, timeout=180, check=True) -> subprocess.CompletedProcess:
    return manage(env, *args, timeout=timeout, check=check)


def _query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db, timeout=10) as connection:
        return connection.execute(sql).fetchall()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_import_killed_mid_way_is_interrupted_then_resumes_to_every_row_once(command_env, tmp_path):
    """SIGKILL the import command after a few of its 11 chunks: the batch still says "running" with those chunks
    in; the next import start sees that its process is gone (same machine, no waiting out the lease) and marks it
    interrupted; `library_import --resume` goes on from the first uncommitted chunk, and the finished batch has
    created every row exactly once (no duplicates, nothing missing)."""
    _manage(command_env, "migrate", "--run-syncdb", "-v0", timeout=300)
    create_unit = (
        "from cms.services import org_unit_create; "
        "org_unit_create(parent=None, name='山东省', code='sd', level='province')"
    )
    _manage(command_env, "shell", "-c", create_unit)
    db = Path(command_env["LIGHTHOUSE_VAR_DIR"]) / "db.sqlite3"
    path = tmp_path / "big.csv"
    path.write_bytes(_csv_bytes(ROWS))
    args = [sys.executable, str(MANAGE), "library_import", str(path), "--source", "big", "--unit", "sd"]
    process = subprocess.Popen(args, env=command_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        steps = "SELECT steps_done FROM library_importbatch"
        wait_for(lambda: (_query(db, steps) or [(0,)])[0][0] >= 4, 120, "three chunks to commit")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    batch = "SELECT id, state, steps_done, created FROM library_importbatch"
    batch_id, state, steps_done, created = _query(db, batch)[0]
    in_library = _query(db, "SELECT count(*) FROM library_libraryitem")[0][0]
    assert state == "running" and 3 <= steps_done - 1 < 10 and created == in_library == (steps_done - 1) * 1000

    resumed = _manage(command_env, "library_import", "--resume", str(batch_id))
    assert f"共 {ROWS} 行，新增 {ROWS}，更新 0，未变 0，拒绝 0" in resumed.stdout
    assert _query(db, batch) == [(batch_id, "done", 11, ROWS)]
    assert _query(db, "SELECT count(*), count(DISTINCT external_id) FROM library_libraryitem") == [(ROWS, ROWS)]


def _crash_on_write(monkeypatch, *, at: int, exc=MemoryError):
    """The n-th chunk write raises (a real fault would be the worker dying; the run stops at the same place)."""
    real, calls = importing._Import._write, []

    def dying(self, *args):
        calls.append(1)
        if len(calls) == at:
            raise exc("out of memory")
        return real(self, *args)

    monkeypatch.setattr(importing._Import, "_write", dying)
    return lambda: monkeypatch.setattr(importing._Import, "_write", real)


def test_resume_after_a_crash_counts_every_row_once(tmp_path, unit, monkeypatch):
    """A run that fails in its third chunk is interrupted with two chunks in; resuming skips them, and the finished
    batch counts 7 created and the early rejection (a duplicate id) once, children of rows in the committed chunks
    finding their parents in the database."""
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    restore = _crash_on_write(monkeypatch, at=3)
    rows = [good_row(n) for n in range(1, 6)] + [good_row(1), good_row(6, parent_external_id="B1"), good_row(7)]
    columns = ["external_id", "title", "creators", "parent_external_id"]
    path = write_csv(tmp_path / "a.csv", rows, columns=columns)
    with pytest.raises(MemoryError):
        import_file(path=path, file_format=None, source="s", unit=unit)
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.steps_done, batch.created, batch.rejected) == ("interrupted", 3, 4, 1)
    restore()
    assert import_batch_resume(batch_id=batch.pk).pk == batch.pk
    batch.refresh_from_db()
    assert (batch.state, batch.created, batch.updated, batch.unchanged, batch.rejected) == ("done", 7, 0, 0, 1)
    assert len(batch.report) == 1 and batch.error == "" and not batch.lease_owner
    assert LibraryItem.objects.count() == 7 and LibraryItem.objects.get(external_id="B6").parent.external_id == "B1"
    assert import_batch_resume(batch_id=batch.pk) is None  # done: nothing to resume


def test_resume_skips_rows_that_went_in_one_by_one(tmp_path, unit, monkeypatch):
    """When the database refuses a chunk, its rows go in one by one, each recorded with the batch; a crash among
    them resumes after the last such row instead of counting it again as unchanged."""
    from django.db import DatabaseError

    monkeypatch.setattr(importing, "CHUNK_SIZE", 3)
    real, calls = importing._Import._write, []

    def flaky(self, *args):
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseError("chunk refused")  # the whole chunk: now row by row
        if len(calls) == 3:
            raise MemoryError("worker died")  # the second row of the row-by-row retry
        return real(self, *args)

    monkeypatch.setattr(importing._Import, "_write", flaky)
    path = write_csv(tmp_path / "a.csv", [good_row(n) for n in range(1, 6)])
    with pytest.raises(MemoryError):
        import_file(path=path, file_format=None, source="s", unit=unit)
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.created, batch.steps_done, batch.step_lines) == ("interrupted", 1, 1, [2])
    monkeypatch.setattr(importing._Import, "_write", real)
    import_batch_resume(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.state, batch.created, batch.unchanged, LibraryItem.objects.count()) == ("done", 5, 0, 5)


def test_resume_refuses_a_file_changed_since(tmp_path, unit, monkeypatch):
    """Chunks are positions in the file: a file edited after the interruption cannot resume (it would skip the
    wrong rows); the batch fails saying to import again, which skips what went in as unchanged."""
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    restore = _crash_on_write(monkeypatch, at=2)
    path = write_csv(tmp_path / "a.csv", [good_row(n) for n in range(1, 6)])
    with pytest.raises(MemoryError):
        import_file(path=path, file_format=None, source="s", unit=unit)
    restore()
    write_csv(path, [good_row(n) for n in range(0, 6)])
    batch = import_batch_resume(batch_id=ImportBatch.objects.get().pk)
    assert batch.state == "failed" and "改动" in batch.error and batch.created == 2


def _dead_owner() -> str:
    """The lease owner a process that has exited would have left, read while it was alive."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    owner = f"{os.uname().nodename}:{_namespace()}:{process.pid}:{_start_time(process.pid)}:0a1b2c3d"
    process.kill()
    process.wait()
    return owner


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_dead_process_is_noticed_at_once_and_a_live_or_remote_one_is_not(unit):
    """A running batch whose process ran on this machine and is gone is interrupted at once; one held by this live
    process, or by a process on another machine whose lease has not run out, is left running."""
    soon = timezone.now() + timedelta(minutes=10)
    dead = _dead_owner()
    # The same dead process as seen from another machine: its pid means nothing here, so only the lease counts.
    owners = {"dead": dead, "live": worker_id(), "remote": "other-host:" + dead.split(":", 1)[1]}
    batches = {
        name: ImportBatch.objects.create(
            source=name,
            file_name="a.csv",
            file_format="csv",
            owning_unit=unit,
            lease_owner=owner,
            lease_expires_at=soon,
        )
        for name, owner in owners.items()
    }
    assert import_batches_interrupt_stale() == 1
    states = {name: ImportBatch.objects.get(pk=batch.pk).state for name, batch in batches.items()}
    assert states == {"dead": "interrupted", "live": "running", "remote": "running"}
    assert import_batches_interrupt_stale(now=soon + timedelta(seconds=1)) == 2


@pytest.mark.usefixtures("db_tasks")
def test_the_check_task_runs_with_the_workers_and_reschedules_while_running(unit, django_capture_on_commit_callbacks):
    """A running batch schedules a check on the ordinary task queue; the check marks dead batches and, while its
    batch runs, schedules the next one a minute on (no separate watchdog process needed)."""
    checks = DBTaskResult.objects.filter(task_path="library.tasks.import_batch_check_task")
    live = ImportBatch.objects.create(
        source="s",
        file_name="a.csv",
        file_format="csv",
        owning_unit=unit,
        lease_owner=worker_id(),
        lease_expires_at=timezone.now() + timedelta(minutes=10),
    )
    dead = ImportBatch.objects.create(
        source="t",
        file_name="b.csv",
        file_format="csv",
        owning_unit=unit,
        lease_owner="x:y:1:1:t",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_batch_check(batch_id=live.pk)
    assert ImportBatch.objects.get(pk=dead.pk).state == "interrupted"
    assert checks.count() == 1 and checks.get().args_kwargs["args"] == [live.pk]
    assert checks.get().run_after > timezone.now() + timedelta(seconds=30)
    with django_capture_on_commit_callbacks(execute=True):
        import_batch_check(batch_id=dead.pk)
    assert checks.count() == 1  # the dead one's chain ends


def test_a_process_taken_for_dead_stops_without_writing(tmp_path, unit, monkeypatch):
    """If another process took the batch over (this one's lease ran out during a slow chunk), this one's next chunk
    is rolled back and it stops: the two never both write the batch."""
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)

    def taken_over(done, total):  # after the first chunk committed, another process claims the batch
        if done >= 2:
            ImportBatch.objects.filter(state="running").update(lease_owner="someone-else")

    path = write_csv(tmp_path / "a.csv", [good_row(n) for n in range(1, 6)])
    batch = import_file(path=path, file_format=None, source="s", unit=unit, progress=taken_over)
    batch.refresh_from_db()
    assert (batch.state, batch.lease_owner, batch.created) == ("running", "someone-else", 2)
    assert LibraryItem.objects.count() == 2


@pytest.mark.usefixtures("db_tasks")
def test_admin_shows_an_interrupted_batch_and_resumes_it(
    client, editors, monkeypatch, django_capture_on_commit_callbacks
):
    """A worker that dies in the middle of 正式导入 (one transaction) leaves nothing in the library; once its lease
    runs out the batch page says it was interrupted and that nothing was written, and "继续导入" queues it again:
    the worker imports the whole file with every row once and the saved upload is deleted then. Another unit's
    editor can neither see nor resume it."""

    class WorkerKilled(BaseException):
        """What the kernel's OOM killer does to a worker, as far as this process can show it: nothing catches it."""

    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    client.force_login(Member.objects.get(username="zouping_editor"))
    data = {
        "file": SimpleUploadedFile("list.csv", _csv_bytes(5)),
        "file_format": "auto",
        "source": "web",
        "unit": OrgUnit.objects.get(code="zouping").pk,
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/library-import/", data)
    dry = ImportBatch.objects.get()
    task = DBTaskResult.objects.get(task_path="library.tasks.import_batch_run_task")
    import_batch_run_saved(batch_id=dry.pk, path=task.args_kwargs["args"][1])
    task.delete()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/library-import/{dry.pk}/confirm/", {})
    batch = ImportBatch.objects.get(dry_run=False)
    task = DBTaskResult.objects.get(task_path="library.tasks.import_batch_run_task")
    restore = _crash_on_write(monkeypatch, at=2, exc=WorkerKilled)
    with pytest.raises(WorkerKilled):
        import_batch_run_saved(batch_id=batch.pk, path=task.args_kwargs["args"][1])
    restore()
    assert not LibraryItem.objects.filter(source="web").exists()  # the first chunk went back with the rest
    assert importing.import_batches_interrupt_stale(now=timezone.now() + importing.STALE_AFTER * 2) == 1
    saved = Path(batch.run_options["path"])
    assert saved.exists()  # kept for the resume
    page = client.get(f"/admin/library-import/{batch.pk}/").content.decode()
    assert "中断" in page and "没有写入任何条目" in page and "继续导入" in page
    assert str(saved) not in page and "WorkerKilled" not in page

    client.force_login(Member.objects.get(username="yinan_editor"))
    assert client.post(f"/admin/library-import/{batch.pk}/resume/").status_code == 404
    client.force_login(Member.objects.get(username="zouping_editor"))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/admin/library-import/{batch.pk}/resume/").status_code == 302
    resume = DBTaskResult.objects.get(task_path="library.tasks.import_batch_resume_task")
    import_batch_resume(batch_id=resume.args_kwargs["args"][0])
    batch.refresh_from_db()
    assert (batch.state, batch.created, LibraryItem.objects.filter(source="web").count()) == ("done", 5, 5)
    assert not saved.exists() and "/resume/" not in client.get(f"/admin/library-import/{batch.pk}/").content.decode()


def test_uploads_no_batch_will_read_again_are_swept(unit, settings):
    """An interrupted admin batch keeps its upload for RESUME_DAYS, then gives up (failed, with a message) and
    loses it; an upload whose batch row never committed goes once it is a day old; a fresh one and the file of a
    batch that can still resume stay."""
    folder = Path(settings.MEDIA_WORK_DIR) / "imports"
    folder.mkdir(parents=True)
    now = timezone.now()
    old = (now - timedelta(days=2)).timestamp()

    def upload(name: str, *, aged: bool) -> Path:
        path = folder / name
        path.write_bytes(b"external_id,title\n")
        if aged:
            os.utime(path, (old, old))
        return path

    def batch(path: Path, *, interrupted_days: int) -> ImportBatch:
        return ImportBatch.objects.create(
            source="admin",
            file_name="x.csv",
            file_format="csv",
            owning_unit=unit,
            state=ImportBatch.State.INTERRUPTED,
            finished_at=now - timedelta(days=interrupted_days),
            run_options={"path": str(path), "origin": "admin"},
        )

    resumable, given_up = upload("resumable.csv", aged=True), upload("given-up.csv", aged=True)
    orphan, fresh = upload("orphan.csv", aged=True), upload("fresh.csv", aged=False)
    still, stale = batch(resumable, interrupted_days=1), batch(given_up, interrupted_days=importing.RESUME_DAYS + 1)
    assert importing.import_uploads_sweep(now=now) == 2
    assert resumable.exists() and fresh.exists() and not orphan.exists() and not given_up.exists()
    still.refresh_from_db()
    stale.refresh_from_db()
    assert still.state == "interrupted"
    assert stale.state == "failed" and "已放弃" in stale.error
