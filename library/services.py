"""Writes for library items. Media and document files go to the media pipeline; search hears of changes through
its outbox; browse counts are refreshed in the background after a change."""

import logging
import threading
from collections.abc import Iterable

from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction

from media_pipeline.services import (
    caption_attach,
    media_asset_create,
    media_asset_replace_file,
    media_asset_set_options,
    upload_release,
)
from search.services import search_document_changed, search_documents_changed

from .models import ItemCredit, LibraryItem
from .text.extraction import NOTHING, ExtractionError, item_sources, item_text

logger = logging.getLogger(__name__)

MEDIA_KINDS = {LibraryItem.Kind.VIDEO, LibraryItem.Kind.AUDIO}

CREDIT_SEPARATOR = "；"


def library_item_save(
    *,
    item: LibraryItem,
    user,
    upload: UploadedFile | None = None,
    captions: UploadedFile | None = None,
    media_options: dict | None = None,
    upload_id=None,
    credits: list[tuple[str, str]] | None = None,
    edited_fields: Iterable[str] = (),
) -> LibraryItem:
    """Save an item an editor created or changed.

    A new upload starts (or restarts) the media pipeline; a newly chosen document (PDF/EPUB) becomes the item's
    document asset, so the pipeline makes its pages, contents and text; new captions or media choices re-run the
    renditions that use them. ``edited_fields`` (the form's changed fields) are remembered so that a re-import
    keeps what the editor wrote."""
    if item._state.adding and item.created_by_id is None:
        item.created_by = user if user and user.is_authenticated else None
    item.year = item_year(item)
    if not item._state.adding:
        item.edited_fields = sorted(set(item.edited_fields) | set(edited_fields))
    previous = _previous(item)
    with transaction.atomic():
        if upload is not None:
            try:
                item.media_asset = _asset_for_upload(item=item, upload=upload, user=user)
            finally:
                upload.close()
            if upload_id is not None:
                upload_release(upload_id=upload_id)  # the resumable upload's leftovers, after commit
        elif item.document_id and (item.media_asset_id is None or previous.get("document_id") != item.document_id):
            item.media_asset = _asset_for_document(item=item, user=user)
        elif item.document_id is None and previous.get("document_id") and item.kind not in MEDIA_KINDS:
            item.media_asset = None  # a withdrawn book (a takedown) must stop being served at once
        item.save()  # search's outbox hears of the row itself through the registry's post_save handler
        if previous and _changed(previous, item, OPENING_FIELDS):  # a new item has nothing under it yet
            library_items_opening_changed(item_ids=[item.pk])
        if _changed(previous, item, TEXT_SOURCES):
            fulltext_refresh_soon(item_ids=[item.pk])
        if credits is not None:
            library_item_credits_set(item=item, credits=credits)
        if item.media_asset is not None and media_options is not None:
            media_asset_set_options(asset=item.media_asset, options=media_options)
        if item.media_asset is not None and captions is not None:
            caption_attach(asset=item.media_asset, file=captions)
        library_changed()
    return item


def item_year(item: LibraryItem) -> int | None:
    """The year browse lists file an item under: its publication date, else when it went on the site."""
    if item.issued:
        return item.issued.year
    return item.published_at.year if item.published_at else None


def credits_display(credits: Iterable[tuple[str, str]]) -> str:
    """ "曹雪芹 著；高鹗 续": names with their role's short label, the way a catalogue card prints them."""
    labels = dict(ItemCredit.Role.choices)
    parts = []
    for name, role in credits:
        label = labels.get(role, "")
        parts.append(f"{name} {label}" if role != ItemCredit.Role.OTHER and label else name)
    return CREDIT_SEPARATOR.join(parts)[:255]


def library_item_credits_set(*, item: LibraryItem, credits: list[tuple[str, str]]) -> None:
    """Replace an item's creators (name, role) in order and rewrite its display copy."""
    credits = [(name.strip(), role or ItemCredit.Role.AUTHOR) for name, role in credits if name and name.strip()]
    with transaction.atomic():
        item.credits.all().delete()
        ItemCredit.objects.bulk_create(
            ItemCredit(item=item, name=name[:100], role=role, position=index)
            for index, (name, role) in enumerate(credits)
        )
        display = credits_display(credits)
        if display != item.creators:
            item.creators = display
            item.save(update_fields=["creators", "updated_at"])


