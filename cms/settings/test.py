"""Settings for pytest: the same integrations production uses, pointed at the services `make test` starts."""

import os

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
MEDIA_JOB_LEASE_SECONDS = int(os.environ.get("MEDIA_JOB_LEASE_SECONDS", "5"))

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory, so a worker process can share the test database on the embedded default.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-embedded.sqlite3")}  # noqa: F405
