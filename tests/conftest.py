"""Fixtures shared by every test app."""

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Each test writes local files into its own folder (S3 runs use the bucket instead)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_WORK_DIR = tmp_path / "work"


@pytest.fixture
def demo():
    """The demo structure (organisation, roles, pages, editors, library) without its media: the world the admin's
    and the site's tests act in, as `make run` shows it."""
    from django.core.management import call_command

    call_command("load_demo", "--no-media")


@pytest.fixture
def local_media(settings):
    """Files on local disk behind signed URLs (the embedded default), whatever `make test` configured, for tests
    that follow a signed link through the test client to the bytes or probe /media/ paths. The same links on S3
    are presigned URLs (tests/media_pipeline/test_storage.py)."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "media_pipeline.storage.SignedFileSystemStorage"}}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (remembered page URLs, sign-in throttles): tests stay independent."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