# What decides who may open an item beyond its own row: a child is never more open than its parent, so moving an
# issue to another title changes who may open its articles.
OPENING_FIELDS = ("access", "access_unit_id", "is_published", "parent_id")
# What an item's search text is read from (its captions come with the media asset: see captions_changed).
TEXT_SOURCES = ("document_id", "media_asset_id")
ITEM_LABEL = "library.libraryitem"


def _previous(item: LibraryItem) -> dict:
    """The stored values the save compares against, in one query ({} for a new item)."""
    if item._state.adding:
        return {}
    return LibraryItem.objects.filter(pk=item.pk).values(*OPENING_FIELDS, *TEXT_SOURCES).first() or {}


def _changed(previous: dict, item: LibraryItem, fields: tuple[str, ...]) -> bool:
    # A new item compares against nothing ({}): a document it was given is a change.
    return any(previous.get(name) != getattr(item, name) for name in fields)


def descendant_ids(*, item_ids: list[int]) -> list[int]:
    """Ids of the children and grandchildren of these items (trees are at most three deep). Two queries on the
    given ids, never one on the children's ids: a series may have tens of thousands of episodes."""
    children = LibraryItem.objects.filter(parent_id__in=item_ids).values_list("pk", flat=True)
    grandchildren = LibraryItem.objects.filter(parent__parent_id__in=item_ids).values_list("pk", flat=True)
    return list(children) + list(grandchildren)


def library_items_opening_changed(*, item_ids: Iterable[int]) -> int:
    """Who may open these items changed (access, its unit, publication or parent), whichever path wrote it: the
    item form, a bulk action, an import. Their search documents and those of everything under them are queued for
    the index in the caller's transaction (children follow their parent: ``selectors.items_visible_to``), and browse
    counts refresh after commit. Returns how many documents were queued."""
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return 0
    queued = search_documents_changed(model_label=ITEM_LABEL, pks=[*ids, *descendant_ids(item_ids=ids)])
    library_changed()
    return queued


def _asset_for_document(*, item: LibraryItem, user):
    uploader = user if user and user.is_authenticated else None
    with item.document.file.open("rb") as handle:
        return media_asset_create(file=handle, uploaded_by=uploader)


def _asset_for_upload(*, item: LibraryItem, upload: UploadedFile, user):
    uploader = user if user and user.is_authenticated else None
    asset = item.media_asset
    shared = asset is not None and LibraryItem.objects.filter(media_asset=asset).exclude(pk=item.pk).exists()
    if asset is not None and not shared and not asset.renditions.exists():
        # The editor is fixing a file that failed: replace it and run the job again.
        return media_asset_replace_file(asset=asset, file=upload, uploaded_by=uploader)
    return media_asset_create(file=upload, uploaded_by=uploader)


@transaction.atomic
def library_item_delete(*, item: LibraryItem) -> None:
    item.delete()
    library_changed()


# The tables a browse page reads by index, whose planner statistics a bulk write leaves stale.
STATISTICS_TABLES = ("library_libraryitem", "library_libraryitemtag", "library_itemcredit")
# SQLite keeps statistics until the next ANALYZE, however much the library grows meanwhile. Taken from a small
# library they mislead it badly later (statistics of one item made a join of 300,000 items with 600,000 tag rows
# a nested scan that ran for minutes), so it is given none before the library has this many items.
STATISTICS_MIN_ROWS = 10_000


