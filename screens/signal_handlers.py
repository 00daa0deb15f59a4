"""What screens hear from other apps and from its own rows: any change a manifest depends on. A receiver only notes
the change (which kind of row, which id) and, after commit, enqueues one ``manifests_recompute_task`` per kind with
every id noted in the transaction; the task finds the devices and recomputes (``screens.delivery.store``). Nothing
is computed here (after commit, library items not on any playlist are dropped with one indexed look-up), and
nothing in another app knows screens.

Slides chosen when a manifest is computed (``screens.slides``) are heard too: a newspaper issue saved (its title is
noted) or a page image of one, a 灯塔大课堂 course saved, published, unpublished or deleted, a view restriction put on
or taken off a page (a course behind it is no longer public), and a picture replaced in
Wagtail's image library (an image slide, a front page or a course's poster). A new picture is used by nothing yet,
so only edits and deletes of images are noted.

Heartbeats write with ``update()`` and send nothing, so a device's own reports never trigger a recomputation.
"""

import threading
from collections import defaultdict

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from wagtail.images import get_image_model_string
from wagtail.models import PageViewRestriction
from wagtail.signals import page_unpublished

from media_pipeline.events import renditions_published

_pending = threading.local()


def _note(scope: str, *ids) -> None:
    noted = getattr(_pending, "ids", None)
    if noted is None:
        noted = _pending.ids = defaultdict(set)
    noted[scope].update(i for i in ids if i is not None)
    transaction.on_commit(_flush)  # a rolled-back change leaves a note the next commit flushes: one extra recompute


def _flush() -> None:
    noted = getattr(_pending, "ids", None)
    if not noted:
        return
    _pending.ids = None
    from .delivery.store import entries_touched
    from .linear.selectors import loops_forget
    from .tasks import manifests_recompute_task

    for scope, ids in noted.items():
        # An import saves thousands of items and almost none is on a screen: one indexed look-up here spares the
        # queue a task per item (and per issue page, picture or course nobody shows).
        entries = entries_touched(scope=scope, ids=ids)
        if entries is not None and not entries.exists():
            continue
        if scope in ("item", "asset"):
            loops_forget()  # a live channel's loop is read on request, not stored: it is only forgotten
        manifests_recompute_task.enqueue(scope, sorted(ids))


def _entry_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _note("channel", instance.channel_id)


def _channel_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _note("channel", instance.pk)


def _rule_before_save(sender, instance, raw=False, **kwargs):
    # A rule moved to another unit must leave the old unit's screens too: noted before the save (one small query).
    if not raw and instance.pk:
        _note("unit", *sender.objects.filter(pk=instance.pk).values_list("unit_id", flat=True))


def _unit_row_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _note("unit", instance.unit_id)


def _device_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _note("device", instance.pk)


def _item_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        # A newspaper's new issue changes its title's front page: the title is noted too (on the row: no query).
        _note("item", instance.pk, instance.parent_id if instance.role == "issue" else None)


def _issue_page_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _note("issue", instance.issue_id)


def _image_changed(sender, instance, raw=False, created=False, **kwargs):
    if not raw and not created:
        _note("image", instance.pk)


def _course_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _note("course", instance.pk)


def _restriction_changed(sender, instance, raw=False, **kwargs):
    # A login, password or group restriction on a course or a page above it closes it to a lobby screen without
    # saving the course (courses.selectors.course_public): every course promotion is recomputed.
    if not raw:
        _note("course", instance.page_id)


def _renditions_published(sender, *, asset_id, **kwargs):
    _note("asset", asset_id)


def connect() -> None:
    """Wire the receivers (idempotent: each has a dispatch_uid)."""
    uid = "screens:manifest:"
    for signal in (post_save, post_delete):
        name = "save" if signal is post_save else "delete"
        signal.connect(_entry_changed, sender="screens.PlaylistEntry", dispatch_uid=f"{uid}entry-{name}")
        signal.connect(_channel_changed, sender="screens.Channel", dispatch_uid=f"{uid}channel-{name}")
        signal.connect(_unit_row_changed, sender="screens.ScheduleRule", dispatch_uid=f"{uid}rule-{name}")
        signal.connect(_unit_row_changed, sender="screens.Emergency", dispatch_uid=f"{uid}emergency-{name}")
        signal.connect(_device_changed, sender="screens.Device", dispatch_uid=f"{uid}device-{name}")
        signal.connect(_item_changed, sender="library.LibraryItem", dispatch_uid=f"{uid}item-{name}")
        signal.connect(_issue_page_changed, sender="library.IssuePage", dispatch_uid=f"{uid}issue-page-{name}")
        signal.connect(_image_changed, sender=get_image_model_string(), dispatch_uid=f"{uid}image-{name}")
        signal.connect(_course_changed, sender="courses.CoursePage", dispatch_uid=f"{uid}course-{name}")
        signal.connect(_restriction_changed, sender=PageViewRestriction, dispatch_uid=f"{uid}restriction-{name}")
    pre_save.connect(_rule_before_save, sender="screens.ScheduleRule", dispatch_uid=f"{uid}rule-before")
    renditions_published.connect(_renditions_published, dispatch_uid=f"{uid}renditions-published")
    # Unpublishing may save the page as a plain wagtail Page (no CoursePage post_save): its own signal says it.
    from courses.models import CoursePage

    page_unpublished.connect(_course_changed, sender=CoursePage, dispatch_uid=f"{uid}course-unpublished")
