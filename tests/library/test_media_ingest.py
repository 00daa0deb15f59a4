"""media_ingest: manifest rows become library items with their metadata, linked to their masters; a re-run updates
the same items; --wait reports each row's final state (ready, failed with the editor's reason, rejected); a rejected
row writes nothing; the exit status is non-zero whenever a row did not succeed."""

import csv

import pytest
from django.core.management import CommandError, call_command

from library.imports import media
from library.imports.columns import media_row_defaults
from library.imports.readers import Row
from library.models import ImportBatch, LibraryItem
from media_pipeline.models import MediaAsset, TranscodeJob
from media_pipeline.services import transcode_job_run
from media_pipeline.synthetic.media import make_clip

BLOB = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8  # not playable: for runs that never transcode
HEADER = "file,title,kind,external_id,priority,description,tags\n"


@pytest.fixture(scope="module")
def masters(tmp_path_factory):
    """A 2 s AAC tone (the cheapest master the whole pipeline runs on) and a 1 s video cut to half its bytes: an
    MP4 whose index (moov, written last) never arrived, as an interrupted copy leaves it."""
    folder = tmp_path_factory.mktemp("ingest-clips")
    tone = make_clip(folder / "tone.m4a", seconds=2, video=False)
    whole = make_clip(folder / "whole.mp4", size="160x90", seconds=1)
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return {"tone": tone.read_bytes(), "truncated": truncated.read_bytes()}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_WORK_DIR = tmp_path / "work"
    settings.MEDIA_UPLOAD_MAX_BYTES = 1024 * 1024


@pytest.fixture
def unit(unit_tree):
    return unit_tree["shandong"]


@pytest.fixture
def worker(monkeypatch):
    """The pipeline's worker, in this process: where the command would sleep between looks, the queued jobs run."""

    def run_queued(_seconds):
        while job := TranscodeJob.objects.filter(state=TranscodeJob.State.QUEUED).order_by("pk").first():
            transcode_job_run(job_id=job.pk, worker_id="test")

    monkeypatch.setattr(media, "wait_pause", run_queued)


def _report(path):
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return {row["line"]: row for row in csv.DictReader(stream)}


def _ingest(folder, unit, report, **options):
    with pytest.raises(CommandError) as raised:
        call_command("media_ingest", folder=folder, unit=unit.code, report=report, **options)
    assert raised.value.returncode == 1
    return _report(report)


@pytest.mark.django_db
def test_manifest_rows_become_items_and_wait_reports_each_final_state(tmp_path, unit, masters, worker):
    """A GB18030 manifest: the good row becomes a published item with its title, kind, description and tags, linked
    to an asset that ends ready; the truncated file's row ends failed with a Chinese reason (not "created"); a row
    with an unknown kind and one with a missing file are rejected and write no item or asset; exit 1."""
    folder = tmp_path / "archive"
    (folder / "第一季").mkdir(parents=True)
    (folder / "第一季" / "第1集.m4a").write_bytes(masters["tone"])
    (folder / "坏.mp4").write_bytes(masters["truncated"])
    (folder / "第2集.m4a").write_bytes(masters["tone"] + b"\x00")
    manifest = tmp_path / "清单.csv"
    rows = (
        "第一季/第1集.m4a,党史微课第一集,音频,DS-001,5,沂蒙精神的故事,党史；沂蒙\n"
        "坏.mp4,损坏的节目,video,DS-002,,,\n"
        "第2集.m4a,类型写错,电影,DS-003,,,\n"
        "不存在.mp4,缺失的视频,video,DS-004,,,\n"
    )
    manifest.write_bytes((HEADER + rows).encode("gb18030"))
    report = _ingest(folder, unit, tmp_path / "report.csv", manifest=manifest, wait=True, timeout=600)

    good = LibraryItem.objects.get(external_id="DS-001", source="media_ingest")
    assert (good.title, good.kind, good.summary) == ("党史微课第一集", "audio", "沂蒙精神的故事")
    assert good.owning_unit == unit and good.is_published
    assert sorted(good.tags.names()) == ["党史", "沂蒙"]
    assert TranscodeJob.objects.filter(asset=good.media_asset).order_by("pk").first().priority == 5
    assert report["2"]["state"] == "ready" and report["2"]["item_id"] == str(good.pk)
    assert report["2"]["asset_id"] == str(good.media_asset_id) and good.media_asset.state == MediaAsset.State.READY

    broken = LibraryItem.objects.get(external_id="DS-002")
    assert report["3"]["state"] == "failed" and report["3"]["item_id"] == str(broken.pk)
    assert report["3"]["reason"] and "/" not in report["3"]["reason"]  # the editor's sentence, no server path
    assert any("\u4e00" <= char <= "\u9fff" for char in report["3"]["reason"])

    assert report["4"]["state"] == "rejected" and "类型" in report["4"]["reason"]
    assert report["5"]["state"] == "rejected" and "文件不存在" in report["5"]["reason"]
    assert not LibraryItem.objects.filter(external_id__in=["DS-003", "DS-004"]).exists()
    assert MediaAsset.objects.count() == 2  # the rejected rows stored no file


