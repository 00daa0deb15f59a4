"""A series page's play button: 播放第一集 for a newcomer, 继续播放第N集 for a member who has started the series (the
episode they studied last; the one after it once that is finished)."""

from django.db.models import Q
from django.utils.translation import gettext as _

from library import activity, selectors
from library.models import LibraryItem


def series_play(*, series: LibraryItem, user, url_of) -> dict | None:
    """What the button plays and says (``url_of(item)`` makes the link), or None when no episode is open to the
    user. Reads the member's last episode in the series and, when needed, the first or the next one."""
    episodes = selectors.item_children(user=user, item=series)
    progress = activity.series_resume(member=user, series=series)
    if progress is not None:
        episode = progress.item
        if progress.completed:
            after = Q(position__gt=episode.position) | Q(position=episode.position, id__gt=episode.pk)
            episode = episodes.filter(after).first() or episode
        number = _episode_number(episodes, episode)
        label = _("继续播放第%(number)d集") % {"number": number}
        return {"item": episode, "url": url_of(episode), "label": label, "resume": True, "progress": progress}
    first = episodes.first()
    if first is None:
        return None
    return {"item": first, "url": url_of(first), "label": _("播放第一集"), "resume": False, "progress": None}


def _episode_number(episodes, episode: LibraryItem) -> int:
    """第N集 as the series counts: its own number where editors set one (position from 1), else its place in the
    list of episodes open to this member."""
    if episode.position > 0:
        return episode.position
    before = Q(position__lt=episode.position) | Q(position=episode.position, id__lt=episode.pk)
    return episodes.filter(before).count() + 1
