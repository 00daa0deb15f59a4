import sys

from django.core.management.base import BaseCommand

from search.services import search_rebuild


def _bar(done: int, total: int, width: int = 40) -> str:
    share = done / total if total else 1.0
    filled = int(width * min(share, 1.0))
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({share:.0%})"


class Command(BaseCommand):
    help = "重建搜索索引（搜索引擎用新索引并切换别名，不停机）。"

    def handle(self, *args, **options):
        interactive = sys.stdout.isatty()

        def progress(done: int, total: int) -> None:
            if interactive:
                self.stdout.write(f"\r{_bar(done, total)}", ending="")
                self.stdout.flush()

        indexed = search_rebuild(progress=progress)
        if interactive:
            self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"已索引 {indexed} 个文档。"))
