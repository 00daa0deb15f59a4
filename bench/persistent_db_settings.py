"""Production settings with the database connection kept between requests (CONN_MAX_AGE 60, as the PostgreSQL
setting has): bench/screens_manifest.py measures the manifest's 304 with it too, since on SQLite opening the
connection and its PRAGMAs costs more than the 304 itself."""

from cms.settings.production import *  # noqa: F403

DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
