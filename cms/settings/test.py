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

# Plain static names: a test renders pages without running collectstatic first (the manifest storage of base.py
# refuses names it has no manifest entry for). tests/cms/test_static_assets.py runs collectstatic with the
# production storage and fetches hashed, compressed files, so that path stays proved.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
