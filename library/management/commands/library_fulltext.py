"""Extract full text for search in bulk: after an import (bulk writes send no signals), after captions were
added outside the admin, or to re-read everything after the extraction improved.

A file already read that holds no text (a scanned PDF, remembered as "none:pdf:<id>") is not read again on every
run: only with --all, or once the item points at another document (then its marker no longer names it)."""

import sys

from django.core.management.base import BaseCommand
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from tqdm import tqdm

from library.models import LibraryItem
from library.services import NO_TEXT, library_item_fulltext_refresh


class Command(BaseCommand):
    help = "提取馆藏条目文档（PDF/EPUB/文本）和字幕的全文，供搜索使用。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="重新提取所有条目（默认只提取还没有全文的条目，已读过但没有文字的扫描件除外）。",
        )
        parser.add_argument("--item", type=int, action="append", default=[], help="只提取这个条目（可重复）。")

    def handle(self, *args, all=False, item=(), **options):
        items = LibraryItem.objects.filter(Q(document__isnull=False) | Q(media_asset__isnull=False))
        if item:
            items = items.filter(pk__in=item)
        elif not all:
            items = items.filter(fulltext="").exclude(_read_without_text())
        ids = list(items.order_by("pk").values_list("pk", flat=True))
        found = 0
        # Each item is its own unit of work: a damaged file is logged by the service and the run goes on.
        for item_id in tqdm(ids, desc="全文", unit="条", disable=None, file=sys.stderr):
            found += bool(library_item_fulltext_refresh(item_id=item_id))
        self.stdout.write(self.style.SUCCESS(f"已处理 {len(ids)} 个条目，其中 {found} 个提取到全文。"))


def _read_without_text() -> Q:
    """Items whose current document was read and held no text: the marker ends with ":<its document id>"."""
    document_suffix = Concat(Value(":"), Cast(F("document_id"), CharField()), output_field=CharField())
    return Q(fulltext_source__startswith=NO_TEXT, fulltext_source__endswith=document_suffix)
