"""The OPDS 1.2 catalogue of e-books and periodicals (/opds/), for reading apps such as KOReader and Moon+ Reader.

A navigation root leads to acquisition feeds: newest e-books, newest periodicals, the 22 basic classes of the
中图法, and the published collections (专题); a periodical title opens a feed of its issues. Feeds are Atom built
with lxml and paged by keyset (50 entries, ``rel="next"``), so page 2,000 costs what page 1 does.

Reading apps cannot fill in a login form, so a member signs in with HTTP Basic credentials sent on every request
(``/opds/login/`` or ``/opds/?auth=1`` asks for them); a browser session is accepted too. Who may see or download
what is always asked of ``library.selectors``; the Basic-auth helpers are in ``library.feeds.basic_auth``.
"""

import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property, wraps
from pathlib import PurePosixPath
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.functions import Substr
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from lxml import etree

from cms.models import LighthouseImage
from library.catalogue.clc import CLC_TOP, clc_label
from library.models import LISTED, ItemCredit, ItemList, LibraryItem
from library.selectors import (
    item_children,
    item_downloadable,
    item_list_get,
    item_list_items,
    item_url,
    items_visible_to,
    keyset_after,
    library_page,
)
from media_pipeline.models import Rendition
from media_pipeline.selectors import rendition_file_url
from search.selectors import search_items

from .basic_auth import basic_challenge, with_feed_user

logger = logging.getLogger(__name__)

ATOM = "http://www.w3.org/2005/Atom"
DC = "http://purl.org/dc/terms/"
OPDS = "http://opds-spec.org/2010/catalog"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
NSMAP = {None: ATOM, "dc": DC, "opds": OPDS, "opensearch": OPENSEARCH}

NAVIGATION_TYPE = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION_TYPE = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPENSEARCH_TYPE = "application/opensearchdescription+xml"
REL_IMAGE = "http://opds-spec.org/image"
REL_THUMBNAIL = "http://opds-spec.org/image/thumbnail"
REL_ACQUISITION = "http://opds-spec.org/acquisition"
REL_OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"
REL_NEWEST = "http://opds-spec.org/sort/new"
# Not a registered scheme URI (the 中图法 has none); readers show the label, the scheme only groups the terms.
CLC_SCHEME = "urn:x-lighthouse:clc"

PER_PAGE = 50
MAX_PAGE = 10_000  # numbered pages (search, collections): far past any real result, and keeps offsets sane
# The search engines return no result past the 10,000th of a query (their result window): results beyond it are
# not counted, so totalResults is what paging can really reach.
SEARCH_WINDOW = 10_000
OPDS_KINDS = (LibraryItem.Kind.EBOOK, LibraryItem.Kind.PERIODICAL)
DOCUMENT_TYPES = {"pdf": "application/pdf", "epub": "application/epub+zip"}
COVER_SPEC, THUMBNAIL_SPEC = "max-600x900", "max-200x300"
DOCUMENT_COVER_PROFILE = "document_cover"
# Fixed for ever: entry ids are uuid5(this, "library-item:<pk>"), so a reader recognises a book it has seen.
ID_NAMESPACE = uuid.UUID("6f1c1d2e-4b8a-5d3f-9e27-3a0c5b7d9e41")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Characters XML 1.0 does not allow (C0 controls but tab and newlines, lone surrogates, U+FFFE/U+FFFF): lxml
# refuses them, and one in an imported title must not take the whole feed down.
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --- Reads: pages of items ----------------------------------------------------------------------------------


