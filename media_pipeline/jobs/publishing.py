"""Store a job's outputs and describe them as Rendition rows (created by the caller, after every file).

Single-file renditions a screen caches whole (``CHECKSUMMED_PROFILES``) carry the SHA-256 of the stored bytes in
``meta["sha256"]``: a player checks its cached copy against it and downloads a corrupt file again.
"""

import hashlib
from collections.abc import Callable
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from ..errors import StorageError
from ..models import Rendition, TranscodeJob
from ..steps.contract import Output

CHECKSUMMED_PROFILES = ("screen_", "tv_1080p", "audio_")  # profile names (prefixes) the screens cache as one file
HASH_BLOCK = 1024 * 1024


def wants_checksum(output: Output) -> bool:
    return not output.files and output.profile.startswith(CHECKSUMMED_PROFILES)


def store_outputs(
    *, outputs: list[Output], out_dir: Path, prefix: str, keep_lease: Callable[[], None]
) -> dict[str, int]:
    """Upload every file of every output under ``prefix``; return {storage name: bytes}. The SHA-256 of each
    single-file screen, TV and audio rendition goes into its output's ``meta`` (hashed from the file stored)."""
    sizes = {}
    for output in outputs:
        for relative in output.all_files():
            name = f"{prefix}/{relative}"
            if name not in sizes:
                sizes[name] = _store_file(out_dir / relative, name)
                keep_lease()  # uploads of big ladders take a while
        if wants_checksum(output):
            output.meta["sha256"] = file_sha256(out_dir / output.path)
    return sizes


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _store_file(path: Path, name: str) -> int:
    try:
        # A killed earlier attempt of this job may have left the same name behind; overwrite it, never
        # let the storage pick another name the playlists do not mention.
        if default_storage.exists(name):
            default_storage.delete(name)
        with path.open("rb") as handle:
            saved = default_storage.save(name, File(handle, name=path.name))
    except Exception as exc:
        raise StorageError(_("保存转码结果时存储暂时不可用，系统将自动重试"), repr(exc)) from exc
    if saved != name:
        raise StorageError(_("保存转码结果时存储暂时不可用，系统将自动重试"), f"{name} → {saved}")
    return path.stat().st_size


def renditions_for(*, job: TranscodeJob, outputs: list[Output], prefix: str, sizes: dict[str, int]) -> list[Rendition]:
    return [
        Rendition(
            asset_id=job.asset_id,
            job=job,
            profile=output.profile,
            kind=output.kind,
            path=f"{prefix}/{output.path}",
            width=output.width,
            height=output.height,
            bandwidth=output.bandwidth,
            duration=output.duration,
            size=sum(sizes.get(f"{prefix}/{relative}", 0) for relative in output.all_files()),
            meta=output.meta,
        )
        for output in outputs
    ]


def delete_tree(prefix: str) -> int:
    """Delete every stored file under ``prefix`` (a failed or cancelled job's partial outputs)."""
    try:
        folders, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in files:
        default_storage.delete(f"{prefix}/{name}")
        deleted += 1
    for folder in folders:
        deleted += delete_tree(f"{prefix}/{folder}")
    return deleted
