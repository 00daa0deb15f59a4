"""Settings for pytest: the same integrations production uses, pointed at the services `make test` starts."""

import os
import re

# make test runs the suite in parallel pytest-xdist workers (gw0, gw1, ...). Each gets its own S3 folder, Redis
# databases (cache, task queue, sign-in throttles) and search index prefix; pytest-django gives each its own test
# database. Set in the environment before base.py reads it, so a process a test starts (gunicorn) inherits the same.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER and os.environ.get("LIGHTHOUSE_TEST_WORKER") != _XDIST_WORKER:
    # Once per worker: a process a test starts inherits these and keeps what the test set for it (its own prefix).
    os.environ["LIGHTHOUSE_TEST_WORKER"] = _XDIST_WORKER
    _number = int(_XDIST_WORKER.removeprefix("gw"))
    os.environ["SEARCH_INDEX_PREFIX"] = f"lighthouse-{_XDIST_WORKER}"
    os.environ["S3_LOCATION"] = _XDIST_WORKER  # object keys come from database ids, the same in every worker
    if os.environ.get("REDIS_URL"):
        # Two numbers a worker: the queues' and, next to it, the cache's (base.shared_cache); 0 and 1 stay unused.
        os.environ["REDIS_URL"] = re.sub(r"(/\d*)?$", f"/{2 * _number + 2}", os.environ["REDIS_URL"], count=1)

from .base import *  # noqa: E402, F403

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

if _XDIST_WORKER and not REDIS_URL:  # noqa: F405
    # The embedded default's file cache is one folder per machine: each parallel worker gets its own.
    CACHES = shared_cache("", VAR_DIR / _XDIST_WORKER)  # noqa: F405
