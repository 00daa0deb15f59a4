"""Fixtures for the library's tests."""

import pytest

from media_pipeline.synthetic.media import make_clip


@pytest.fixture
def db_tasks(settings):
    """Tasks go to the database backend's table, whatever `make test` configured (Redis there), so a test can
    see what was queued and run it; the rows roll back with the test."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    """A 2 s AAC tone made by ffmpeg: the master of every podcast episode in a test module."""
    return make_clip(tmp_path_factory.mktemp("podcast") / "tone.m4a", seconds=2, video=False)
