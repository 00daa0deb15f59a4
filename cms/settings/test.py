"""Settings for pytest: the same integrations production uses, pointed at the services `make test` starts."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
MEDIA_JOB_LEASE_SECONDS = 5
