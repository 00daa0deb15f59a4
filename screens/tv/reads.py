"""What the TV's rows read, through the other apps' front doors: the month's course and its lessons
(``courses.selectors``), videos the viewer may open (``library.selectors.items_visible_to`` — an anonymous TV sees
public items only, a signed-in one what that member may open), site search (``search.selectors``), and TV channels
with what is on now (this app's resolver, for a TV of the channel's own unit)."""

from dataclasses import dataclass

from django.utils import timezone

from cms.selectors import unit_and_ancestor_ids
from courses.selectors import course_current, course_lessons
from library.models import LibraryItem
from library.selectors import item_opens_on_sign_in, item_visible_to, items_visible_to
from media_pipeline.selectors import asset_playback_urls
from search.selectors import search

from ..models import Channel, Device, PlaylistEntry, ScreenType
from ..selectors import device_decision

ROW_LENGTH = 12
PLAYABLE_KINDS = (LibraryItem.Kind.VIDEO, LibraryItem.Kind.AUDIO)
LIBRARY_DOC = "library.libraryitem:"


@dataclass(frozen=True)
class Lesson:
    item: LibraryItem
    required: bool
    playable: bool  # the viewer may open it and it has a stream


@dataclass(frozen=True)
class ChannelNow:
    channel: Channel
    label: str  # what is on now, "" when nothing is scheduled
    item_id: int | None  # the library video on now, to open in the player
    offset: int  # seconds into it


def current_course(user):
    # A TV cannot ask for a page's password (nor an anonymous TV for a sign-in): such a course is not offered, and
    # its lessons do not play here through the course.
    return course_current(member=user, without_prompt=True)


def lessons_of(course, user) -> list[Lesson]:
    lessons = course_lessons(course)
    ids = [lesson.item_id for lesson in lessons]
    open_ids = set(items_visible_to(user).filter(pk__in=ids, media_asset__isnull=False).values_list("pk", flat=True))
    kinds = PLAYABLE_KINDS
    return [
        Lesson(
            item=lesson.item,
            required=lesson.required,
            playable=lesson.item_id in open_ids and lesson.item.kind in kinds,
        )
        for lesson in lessons
    ]


def next_lesson(user, item_id: int) -> Lesson | None:
    """The month's course lesson to play after ``item_id`` on this TV: the next one the viewer may play (lessons
    not for a TV are passed over); None after the last, or when the item is not one of the course's lessons."""
    course = current_course(user)
    lessons = lessons_of(course, user) if course is not None else []
    ids = [lesson.item.pk for lesson in lessons]
    if item_id not in ids:
        return None
    return next((lesson for lesson in lessons[ids.index(item_id) + 1 :] if lesson.playable), None)


def videos_for(user) -> list[LibraryItem]:
    """The newest videos with media the viewer may open (episodes too: a TV plays them one by one)."""
    rows = items_visible_to(user).filter(kind=LibraryItem.Kind.VIDEO, media_asset__isnull=False)
    return list(rows.select_related("cover").order_by("-published_at", "-pk")[:ROW_LENGTH])


def playable_item(user, item_id: int) -> tuple[LibraryItem | None, dict, bool]:
    """(item, its playback URLs, whether signing in would open it). The item is None when the viewer may not open
    it (members-only for an anonymous TV, unknown, unpublished)."""
    item = item_visible_to(user, item_id)
    if item is None:
        wants_sign_in = not user.is_authenticated and item_opens_on_sign_in(item_id) is not None
        return None, {}, wants_sign_in
    urls = asset_playback_urls(asset=item.media_asset) if item.media_asset_id and item.kind in PLAYABLE_KINDS else {}
    return item, urls, False


def tv_channels(user) -> list[Channel]:
    """TV channels: a member's own unit's and those above it first; others' when there is room. A TV nobody signed
    in shows the broadcast ones only (``is_linear``: open to anyone, public items only, as /linear/ already is); a
    unit's own channels may carry its members' programmes and notices."""
    rows = Channel.objects.filter(screen_type=ScreenType.TV).select_related("owning_unit")
    if not user.is_authenticated:
        rows = rows.filter(is_linear=True)
    own = list(rows.filter(owning_unit_id__in=unit_and_ancestor_ids(user)).order_by("-owning_unit__depth", "pk"))
    if len(own) >= ROW_LENGTH:
        return own[:ROW_LENGTH]
    others = rows.exclude(pk__in=[channel.pk for channel in own]).order_by("owning_unit__path", "pk")
    return own + list(others[: ROW_LENGTH - len(own)])


def channel_now(channel: Channel, *, moment=None) -> ChannelNow:
    """What a TV of the channel's own unit shows of this channel now (the resolver's answer; nothing when another
    channel or nothing holds the screen)."""
    tv = Device(unit_id=channel.owning_unit_id, screen_type=ScreenType.TV, width=1920, height=1080, muted=False)
    decision = device_decision(device=tv, moment=moment or timezone.now())
    if decision.loop is None or decision.loop.channel_id != channel.pk or decision.step is None:
        return ChannelNow(channel, "", None, 0)
    item_id = None
    if decision.step.kind == PlaylistEntry.Kind.VIDEO:
        item_id = PlaylistEntry.objects.filter(pk=decision.step.entry_id).values_list("item_id", flat=True).first()
    return ChannelNow(channel, decision.step.label, item_id, int(decision.step_offset))


def search_hits(query: str, user) -> tuple[list[dict], object]:
    """One page of site search for the TV: each hit with the TV's own link when it is a playable library item."""
    results = search(query=query, user=user, per_page=ROW_LENGTH)
    hits = []
    for hit in results.hits:
        item_id = hit.doc_id.removeprefix(LIBRARY_DOC) if hit.doc_id.startswith(LIBRARY_DOC) else ""
        playable = item_id.isdigit() and hit.kind in PLAYABLE_KINDS
        hits.append({"title": hit.title, "kind": hit.kind_label, "item_id": int(item_id) if playable else None})
    return hits, results