@pytest.mark.django_db
def test_a_second_run_updates_the_same_items_and_stores_nothing_again(tmp_path, unit):
    """No manifest, then again with a changed title: each file is one item known by its path, updated in place;
    the same bytes are the same asset. Without --wait the rows are reported as queued (not "created"), exit 0."""
    folder = tmp_path / "archive"
    (folder / "第一季").mkdir(parents=True)
    (folder / "第一季" / "第1集.mp4").write_bytes(BLOB)
    call_command("media_ingest", folder=folder, unit=unit.code, report=tmp_path / "first.csv")
    item = LibraryItem.objects.get()
    assert (item.external_id, item.title, item.kind) == ("第一季/第1集.mp4", "第1集", "video")
    assert _report(tmp_path / "first.csv")["2"]["state"] == "pending"

    manifest = tmp_path / "m.csv"
    manifest.write_text("file,title\n第一季/第1集.mp4,第一集（修订）\n", encoding="utf-8")
    call_command("media_ingest", folder=folder, unit=unit.code, manifest=manifest, report=tmp_path / "second.csv")
    assert LibraryItem.objects.get().title == "第一集（修订）"
    assert LibraryItem.objects.get().pk == item.pk and MediaAsset.objects.count() == 1


@pytest.mark.django_db
def test_wait_gives_up_after_its_timeout(tmp_path, unit, monkeypatch):
    """--wait with no worker running: after --timeout the unfinished row is reported as timed out, and exit 1."""
    monkeypatch.setattr(media, "wait_pause", lambda seconds: None)
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(BLOB)
    report = _ingest(folder, unit, tmp_path / "r.csv", wait=True, timeout=0)
    assert report["2"]["state"] == "timeout" and "等待时限" in report["2"]["reason"]


@pytest.mark.django_db
def test_dry_run_checks_every_row_and_writes_nothing(tmp_path, unit):
    """--dry-run: accepted rows are "checked", an empty file is rejected (exit 1), and no item, asset or file is
    written; the batch is recorded as a dry run."""
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(BLOB)
    (folder / "empty.mp4").write_bytes(b"")
    report = _ingest(folder, unit, tmp_path / "r.csv", dry_run=True)
    assert {row["file"]: row["state"] for row in report.values()} == {"a.mp4": "checked", "empty.mp4": "rejected"}
    assert not LibraryItem.objects.exists() and not MediaAsset.objects.exists()
    assert ImportBatch.objects.get().dry_run
    assert not any((tmp_path / "media").rglob("*.mp4"))


@pytest.mark.django_db
def test_unreadable_manifest_fails_the_command(tmp_path, unit):
    """A manifest that is not valid JSON stops the command with its reason and exit 1; nothing is written."""
    folder = tmp_path / "archive"
    folder.mkdir()
    manifest = tmp_path / "m.json"
    manifest.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command("media_ingest", folder=folder, unit=unit.code, manifest=manifest, report=tmp_path / "r.csv")
    assert raised.value.returncode == 1 and "JSON" in str(raised.value)
    assert not LibraryItem.objects.exists()


def test_a_row_without_id_or_title_is_known_by_its_file():
    """The file's path stands in for a missing external_id (a stable digest when the path is longer than the
    column), its name for a missing title; values the manifest gives are kept."""
    long_path = "档案/" + "很长的文件夹名/" * 20 + "第1集.mp4"
    rows = [
        Row(2, {"file": "\\第一季\\第1集.mp4"}),
        Row(3, {"file": long_path}),
        Row(4, {"file": "b.mp4", "external_id": "X-1", "title": "乙"}),
    ]
    media_row_defaults(rows)
    assert rows[0].values == {"file": "\\第一季\\第1集.mp4", "external_id": "第一季/第1集.mp4", "title": "第1集"}
    assert rows[1].values["external_id"].startswith("sha1:") and len(rows[1].values["external_id"]) <= 128
    assert rows[2].values == {"file": "b.mp4", "external_id": "X-1", "title": "乙"}
