"""What an item's page shows, per kind: the player or reader and the lists around it.

Pure reads. Every list of other items comes from ``library.selectors`` (so a member never sees an episode, issue or
article they may not open), and every file URL is a short-lived signed one made for this page view. The page picks
its template from ``template``; everything else in the returned dict is that template's.
"""

import json
import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.urls import reverse

from library import selectors
from library.models import LISTED, ArticleArea, IssuePage, LibraryItem, LibraryPage
from media_pipeline.models import Rendition
from media_pipeline.selectors import (
    asset_playback_urls,
    rendition_file_url,
    renditions_by_profile,
    stored_file_signed_url,
)

from .links import asset_master_url, master_allowed
from .playback import item_playback
from .series_play import series_play

logger = logging.getLogger(__name__)

Kind, Role = LibraryItem.Kind, LibraryItem.Role
SERIALS = (Kind.PERIODICAL, Kind.NEWSPAPER)
PLAYLIST_WINDOW = 30  # episodes each side of the current one: a long series stays a light page
CHILDREN_PER_PAGE = 50
ISSUES_PER_PAGE = 48
RELATED_COUNT = 6
AUDIO_PROFILES = ("audio_m4a", "audio_mp3")  # the audio edition: M4A for today's phones, MP3 for old ones
ISSUE_PAGE_SPEC = "width-1600"
TEXT_PART_MAX_BYTES = 400_000  # one page or chapter of the 文字版; a bigger one is cut rather than sent whole
PAGES_PER_REQUEST = 20  # page images the PDF page reader asks for at once (signed URLs, valid about an hour)
MANIFEST_MAX_BYTES = 4_000_000  # a 3,000-page manifest is ~0.5 MB
MANIFEST_CACHE_SECONDS = 3600  # a rendition's files never change (a new job writes a new folder)


@dataclass(frozen=True)
class ReaderRequest:
    """What the member asked for besides the item: a page of a list, a 版面, or the 文字版 and its part."""

    page: int = 1
    view: str = ""  # "text": the 文字版
    part: int = 1


def page_number(raw: str | None) -> int:
    """A page or part number from the query string (the page's ?p= and ?part=, the page reader's ?start=);
    anything odd means the first."""
    try:
        value = int(raw or 1)
    except ValueError:
        return 1
    return value if 0 < value < 1_000_000 else 1


def reader_context(*, item: LibraryItem, user, request: ReaderRequest | None = None, library_page=None) -> dict:
    """The context of the item's template for this member (``template`` names it)."""
    request = request or ReaderRequest()
    library_page = library_page or selectors.library_page()
    urls = _Urls(library_page)
    if request.view == "text" and item.media_asset_id and item.kind in (Kind.EBOOK, *SERIALS):
        text = document_text_context(item=item, part=request.part)
        return {"template": "library/items/text.html", "shows_body": True, **text}
    if item.role == Role.SERIES:
        return _series_context(item=item, user=user, request=request, urls=urls)
    if item.role == Role.ISSUE or (item.kind in SERIALS and item.role == Role.ITEM):
        return _issue_context(item=item, user=user, request=request, urls=urls)
    if item.role == Role.ARTICLE or item.kind == Kind.ARTICLE:
        return _article_context(item=item, user=user, urls=urls)
    if item.kind == Kind.VIDEO:
        return _video_context(item=item, user=user, urls=urls)
    if item.kind == Kind.AUDIO:
        return _audio_context(item=item, user=user, urls=urls)
    if item.kind == Kind.EBOOK:
        return {"template": "library/items/ebook.html", "document": document_context(item=item, user=user)}
    return {"template": "library/items/article.html", "shows_body": True, "printed_on": []}


def item_page_extras(*, item: LibraryItem, user, library_page=None, known_readable: bool = False) -> dict:
    """What every item page shows around its reader: state of its media, download, related items, rights.
    ``known_readable``: the item came from ``item_visible_to(user)``, so the download check needs no second query."""
    urls = _Urls(library_page or selectors.library_page())
    can_download = item.media_asset_id is not None and selectors.item_downloadable(
        user=user, item=item, known_readable=known_readable
    )
    return {
        "playback": item_playback(item),
        "download_url": reverse("library_files:download", args=[item.pk]) if can_download else "",
        "related": [urls.entry(other) for other in related_items(item=item, user=user)],
        "parent_entry": _parent_entry(item=item, user=user, urls=urls),
    }


