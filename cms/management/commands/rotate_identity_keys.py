from django.core.management.base import BaseCommand
from tqdm import tqdm

from cms.models import Member
from cms.roster.keys import new_key
from cms.services import identity_keys_rotate


class Command(BaseCommand):
    help = "用当前密钥（IDENTITY_KEYS 的第一项和 IDENTITY_HASH_KEY）重新加密、重新计算所有身份证号；可重复运行。"

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="只打印一个新的 256 位密钥（base64），不做轮换")

    def handle(self, *args, **options):
        if options["new_key"]:
            self.stdout.write(new_key())
            return
        total = Member.objects.filter(id_number_sealed__isnull=False).count()
        with tqdm(total=total, unit="人", desc="轮换身份证号密钥", disable=not total) as bar:
            changed = identity_keys_rotate(progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"已轮换 {changed} / {total} 条身份证号。"))
