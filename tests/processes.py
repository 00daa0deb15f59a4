"""What the tests that run real `manage.py` processes share (kill a worker or an import mid-way): an environment
on the embedded default in a folder of the test's own, running a command, and waiting for a condition."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def embedded_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a child `manage.py`: SQLite, local disk and the database task queue under
    ``tmp_path/var`` (the services `make test` started are left out), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "S3_BUCKET"}}
    env.update(
        LIGHTHOUSE_VAR_DIR=str(tmp_path / "var"),
        MEDIA_ROOT=str(tmp_path / "var" / "media"),
        MEDIA_WORK_DIR=str(tmp_path / "var" / "work"),
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "cms.settings.test"),
        **extra,
    )
    (tmp_path / "var").mkdir(exist_ok=True)
    return env


def manage(env: dict, *args: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, str(MANAGE), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert not check or done.returncode == 0, done.stderr[-3000:]
    return done


def wait_for(predicate, timeout: float, what: str):
    """The predicate's first truthy value, polled until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
