"""Bulk ingest: Chinese-encoded manifests, row-level rejections, dry runs, idempotency, folder and storage sources."""

import csv
import hashlib
import json
import os
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import CommandError, call_command

from media_pipeline.models import MediaAsset, TranscodeJob
from media_pipeline.uploads.ingest import (
    FolderSource,
    ManifestError,
    StorageSource,
    manifest_read,
    media_ingest,
)

pytestmark = pytest.mark.django_db

GOOD = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8  # not a playable video: ingest never probes
LIMIT = 64 * 1024
HEADER = "file,title,kind,external_id,priority\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_WORK_DIR = tmp_path / "work"
    settings.MEDIA_UPLOAD_MAX_BYTES = LIMIT


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "masters"
    (root / "第一季").mkdir(parents=True)
    (root / "第一季" / "第1集.mp4").write_bytes(GOOD)
    (root / "empty.mp4").write_bytes(b"")
    (root / "huge.mp4").write_bytes(b"x" * (LIMIT + 1))
    return root


def _read_report(path):
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def test_gb18030_manifest_ingests_the_good_row_and_reports_the_missing_one(folder, tmp_path):
    """A GB18030 CSV, one good and one missing file: the good one becomes an asset, the other is reported; exit 1."""
    manifest = tmp_path / "清单.csv"
    manifest.write_bytes(
        (HEADER + "第一季/第1集.mp4,党史微课第一集,video,DS-001,5\n不存在.mp4,缺失的视频,video,DS-002,\n").encode(
            "gb18030"
        )
    )
    report, results = tmp_path / "rejected.csv", tmp_path / "results.csv"
    with pytest.raises(CommandError) as raised:
        call_command("media_ingest", folder=folder, manifest=manifest, report=report, results=results)
    assert raised.value.returncode == 1
    asset = MediaAsset.objects.get()
    assert asset.sha256 == hashlib.sha256(GOOD).hexdigest() and asset.size == len(GOOD)
    assert asset.original_name == "第1集.mp4"
    assert TranscodeJob.objects.get(asset=asset).priority == 5  # the manifest's priority reaches the queue
    assert _read_report(report) == [
        {"line": "3", "file": "不存在.mp4", "external_id": "DS-002", "reason": "文件不存在"}
    ]
    mapping = {row["external_id"]: row for row in _read_report(results)}
    assert mapping["DS-001"]["asset_id"] == str(asset.pk) and mapping["DS-001"]["title"] == "党史微课第一集"
    assert mapping["DS-002"]["status"] == "rejected"


def test_dry_run_checks_everything_and_creates_nothing(folder, tmp_path):
    """--dry-run with a valid UTF-8 (BOM) manifest exits 0 and writes no asset, job or media file."""
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes((HEADER + "第一季/第1集.mp4,第一集,video,DS-001,\n").encode("utf-8-sig"))
    call_command("media_ingest", folder=folder, manifest=manifest, dry_run=True, report=tmp_path / "r.csv")
    assert not MediaAsset.objects.exists() and not TranscodeJob.objects.exists()
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*"))
    assert not (tmp_path / "r.csv").exists()


def test_every_rejection_reason_is_reported_per_row(folder):
    """Empty, too big, missing, outside the folder, bad priority and a repeated external_id are each rejected."""
    data = (
        HEADER
        + "第一季/第1集.mp4,好,video,A,\n"
        + "empty.mp4,空,video,B,\n"
        + "huge.mp4,大,video,C,\n"
        + "../etc/passwd,越界,video,D,\n"
        + "第一季/第1集.mp4,重复,video,A,\n"
        + "第一季/第1集.mp4,坏优先级,video,E,高\n"
    ).encode()
    report = media_ingest(source=FolderSource(folder), rows=manifest_read(data=data, name="m.csv"), dry_run=True)
    reasons = {r.row.external_id: r.reason for r in report.rejected}
    assert reasons["B"] == "文件为空（0 字节）"
    assert reasons["C"].startswith("文件超过允许的最大大小")
    assert reasons["D"] == "文件不存在"
    assert reasons["A"] == "清单中 external_id 重复（第 2 行已使用）"
    assert reasons["E"] == "优先级必须是整数"
    assert report.results[0].status == "ok"