def _micros(moment: datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds  # exact, unlike timestamp()


# Every instant a datetime can hold, as micros; far wider than any position or id, and within 64-bit integers.
CURSOR_MIN, CURSOR_MAX = _micros(datetime.min.replace(tzinfo=UTC)), _micros(datetime.max.replace(tzinfo=UTC))


def cursor_encode(first: int, second: int) -> str:
    return f"{first}_{second}"


def cursor_decode(value: str) -> tuple[int, int] | None:
    """The two integers of a ``next`` link's cursor; None for none; ValueError for a damaged one, or one whose
    numbers no date, position or id can have (they would overflow the date arithmetic or the database)."""
    if not value:
        return None
    first, sep, second = value.partition("_")
    if not sep:
        raise ValueError(value)
    numbers = int(first), int(second)
    if not all(CURSOR_MIN <= number <= CURSOR_MAX for number in numbers):
        raise ValueError(value)
    return numbers


def opds_items(*, user, kind: str | None = None, clc: str = "") -> QuerySet[LibraryItem]:
    """Listed e-books and periodical titles the user may open: one kind, or both; optionally one 中图法 class."""
    items = items_visible_to(user).filter(LISTED, kind__in=[kind] if kind else OPDS_KINDS)
    return items.filter(clc__startswith=clc) if clc else items


def clc_letters_held(*, user) -> set[str]:
    """The first letters of the 中图法 codes of the e-books and periodicals the user may open (one query)."""
    codes = opds_items(user=user).exclude(clc="").annotate(letter=Substr("clc", 1, 1))
    return set(codes.order_by().values_list("letter", flat=True).distinct())


def newest_page(items: QuerySet, *, cursor: tuple[int, int] | None) -> tuple[list[LibraryItem], str]:
    """Newest first by (published_at, id), the keyset rule of ``selectors.items_page``; returns (rows, next cursor)."""
    items = items.order_by("-published_at", "-id")
    if cursor:
        moment, item_id = EPOCH + timedelta(microseconds=cursor[0]), cursor[1]
        items = items.filter(keyset_after("published_at", moment, item_id))
    rows = list(items[: PER_PAGE + 1])
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    return rows, cursor_encode(_micros(rows[-1].published_at), rows[-1].pk) if more else ""


def children_page(*, user, parent: LibraryItem, cursor: tuple[int, int] | None) -> tuple[list[LibraryItem], str]:
    """The issues of a periodical title in their order (position, id), by keyset."""
    items = item_children(user=user, item=parent)
    if cursor:
        position, item_id = cursor
        items = items.filter(Q(position__gt=position) | Q(position=position, id__gt=item_id))
    rows = list(items[: PER_PAGE + 1])
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    return rows, cursor_encode(rows[-1].position, rows[-1].pk) if more else ""


def search_page(*, user, query: str, page: int) -> tuple[list[LibraryItem], int]:
    """Page ``page`` (PER_PAGE results) of the e-books and then the periodicals matching ``query``, each kind by
    relevance: (items, total). The engine filters one kind at a time, so the results are the two lists one after
    the other; that keeps every page exactly PER_PAGE long but the last, and the OpenSearch numbers true (a merge
    by score per page would make pages of uneven length that no startIndex describes). The access rules are asked
    again for the rows the index names, so a stale index never shows a closed item."""
    start = (page - 1) * PER_PAGE
    ebooks = search_items(query=query, user=user, kind=LibraryItem.Kind.EBOOK, page=page, per_page=PER_PAGE)
    ebook_total = min(ebooks.total, SEARCH_WINDOW)
    hits = list(ebooks.hits)[: max(0, ebook_total - start)]
    # Where the e-books end inside or before this page, the periodicals fill it from their own offset.
    offset, wanted = max(0, start - ebook_total), PER_PAGE - len(hits)
    periodical_pages = range(offset // PER_PAGE + 1, (offset + wanted - 1) // PER_PAGE + 2) if wanted else range(1, 2)
    periodical_total = 0
    for number in periodical_pages:
        result = search_items(query=query, user=user, kind=LibraryItem.Kind.PERIODICAL, page=number, per_page=PER_PAGE)
        periodical_total = min(result.total, SEARCH_WINDOW)
        first = (number - 1) * PER_PAGE
        hits += [
            hit
            for index, hit in enumerate(result.hits, start=first)
            if offset <= index < min(offset + wanted, periodical_total)
        ]
    ids = [int(hit.doc_id.rpartition(":")[2]) for hit in hits if hit.doc_id.startswith("library.libraryitem:")]
    found = items_visible_to(user).filter(pk__in=ids, kind__in=OPDS_KINDS).in_bulk()
    return [found[item_id] for item_id in ids if item_id in found], ebook_total + periodical_total


def _with_details(items: list[LibraryItem]) -> list[LibraryItem]:
    """One query each for credits, covers, the covers' two renditions and files, however many entries the page
    has (``get_renditions`` then finds the renditions among the prefetched ones instead of asking per entry)."""
    renditions = LighthouseImage.get_rendition_model().objects.filter(filter_spec__in=[COVER_SPEC, THUMBNAIL_SPEC])
    prefetch_related_objects(
        items, "credits", "cover", Prefetch("cover__renditions", queryset=renditions), "media_asset"
    )
    return items


def _document_covers(items: list[LibraryItem]) -> dict[int, Rendition]:
    """asset id → the newest cover the media pipeline took from the document, for items with no cover image."""
    asset_ids = [item.media_asset_id for item in items if item.cover_id is None and item.media_asset_id]
    covers: dict[int, Rendition] = {}
    renditions = Rendition.objects.filter(asset_id__in=asset_ids, profile=DOCUMENT_COVER_PROFILE)
    for rendition in renditions.order_by("-created_at", "-id"):
        covers.setdefault(rendition.asset_id, rendition)
    return covers


# --- Writing Atom -------------------------------------------------------------------------------------------


def xml_safe(value) -> str:
    """``value`` as text without the characters XML cannot carry (an imported title may hold a stray \\x0b)."""
    return XML_INVALID.sub("", str(value))


def _sub(parent, tag: str, content: str | None = None, /, **attributes) -> etree._Element:
    """A child element with text ``content``; keyword arguments are attributes (``text=`` too, as OPML and
    itunes:category use it)."""
    element = etree.SubElement(parent, tag, {key: xml_safe(value) for key, value in attributes.items()})
    if content is not None:
        element.text = xml_safe(content)
    return element


def _atom(parent, tag: str, content: str | None = None, /, **attributes) -> etree._Element:
    return _sub(parent, f"{{{ATOM}}}{tag}", content, **attributes)


def _link(parent, *, rel: str, href: str, type: str, title: str = "") -> etree._Element:
    attributes = {"rel": rel, "href": href, "type": type}
    if title:
        attributes["title"] = title
    return _atom(parent, "link", **attributes)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def item_urn(item_id: int) -> str:
    """The stable Atom id of an item (podcast episodes use the same as their guid)."""
    return uuid.uuid5(ID_NAMESPACE, f"library-item:{item_id}").urn


def _feed_urn(path: str) -> str:
    return uuid.uuid5(ID_NAMESPACE, f"opds-feed:{path}").urn


class FeedWriter:
    """Builds one feed for one request: absolute links, the requester's rights."""

    def __init__(self, request: HttpRequest, user):
        self.request, self.user = request, user
        self.library_page = library_page()  # once per feed: item_url would look it up for every entry
        self._acquirable: dict[int, str] = {}

    def absolute(self, path: str) -> str:
        return self.request.build_absolute_uri(path)

    @cached_property
    def newest(self) -> datetime:
        """When the newest e-book or periodical this requester may open went on the shelf: the ``updated`` of a
        feed with no dated entries of its own (navigation feeds, an empty page). Never "now": every request would
        then differ, and no ETag, conditional GET or HEAD could match."""
        items = opds_items(user=self.user).order_by("-published_at", "-id")
        return items.values_list("published_at", flat=True).first() or EPOCH

    def feed(self, *, title: str, kind: str, updated: datetime | None = None) -> etree._Element:
        root = etree.Element(f"{{{ATOM}}}feed", nsmap=NSMAP)
        _atom(root, "id", _feed_urn(self.request.path))
        _atom(root, "title", title)
        _atom(root, "updated", _stamp(updated or self.newest))
        author = _atom(root, "author")
        _atom(author, "name", _("灯塔数字图书馆"))
        _link(root, rel="self", href=self.absolute(self.request.get_full_path()), type=kind)
        _link(root, rel="start", href=self.absolute(reverse("opds_root")), type=NAVIGATION_TYPE)
        _link(root, rel="search", href=self.absolute(reverse("opds_opensearch")), type=OPENSEARCH_TYPE)
        return root

    def navigation_entry(self, root, *, title: str, href: str, kind: str, content: str = "", rel: str = "subsection"):
        entry = _atom(root, "entry")
        _atom(entry, "title", title)
        _atom(entry, "id", _feed_urn(href))
        _atom(entry, "updated", _stamp(self.newest))
        _link(entry, rel=rel, href=self.absolute(href), type=kind)
        # RFC 4287 §4.1.1.1: an entry with no rel="alternate" link must have content; the title says it if nothing
        # else does.
        _atom(entry, "content", content or title, type="text")
        return entry

    def pages(self, root, *, next_params: dict | None, keep: dict | None = None) -> None:
        """``first`` always, ``next`` while there is more; ``keep`` is what every page repeats (the query)."""
        keep = {key: value for key, value in (keep or {}).items() if value}
        first = self.request.path + (f"?{urlencode(keep)}" if keep else "")
        _link(root, rel="first", href=self.absolute(first), type=ACQUISITION_TYPE)
        if next_params:
            _link(
                root,
                rel="next",
                href=self.absolute(f"{self.request.path}?{urlencode(keep | next_params)}"),
                type=ACQUISITION_TYPE,
            )

    def item_entries(self, root, items: list[LibraryItem]) -> None:
        items = _with_details(items)
        covers = _document_covers(items)
        for item in items:
            if self.reachable(item):
                self.item_entry(root, item, covers.get(item.media_asset_id))

    def reachable(self, item: LibraryItem) -> bool:
        """Whether an issue's entry leads anywhere a reading app can follow: a file this requester may download, or
        the issue's page on the website (its reader, which asks the access rule again). An issue with download
        "none" and no page to read it on is left out rather than listed as a dead end; titles lead to their issues,
        and e-books stay listed with their description either way (a catalogue record)."""
        if item.role != LibraryItem.Role.ISSUE:
            return True
        return bool(self.acquisition_type(item) or self.page(item))

    def page(self, item: LibraryItem) -> str:
        return item_url(item, page=self.library_page) or ""

    def acquisition_type(self, item: LibraryItem) -> str:
        """The file's media type when this requester may download it, else "". Every entry of a feed comes from
        items_visible_to(user) (or is checked against it): readable already."""
        if item.pk not in self._acquirable:
            file_type = document_type(item)
            allowed = file_type and item_downloadable(user=self.user, item=item, known_readable=True)
            self._acquirable[item.pk] = file_type if allowed else ""
        return self._acquirable[item.pk]

    def item_entry(self, root, item: LibraryItem, document_cover: Rendition | None) -> etree._Element:
        entry = _atom(root, "entry")
        _atom(entry, "title", item.title + (f" {item.number}" if item.number else ""))
        _atom(entry, "id", item_urn(item.pk))
        _atom(entry, "updated", _stamp(item.updated_at))
        self._credits(entry, item)
        self._description(entry, item)
        self._covers(entry, item, document_cover)
        if page := self.page(item):
            # Without a file to take, the page is where the item is read (online, after the same access check).
            title = (
                _("在网站上查看")
                if self.acquisition_type(item) or item.role == LibraryItem.Role.SERIES
                else _("在线阅读")
            )
            _link(entry, rel="alternate", href=self.absolute(page), type="text/html", title=title)
        if item.role == LibraryItem.Role.SERIES:
            href = reverse("opds_periodical", args=[item.pk])
            _link(entry, rel="subsection", href=self.absolute(href), type=ACQUISITION_TYPE, title=_("各期"))
        else:
            self._acquisition(entry, item)
        return entry

    def _credits(self, entry, item: LibraryItem) -> None:
        credits = list(item.credits.all())
        authors = [credit for credit in credits if credit.role == ItemCredit.Role.AUTHOR] or credits
        for credit in credits:
            person = _atom(entry, "author" if credit in authors else "contributor")
            _atom(person, "name", credit.name)

    def _description(self, entry, item: LibraryItem) -> None:
        if item.isbn:
            _sub(entry, f"{{{DC}}}identifier", f"urn:isbn:{item.isbn}")
        if item.issn:
            _sub(entry, f"{{{DC}}}identifier", f"urn:issn:{item.issn}")
        _sub(entry, f"{{{DC}}}language", item.language or "zh")
        if item.issued:  # not ``year``: without a publication date that is only when it went on the site
            _sub(entry, f"{{{DC}}}issued", item.issued.isoformat())
        if item.publisher:
            _sub(entry, f"{{{DC}}}publisher", item.publisher)
        if item.clc:
            try:
                label = clc_label(item.clc)
            except ValidationError:  # an old, unchecked code still shows, as it is
                label = item.clc
            _atom(entry, "category", scheme=CLC_SCHEME, term=item.clc, label=label)
        if item.summary:
            _atom(entry, "summary", item.summary, type="text")

    def _covers(self, entry, item: LibraryItem, document_cover: Rendition | None) -> None:
        """The item's cover image (public Wagtail renditions), else the cover the pipeline took from the document;
        that one is a signed link, because readers fetch covers without sending credentials."""
        if item.cover is not None:
            try:
                renditions = item.cover.get_renditions(COVER_SPEC, THUMBNAIL_SPEC)
                image, thumbnail = renditions[COVER_SPEC], renditions[THUMBNAIL_SPEC]
            except Exception:  # a missing or broken image file must not break the whole feed
                logger.warning("opds: no cover rendition for item %s", item.pk, exc_info=True)
                return
            _link(entry, rel=REL_IMAGE, href=self.absolute(image.url), type=_image_type(image.url))
            _link(entry, rel=REL_THUMBNAIL, href=self.absolute(thumbnail.url), type=_image_type(thumbnail.url))
        elif document_cover is not None:
            url = self.absolute(rendition_file_url(rendition=document_cover))
            _link(entry, rel=REL_IMAGE, href=url, type="image/jpeg")
            _link(entry, rel=REL_THUMBNAIL, href=url, type="image/jpeg")

    def _acquisition(self, entry, item: LibraryItem) -> None:
        if not (file_type := self.acquisition_type(item)):
            return
        open_access = item.access == LibraryItem.Access.PUBLIC and item.download == LibraryItem.Download.READERS
        href = self.absolute(reverse("library_files:download", args=[item.pk]))
        _link(entry, rel=REL_OPEN_ACCESS if open_access else REL_ACQUISITION, href=href, type=file_type)


def document_type(item: LibraryItem) -> str:
    """The media type of the item's PDF or EPUB (its document asset, which the download view hands out), from what
    the pipeline found in the bytes, else the file name; "" when there is no such file."""
    asset = item.media_asset
    if asset is None:
        return ""
    found = DOCUMENT_TYPES.get((asset.probe or {}).get("document_format", ""))
    suffix = PurePosixPath(asset.original_name or asset.file.name).suffix.lower().lstrip(".")
    return found or DOCUMENT_TYPES.get(suffix, "")


def _image_type(url: str) -> str:
    suffix = PurePosixPath(url.split("?", 1)[0]).suffix.lower()
    return {".png": "image/png", ".webp": "image/webp", ".gif": "image/gif", ".avif": "image/avif"}.get(
        suffix, "image/jpeg"
    )


def _xml(root: etree._Element, content_type: str) -> HttpResponse:
    body = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return HttpResponse(body, content_type=f"{content_type};charset=utf-8")


class BadPage(Exception):
    """A damaged ``cursor`` or ``page`` parameter (an old or hand-edited link)."""


def _cursor(request: HttpRequest) -> tuple[int, int] | None:
    try:
        return cursor_decode(request.GET.get("cursor", ""))
    except ValueError as exc:
        raise BadPage from exc


def _page_number(request: HttpRequest) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError as exc:
        raise BadPage from exc
    if not 1 <= page <= MAX_PAGE:
        raise BadPage
    return page


def _next(cursor: str) -> dict | None:
    return {"cursor": cursor} if cursor else None


def opds_view(view: Callable) -> Callable:
    """GET and HEAD (apps and validators check a feed with HEAD first; the servers drop the body, so both answer
    with the same headers), with the requester (Basic or session); a damaged paging parameter is a 400 in Chinese."""

    @wraps(view)
    def checked(request: HttpRequest, user, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, user, *args, **kwargs)
        except BadPage:
            message = _("翻页参数无效，请从第一页重新打开。")
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")

    return require_safe(with_feed_user(checked))


# --- Views --------------------------------------------------------------------------------------------------


@opds_view
def opds_root(request: HttpRequest, user) -> HttpResponse:
    """The navigation root. ``?auth=1`` asks for credentials first, for readers that sign in only when asked."""
    if request.GET.get("auth") and not user.is_authenticated:
        return basic_challenge()
    return _root_feed(request, user)


@opds_view
def opds_login(request: HttpRequest, user) -> HttpResponse:
    """Ask for credentials until they are right, then show the catalogue as that member sees it."""
    if not user.is_authenticated:
        return basic_challenge()
    return _root_feed(request, user)


def _root_feed(request: HttpRequest, user) -> HttpResponse:
    writer = FeedWriter(request, user)
    root = writer.feed(title=_("灯塔书库"), kind=NAVIGATION_TYPE)
    rows = (
        (_("最新电子书"), reverse("opds_newest", args=["ebook"]), _("最近上架的电子书"), REL_NEWEST),
        (_("最新期刊"), reverse("opds_newest", args=["periodical"]), _("最近上架的电子期刊"), REL_NEWEST),
        (_("按分类浏览"), reverse("opds_clc_index"), _("中国图书馆分类法 22 个基本大类"), "subsection"),
        (_("专题"), reverse("opds_lists"), _("编辑整理的专题合集"), "subsection"),
    )
    for title, href, content, rel in rows:
        kind = ACQUISITION_TYPE if rel == REL_NEWEST else NAVIGATION_TYPE
        writer.navigation_entry(root, title=title, href=href, kind=kind, content=content, rel=rel)
    return _xml(root, NAVIGATION_TYPE)


@opds_view
def opds_newest(request: HttpRequest, user, kind: str) -> HttpResponse:
    if kind not in OPDS_KINDS:
        raise Http404
    title = _("最新电子书") if kind == LibraryItem.Kind.EBOOK else _("最新期刊")
    items, next_cursor = newest_page(opds_items(user=user, kind=kind), cursor=_cursor(request))
    return _acquisition_feed(request, user, title=title, items=items, next_params=_next(next_cursor))


@opds_view
def opds_clc_index(request: HttpRequest, user) -> HttpResponse:
    """The basic classes that hold something this requester may open (an empty class would be a dead end)."""
    writer = FeedWriter(request, user)
    root = writer.feed(title=_("按分类浏览"), kind=NAVIGATION_TYPE)
    held = clc_letters_held(user=user)
    for letter, name in CLC_TOP.items():
        if letter in held:
            href = reverse("opds_clc", args=[letter])
            content = _("中图法 %(letter)s 类（%(name)s）的电子书和期刊") % {"letter": letter, "name": name}
            writer.navigation_entry(root, title=f"{letter} {name}", href=href, kind=ACQUISITION_TYPE, content=content)
    return _xml(root, NAVIGATION_TYPE)


@opds_view
def opds_clc(request: HttpRequest, user, letter: str) -> HttpResponse:
    if letter not in CLC_TOP:
        raise Http404
    items, next_cursor = newest_page(opds_items(user=user, clc=letter), cursor=_cursor(request))
    title = f"{letter} {CLC_TOP[letter]}"
    return _acquisition_feed(request, user, title=title, items=items, next_params=_next(next_cursor))


@opds_view
def opds_lists(request: HttpRequest, user) -> HttpResponse:
    """Published collections (专题) that are on show today."""
    writer = FeedWriter(request, user)
    root = writer.feed(title=_("专题"), kind=NAVIGATION_TYPE)
    lists = ItemList.objects.filter(_on_show(), is_published=True, kind=ItemList.Kind.COLLECTION)
    lists = lists.order_by("-updated_at", "-id")
    for item_list in lists[: PER_PAGE * 4]:  # a handful in practice; the bound keeps a mistake from hurting
        href = reverse("opds_list", args=[item_list.slug])
        writer.navigation_entry(
            root, title=item_list.title, href=href, kind=ACQUISITION_TYPE, content=item_list.summary
        )
    return _xml(root, NAVIGATION_TYPE)


def _on_show() -> Q:
    """Lists whose display window (开始展示–结束展示, either end open) includes today."""
    today = timezone.localdate()
    return (Q(starts_on__isnull=True) | Q(starts_on__lte=today)) & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))