# --- Lists of other items ---------------------------------------------------------------------------------------


class _Urls:
    """Item page URLs under the one library page, without looking the page up for every link."""

    def __init__(self, library_page: LibraryPage | None):
        self.page = library_page

    def of(self, item: LibraryItem) -> str:
        return selectors.item_url(item, self.page) if self.page is not None else ""

    def entry(self, item: LibraryItem) -> dict:
        return {"item": item, "url": self.of(item)}


def related_items(*, item: LibraryItem, user, count: int = RELATED_COUNT) -> list[LibraryItem]:
    """The editor's related items the member may open; else a few others of the same class (中图法).

    An issue's neighbours are the title's other recent issues. Episodes and an issue's articles are listed on the
    page already, so their siblings are not repeated here."""
    visible = selectors.items_visible_to(user).exclude(pk=item.pk).select_related("cover")
    chosen = list(visible.filter(pk__in=item.related_items.values("pk"))[:count])
    if chosen:
        return chosen
    if item.role == Role.ISSUE and item.parent_id:
        return list(visible.filter(parent_id=item.parent_id).order_by("-issued", "-position", "-id")[:count])
    clc = item.clc or (item.parent.clc if item.parent_id else "")
    if clc:
        return list(visible.filter(LISTED, clc=clc).exclude(pk=item.parent_id or 0)[:count])
    return []


def _parent_entry(*, item: LibraryItem, user, urls: _Urls) -> dict | None:
    if item.parent_id is None or not selectors.item_readable(user=user, item=item.parent):
        return None
    return urls.entry(item.parent)


def _paged(queryset: QuerySet, *, number: int, per_page: int):
    return Paginator(queryset, per_page).get_page(number)


def _series_context(*, item, user, request: ReaderRequest, urls: _Urls) -> dict:
    """A series lists its episodes in order; a periodical or newspaper title its issues, newest first."""
    children = selectors.item_children(user=user, item=item).select_related("cover")
    if item.kind in SERIALS:
        children = children.order_by("-issued", "-position", "-id")
        listing = _paged(children, number=request.page, per_page=ISSUES_PER_PAGE)
        template = "library/items/serial_title.html"
    else:
        listing = _paged(children, number=request.page, per_page=CHILDREN_PER_PAGE)
        template = "library/items/series.html"
        play = series_play(series=item, user=user, url_of=urls.of)
        return {"template": template, "children": [urls.entry(c) for c in listing], "listing": listing, "play": play}
    return {"template": template, "children": [urls.entry(child) for child in listing], "listing": listing}


def episode_window(*, item: LibraryItem, user, size: int = PLAYLIST_WINDOW) -> tuple[list, int]:
    """The episodes around ``item`` in its series (``size`` each side) and the item's index in that list.

    A standalone programme is a playlist of one."""
    if item.parent_id is None:
        return [item], 0
    siblings = selectors.item_children(user=user, item=item.parent)
    before_q = Q(position__lt=item.position) | Q(position=item.position, id__lt=item.pk)
    after_q = Q(position__gt=item.position) | Q(position=item.position, id__gt=item.pk)
    before = list(siblings.filter(before_q).order_by("-position", "-id")[:size])[::-1]
    after = list(siblings.filter(after_q).order_by("position", "id")[:size])
    return [*before, item, *after], len(before)


# --- Video and audio --------------------------------------------------------------------------------------------


def _episode_entries(episodes: list[LibraryItem], current: int, urls: _Urls) -> list[dict]:
    return [{**urls.entry(episode), "current": index == current} for index, episode in enumerate(episodes)]


def _video_context(*, item, user, urls: _Urls) -> dict:
    episodes, current = episode_window(item=item, user=user)
    return {
        "template": "library/items/video.html",
        "episodes": _episode_entries(episodes, current, urls) if item.parent_id else [],
        "previous_episode": urls.entry(episodes[current - 1]) if current > 0 else None,
        "next_episode": urls.entry(episodes[current + 1]) if current + 1 < len(episodes) else None,
    }


