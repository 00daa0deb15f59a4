"""Shared by the search benchmarks (not a benchmark itself: ``run.py`` skips ``*_common``).

Documents are real Chinese text: the poems and ci of the npm package chinese-poetry 2.0.1 (about 333,000), read
straight from its .tgz (``BENCH_POETRY_ARCHIVE``, else downloaded once into ``var/cache`` of this checkout and
checked against npm's sha512), as they are: Tang and Song shi in traditional characters, ci in simplified.

Database: PostgreSQL when ``DATABASE_URL`` is set (a fresh ``lighthouse_bench_search`` database beside the one it
names, dropped at the end), else SQLite in a temporary var/. The engine: the OpenSearch node at ``SEARCH_URL``
(``services/up`` and ``source var/services/env``), under an index prefix of the benchmark's own, whose indices are
deleted at the end; without ``SEARCH_URL`` only the embedded index is measured.
"""

import atexit
import os
import secrets
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transcode_common import ROOT, remove_at_exit

# BENCH_SEARCH_DATABASE: another name, so two checkouts can run search benchmarks against one server at once.
BENCH_DATABASE = os.environ.get("BENCH_SEARCH_DATABASE", "lighthouse_bench_search")
SETTINGS = "cms.settings.production"
HOST = "localhost"
# Services the benchmark must not write to; SEARCH_URL is read first and set back to the bench's own prefix.
UNSET = ("DATABASE_URL", "REDIS_URL", "S3_BUCKET", "SQLITE_PATH", "MEDIA_ROOT", "MEDIA_WORK_DIR", "STATIC_ROOT")
KINDS = ("ebook", "audio", "article", "video")  # spread so kind facets have something to count


def document_count(default: int = 300_000) -> int:
    return int(os.environ.get("BENCH_SEARCH_DOCS", default))


def engine_url() -> str:
    return os.environ.get("SEARCH_URL", "") if os.environ.get("SEARCH_ENGINE", "opensearch") == "opensearch" else ""


# -- setup ------------------------------------------------------------------------------------------------------


def postgres_bench_url(url: str) -> str:
    """A fresh database beside the configured one (same server and role), so nothing of theirs is touched."""
    import psycopg

    drop_database(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    return urlunsplit(urlsplit(url)._replace(path=f"/{BENCH_DATABASE}"))


def drop_database(url: str) -> None:
    """Drop the bench database. Not WITH (FORCE): after a bulk load an autovacuum worker is often in it, and FORCE
    refuses to end another role's process; a plain DROP stops autovacuum itself. Our own sessions are closed
    first; a gunicorn worker that is still going away gets a few seconds."""
    import psycopg

    for attempt in range(20):
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
            return
        except psycopg.errors.ObjectInUse:
            if attempt == 19:
                raise
            time.sleep(0.5)


def postgres_drop(admin_url: str) -> None:
    from django.db import connections

    connections.close_all()
    drop_database(admin_url)


def environment(var: Path, *, database_url: str | None, search_url: str, prefix: str) -> dict[str, str]:
    """This process's (and gunicorn's) environment: production settings, the bench database, the bench prefix."""
    env = {key: value for key, value in os.environ.items() if key not in (*UNSET, "SEARCH_URL")}
    env.update(
        LIGHTHOUSE_VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE=SETTINGS,
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS=f"{HOST},127.0.0.1,testserver",
        SECURE_SSL_REDIRECT="0",
        DEBUG="0",
        SEARCH_URL=search_url,
        SEARCH_ENGINE="opensearch",
        SEARCH_INDEX_PREFIX=prefix,
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def start(*, prefix: str) -> tuple[dict[str, str], Path]:
    """Set up Django in this process (migrated, fresh database and var/); returns (environment, var)."""
    configured = os.environ.get("DATABASE_URL", "")
    search_url = engine_url()
    var = remove_at_exit(Path(tempfile.mkdtemp(prefix=f"{prefix}-")))
    (var / "static").mkdir()  # whitenoise warns about a missing STATIC_ROOT; nothing here needs collected files
    database_url = postgres_bench_url(configured) if configured else None
    index_prefix = f"{prefix}-{uuid.uuid4().hex[:8]}"
    env = environment(var, database_url=database_url, search_url=search_url, prefix=index_prefix)
    os.environ.clear()
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    if configured:
        atexit.register(postgres_drop, configured)
    if search_url:
        atexit.register(drop_indices, search_url, index_prefix)
    call_command("migrate", verbosity=0)
    return env, var


def drop_indices(url: str, prefix: str) -> None:
    """Every index this run made (the pipeline's, the raw reference's, Wagtail's): all start with its prefix."""
    from opensearchpy import OpenSearch

    OpenSearch(hosts=url.split(","), timeout=60).indices.delete(
        index=f"{prefix}*", params={"ignore_unavailable": "true", "expand_wildcards": "all"}, ignore=[404]
    )


def database_name() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        version = " ".join(cursor.fetchone()[0].split()[:2])
    return f"PostgreSQL ({version})" if connection.vendor == "postgresql" else f"SQLite {version}"


def engine_name(url: str) -> str:
    if not url:
        return "no engine (SEARCH_URL unset)"
    from opensearchpy import OpenSearch

    info = OpenSearch(hosts=url.split(","), timeout=10).info()
    return f"OpenSearch {info['version']['number']} at {url}"


class RequestRecorder:
    """Records the requests a client sends whose path ends with `suffix` (method, url, params, body as
    serialized), passing every request on unchanged."""

    def __init__(self, client, suffix: str):
        self.transport = client.transport
        self.suffix = suffix
        self.requests: list[tuple] = []

    def __enter__(self):
        original = self.transport.perform_request

        def perform_request(method, url, params=None, body=None, **kwargs):
            if url.endswith(self.suffix):
                self.requests.append((method, url, params, body))
            return original(method, url, params=params, body=body, **kwargs)

        self.transport.perform_request = perform_request
        return self

    def __exit__(self, *exc):
        del self.transport.perform_request  # back to the class's own method


# -- documents --------------------------------------------------------------------------------------------------


def poetry_archive() -> Path:
    from library.management.generator import poetry_archive as fetch

    given = os.environ.get("BENCH_POETRY_ARCHIVE")
    return Path(given) if given else fetch(cache_dir=ROOT / "var" / "cache")


def poetry_documents(count: int) -> list:
    """`count` poems as SearchDocuments, in package order (deterministic)."""
    from django.utils import timezone

    from library.management.generator import poetry_poems
    from search.registry import SearchDocument

    now = timezone.now().replace(microsecond=0)
    documents = []
    for n, poem in enumerate(poetry_poems(archive=poetry_archive())):
        if n == count:
            break
        date = now - timedelta(days=n % 3650, minutes=n % 1440)
        documents.append(
            SearchDocument(
                doc_id=f"bench.poem:{n}",
                kind=KINDS[n % len(KINDS)],
                title=poem.title,
                subtitle=poem.collection,
                creators=poem.author,
                body="\n".join(poem.paragraphs),
                url=f"/bench/poem/{n}/",
                access="members" if n % 10 == 0 else "public",
                subject=poem.collection,
                year=date.year,
                date=date,
            )
        )
    if len(documents) < count:
        raise SystemExit(f"the package has only {len(documents)} poems; BENCH_SEARCH_DOCS={count} is too many")
    return documents


def chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]
