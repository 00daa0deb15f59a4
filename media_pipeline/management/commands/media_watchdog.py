"""By hand: put transcode jobs whose worker died back in the queue (closing the dead tasks' results), and
delete abandoned partial uploads; ``--once`` or a loop.

Not needed for recovery: the workers do the same sweep themselves (``jobs/recovery.py``), and delete abandoned
uploads on their own schedule (``uploads/resumable.py``)."""

import logging
import time

from django.core.management.base import BaseCommand

from media_pipeline.services import transcode_jobs_requeue_stale
from media_pipeline.uploads.resumable import upload_expire_stale

logger = logging.getLogger("media_pipeline.watchdog")


class Command(BaseCommand):
    help = "重新排队租约已过期的转码任务（执行进程已中断），并清理过期的未完成上传"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="检查一次后退出")
        parser.add_argument("--interval", type=float, default=30.0, help="循环检查的间隔秒数")

    def handle(self, *args, once: bool = False, interval: float = 30.0, **options):
        while True:
            requeued = transcode_jobs_requeue_stale()
            if requeued:
                logger.warning("Requeued %d transcode job(s) with expired leases", requeued)
            else:
                logger.info("No stale transcode jobs")
            if expired := upload_expire_stale():
                logger.info("Deleted %d abandoned partial upload(s)", expired)
            if once:
                self.stdout.write(str(requeued))
                return
            time.sleep(interval)