@opds_view
def opds_list(request: HttpRequest, user, slug: str) -> HttpResponse:
    """A collection's e-books and periodicals in the editor's order; curated lists are short, so pages are numbered."""
    item_list = item_list_get(slug=slug)
    if item_list is None or not ItemList.objects.filter(_on_show(), pk=item_list.pk).exists():
        raise Http404
    page = _page_number(request)
    items = [item for item in item_list_items(user=user, item_list=item_list) if item.kind in OPDS_KINDS]
    start = (page - 1) * PER_PAGE
    more = len(items) > start + PER_PAGE
    next_params = {"page": page + 1} if more else None
    return _acquisition_feed(
        request, user, title=item_list.title, items=items[start : start + PER_PAGE], next_params=next_params
    )


@opds_view
def opds_periodical(request: HttpRequest, user, item_id: int) -> HttpResponse:
    """The issues of a periodical title."""
    titles = items_visible_to(user).filter(kind=LibraryItem.Kind.PERIODICAL, role=LibraryItem.Role.SERIES)
    periodical = titles.filter(pk=item_id).first()
    if periodical is None:
        raise Http404
    items, next_cursor = children_page(user=user, parent=periodical, cursor=_cursor(request))
    return _acquisition_feed(request, user, title=periodical.title, items=items, next_params=_next(next_cursor))


