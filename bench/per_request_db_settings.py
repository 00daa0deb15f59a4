"""Production settings with a new database connection for every request (CONN_MAX_AGE 0, the embedded default's
setting until 2026-12-07): bench/screens_manifest.py measures the manifest's 304 with it side by side with the
default (connections kept), since on SQLite opening the connection and its PRAGMAs costs more than the 304 itself."""

from cms.settings.production import *  # noqa: F403

DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
