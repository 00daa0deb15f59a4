"""Fixtures for the library's tests."""

import pytest


@pytest.fixture
def db_tasks(settings):
    """Tasks go to the database backend's table, whatever `make test` configured (Redis there), so a test can
    see what was queued and run it; the rows roll back with the test."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}


@pytest.fixture
def local_media(settings):
    """Files on local disk behind signed URLs (the embedded default), for tests that follow a signed link through
    the test client to the bytes. The same links on S3 are presigned URLs (tests/media_pipeline/test_storage.py)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "media_pipeline.storage.SignedFileSystemStorage"},
    }