def _audio_context(*, item, user, urls: _Urls) -> dict:
    """A playlist of the series' episodes with their audio-edition files, so the next one starts without a page
    load (a page cannot load while the screen is locked; an <audio> element keeps playing)."""
    episodes, current = episode_window(item=item, user=user)
    files = audio_files(assets=[episode.media_asset_id for episode in episodes if episode.media_asset_id])
    artwork = _artwork_url(item)
    playlist = [
        {
            "id": episode.pk,
            "title": episode.title,
            "artist": episode.creators,
            "album": item.parent.title if item.parent_id else "",
            "url": urls.of(episode),
            "m4a": files.get(episode.media_asset_id, {}).get("audio_m4a", ""),
            "mp3": files.get(episode.media_asset_id, {}).get("audio_mp3", ""),
            "artwork": artwork,
        }
        for episode in episodes
    ]
    return {
        "template": "library/items/audio.html",
        "playlist": playlist,
        "current_index": current,
        "current": playlist[current],
        "episodes": _episode_entries(episodes, current, urls),
    }


def audio_files(*, assets: list[int]) -> dict[int, dict[str, str]]:
    """{asset id: {"audio_m4a": url, "audio_mp3": url}} for many assets in one query (newest rendition wins)."""
    found: dict[int, dict[str, str]] = {}
    renditions = Rendition.objects.filter(asset_id__in=assets, profile__in=AUDIO_PROFILES).order_by(
        "-created_at", "-id"
    )
    for rendition in renditions:
        per_asset = found.setdefault(rendition.asset_id, {})
        if rendition.profile not in per_asset:
            per_asset[rendition.profile] = rendition_file_url(rendition=rendition)
    return found


def image_rendition_url(image, spec: str) -> str:
    """A Wagtail image's rendition URL, or "" when the original file is missing or broken: a lost upload must not
    turn the whole page into a 500."""
    try:
        return image.get_rendition(spec).url
    except OSError:  # SourceImageIOError (file gone) and Pillow's unreadable-image errors are both OSErrors
        logger.warning("Cannot render image %s as %s", image.pk, spec, exc_info=True)
        return ""


def page_image_url(image, spec: str) -> dict:
    """A 版面's image ({url, width, height}) as a short-lived signed URL: local disk refuses the plain URL of a page
    of an issue not everyone may read (library.access.image_file_public), so pages are always handed out signed.
    Empty when the original is missing or broken."""
    try:
        rendition = image.get_rendition(spec)
    except OSError:
        logger.warning("Cannot render image %s as %s", image.pk, spec, exc_info=True)
        return {}
    return {"url": stored_file_signed_url(file=rendition.file), "width": rendition.width, "height": rendition.height}


def _artwork_url(item: LibraryItem) -> str:
    """A picture for the lock screen: the item's cover, else the series' cover, else the video poster."""
    for source in (item, item.parent if item.parent_id else None):
        if source is not None and source.cover_id and (url := image_rendition_url(source.cover, "fill-512x512")):
            return url
    if item.media_asset_id:
        return asset_playback_urls(asset=item.media_asset).get("poster", "")
    return ""


# --- Articles, issues, pages ------------------------------------------------------------------------------------


def _article_context(*, item, user, urls: _Urls) -> dict:
    """An 图文 article; an article of an issue also links to the 版面 it is printed on."""
    pages = []
    if item.role == Role.ARTICLE and item.parent_id:
        numbers = IssuePage.objects.filter(areas__article=item).values_list("number", flat=True).distinct()
        parent_url = urls.of(item.parent)
        pages = [{"number": number, "url": f"{parent_url}?p={number}"} for number in sorted(numbers)]
    return {"template": "library/items/article.html", "shows_body": True, "printed_on": pages}


def _issue_context(*, item, user, request: ReaderRequest, urls: _Urls) -> dict:
    """An issue: its PDF/EPUB in the reader when it has one, else its page images; and its articles."""
    articles = [urls.entry(article) for article in selectors.item_children(user=user, item=item)]
    context = {"template": "library/items/issue.html", "articles": articles, "document": None, "pages": None}
    # A newspaper is read by its 版面 (with article areas); a periodical by its PDF when it has one.
    has_pages = item.pages.exists()
    if item.media_asset_id and not (has_pages and item.kind == Kind.NEWSPAPER):
        context["document"] = document_context(item=item, user=user)
    else:
        context["pages"] = issue_pages_context(item=item, user=user, number=request.page, urls=urls)
        # No article listed twice: those of the page on screen are under 本版文章, the issue's list has the others.
        on_page = {entry["item"].pk for entry in context["pages"]["articles"]}
        context["articles"] = [entry for entry in articles if entry["item"].pk not in on_page]
    return context


