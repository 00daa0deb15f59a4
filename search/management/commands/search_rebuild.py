"""`manage.py search_rebuild`: re-index everything without downtime, with progress for whoever watches."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from search.engines.choice import engine_configured
from search.engines.results import SearchError
from search.services import RebuildInProgress, search_rebuild

# Without a terminal (cron, CI logs) a plain progress line at most this often.
LOG_EVERY_SECONDS = 10


class _LogLines:
    """Progress as plain lines (rate and time left), for logs where a redrawn bar would be noise."""

    def __init__(self, write, every: float = LOG_EVERY_SECONDS):
        self.write, self.every = write, every
        self.started = self.last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every and done < total:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-6)
        left = f"，预计还需 {(total - done) / rate:.0f} 秒" if rate and total > done else ""
        share = f"（{done / total:.0%}）" if total else ""
        self.write(f"已索引 {done}/{total}{share}，每秒 {rate:.0f} 个{left}")


class _Bar:
    """A tqdm bar (documents/s, ETA) on a terminal."""

    def __init__(self, stream):
        self.bar = tqdm(total=0, unit="个", desc="重建索引", file=stream, dynamic_ncols=True)

    def __call__(self, done: int, total: int) -> None:
        # Both count objects looked at; objects created while the rebuild runs can take `done` past the first total.
        self.bar.total = max(total, done)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


class Command(BaseCommand):
    help = "重建搜索索引：搜索引擎先建好新索引再切换别名（不停机），内置索引就地更新。"

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=500, help="每批读取和写入的文档数（默认 500）。")
        side = parser.add_mutually_exclusive_group()
        side.add_argument("--embedded-only", action="store_true", help="只重建内置索引，不动搜索引擎。")
        side.add_argument("--engine-only", action="store_true", help="只重建搜索引擎的索引，不动内置索引。")

    def handle(self, *args, chunk_size: int, embedded_only: bool, engine_only: bool, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size 必须是正整数。")
        if engine_only and not engine_configured():
            raise CommandError("没有配置搜索引擎（SEARCH_URL 为空），无法只重建搜索引擎的索引。")
        progress = _Bar(sys.stderr) if self.stderr.isatty() else _LogLines(self.stdout.write)
        try:
            indexed = search_rebuild(
                progress=progress, chunk_size=chunk_size, embedded=not engine_only, engine=not embedded_only
            )
        except RebuildInProgress as exc:
            raise CommandError(str(exc)) from exc
        except SearchError as exc:
            raise CommandError(
                "重建失败：搜索引擎无法连接或出错，正在使用的索引没有改动。"
                f"可以稍后重试，或用 --embedded-only 只重建内置索引。详情：{exc}"
            ) from exc
        finally:
            if isinstance(progress, _Bar):
                progress.close()
        self.stdout.write(self.style.SUCCESS(f"已索引 {indexed} 个文档。"))
