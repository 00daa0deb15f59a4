"""Fixtures shared by every test app."""

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Each test writes local files into its own folder (S3 runs use the bucket instead)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_WORK_DIR = tmp_path / "work"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (remembered page URLs, sign-in throttles): tests stay independent."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