def library_statistics_refresh() -> None:
    """After a bulk write (an import, the generator): the query planner's statistics for the library's tables, in
    the foreground (about half a second at 300,000 items). SQLite keeps none unless told: its browse lists do not
    need them (tests/library/test_list_plans.py), a few other queries do (the OPDS class feeds: 86 ms without,
    5 ms with). PostgreSQL's autovacuum would come by within minutes, planning on stale numbers until then."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(STATISTICS_TABLES)}")
        elif LibraryItem.objects.count() >= STATISTICS_MIN_ROWS:
            for table in STATISTICS_TABLES:
                cursor.execute(f"ANALYZE {table}")


def library_changed() -> None:
    """Browse counts are stale after a change: refresh them in the background once the change is committed
    (several changes in a row share one refresh; see facets.facet_counts_refresh_soon)."""
    from .facets import facet_counts_refresh_soon

    transaction.on_commit(facet_counts_refresh_soon)


# --- Full text for search ---------------------------------------------------------------------------------------

# A file that was read and holds no text (a scanned PDF) is remembered as "none:<source>" ("none:pdf:12"), so that
# `manage.py library_fulltext` does not read it again on every run (only with --all or when the item changes).
NO_TEXT = "none:"


def library_item_fulltext_refresh(*, item_id: int) -> str:
    """Read the item's files again and store their text for search; return the source of the stored text
    ("pdf:12"), "" when no text was stored.

    A damaged or encrypted file is logged and leaves the item with no full text (never the text of a file it no
    longer has); the worker goes on. The text and the outbox entry are written together, and only if the item
    still reads from what was read (an editor may have attached another file during a long read: the extraction
    queued by that change stores the new text, this stale one stores nothing).
    """
    item = LibraryItem.objects.select_related("document", "media_asset").filter(pk=item_id).first()
    if item is None:
        return ""
    read_from = item_sources(item)
    try:
        extracted = item_text(item)
    except ExtractionError as exc:
        logger.warning("library item %s: no full text from its file: %s", item_id, exc)
        extracted = NOTHING
    source = extracted.source if extracted.text or not extracted.source else NO_TEXT + extracted.source
    if (extracted.text, source) != (item.fulltext, item.fulltext_source):
        if not _fulltext_store(item=item, read_from=read_from, text=extracted.text, source=source):
            logger.info("library item %s: its file changed during extraction; the newer extraction stores", item_id)
            return ""
    return source if extracted.text else ""


def _fulltext_store(*, item: LibraryItem, read_from: tuple, text: str, source: str) -> bool:
    """Write the text and its outbox entry in one transaction if the item's sources are still `read_from`."""
    with transaction.atomic():
        # The item row is locked (PostgreSQL) so that its document or media asset cannot change between this check
        # and the write; the document's file name and the caption tracks are compared as read in the same step.
        current = (
            LibraryItem.objects.select_for_update(of=("self",))
            .select_related("document", "media_asset")
            .filter(pk=item.pk)
            .first()
        )
        if current is None or item_sources(current) != read_from:
            return False
        # update(), not save(): the text is not an editor's change (updated_at stays) and no other field is
        # written back over a concurrent edit.
        LibraryItem.objects.filter(pk=item.pk).update(fulltext=text, fulltext_source=source)
        search_document_changed(instance=item)
    return True


def library_items_asset_published(*, asset_id: int) -> list[int]:
    """The pipeline published renditions of an asset (media_pipeline.events.renditions_published): the items
    that use it get their search text read again (a document's text is now stored) and their index entries
    refreshed (what can be played or read changed). Returns the items' ids."""
    ids = list(LibraryItem.objects.filter(media_asset_id=asset_id).values_list("pk", flat=True))
    if ids:
        with transaction.atomic():
            search_documents_changed(model_label=ITEM_LABEL, pks=ids)
            fulltext_refresh_soon(item_ids=ids)
    return ids


def library_items_captions_changed(*, asset_id: int) -> None:
    """An asset's caption tracks changed (media_pipeline.events.captions_changed): the items that play it read
    their transcript again."""
    fulltext_refresh_soon(item_ids=LibraryItem.objects.filter(media_asset_id=asset_id).values_list("pk", flat=True))


def library_items_document_changed(*, document_id: int) -> None:
    """A Wagtail document's file was replaced or the document is being deleted: the items that use it read their
    text again (the reading finds the new file, or none)."""
    fulltext_refresh_soon(item_ids=LibraryItem.objects.filter(document_id=document_id).values_list("pk", flat=True))


def fulltext_refresh_soon(*, item_ids: Iterable[int]) -> None:
    """Enqueue one extraction per item once the current transaction commits (robust: a queue that is down must not
    undo the editor's committed change; `manage.py library_fulltext` catches up).

    One upload can name the same item more than once in a transaction: the ids travel with their own on-commit
    callback (so ids recorded in a savepoint that rolls back are dropped with it), and the callbacks of one commit
    share one record of what they queued, so each item is queued once.
    """
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return

    def queue_items():  # a function, not a partial: Django names a failed robust callback by its __qualname__
        _enqueue_once(ids)

    _commit_round.fresh = True
    transaction.on_commit(queue_items, robust=True)


# Per thread (a thread runs one transaction at a time): the items queued by the callbacks of the commit now running.
# The first callback after a new recording starts a fresh record; the rest of that commit's callbacks add to it.
_commit_round = threading.local()


def _enqueue_once(ids: list[int]) -> None:
    from .tasks import library_item_fulltext_refresh_task

    if getattr(_commit_round, "fresh", True):
        _commit_round.fresh = False
        _commit_round.queued = set()
    for item_id in ids:
        if item_id not in _commit_round.queued:
            _commit_round.queued.add(item_id)
            library_item_fulltext_refresh_task.enqueue(item_id)
