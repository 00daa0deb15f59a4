"""Local copies of stored files: ffmpeg and the document tools need a path on this machine."""

import shutil
from pathlib import Path

COPY_CHUNK_BYTES = 4 * 1024 * 1024


def local_copy(field_file, target: Path) -> Path:
    """Local storage gives the file's own path; S3 (no path) gets a streamed download to ``target``."""
    try:
        return Path(field_file.path)
    except NotImplementedError:
        target.parent.mkdir(parents=True, exist_ok=True)
        with field_file.open("rb") as remote, target.open("wb") as local:
            shutil.copyfileobj(remote, local, COPY_CHUNK_BYTES)
        return target
