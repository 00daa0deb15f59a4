"""Fixtures for the library's tests."""

import pytest


@pytest.fixture
def db_tasks(settings):
    """Tasks go to the database backend's table, whatever `make test` configured (Redis there), so a test can
    see what was queued and run it; the rows roll back with the test."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}
