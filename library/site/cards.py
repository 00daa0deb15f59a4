"""Item cards' pictures: which renditions a card's cover uses, read for a whole page at once, made in the background.

A card shows its cover at a fixed width beside the text (6rem: 108 px, 144 px in 大字模式) in the shape of its kind:
a video's poster 16:9, an audio programme's square, everything else a book's 3:4. Three widths per shape (1x, 2x and
3x screens) go into ``srcset``. A page of cards reads every cover's renditions in ONE query (``cards_prepare``), and a
cover whose renditions do not exist yet is never made while the member waits: the card shows its light CSS placeholder
and the renditions are queued once (``card_renditions_make_task``), so a storm of first visits costs one background
job per picture instead of 24 image decodes per request.
"""

import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Prefetch, prefetch_related_objects

from cms.models import LighthouseImage, LighthouseRendition
from library.models import LibraryItem

logger = logging.getLogger(__name__)

Kind = LibraryItem.Kind
COVER_WIDTH_PX = 108  # the card's cover column (6rem of the 18 px root); 144 px in large type (6rem of 24 px)
COVER_WIDTH_LARGE_PX = 144
CARDS_EAGER = 4  # the first row of cards at a desk (four columns): fetched at once, the rest when scrolled near
QUEUED_SECONDS = 600  # a picture queued for renditions is not queued again for this long (the job's own time)
CACHE_PREFIX = "library:card-renditions:"


@dataclass(frozen=True)
class Shape:
    name: str
    specs: tuple[str, ...]  # smallest first: 1x, 2x and 3x of the card's cover column
    width: int  # the first spec's size, for the <img>'s width and height (no shift while the picture arrives)
    height: int


PORTRAIT = Shape("portrait", ("fill-120x160", "fill-240x320", "fill-360x480"), 120, 160)
SQUARE = Shape("square", ("fill-120x120", "fill-240x240", "fill-360x360"), 120, 120)
WIDE = Shape("wide", ("fill-128x72", "fill-256x144", "fill-384x216"), 128, 72)
SHAPES = (PORTRAIT, SQUARE, WIDE)
ALL_SPECS = tuple(spec for shape in SHAPES for spec in shape.specs)


def card_shape(item: LibraryItem) -> Shape:
    if item.kind == Kind.VIDEO:
        return WIDE
    if item.kind == Kind.AUDIO:
        return SQUARE
    return PORTRAIT


def card_image(item: LibraryItem) -> LighthouseImage | None:
    """The picture a card shows: the item's cover, else (an issue or episode without one) its title's or series'."""
    if item.cover_id:
        return item.cover
    parent = item.parent if item.parent_id and "parent" in item._state.fields_cache else None
    return parent.cover if parent is not None and parent.cover_id else None


def cards_prepare(items: list[LibraryItem], *, eager: int = 0) -> list[LibraryItem]:
    """Read the covers' card renditions of a whole page in one query, queue the missing ones, and mark the first
    ``eager`` cards (the first row: fetched at once with high priority; the rest lazily)."""
    # Every instance (items sharing a picture each hold their own copy), in one query.
    images = [image for item in items if (image := card_image(item)) is not None]
    renditions = LighthouseRendition.objects.filter(filter_spec__in=ALL_SPECS)
    prefetch_related_objects(images, Prefetch("renditions", queryset=renditions))
    missing = []
    for index, item in enumerate(items):
        item.card_eager = index < eager
        item.card_shape = card_shape(item).name
        item.card_cover = None
        if (image := card_image(item)) is not None:
            item.card_cover, complete = _cover(image, card_shape(item))
            if not complete:
                missing.append((image.pk, item.card_shape))
    if missing:
        card_renditions_soon(missing)
    return items


@dataclass(frozen=True)
class Cover:
    """What the card's <img> needs: the smallest rendition as src, every width found for srcset."""

    src: str
    srcset: str
    width: int
    height: int
    shape: str


def _cover(image: LighthouseImage, shape: Shape) -> tuple[Cover | None, bool]:
    """The card's picture from the renditions that exist (prefetched; never made here) or None while none does, and
    whether every width exists (else the rest are queued and srcset offers what there is)."""
    found = {rendition.filter_spec: rendition for rendition in image.renditions.all()}
    have = [found[spec] for spec in shape.specs if spec in found]
    if not have:
        return None, False
    srcset = ", ".join(f"{rendition.url} {rendition.width}w" for rendition in have)
    cover = Cover(src=have[0].url, srcset=srcset, width=shape.width, height=shape.height, shape=shape.name)
    return cover, len(have) == len(shape.specs)


def card_renditions_soon(wanted: list[tuple[int, str]]) -> None:
    """Queue the card renditions of these (picture id, shape name) pairs in one job, each pair at most once per
    ``QUEUED_SECONDS`` across processes (through the shared cache)."""
    fresh = sorted({pair for pair in wanted if cache.add(f"{CACHE_PREFIX}{pair[0]}:{pair[1]}", 1, QUEUED_SECONDS)})
    if not fresh:
        return
    from library.tasks import card_renditions_make_task

    try:
        card_renditions_make_task.enqueue(wanted=[list(pair) for pair in fresh])
    except Exception:  # a full or absent queue must not fail the page; a visit after the pause queues them again
        logger.warning("cards: could not queue renditions for %s", fresh, exc_info=True)


def card_renditions_make(*, wanted: list[tuple[int, str]]) -> int:
    """Make the card renditions of each (picture id, shape name) pair that it lacks (Wagtail stores each once; a
    concurrent maker's copy wins). A picture whose file is missing or broken is skipped: its cards keep the
    placeholder. Returns how many pairs were done."""
    shapes = {shape.name: shape for shape in SHAPES}
    images = LighthouseImage.objects.in_bulk({image_id for image_id, _name in wanted})
    done = 0
    for image_id, name in wanted:
        image, shape = images.get(image_id), shapes.get(name)
        if image is None or shape is None:
            continue
        try:
            image.get_renditions(*shape.specs)
        except Exception:
            logger.warning("cards: no %s renditions for image %s", name, image_id, exc_info=True)
            continue
        done += 1
    return done