def issue_pages_context(*, item: LibraryItem, user, number: int, urls: _Urls) -> dict:
    """The 版面 list and the chosen page with its article areas (only articles the member may open)."""
    pages = list(item.pages.select_related("image").order_by("number"))
    current = next((page for page in pages if page.number == number), pages[0] if pages else None)
    areas = []
    if current is not None:
        visible = selectors.visible_item_q(user, field="article")
        rows = ArticleArea.objects.filter(visible, page=current).select_related("article")
        for area in rows.order_by("id"):
            points = polygon_points(area.points)
            if points:
                areas.append({"article": area.article, "url": urls.of(area.article), "points": points})
    index = pages.index(current) if current is not None else 0
    return {
        "all": pages,
        "current": current,
        "picture": page_image_url(current.image, ISSUE_PAGE_SPEC) if current is not None and current.image else {},
        "previous": pages[index - 1] if current is not None and index > 0 else None,
        "next": pages[index + 1] if current is not None and index + 1 < len(pages) else None,
        "areas": areas,
        "articles": _unique_articles(areas),
    }


def _unique_articles(areas: list[dict]) -> list[dict]:
    seen, articles = set(), []
    for area in areas:
        if area["article"].pk not in seen:
            seen.add(area["article"].pk)
            articles.append({"item": area["article"], "url": area["url"]})
    return articles


def polygon_points(raw) -> str:
    """SVG ``points`` for an area stored as [[x, y], …] fractions; "" for anything that is not a polygon.

    Stored areas are validated by the admin; a bad row still must not break the page, so it is skipped."""
    try:
        points = [(float(x), float(y)) for x, y in raw]
    except (TypeError, ValueError):
        return ""
    if len(points) < 3 or not all(0 <= x <= 1 and 0 <= y <= 1 for x, y in points):
        return ""
    return " ".join(f"{x:.5f},{y:.5f}" for x, y in points)


# --- Documents: the PDF/EPUB reader and the 文字版 ---------------------------------------------------------------


def document_context(*, item: LibraryItem, user) -> dict | None:
    """What the PDF or EPUB reader needs (the item is readable: the page checked), by what this member may have.

    ``source`` "master": who may download the item or manages it reads the master itself (pdf.js by ranges,
    foliate-js on the whole EPUB) through a reading link (signed, inline, never cached, short-lived) and the URL
    that signs a fresh one. Everyone else never gets the master's URL: "pages" for a PDF (the pipeline's page images,
    ``pages_ready`` false while they are being made) or "parts" for an EPUB (its members one by one, epub_parts)."""
    asset = item.media_asset
    if asset is None:
        return None
    renditions = renditions_by_profile(asset=asset)
    pages, text = renditions.get("document"), renditions.get("document_text")
    fmt = document_format(asset=asset, pages=pages)
    whole = master_allowed(user=user, item=item)
    return {
        "format": fmt,
        "source": "master" if whole else ("parts" if fmt == "epub" else "pages"),
        "url": asset_master_url(asset) if whole else "",
        "read_url": reverse("library_files:read", args=[item.pk]) if whole else "",
        "pages_url": reverse("library_files:pages", args=[item.pk]) if fmt == "pdf" and not whole else "",
        "parts_url": reverse("library_files:epub_index", args=[item.pk]) if fmt == "epub" and not whole else "",
        "pages_ready": pages is not None,
        "toc": (pages.meta.get("toc") or [])[:500] if pages else [],
        "page_count": pages.meta.get("page_count") if pages else None,
        "has_text": text is not None,
    }


def document_pages(*, item: LibraryItem, start: int, count: int = PAGES_PER_REQUEST) -> dict | None:
    """Page images of a readable PDF item from ``start`` (1-based), each at every width the pipeline made, as
    signed URLs that expire (S3 presigned, local disk signed): what the page reader shows instead of the master.
    None when the item has no PDF page rendition (yet). Names follow the pipeline's layout
    (``pages/<width>/p0001.jpg``, as the API's pages route builds them); the manifest only adds each page's size."""
    pages = renditions_by_profile(asset=item.media_asset).get("document") if item.media_asset_id else None
    if pages is None or document_format(asset=item.media_asset, pages=pages) != "pdf":
        return None
    total = int(pages.meta.get("page_count") or 0)
    widths = sorted(int(width) for width in pages.meta.get("widths") or [])
    start = min(max(start, 1), max(total, 1))
    folder = pages.path.rsplit("/", 1)[0]  # …/pages
    sizes = _page_sizes(pages)
    numbers = range(start, min(start + count, total + 1))
    return {
        "page_count": total,
        "start": start,
        "pages": [_page_entry(number, widths, folder, sizes.get(number)) for number in numbers],
        "next_start": start + count if start + count <= total else None,
    }


