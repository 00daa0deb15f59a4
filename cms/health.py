"""Probes for the services the environment configured under the organisation app: database, Redis, S3.
The search engine's probe is search's own check (search/checks.py), so this app knows no feature app."""

from django.conf import settings


def _probe_database() -> str:
    from django.db import connection

    try:
        connection.ensure_connection()
    except Exception as exc:  # noqa: BLE001 - any driver error means "unreachable"
        return str(exc).strip().splitlines()[0]
    return ""


def _probe_redis() -> str:
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        return str(exc)
    return ""


def _probe_s3() -> str:
    from django.core.files.storage import default_storage

    try:
        default_storage.bucket.meta.client.head_bucket(Bucket=settings.S3_BUCKET)
    except Exception as exc:  # noqa: BLE001
        return str(exc)
    return ""


def service_probes() -> list[tuple[str, str]]:
    """(service name, failure reason or "") for every configured integration."""
    probes = [("database", _probe_database())]
    if settings.REDIS_URL:
        probes.append(("redis", _probe_redis()))
    if settings.S3_BUCKET:
        probes.append(("s3", _probe_s3()))
    return probes