def test_running_the_same_manifest_twice_creates_nothing_new(folder):
    """Idempotent by SHA-256: the second run maps the same external_id to the same asset, marked existing."""
    rows = manifest_read(data=(HEADER + "第一季/第1集.mp4,第一集,video,DS-001,\n").encode(), name="m.csv")
    first = media_ingest(source=FolderSource(folder), rows=rows)
    second = media_ingest(source=FolderSource(folder), rows=rows)
    assert first.results[0].status == "created" and second.results[0].status == "existing"
    assert first.asset_ids == second.asset_ids == {"DS-001": MediaAsset.objects.get().pk}


def test_unreadable_manifest_is_reported_and_fails(folder, tmp_path):
    """A manifest without a file column is reported as one rejected row and the command exits non-zero."""
    manifest = tmp_path / "bad.csv"
    manifest.write_text("name,title\na.mp4,甲\n", encoding="utf-8")
    report = tmp_path / "rejected.csv"
    with pytest.raises(CommandError):
        call_command("media_ingest", folder=folder, manifest=manifest, report=report)
    (row,) = _read_report(report)
    assert row["line"] == "0" and "file 列" in row["reason"]
    assert not MediaAsset.objects.exists()


def test_manifest_encodings_and_json():
    """UTF-8 with and without BOM, GB18030 CSV and a JSON list (or {"items": [...]}) all read the same rows."""
    text = HEADER + "a.mp4,党史,video,X-1,3\n"
    for encoding in ("utf-8", "utf-8-sig", "gb18030"):
        (row,) = manifest_read(data=text.encode(encoding), name="m.csv")
        assert (row.file, row.title, row.external_id, row.priority, row.line) == ("a.mp4", "党史", "X-1", "3", 2)
    entry = {"file": "a.mp4", "title": "党史", "external_id": "X-1", "priority": 3}
    for payload in ([entry], {"items": [entry]}):
        (row,) = manifest_read(data=json.dumps(payload, ensure_ascii=False).encode("utf-8-sig"), name="m.JSON")
        assert (row.title, row.priority, row.line) == ("党史", "3", 1)
    with pytest.raises(ManifestError):
        manifest_read(data=b"{not json", name="m.json")


def test_without_manifest_every_file_under_the_folder_is_a_row(folder, tmp_path):
    """No --manifest: each file is a row; the good one is ingested, empty and too-big files are rejected (exit 1)."""
    with pytest.raises(CommandError):
        call_command("media_ingest", folder=folder, report=tmp_path / "r.csv")
    assert MediaAsset.objects.count() == 1
    assert {row["file"] for row in _read_report(tmp_path / "r.csv")} == {"empty.mp4", "huge.mp4"}


def test_storage_prefix_source_lists_and_reads_the_configured_storage(tmp_path):
    """--s3-prefix reads through Django's storage API: shown here on a local storage, nested folders included."""
    storage = FileSystemStorage(location=tmp_path / "bucket")
    storage.save("incoming/2026/第1集.mp4", ContentFile(GOOD))
    storage.save("other/skip.mp4", ContentFile(b"x"))
    source = StorageSource("incoming/", storage=storage)
    assert source.names() == ["2026/第1集.mp4"]
    assert source.size("2026/第1集.mp4") == len(GOOD) and source.size("../other/skip.mp4") is None
    report = media_ingest(
        source=source, rows=[*manifest_read(data=(HEADER + "2026/第1集.mp4,,,S-1,\n").encode(), name="m.csv")]
    )
    assert MediaAsset.objects.get().pk == report.asset_ids["S-1"]


@pytest.mark.services
@pytest.mark.skipif(not os.environ.get("S3_BUCKET"), reason="needs the S3 server `make test` starts")
def test_s3_prefix_lists_a_bucket():
    """--s3-prefix on the real S3 API (the loopback server `make test` starts): objects under a prefix of the
    configured bucket are listed, read and ingested."""
    prefix = f"incoming-{uuid.uuid4().hex[:8]}"
    default_storage.save(f"{prefix}/a/第1集.mp4", ContentFile(GOOD))
    default_storage.save(f"{prefix}/b.mp4", ContentFile(GOOD + b"!"))
    source = StorageSource(prefix)
    assert source.names() == ["a/第1集.mp4", "b.mp4"]
    report = media_ingest(
        source=source, rows=[*manifest_read(data=(HEADER + "a/第1集.mp4,,,S-1,\n").encode(), name="m.csv")]
    )
    assert MediaAsset.objects.get(pk=report.asset_ids["S-1"]).sha256 == hashlib.sha256(GOOD).hexdigest()
