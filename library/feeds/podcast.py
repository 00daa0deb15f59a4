"""Podcast feeds of the audio series (灯塔有声): RSS 2.0 with the iTunes and Podcasting 2.0 tags (/podcasts/).

Each audio series (kind audio, role series) is a feed at ``/podcasts/<id>.xml``; its episodes are the series'
children the requester may read that have an audio edition from the media pipeline (M4A, else MP3). Podcast
apps fetch enclosures and transcripts days after reading the feed, so the feed names our own stable URLs, which
check read access and then redirect to a freshly signed storage URL. Members-only series ask for HTTP Basic
credentials (see ``library.feeds.basic_auth.feed_user``).
"""

import json
import logging
import posixpath
import uuid
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from lxml import etree

from library.models import LISTED, LibraryItem
from library.selectors import item_children, item_url, items_visible_to, library_page
from media_pipeline.models import Rendition
from media_pipeline.selectors import rendition_file_url

from .artwork import artwork_bytes
from .basic_auth import basic_challenge, with_feed_user
from .opds import item_urn, xml_safe

logger = logging.getLogger(__name__)

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
NSMAP = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM}
# Podcasting 2.0: podcast:guid is uuid5 of the feed URL (no scheme, no trailing slash) in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

# Episode audio: profile → (file extension in our URL, media type), in order of preference.
AUDIO_EDITIONS = {"audio_m4a": ("m4a", "audio/mp4"), "audio_mp3": ("mp3", "audio/mpeg")}
EXTENSION_PROFILES = {extension: profile for profile, (extension, _type) in AUDIO_EDITIONS.items()}
CAPTIONS_KIND = Rendition.Kind.CAPTIONS  # one rendition per language, profile "captions_<language>"
COVER_SPEC = "fill-1400x1400"  # Apple asks for a square of 1400–3000 px; smaller sources stay smaller
COVER_MIN = 1400  # a cover smaller than Apple's least gives way to the site artwork
ARTWORK_MAX_AGE = 24 * 3600
MAX_EPISODES = 1000  # a feed is read whole by every app; older episodes stay on the website
MAX_SERIES = 500
CHAPTERS_TYPE = "application/json+chapters"
CHAPTERS_VERSION = "1.2.0"


# --- Reads --------------------------------------------------------------------------------------------------


def audio_series(*, user) -> QuerySet[LibraryItem]:
    """Audio series the user may open, newest first."""
    series = items_visible_to(user).filter(LISTED, kind=LibraryItem.Kind.AUDIO, role=LibraryItem.Role.SERIES)
    return series.select_related("cover").order_by("-published_at", "-id")


def episode_renditions(asset_ids: list[int]) -> dict[int, dict[str, Rendition]]:
    """asset id → {profile: newest rendition} for audio editions and captions, in one query for a whole feed."""
    found: dict[int, dict[str, Rendition]] = {}
    wanted = Q(profile__in=list(AUDIO_EDITIONS)) | Q(kind=CAPTIONS_KIND)
    renditions = Rendition.objects.filter(wanted, asset_id__in=asset_ids)
    for rendition in renditions.order_by("-created_at", "-id"):
        found.setdefault(rendition.asset_id, {}).setdefault(rendition.profile, rendition)
    return found


def audio_edition(renditions: dict[str, Rendition]) -> Rendition | None:
    """The M4A edition, else the MP3 one."""
    return next((renditions[profile] for profile in AUDIO_EDITIONS if profile in renditions), None)


def episode_captions(renditions: dict[str, Rendition]) -> Rendition | None:
    """The Chinese caption track (the default one if there are several), else the default track of any language."""
    tracks = [
        rendition for rendition in renditions.values() if rendition.kind == CAPTIONS_KIND and rendition.meta.get("vtt")
    ]
    tracks.sort(
        key=lambda track: (not track.meta.get("language", "").lower().startswith("zh"), not track.meta.get("default"))
    )
    return tracks[0] if tracks else None