def _page_entry(number: int, widths: list[int], folder: str, size: tuple[int, int] | None) -> dict:
    return {
        "number": number,
        "width": size[0] if size else None,
        "height": size[1] if size else None,
        "images": [
            {"url": default_storage.url(f"{folder}/{width}/p{number:04d}.jpg"), "width": width} for width in widths
        ],
    }


def _page_sizes(pages: Rendition) -> dict[int, tuple[int, int]]:
    """{page number: (width, height) of its widest image} from the manifest, kept in the cache (the reader asks
    for 20 pages at a time and the file never changes); {} when the manifest has none."""
    key = f"library:pdf-page-sizes:{pages.pk}"
    sizes = cache.get(key)
    if sizes is None:
        try:
            manifest = json.loads(_read_storage_text(pages.path, limit=MANIFEST_MAX_BYTES) or "{}")
        except ValueError:
            manifest = {}
        sizes = {}
        for entry in manifest.get("pages", []) if isinstance(manifest, dict) else []:
            try:
                widest = max(entry["sizes"].values(), key=lambda found: int(found["width"]))
                sizes[int(entry["number"])] = (int(widest["width"]), int(widest["height"]))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # a page without sizes: the reader sizes it once the image has loaded
        cache.set(key, sizes, MANIFEST_CACHE_SECONDS)
    return sizes


def document_format(*, asset, pages: Rendition | None = None) -> str:
    """ "pdf" or "epub": what the pipeline found in the bytes, else the uploaded file's name."""
    if pages is not None:
        return "epub" if pages.path.endswith("epub/manifest.json") else "pdf"
    suffix = PurePosixPath(asset.original_name or asset.file.name).suffix.lower()
    return "epub" if suffix == ".epub" else "pdf"


def document_text_context(*, item: LibraryItem, part: int) -> dict:
    """One page (PDF) or chapter (EPUB) of the extracted text: the 文字版 for weak networks, no script needed."""
    renditions = renditions_by_profile(asset=item.media_asset)
    text = renditions.get("document_text")
    if text is None:
        return {"parts": [], "part": None, "paragraphs": []}
    folder = text.path.rsplit("/", 1)[0]
    parts = _text_parts(text=text, pages=renditions.get("document"), folder=folder)
    if not parts:
        return {"parts": [], "part": None, "paragraphs": []}
    chosen = parts[min(max(part, 1), len(parts)) - 1]
    body = _read_storage_text(f"{folder}/{chosen['file']}")
    return {
        "parts": parts,
        "part": chosen,
        "previous_part": parts[chosen["number"] - 2] if chosen["number"] > 1 else None,
        "next_part": parts[chosen["number"]] if chosen["number"] < len(parts) else None,
        "paragraphs": [line.strip() for line in body.splitlines() if line.strip()],
    }


def _text_parts(*, text: Rendition, pages: Rendition | None, folder: str) -> list[dict]:
    """[{number, title, file}] for every page or chapter the text rendition has."""
    if "chapters" in text.meta:
        titles = _epub_chapter_titles(pages)
        return [
            {"number": n, "title": titles.get(n) or f"第{n}章", "file": f"c{n:04d}.txt"}
            for n in range(1, int(text.meta["chapters"]) + 1)
        ]
    return [
        {"number": n, "title": f"第{n}页", "file": f"p{n:04d}.txt"}
        for n in range(1, int(text.meta.get("pages", 0)) + 1)
    ]


def _epub_chapter_titles(pages: Rendition | None) -> dict[int, str]:
    if pages is None:
        return {}
    try:
        manifest = json.loads(_read_storage_text(pages.path))
    except ValueError:
        return {}
    return {chapter["number"]: chapter.get("title", "") for chapter in manifest.get("chapters", [])}


def _read_storage_text(name: str, *, limit: int = TEXT_PART_MAX_BYTES) -> str:
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read(limit).decode("utf-8", errors="replace")
    except OSError:
        logger.warning("Document text %s is missing from storage", name)
        return ""
