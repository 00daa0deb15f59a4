from django.core.management.base import BaseCommand

from cms.demo import demo_load


class Command(BaseCommand):
    help = "载入演示内容（组织架构、编辑账号、页面和馆藏条目）；可以重复运行。"

    def add_arguments(self, parser):
        parser.add_argument("--no-media", action="store_true", help="不载入馆藏条目和音视频（只建组织、账号和页面）")

    def handle(self, *args, **options):
        demo_load(log=lambda line: self.stdout.write(line), media=not options["no_media"])
        self.stdout.write(self.style.SUCCESS("演示内容已就绪。"))
