"""Static files on weak networks: which npm files are collected, and compressing them without wasting minutes.

VendorFinder: which files of the npm packages in node_modules become static files (settings.STATIC_VENDOR_FILES).

The packages ship far more than the site loads: hls.js alone is 30 MB of builds, type files and source maps,
pdf.js carries its viewer, modern build and types. Collecting all of it made collectstatic hash and brotli-compress
~110 MB (three minutes on two cores) for nothing a browser ever asks for. This finder offers only the files each
package's patterns name, under the same URLs as before (`vendor/<package>/...`), to collectstatic and to the
development server alike.

StaticStorage: whitenoise's hashed-and-compressed storage, compressing each content once. Manifest storage keeps
every file twice (main.css and main.3f2a1c.css, the same bytes) and whitenoise brotli-compresses both, and every
collectstatic (each `make run`) compresses everything again; here the twin reuses the first one's result and a
.br/.gz already written for the same file (same modification time, which whitenoise copies onto it) is kept.
"""

import fnmatch
import hashlib
import os
import threading
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.contrib.staticfiles.utils import matches_patterns
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage
from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage


class VendorFinder(BaseFinder):
    """Files of settings.STATIC_VENDOR_FILES: {url prefix: (package folder, [glob patterns relative to it])}."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.packages = {
            prefix: (Path(root), tuple(patterns)) for prefix, (root, patterns) in settings.STATIC_VENDOR_FILES.items()
        }

    def check(self, **kwargs):
        return [
            Error(f"前端依赖 {root} 不存在，请先运行 npm ci（make run 会自动安装）。", id="cms.E301")
            for root, _patterns in self.packages.values()
            if not root.is_dir()
        ]

    def find(self, path, find_all=False, **kwargs):
        matches = []
        for prefix, (root, patterns) in self.packages.items():
            relative = path.removeprefix(prefix + "/")
            if relative == path or not self._wanted(relative, patterns):
                continue
            candidate = root / relative
            if candidate.is_file() and candidate.resolve().is_relative_to(root.resolve()):
                if not find_all:
                    return str(candidate)
                matches.append(str(candidate))
        return matches

    def list(self, ignore_patterns):
        for prefix, (root, patterns) in self.packages.items():
            if not root.is_dir():
                continue
            storage = FileSystemStorage(location=root)
            storage.prefix = prefix
            for folder, _dirs, files in os.walk(root):
                for name in files:
                    relative = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
                    if self._wanted(relative, patterns) and not matches_patterns(relative, ignore_patterns or []):
                        yield relative, storage

    @staticmethod
    def _wanted(relative: str, patterns: tuple[str, ...]) -> bool:
        # fnmatch's * crosses folders ("cmaps/*" takes every file below cmaps/), which is what the patterns mean.
        return any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns)


class StaticStorage(CompressedManifestStaticFilesStorage):
    def create_compressor(self, **kwargs):
        return OnceCompressor(**kwargs)


class OnceCompressor(Compressor):
    """whitenoise's Compressor, remembering results by content and keeping up-to-date outputs of earlier runs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._results: dict[tuple[str, bytes], bytes] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[str, bytes], threading.Lock] = {}

    def compress(self, path):
        kept = self._up_to_date_outputs(path)
        return kept if kept else super().compress(path)

    def _up_to_date_outputs(self, path) -> list[str]:
        source = os.stat(path)
        outputs = []
        for suffix in (".br", ".gz"):
            try:
                # whitenoise sets the output's time from the source's as a float: equal to the microsecond.
                if abs(os.stat(path + suffix).st_mtime - source.st_mtime) < 1e-6:
                    outputs.append(path + suffix)
            except FileNotFoundError:
                pass
        wanted = (self.use_brotli, self.use_gzip)
        return outputs if len(outputs) == sum(wanted) else []

    def compress_brotli(self, data):
        return self._once("br", data, Compressor.compress_brotli)

    def compress_gzip(self, data):
        return self._once("gz", data, Compressor.compress_gzip)

    def _once(self, encoding, data, compress):
        # Twins are compressed by parallel threads: the second waits for the first rather than doing it again.
        key = (encoding, hashlib.blake2b(data, digest_size=16).digest())
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._results:
                self._results[key] = compress(data)
            return self._results[key]
