"""Where bulk imports read master files from: a local folder or a prefix of a Django storage (the S3 bucket).

The library's ``media_ingest`` and ``library_import`` commands take them through ``services``: each row of a
manifest names a file here, becomes a MediaAsset through ``media_asset_create`` (SHA-256 dedupe) and a library item.
A path may not leave its folder or prefix.
"""

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from django.core.files import File
from django.core.files.storage import Storage, default_storage

# --- Sources -------------------------------------------------------------------------------------------


class FolderSource:
    """Files under a local folder; manifest paths are relative to it and may not leave it."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def names(self) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())

    def size(self, name: str) -> int | None:
        path = self._path(name)
        return path.stat().st_size if path is not None and path.is_file() else None

    def open(self, name: str) -> File:
        return File(self._path(name).open("rb"), name=PurePosixPath(name).name)

    def _path(self, name: str) -> Path | None:
        path = (self.root / name).resolve()
        return path if path.is_relative_to(self.root) else None


class StorageSource:
    """Objects under a prefix of a Django storage: the configured S3 bucket in production."""

    def __init__(self, prefix: str, storage: Storage | None = None):
        self.prefix = prefix.strip("/")
        self.storage = storage or default_storage

    def names(self) -> list[str]:
        return sorted(self._walk(self.prefix))

    def size(self, name: str) -> int | None:
        key = self._key(name)
        if key is None or not self.storage.exists(key):
            return None
        return self.storage.size(key)

    def open(self, name: str) -> File:
        handle = self.storage.open(self._key(name), "rb")
        return File(handle, name=PurePosixPath(name).name)

    def _key(self, name: str) -> str | None:
        if ".." in PurePosixPath(name).parts:
            return None
        return f"{self.prefix}/{name.lstrip('/')}" if self.prefix else name.lstrip("/")

    def _walk(self, folder: str, relative: str = "") -> Iterable[str]:
        folders, files = self.storage.listdir(folder)
        for name in files:
            yield f"{relative}{name}"
        for sub in folders:
            yield from self._walk(f"{folder}/{sub}" if folder else sub, f"{relative}{sub}/")