def captions_file(rendition: Rendition) -> str:
    """Storage name of a caption rendition's whole WebVTT file (the rendition's path is its HLS playlist)."""
    return posixpath.join(posixpath.dirname(rendition.path), posixpath.basename(rendition.meta["vtt"]))


def episode_chapters(episode: LibraryItem) -> list[dict]:
    """Chapters in Podcasting 2.0 JSON form, from chapter marks ffprobe found in the master (``probe["chapters"]``,
    ffprobe's own shape: start_time and tags.title); empty when there are none."""
    asset = episode.media_asset
    marks = (asset.probe or {}).get("chapters") if asset is not None else None
    chapters = []
    for mark in marks or []:
        try:
            start = float(mark.get("start_time", mark.get("start")))
        except (TypeError, ValueError):
            continue
        title = (mark.get("tags") or {}).get("title") or mark.get("title") or ""
        chapters.append({"startTime": round(start, 3), "title": str(title)[:200]})
    return sorted(chapters, key=lambda chapter: chapter["startTime"])


def episode_get(*, user, item_id: int) -> LibraryItem | None:
    """An audio episode the user may read, with its asset."""
    return items_visible_to(user).filter(pk=item_id, kind=LibraryItem.Kind.AUDIO).select_related("media_asset").first()


# --- Writing RSS --------------------------------------------------------------------------------------------


def _sub(parent, tag: str, content: str | None = None, /, **attributes) -> etree._Element:
    """A child element with text ``content``; keyword arguments are attributes (``text=`` too, as OPML and
    itunes:category use it)."""
    element = etree.SubElement(parent, tag, {key: xml_safe(value) for key, value in attributes.items()})
    if content is not None:
        element.text = xml_safe(content)
    return element


