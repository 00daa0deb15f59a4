"""An EPUB's parts, one member of the archive at a time, for members who may read a book but not download it
(issue 11, item 5). foliate-js reads a book through a loader (``loadText``, ``loadBlob``, ``getSize``); the
reader's loader asks ``/library-files/items/<id>/epub/`` for the list of members and ``.../epub/<name>`` for each
one when it needs it, so the whole .epub never reaches the browser.

The archive is vetted exactly as the pipeline vets it (``check_epub_archive``: safe names, member count, unpacked
size, zip bombs, DRM) before any member is read, and only a name the archive lists is served: ``../``, absolute
names, encoded tricks and unknown names are simply not members.

Where the archive is read from: on local disk, the stored master itself (zipfile seeks in it). On S3 there is no
cheap random access through Django's storage (its file object downloads the whole object), so the first request
copies the master once into a local cache folder (``EPUB_READER_CACHE_DIR``, default ``MEDIA_WORK_DIR/epub-reader``)
and every later request of that server reads members from the copy. The copy is named after the asset and its
stored name (a replaced file is a new stored name, so never a stale copy), written to a temporary name and renamed
(concurrent requests never see half a file), and the folder is kept under ``EPUB_READER_CACHE_BYTES`` by deleting
the least recently used copies. Nothing is unpacked into storage: no second copy of the book to keep in step or to
protect, and the cache is not public (it is not under MEDIA_ROOT).
"""

import functools
import hashlib
import logging
import mimetypes
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from media_pipeline.errors import BadInputError
from media_pipeline.models import MediaAsset
from media_pipeline.selectors import DOCUMENT, check_epub_archive, is_safe_member_name

logger = logging.getLogger(__name__)

CACHE_BYTES = 2 * 1024**3  # copies of S3 books kept per server; the oldest go first
CHUNK = 64 * 1024
# Types foliate-js and browsers expect for a book's parts that Python's table does not know.
CONTENT_TYPES = {
    ".opf": "application/oebps-package+xml",
    ".ncx": "application/x-dtbncx+xml",
    ".xhtml": "application/xhtml+xml",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}


@dataclass(frozen=True)
class Member:
    name: str
    size: int


class NotReadable(Exception):
    """The archive cannot be read safely (gone from storage, broken, refused by the vetting): a 404 to the reader."""


def members(asset: MediaAsset) -> list[Member]:
    """Every file in the book (no folders), with its unpacked size."""
    with _archive(asset) as archive:
        return [Member(info.filename, info.file_size) for info in archive.infolist() if not info.is_dir()]


def open_member(asset: MediaAsset, name: str) -> tuple[Iterator[bytes], Member]:
    """(chunks of the member's bytes, the member) for a name the archive lists; KeyError for any other name."""
    if not name or name.endswith("/") or not is_safe_member_name(name):
        raise KeyError(name)
    archive = _archive(asset)
    try:
        info = archive.getinfo(name)
        handle = archive.open(info)
    except BaseException:
        archive.close()
        raise
    archive.close()  # the member's handle keeps the file open until it is read and closed
    return _chunks(handle), Member(info.filename, info.file_size)


def content_type(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _chunks(handle) -> Iterator[bytes]:
    try:
        while chunk := handle.read(CHUNK):
            yield chunk
    finally:
        handle.close()


def _archive(asset: MediaAsset) -> zipfile.ZipFile:
    path = _local_path(asset)
    try:
        if not _vetted(str(path), path.stat().st_size):
            raise NotReadable(asset.pk)
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:  # gone from the disk, or changed since it was vetted
        raise NotReadable(asset.pk) from exc


@functools.lru_cache(maxsize=256)
def _vetted(path: str, size: int) -> bool:
    """The pipeline's vetting, once per file (stored names and cached copies never change in place)."""
    try:
        check_epub_archive(source=Path(path), profile=DOCUMENT)
    except BadInputError as exc:
        logger.warning("EPUB %s refused for reading: %s", path, exc)
        return False
    return True


def _local_path(asset: MediaAsset) -> Path:
    """The master on local disk, or this server's cached copy of it (made now if missing)."""
    storage, name = asset.file.storage, asset.file.name
    try:
        return Path(storage.path(name))
    except NotImplementedError:  # S3: no local path
        pass
    folder = cache_dir()
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]
    copy = folder / f"{asset.pk}-{digest}.epub"
    if copy.exists():
        os.utime(copy)  # most recently used: evicted last
        return copy
    _copy_from_storage(storage, name, copy)
    _evict(folder, keep=copy)
    return copy


def cache_dir() -> Path:
    folder = Path(getattr(settings, "EPUB_READER_CACHE_DIR", Path(settings.MEDIA_WORK_DIR) / "epub-reader"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _copy_from_storage(storage, name: str, copy: Path) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=copy.parent, suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as out, storage.open(name, "rb") as source:
            while chunk := source.read(1024 * 1024):
                out.write(chunk)
        os.replace(temporary, copy)
    except Exception as exc:
        Path(temporary).unlink(missing_ok=True)
        raise NotReadable(name) from exc


def _evict(folder: Path, *, keep: Path) -> None:
    limit = int(getattr(settings, "EPUB_READER_CACHE_BYTES", CACHE_BYTES))
    copies = []
    for path in folder.glob("*.epub"):
        try:
            found = path.stat()
        except FileNotFoundError:  # another request evicted it meanwhile
            continue
        copies.append((found.st_mtime, found.st_size, path))
    total = sum(size for _mtime, size, _path in copies)
    for _mtime, size, path in sorted(copies):
        if total <= limit:
            break
        if path != keep:
            total -= size
            path.unlink(missing_ok=True)
