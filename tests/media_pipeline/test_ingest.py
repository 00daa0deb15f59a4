"""Bulk-ingest sources: files under a local folder or a storage prefix, listed, sized and read, never outside it.
(The media_ingest command, which turns a manifest of these files into library items, is tested in
tests/library/test_media_ingest.py: the pipeline knows no item.)"""

import hashlib
import os
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage

from media_pipeline.services import FolderSource, StorageSource

GOOD = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8


def test_folder_source_lists_sizes_and_reads_files_inside_it_only(tmp_path):
    """Nested files are listed by their relative path; a path leaving the folder has no size (so it is "missing")."""
    root = tmp_path / "masters"
    (root / "第一季").mkdir(parents=True)
    (root / "第一季" / "第1集.mp4").write_bytes(GOOD)
    (tmp_path / "secret.txt").write_text("x")
    source = FolderSource(root)
    assert source.names() == ["第一季/第1集.mp4"]
    assert source.size("第一季/第1集.mp4") == len(GOOD)
    assert source.size("../secret.txt") is None and source.size("nope.mp4") is None
    with source.open("第一季/第1集.mp4") as handle:
        assert handle.name == "第1集.mp4" and handle.read() == GOOD


def test_storage_prefix_source_lists_and_reads_the_configured_storage(tmp_path):
    """--s3-prefix reads through Django's storage API: shown here on a local storage, nested folders included."""
    storage = FileSystemStorage(location=tmp_path / "bucket")
    storage.save("incoming/2026/第1集.mp4", ContentFile(GOOD))
    storage.save("other/skip.mp4", ContentFile(b"x"))
    source = StorageSource("incoming/", storage=storage)
    assert source.names() == ["2026/第1集.mp4"]
    assert source.size("2026/第1集.mp4") == len(GOOD) and source.size("../other/skip.mp4") is None
    with source.open("2026/第1集.mp4") as handle:
        assert handle.read() == GOOD


@pytest.mark.services
@pytest.mark.skipif(not os.environ.get("S3_BUCKET"), reason="needs the S3 server `make test` starts")
def test_s3_prefix_lists_a_bucket():
    """--s3-prefix on the real S3 API (the loopback server `make test` starts): objects under a prefix of the
    configured bucket are listed and read."""
    prefix = f"incoming-{uuid.uuid4().hex[:8]}"
    default_storage.save(f"{prefix}/a/第1集.mp4", ContentFile(GOOD))
    default_storage.save(f"{prefix}/b.mp4", ContentFile(GOOD + b"!"))
    source = StorageSource(prefix)
    assert source.names() == ["a/第1集.mp4", "b.mp4"]
    with source.open("a/第1集.mp4") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == hashlib.sha256(GOOD).hexdigest()
