import sys
import time

from django.core.management.base import BaseCommand, CommandError

from library.management.generator import GeneratorError, library_generate


class Command(BaseCommand):
    help = (
        "生成大量馆藏条目（中文诗词正文，覆盖全部类型和组织单位），用于规模测试；可以重复运行，已有的条目会跳过。"
        "批量写入不发 post_save 信号，生成后请运行 search_rebuild 重建搜索索引。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=300_000, help="条目总数（默认 300000）")
        parser.add_argument(
            "--source",
            choices=("poetry", "synthetic"),
            default="poetry",
            help="poetry：npm 包 chinese-poetry 的真实诗词（首次运行时下载）；synthetic：不需联网的模拟文字",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="随机种子；同一种子的条目编号相同，重复运行不会重复生成"
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="每批写入的行数（默认 5000）")

    def handle(self, *args, **options):
        if options["count"] < 0 or options["batch_size"] < 1:
            raise CommandError("--count 不能为负数，--batch-size 至少为 1。")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.monotonic() - started, 1e-6)
            sys.stderr.write(f"\r已处理 {done}/{total} 条（{rate:,.0f} 条/秒）")
            sys.stderr.flush()

        try:
            created = library_generate(
                count=options["count"],
                source=options["source"],
                seed=options["seed"],
                batch_size=options["batch_size"],
                on_progress=progress,
            )
        except GeneratorError as error:
            raise CommandError(str(error)) from error
        finally:
            sys.stderr.write("\n")
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"新增 {created} 条，跳过已有 {options['count'] - created} 条，"
                f"用时 {elapsed:.1f} 秒（{created / max(elapsed, 1e-6):,.0f} 条/秒）。"
            )
        )
        self.stdout.write("批量写入不触发 post_save 信号，搜索索引没有更新：请运行 manage.py search_rebuild。")