def _ns(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def hms(seconds: float | None) -> str:
    """itunes:duration as HH:MM:SS."""
    total = round(seconds or 0)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def podcast_guid(feed_url: str) -> str:
    """Podcasting 2.0 guid: uuid5 of the feed URL without its scheme and trailing slashes."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def _language(tag: str) -> str:
    return "zh-cn" if tag.lower().startswith("zh") else tag.lower()


class PodcastWriter:
    def __init__(self, request: HttpRequest, user):
        self.request, self.user = request, user
        self.library_page = library_page()  # once per feed: item_url would look it up for every episode

    def absolute(self, path: str) -> str:
        return self.request.build_absolute_uri(path)

    def channel(self, series: LibraryItem, *, built: datetime) -> etree._Element:
        """The channel of ``series``; ``built`` is its lastBuildDate (the newest episode's time, never "now", so the
        same episodes make the same document and a conditional GET can answer 304)."""
        rss = etree.Element("rss", nsmap=NSMAP, version="2.0")
        channel = _sub(rss, "channel")
        feed_url = self.absolute(reverse("podcast_feed", args=[series.pk]))
        _sub(channel, "title", series.title)
        _sub(channel, "link", self.absolute(item_url(series, page=self.library_page) or feed_url))
        _sub(channel, "description", series.summary or series.title)
        _sub(channel, "language", "zh-cn")
        _sub(channel, "lastBuildDate", format_datetime(built))
        _sub(channel, "generator", "Lighthouse")
        _sub(channel, _ns(ATOM, "link"), rel="self", href=feed_url, type="application/rss+xml")
        _sub(channel, _ns(ITUNES, "author"), series.creators or _("灯塔有声"))
        owner = _sub(channel, _ns(ITUNES, "owner"))
        _sub(owner, _ns(ITUNES, "name"), series.publisher or _("灯塔有声"))
        if settings.PODCAST_OWNER_EMAIL:
            _sub(owner, _ns(ITUNES, "email"), settings.PODCAST_OWNER_EMAIL)
        # Apple rejects a feed without artwork: a series without a cover (or a too small one) shows the site's.
        cover = self._cover(series) or self.absolute(reverse("podcast_artwork"))
        _sub(channel, _ns(ITUNES, "image"), href=cover)
        _sub(channel, _ns(ITUNES, "category"), text="Education")
        _sub(channel, _ns(ITUNES, "explicit"), "false")
        _sub(channel, _ns(ITUNES, "type"), "episodic")
        _sub(channel, _ns(PODCAST, "guid"), podcast_guid(feed_url))
        _sub(channel, _ns(PODCAST, "locked"), "no")
        return rss

    def _cover(self, series: LibraryItem) -> str:
        if series.cover is None:
            return ""
        try:
            rendition = series.cover.get_rendition(COVER_SPEC)
            return self.absolute(rendition.url) if rendition.width >= COVER_MIN else ""
        except Exception:  # a missing image file must not take the feed down
            logger.warning("podcast: no cover rendition for series %s", series.pk, exc_info=True)
            return ""

    def episodes(self, channel: etree._Element, episodes: list[LibraryItem]) -> list[datetime]:
        """Write the episodes that have an audio edition; returns when each written one, its edition or its
        captions last changed (what the feed's Last-Modified is made of)."""
        renditions = episode_renditions([episode.media_asset_id for episode in episodes if episode.media_asset_id])
        changed = []
        for number, episode in enumerate(episodes, start=1):
            found = renditions.get(episode.media_asset_id, {})
            if (audio := audio_edition(found)) is not None:
                captions = episode_captions(found)
                self.episode(channel, episode, audio, captions, number=episode.position or number)
                changed += [episode.updated_at, audio.created_at] + ([captions.created_at] if captions else [])
        return changed

    def episode(self, channel, episode: LibraryItem, audio: Rendition, captions: Rendition | None, *, number: int):
        item = _sub(channel, "item")
        _sub(item, "title", episode.title)
        _sub(item, "guid", item_urn(episode.pk), isPermaLink="false")
        _sub(item, "pubDate", format_datetime(episode.published_at))
        _sub(item, "description", episode.summary or episode.title)
        if page := item_url(episode, page=self.library_page):
            _sub(item, "link", self.absolute(page))
        extension, media_type = AUDIO_EDITIONS[audio.profile]
        url = self.absolute(reverse("podcast_episode_audio", args=[episode.pk, extension]))
        # The size the pipeline recorded when it stored the file; asking the storage would be a request (an S3
        # HEAD) per episode. 0 is what RSS readers take for "unknown".
        _sub(item, "enclosure", url=url, length=audio.size or 0, type=media_type)
        duration = audio.duration or (episode.media_asset.duration if episode.media_asset else None)
        _sub(item, _ns(ITUNES, "duration"), hms(duration))
        _sub(item, _ns(ITUNES, "episode"), str(number))
        _sub(item, _ns(ITUNES, "episodeType"), "full")
        _sub(item, _ns(ITUNES, "explicit"), "false")
        if captions is not None:
            href = self.absolute(reverse("podcast_episode_transcript", args=[episode.pk]))
            language = _language(captions.meta.get("language", "zh"))
            _sub(item, _ns(PODCAST, "transcript"), url=href, type="text/vtt", language=language, rel="captions")
        if episode_chapters(episode):
            href = self.absolute(reverse("podcast_episode_chapters", args=[episode.pk]))
            _sub(item, _ns(PODCAST, "chapters"), url=href, type=CHAPTERS_TYPE)


def _xml(root: etree._Element, content_type: str) -> HttpResponse:
    body = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return HttpResponse(body, content_type=f"{content_type}; charset=utf-8")


# --- Views --------------------------------------------------------------------------------------------------


def feed_view(view: Callable) -> Callable:
    """GET and HEAD alike (Apple's validator sends HEAD to feeds and enclosures; gunicorn and runserver drop the
    body of a HEAD answer, so its headers are exactly the GET's), with the requester."""
    return require_safe(with_feed_user(view))


@feed_view
def podcast_index(request: HttpRequest, user) -> HttpResponse:
    """OPML of the series the requester may hear (anonymous: the public ones); podcast apps import it whole."""
    opml = etree.Element("opml", version="2.0")
    head = _sub(opml, "head")
    _sub(head, "title", _("灯塔有声"))
    listed = list(audio_series(user=user)[:MAX_SERIES])
    # The newest series' date, not now: the same list is the same document (ETag, HEAD and GET agree).
    if listed:
        _sub(head, "dateCreated", format_datetime(listed[0].published_at))
    body = _sub(opml, "body")
    site_page = library_page()
    for series in listed:
        feed_url = request.build_absolute_uri(reverse("podcast_feed", args=[series.pk]))
        page = item_url(series, page=site_page)
        outline = _sub(body, "outline", type="rss", text=series.title, title=series.title, xmlUrl=feed_url)
        if page:
            outline.set("htmlUrl", request.build_absolute_uri(page))
    return _xml(opml, "text/x-opml")


@feed_view
def podcast_feed(request: HttpRequest, user, series_id: int) -> HttpResponse:
    series = audio_series(user=user).filter(pk=series_id).first()
    if series is None:
        return _closed(user)
    children = item_children(user=user, item=series).filter(kind=LibraryItem.Kind.AUDIO)
    # The newest MAX_EPISODES, listed in series order.
    newest = children.select_related("media_asset").order_by("-position", "-id")[:MAX_EPISODES]
    episodes = list(reversed(newest))
    writer = PodcastWriter(request, user)
    built = max((episode.published_at for episode in episodes), default=series.published_at)
    rss = writer.channel(series, built=built)
    changed = writer.episodes(rss.find("channel"), episodes)
    response = _xml(rss, "application/rss+xml")
    # With the ETag the delivery middleware adds (a hash of these bytes), apps asking again get a 304.
    response["Last-Modified"] = http_date(max([series.updated_at, *changed]).timestamp())
    return response


@require_safe
def podcast_artwork(request: HttpRequest) -> HttpResponse:
    """The site artwork (library.feeds.artwork): public, the same for everyone, kept a day by apps and caches."""
    response = HttpResponse(artwork_bytes(), content_type="image/png")
    patch_cache_control(response, public=True, max_age=ARTWORK_MAX_AGE)
    return response


@feed_view
def podcast_episode_audio(request: HttpRequest, user, item_id: int, extension: str) -> HttpResponse:
    """The enclosure: check read access now, then redirect to a freshly signed URL of the audio edition."""
    profile = EXTENSION_PROFILES.get(extension)
    episode = episode_get(user=user, item_id=item_id)
    if episode is None:
        return _closed(user)
    if profile is None or episode.media_asset_id is None:
        raise Http404
    rendition = episode_renditions([episode.media_asset_id]).get(episode.media_asset_id, {}).get(profile)
    if rendition is None:
        raise Http404
    return _redirect(rendition_file_url(rendition=rendition, http_method=request.method))


@feed_view
def podcast_episode_transcript(request: HttpRequest, user, item_id: int) -> HttpResponse:
    episode = episode_get(user=user, item_id=item_id)
    if episode is None:
        return _closed(user)
    found = (
        episode_renditions([episode.media_asset_id]).get(episode.media_asset_id, {}) if episode.media_asset_id else {}
    )
    captions = episode_captions(found)
    if captions is None:
        raise Http404
    return _redirect(default_storage.url(captions_file(captions)))


@feed_view
def podcast_episode_chapters(request: HttpRequest, user, item_id: int) -> HttpResponse:
    episode = episode_get(user=user, item_id=item_id)
    if episode is None:
        return _closed(user)
    chapters = episode_chapters(episode)
    if not chapters:
        raise Http404
    body = json.dumps({"version": CHAPTERS_VERSION, "chapters": chapters}, ensure_ascii=False)
    return HttpResponse(body, content_type=f"{CHAPTERS_TYPE}; charset=utf-8")


def _closed(user) -> HttpResponse:
    """Not open to this requester: ask an anonymous one to sign in (apps then prompt), tell a member it is not here.
    Whether the id exists plays no part, so the answers never tell which ids are there."""
    if not user.is_authenticated:
        return basic_challenge()
    raise Http404


def _redirect(url: str) -> HttpResponse:
    # The signed URL expires: never let a cache keep the redirect longer than the signature lives.
    response = HttpResponseRedirect(url)
    add_never_cache_headers(response)
    return response