@opds_view
def opds_search(request: HttpRequest, user) -> HttpResponse:
    """Search results with OpenSearch's numbers, which apps page by: itemsPerPage is the page size every page but
    the last has, startIndex the 1-based position of the page's first result, never past totalResults (a page
    past the last is a 400, like a damaged one; an empty result has neither number)."""
    query = request.GET.get("q", "").strip()
    page = _page_number(request)
    items, total = search_page(user=user, query=query, page=page) if query else ([], 0)
    start = (page - 1) * PER_PAGE
    if page > 1 and start >= total:
        raise BadPage
    writer = FeedWriter(request, user)
    root = writer.feed(title=_("搜索：%(query)s") % {"query": query}, kind=ACQUISITION_TYPE)
    _sub(root, f"{{{OPENSEARCH}}}totalResults", str(total))
    if total:
        _sub(root, f"{{{OPENSEARCH}}}itemsPerPage", str(PER_PAGE))
        _sub(root, f"{{{OPENSEARCH}}}startIndex", str(start + 1))
    writer.pages(root, next_params={"page": page + 1} if start + PER_PAGE < total else None, keep={"q": query})
    writer.item_entries(root, items)
    return _xml(root, ACQUISITION_TYPE)


@require_safe
def opds_opensearch(request: HttpRequest) -> HttpResponse:
    """The OpenSearch description readers read to offer a search box."""
    root = etree.Element(f"{{{OPENSEARCH}}}OpenSearchDescription", nsmap={None: OPENSEARCH})
    _sub(root, f"{{{OPENSEARCH}}}ShortName", _("灯塔书库"))
    _sub(root, f"{{{OPENSEARCH}}}Description", _("搜索灯塔数字图书馆的电子书和期刊"))
    _sub(root, f"{{{OPENSEARCH}}}InputEncoding", "UTF-8")
    _sub(root, f"{{{OPENSEARCH}}}OutputEncoding", "UTF-8")
    template = request.build_absolute_uri(reverse("opds_search")) + "?q={searchTerms}"
    _sub(root, f"{{{OPENSEARCH}}}Url", type=ACQUISITION_TYPE, template=template)
    return _xml(root, OPENSEARCH_TYPE)


def _acquisition_feed(request, user, *, title: str, items: list, next_params: dict | None) -> HttpResponse:
    writer = FeedWriter(request, user)
    updated = max((item.updated_at for item in items), default=None)
    root = writer.feed(title=title, kind=ACQUISITION_TYPE, updated=updated)
    writer.pages(root, next_params=next_params)
    writer.item_entries(root, items)
    return _xml(root, ACQUISITION_TYPE)
