"""Local copies of stored files: ffmpeg and the document tools need a path on this machine."""

from collections.abc import Callable
from pathlib import Path

COPY_CHUNK_BYTES = 4 * 1024 * 1024
KEEP_ALIVE_BYTES = 256 * 1024 * 1024  # a multi-gigabyte master takes minutes to fetch: renew leases meanwhile


def local_copy(field_file, target: Path, *, keep_alive: Callable[[], object] | None = None) -> Path:
    """Local storage gives the file's own path; S3 (no path) gets a streamed download to ``target``,
    calling ``keep_alive`` every 256 MiB so the job's lease outlives a long download."""
    try:
        return Path(field_file.path)
    except NotImplementedError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    copied = 0
    with field_file.open("rb") as remote, target.open("wb") as local:
        while chunk := remote.read(COPY_CHUNK_BYTES):
            local.write(chunk)
            copied += len(chunk)
            if keep_alive is not None and copied % KEEP_ALIVE_BYTES < len(chunk):
                keep_alive()
    return target
