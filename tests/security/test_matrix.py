"""The permission matrix of issue 11: every role × every object access setting × every surface that can return an
object, a count or a byte, against one oracle (tests/security/matrix.py, the rule of docs/library.md).

A *leak* is a cell where a role the oracle refuses gets the object: a 200 with it, its token in a list, a count
that includes it, or its bytes. Cells are built once per class (class-scoped world in one transaction rolled back
at the end); raw ``/media/`` paths go through a live server with ``http.client`` so that dot-segments and encoded
slashes reach Django exactly as an attacker sends them. ``test_every_route_has_a_matrix_row`` walks the URL
resolver (Django, django-ninja's API, Wagtail's admin and the library page's own routes): a new route without a
row here, or a reasoned place in the allow-list, fails the suite.
"""

import http.client
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.testcases import _MediaFilesHandler
from django.urls import URLPattern, URLResolver, get_resolver
from wagtail.contrib.routable_page.models import RoutablePageMixin
from wagtail.models import Page, get_page_models

from library.models import Favourite, ItemCredit, ItemList, ItemListEntry, LibraryItem
from library.selectors import item_url
from media_pipeline.storage import sign_name

from .matrix import (
    COUNTS,
    TITLE_WORD,
    Obj,
    Principal,
    _open,
    build_world,
    may_download,
    may_fetch_file,
    may_manage,
    may_read,
    public_stable_url_allowed,
)

CREATOR = "矩阵作者"
LIST_SLUG = "mx-matrix"


@pytest.fixture(autouse=True)
def _media_root():
    """Replaces the suite's per-test media folder: the class-scoped world keeps its files for the whole class."""


def _finish_world(world: dict) -> None:
    """Credits, a curated list and favourites for every object, search drained, browse counts refreshed."""
    from library.facets import facet_counts_refresh
    from search.services import search_outbox_drain_all

    items = [obj.item for obj in world["objects"]]
    ItemCredit.objects.bulk_create([ItemCredit(item=item, name=CREATOR, role="author") for item in items])
    curated = ItemList.objects.create(title="矩阵专题", slug=LIST_SLUG, owning_unit=world["units"]["mx-sd"])
    ItemListEntry.objects.bulk_create(
        [ItemListEntry(list=curated, item=item, sort_order=number) for number, item in enumerate(items)]
    )
    for principal in world["principals"]:
        if principal.user is not None:
            Favourite.objects.bulk_create([Favourite(member=principal.user, item=item) for item in items])
    search_outbox_drain_all()
    facet_counts_refresh()
    if connection.vendor == "postgresql":
        # Statistics as a live database has them. Without this the planner keeps what autovacuum measured while
        # earlier tests' tables stood empty, cannot see this transaction's rows, and picks nested seq scans
        # (a two-minute query per page on PostgreSQL in the full suite).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the class inside one transaction that is rolled back afterwards (nothing leaks into other
    tests); media files on local disk in a folder of their own; the embedded search index (no engine)."""
    media_root = tmp_path_factory.mktemp("matrix-media")
    local_disk = {**settings.STORAGES, "default": {"BACKEND": "media_pipeline.storage.SignedFileSystemStorage"}}
    overrides = override_settings(
        MEDIA_ROOT=media_root, MEDIA_WORK_DIR=media_root / "work", SEARCH_URL="", STORAGES=local_disk
    )
    overrides.enable()
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            built = build_world(media_root)
            _finish_world(built)
            built["media_root"] = str(media_root)
            yield built
            transaction.set_rollback(True)
    finally:
        overrides.disable()


# --- Cells ---------------------------------------------------------------------------------------------------


@dataclass
class Cell:
    surface: str
    role: str
    obj: str
    exposed: bool
    allowed: bool

    @property
    def leak(self) -> bool:
        return self.exposed and not self.allowed


class Ledger:
    """Every cell checked; leaks and over-blocked cells listed by surface for the failure message."""

    def __init__(self):
        self.cells: list[Cell] = []

    def add(self, surface: str, principal: Principal, obj: Obj | str, *, exposed: bool, allowed: bool) -> None:
        key = obj if isinstance(obj, str) else obj.key
        self.cells.append(Cell(surface, principal.key, key, bool(exposed), bool(allowed)))

    def report(self, name: str, *, strict_surfaces: tuple[str, ...] = ()) -> str:
        """Counts into COUNTS; returns the failure text (empty when no leak, and no refusal on a strict surface)."""
        leaks = [cell for cell in self.cells if cell.leak]
        blocked = [c for c in self.cells if c.allowed and not c.exposed and c.surface in strict_surfaces]
        COUNTS[f"matrix cells ({name})"] += len(self.cells)
        COUNTS["matrix leaks"] += len(leaks)
        lines = [f"LEAK {c.surface} | {c.role} | {c.obj}" for c in leaks]
        lines += [f"REFUSED (oracle allows) {c.surface} | {c.role} | {c.obj}" for c in blocked]
        return "\n".join([f"{len(leaks)} leaks, {len(blocked)} wrongly refused in {len(self.cells)} cells"] + lines)

    def failed(self, *, strict_surfaces: tuple[str, ...] = ()) -> bool:
        return any(c.leak for c in self.cells) or any(
            c.allowed and not c.exposed and c.surface in strict_surfaces for c in self.cells
        )


class MemoClient(Client):
    """A test client that remembers plain GETs: several cells read the same answer (the read link's redirect,
    its target) and the matrix must stay fast on two shared cores."""

    def __init__(self):
        super().__init__()
        self.memo = {}

    def get(self, path, data=None, **extra):
        if data or extra:
            return super().get(path, data, **extra)
        if path not in self.memo:
            self.memo[path] = super().get(path)
        return self.memo[path]


def _conclude(ledger: Ledger, name: str, *, strict: tuple[str, ...] = ()) -> None:
    """Counts the cells, prints the summary, and fails with every leak listed."""
    text = ledger.report(name, strict_surfaces=strict)
    print(text)
    assert not ledger.failed(strict_surfaces=strict), text


def _client(principal: Principal) -> Client:
    client = MemoClient()
    if principal.user is not None:
        client.force_login(principal.user)
    return client


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _follow_file(client: Client, response) -> tuple[bytes, object]:
    """The bytes a redirect to our /media/ leads to (b"" when it leads nowhere readable)."""
    if response.status_code not in (301, 302):
        return (_body(response) if response.status_code == 200 else b""), response
    location = response["Location"].removeprefix("http://testserver")
    if not location.startswith("/media/"):
        return b"", response
    target = client.get(location)
    return (_body(target) if target.status_code in (200, 206) else b""), target


def _stored(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


# --- Object surfaces: one request per role × object × surface ------------------------------------------------

Check = Callable[[Client, Obj, "Principal"], tuple[bool, bool]]  # → (exposed, allowed)


def _ok(client, url, *codes) -> bool:
    return client.get(url).status_code in (codes or (200,))


def _has_files(obj: Obj) -> bool:
    return obj.asset is not None and obj.state != "withdrawn"


OBJECT_SURFACES: dict[str, tuple[tuple[str, ...], Callable[[Obj], bool], Check]] = {}
# Surfaces whose answer depends on the download setting: they run on every download variant. The others depend
# only on access, publication and the parent chain, so each access setting is checked once (download "readers")
# and the matrix stays fast; the oracle is the same either way.
DOWNLOAD_SENSITIVE = {
    "files: reader routes give the master",
    "files: read link gives the master",
    "files: read link + unsigned dl=",
    "files: download link",
    "wagtail: /documents/<id>/<name>",
}


def _needed(name: str, obj: Obj) -> bool:
    return name in DOWNLOAD_SENSITIVE or obj.item.download == LibraryItem.Download.READERS


def surface(name: str, routes: tuple[str, ...], applies: Callable[[Obj], bool] = lambda obj: True):
    """Registers an object surface: the route patterns it covers, which objects it applies to, and its check."""

    def register(check: Check) -> Check:
        OBJECT_SURFACES[name] = (routes, lambda obj: _needed(name, obj) and applies(obj), check)
        return check

    return register


def _sign_in_prompt(response) -> bool:
    """Issue 13: an anonymous visitor at an item any signed-in member may read gets 200 with "请登录后阅读", the
    title (the object's token is in it) and cover, and a sign-in link; an item page only when it is not this."""
    return response.status_code == 200 and b"data-sign-in-prompt" in response.content


def _prompt_shows_content(response, obj: Obj) -> bool:
    """Whether a sign-in prompt carries more than title and cover: the item's file routes, stored files, playlists
    or its text."""
    text = response.content.decode(errors="replace")
    markers = [f"/library-files/items/{obj.item.pk}/", "/media-pipeline/", f"全文 {obj.token}", f"版面文字 {obj.token}"]
    return any(marker in text for marker in [*markers, *obj.files.values()])


def may_be_asked_to_sign_in(who: Principal, obj: Obj) -> bool:
    """The prompt's rule: an anonymous visitor, at an object they may not read and any signed-in member (of no
    particular unit) may."""
    return not who.authenticated and not may_read(who, obj) and may_read(Principal("any-member"), obj)


@surface("site: item page", ("<LibraryPage>item/<int:item_id>/",))
def _item_page(client, obj, who):
    response = client.get(item_url(obj.item))
    if _sign_in_prompt(response):
        return _prompt_shows_content(response, obj), may_read(who, obj)
    return response.status_code == 200, may_read(who, obj)


@surface("site: sign-in prompt", ("<LibraryPage>item/<int:item_id>/",))
def _item_sign_in_prompt(client, obj, who):
    # Existence and title only, and only where signing in opens the object: unit-only stays a 404 for outsiders.
    return _sign_in_prompt(client.get(item_url(obj.item))), may_be_asked_to_sign_in(who, obj)


@surface("site: item text version", ("<LibraryPage>item/<int:item_id>/",), lambda obj: obj.document is not None)
def _item_text(client, obj, who):
    response = client.get(item_url(obj.item), {"view": "text", "part": 1})
    if _sign_in_prompt(response):
        return _prompt_shows_content(response, obj), may_read(who, obj)
    return response.status_code == 200 and obj.token in response.content.decode(errors="replace"), may_read(who, obj)


@surface("api: item", ("api/v1/library/items/<item_id>",))
def _api_item(client, obj, who):
    return _ok(client, f"/api/v1/library/items/{obj.item.pk}"), may_read(who, obj)


@surface("api: renditions", ("api/v1/library/items/<item_id>/renditions",))
def _api_renditions(client, obj, who):
    return _ok(client, f"/api/v1/library/items/{obj.item.pk}/renditions"), may_read(who, obj)


@surface("api: pages", ("api/v1/library/items/<item_id>/pages",), lambda obj: obj.document is not None)
def _api_pages(client, obj, who):
    return _ok(client, f"/api/v1/library/items/{obj.item.pk}/pages"), may_read(who, obj)


@surface("api: children of parent", ("api/v1/library/items/<item_id>/children",), lambda o: o.item.parent_id)
def _api_children(client, obj, who):
    response = client.get(f"/api/v1/library/items/{obj.item.parent_id}/children?limit=100")
    return obj.token in response.content.decode(), may_read(who, obj)


@surface(
    "api: member writes",
    (
        "api/v1/library/items/<item_id>/progress",
        "api/v1/library/items/<item_id>/open",
        "api/v1/library/items/<item_id>/favourite",
    ),
)
def _api_member_reads(client, obj, who):
    # The member routes answer 404 for an item the caller may not read (GET progress is the read-only one).
    return _ok(client, f"/api/v1/library/items/{obj.item.pk}/progress"), may_read(who, obj) and who.authenticated


@surface("files: read link", ("library-files/items/<int:item_id>/read/",), _has_files)
def _read_link(client, obj, who):
    response = client.get(f"/library-files/items/{obj.item.pk}/read/")
    return response.status_code in (200, 302), may_read(who, obj)


@surface("files: read link gives the master", ("library-files/items/<int:item_id>/read/",), _has_files)
def _read_master(client, obj, who):
    data, _response = _follow_file(client, client.get(f"/library-files/items/{obj.item.pk}/read/"))
    return bool(data) and data == _stored(obj.files["master"]), may_fetch_file(who, obj)


@surface("files: read link + unsigned dl=", ("library-files/items/<int:item_id>/read/",), _has_files)
def _read_as_download(client, obj, who):
    response = client.get(f"/library-files/items/{obj.item.pk}/read/")
    if response.status_code != 302:
        return False, may_download(who, obj)
    target = client.get(response["Location"].removeprefix("http://testserver") + "&dl=book.pdf")
    return "attachment" in target.get("Content-Disposition", ""), may_download(who, obj)


@surface("files: PDF page images", ("library-files/items/<int:item_id>/pages/",), _has_files)
def _page_images(client, obj, who):
    # The page reader of who may read but not download: signed page images, never the master.
    response = client.get(f"/library-files/items/{obj.item.pk}/pages/")
    if response.status_code != 200:
        return False, may_read(who, obj)
    url = response.json()["pages"][0]["images"][0]["url"].removeprefix("http://testserver")
    image = client.get(url)
    exposed = image.status_code == 200 and _body(image) == _stored(obj.files["page-image"])
    return exposed and obj.files["master"] not in response.content.decode(), may_read(who, obj)


@surface(
    "files: EPUB parts",
    ("library-files/items/<int:item_id>/epub/", "library-files/items/<int:item_id>/epub/<path:name>"),
    _has_files,
)
def _epub_parts(client, obj, who):
    # The EPUB reader of who may read but not download: the vetted archive's parts one by one (the matrix's
    # stand-in EPUB is no zip, so no role gets an index: a refusal, never a leak).
    index = client.get(f"/library-files/items/{obj.item.pk}/epub/")
    return index.status_code == 200, may_read(who, obj)


@surface("files: reader routes give the master", ("library-files/items/<int:item_id>/pages/",), _has_files)
def _reader_master(client, obj, who):
    master = _stored(obj.files["master"])
    bodies = [client.get(f"/library-files/items/{obj.item.pk}/{route}") for route in ("pages/", "epub/")]
    exposed = any(r.status_code == 200 and master in _body(r) for r in bodies)
    return exposed, may_fetch_file(who, obj)


@surface("files: download link", ("library-files/items/<int:item_id>/download/",), _has_files)
def _download(client, obj, who):
    data, _response = _follow_file(client, client.get(f"/library-files/items/{obj.item.pk}/download/"))
    return bool(data) and data == _stored(obj.files["master"]), may_download(who, obj)


def may_choose(who: Principal, obj: Obj) -> bool:
    """The item chooser (curated lists, related items): the editor's own items and whatever anyone may read."""
    return may_manage(who, obj) or (who.authenticated and may_read(Principal("anonymous"), obj))


def may_play(who: Principal, obj: Obj) -> bool:
    """Streams and posters: as reading, but a withdrawn item's old media plays for nobody."""
    return obj.state != "withdrawn" and may_read(who, obj)


def _is_video(obj: Obj) -> bool:
    return obj.hls is not None


@surface("tv: watch page", ("tv/watch/<int:item_id>/",))
def _tv_watch(client, obj, who):
    # The TV's player page (screens/tv): the title and stream only where the library lets the viewer read; an
    # anonymous TV gets 登录后观看 without the title where signing in would open it, else a 404.
    response = client.get(f"/tv/watch/{obj.item.pk}/")
    return response.status_code == 200 and obj.token in response.content.decode(errors="replace"), may_read(who, obj)


@surface("hls: master", ("media-pipeline/hls/<int:rendition_id>/master.m3u8",), _is_video)
def _hls_master(client, obj, who):
    return _ok(client, f"/media-pipeline/hls/{obj.hls.pk}/master.m3u8"), may_play(who, obj)


@surface("hls: variant", ("media-pipeline/hls/<int:rendition_id>/<slug:variant>/index.m3u8",), _is_video)
def _hls_variant(client, obj, who):
    return _ok(client, f"/media-pipeline/hls/{obj.hls.pk}/360p/index.m3u8"), may_play(who, obj)


@surface("hls: i-frames", ("media-pipeline/hls/<int:rendition_id>/iframes/<slug:variant>.m3u8",), _is_video)
def _hls_iframes(client, obj, who):
    return _ok(client, f"/media-pipeline/hls/{obj.hls.pk}/iframes/360p.m3u8"), may_play(who, obj)


@surface("hls: subtitles", ("media-pipeline/hls/<int:rendition_id>/subs/<slug:language>.m3u8",), _is_video)
def _hls_subtitles(client, obj, who):
    return _ok(client, f"/media-pipeline/hls/{obj.hls.pk}/subs/zh-Hans.m3u8"), may_play(who, obj)


@surface("hls: segment via variant", ("media-pipeline/hls/<int:rendition_id>/<slug:variant>/index.m3u8",), _is_video)
def _hls_segment(client, obj, who):
    response = client.get(f"/media-pipeline/hls/{obj.hls.pk}/360p/index.m3u8")
    lines = [line for line in response.content.decode().splitlines() if line.startswith("http")]
    if response.status_code != 200 or not lines:
        return False, may_play(who, obj)
    segment = client.get(lines[0].removeprefix("http://testserver"))
    return segment.status_code == 200 and _body(segment) == _stored(obj.files["hls-segment"]), may_play(who, obj)


@surface("media: poster", ("media-pipeline/assets/<int:asset_id>/poster.jpg",), _is_video)
def _poster(client, obj, who):
    return _ok(client, f"/media-pipeline/assets/{obj.asset.pk}/poster.jpg", 200, 302), may_play(who, obj)


def _is_audio(obj: Obj) -> bool:
    return obj.kind == "audio" and _has_files(obj)


@surface("podcast: episode audio", ("podcasts/episodes/<int:item_id>/audio.<str:extension>",), _is_audio)
def _episode_audio(client, obj, who):
    return _ok(client, f"/podcasts/episodes/{obj.item.pk}/audio.m4a", 200, 302), may_play(who, obj)


@surface("podcast: transcript", ("podcasts/episodes/<int:item_id>/transcript.vtt",), _is_audio)
def _episode_transcript(client, obj, who):
    return _ok(client, f"/podcasts/episodes/{obj.item.pk}/transcript.vtt", 200, 302), may_play(who, obj)


@surface("podcast: chapters", ("podcasts/episodes/<int:item_id>/chapters.json",), lambda o: o.kind == "audio")
def _episode_chapters(client, obj, who):
    return _ok(client, f"/podcasts/episodes/{obj.item.pk}/chapters.json", 200, 302), may_read(who, obj)


@surface("podcast: series feed", ("podcasts/<int:series_id>.xml",), lambda o: o.kind == "audio" and o.item.parent_id)
def _podcast_feed(client, obj, who):
    response = client.get(f"/podcasts/{obj.item.parent_id}.xml")
    return obj.token in response.content.decode(errors="replace"), may_read(who, obj)


@surface("opds: issues of a title", ("opds/periodicals/<int:item_id>/",), lambda o: o.kind == "periodical")
def _opds_issues(client, obj, who):
    response = client.get(f"/opds/periodicals/{obj.item.parent_id}/")
    return obj.token in response.content.decode(errors="replace"), may_read(who, obj)


@surface("wagtail: /documents/<id>/<name>", ("documents/^(\\d+)/(.*)$",), lambda obj: obj.document is not None)
def _wagtail_document(client, obj, who):
    response = client.get(obj.document.url)
    data = _body(response) if response.status_code == 200 else b""
    return bool(data) and data == _stored(obj.document.file.name), may_fetch_file(who, obj)


# Edit and delete find the object through the same scoped queryset (library/admin/scoping.py ScopedMixin); the
# delete view's confirmation is a third of the edit form's cost (measured 116-151 ms against 368-425 ms), and the
# edit view's own scoping is tested in tests/library/test_admin.py.
ITEM_ADMIN_VIEWS = ("delete",)


@surface(
    "admin: item views",
    tuple(
        f"admin/library_items/{view}/<int:pk>/"
        for view in ("edit", "delete", "history", "usage", "copy", "history-results")
    ),
)
def _admin_item(client, obj, who):
    exposed = any(_ok(client, f"/admin/library_items/{view}/{obj.item.pk}/") for view in ITEM_ADMIN_VIEWS)
    return exposed, may_manage(who, obj)


@surface(
    "admin: choosers' chosen item",
    (
        "admin/library_item_chooser/chosen/<str:pk>/",
        "admin/library_item_chooser/chosen-multiple/",
        "admin/library_parent_chooser/chosen/<str:pk>/",
        "admin/library_parent_chooser/chosen-multiple/",
    ),
)
def _admin_chosen(client, obj, who):
    urls = [f"/admin/library_item_chooser/chosen/{obj.item.pk}/"]
    exposed = any(obj.token in _pages(client, url) for url in urls)
    return exposed, may_choose(who, obj)


@surface(
    "admin: wagtail document",
    (
        "admin/documents/edit/<int:document_id>/",
        "admin/documents/usage/<int:document_id>/",
        "admin/documents/chooser/chosen/<str:pk>/",
    ),
    lambda obj: obj.document is not None,
)
def _admin_document(client, obj, who):
    urls = [f"/admin/documents/edit/{obj.document.pk}/"]
    return any(_ok(client, url) for url in urls), may_manage(who, obj)


@surface(
    "admin: wagtail page image",
    ("admin/images/<int:image_id>/", "admin/images/chooser/chosen/<str:pk>/"),
    lambda obj: bool(obj.public_files.get("page-image")),
)
def _admin_image(client, obj, who):
    image = obj.item.pages.first().image
    urls = [f"/admin/images/{image.pk}/"]
    return any(_ok(client, url) for url in urls), may_manage(who, obj)


@surface(
    "admin: transcode job",
    (
        "admin/transcode_jobs/edit/<int:pk>/",
        "admin/transcode_jobs/inspect/<int:pk>/",
        "admin/transcode_jobs/delete/<int:pk>/",
        "admin/transcode_jobs/history/<int:pk>/",
        "admin/transcode_jobs/history-results/<int:pk>/",
        "admin/transcode_jobs/usage/<int:pk>/",
        "media-pipeline/jobs/<int:job_id>/status.json",
    ),
    lambda obj: obj.job is not None,
)
def _admin_job(client, obj, who):
    urls = [f"/admin/transcode_jobs/edit/{obj.job.pk}/"]
    exposed = any(_ok(client, url) for url in [*urls, f"/media-pipeline/jobs/{obj.job.pk}/status.json"])
    return exposed, may_manage(who, obj)


@surface(
    "admin: issue pages and areas",
    (
        "admin/library_issue_pages/edit/<int:pk>/",
        "admin/library_issue_pages/areas/<int:pk>/",
        "admin/library_issue_pages/delete/<int:pk>/",
        "admin/library_issue_pages/history/<int:pk>/",
        "admin/library_issue_pages/history-results/<int:pk>/",
        "admin/library_issue_pages/usage/<int:pk>/",
    ),
    lambda obj: obj.item.pages.exists(),
)
def _admin_issue_page(client, obj, who):
    page = obj.item.pages.first()
    urls = [f"/admin/library_issue_pages/{view}/{page.pk}/" for view in ("edit", "areas")]
    return any(_ok(client, url) for url in urls), may_manage(who, obj)


STRICT = (
    "site: item page",
    "site: sign-in prompt",
    "api: item",
    "files: download link",
    "hls: master",
    "admin: item views",
)


@pytest.mark.django_db
class TestMatrix:
    def test_object_surfaces(self, world):
        """Every role × object × object surface: nobody the oracle refuses gets a page, a playlist, a redirect to a
        file or the file's bytes; on the core surfaces everyone the oracle allows does get them."""
        ledger = Ledger()
        for principal in world["principals"]:
            client = _client(principal)
            for obj in world["objects"]:
                for name, (_routes, applies, check) in OBJECT_SURFACES.items():
                    if applies(obj):
                        exposed, allowed = check(client, obj, principal)
                        ledger.add(name, principal, obj, exposed=exposed, allowed=allowed)
        _conclude(ledger, "object surfaces", strict=STRICT)

    def test_list_surfaces(self, world):
        """Every list a role can read (browse, API list, search page/API/suggestions, OPDS, podcasts, curated
        list, author page, 我的图书馆, admin list, chooser and job list, sitemap): an object's token appears only
        where the oracle lets that role see it (read for the site, manage for the admin)."""
        ledger = Ledger()
        for principal in world["principals"]:
            client = _client(principal)
            for name, (urls, rule) in _list_surfaces(world).items():
                text = "".join(_pages(client, url) for url in urls)
                for obj in world["objects"]:
                    if _listable(name, obj):
                        ledger.add(name, principal, obj, exposed=obj.token in text, allowed=rule(principal, obj))
        _conclude(ledger, "list surfaces")

    def test_counts_never_include_hidden_objects(self, world):
        """Browse facet counts and search totals/facets are never higher than what the role may open."""
        ledger = Ledger()
        rows = list(LibraryItem.objects.select_related("parent", "parent__parent"))
        for principal in world["principals"]:
            client = _client(principal)
            readable = [item for item in rows if _chain_open(principal, item)]
            listed = sum(1 for item in readable if item.parent_id is None)
            browse = client.get("/library/").content.decode()
            shown = re.search(r'全部\s*<span class="count">(\d+)</span>', browse)
            if shown:
                ledger.add("site: browse count", principal, "all", exposed=int(shown[1]) > listed, allowed=False)
            found = client.get("/api/v1/search/", {"q": TITLE_WORD, "per_page": 50}).json()
            matching = sum(1 for item in readable if TITLE_WORD in item.title)
            ledger.add("search: total", principal, "all", exposed=found.get("total", 0) > matching, allowed=False)
            facet_total = sum(value["count"] for value in found.get("facets", {}).get("kind", []))
            ledger.add("search: kind facets", principal, "all", exposed=facet_total > matching, allowed=False)
        _conclude(ledger, "counts")

    def test_no_server_path_in_anything_an_editor_sees(self, world):
        """The job screens and status JSON an editor opens never show the server's absolute paths (item 8)."""
        ledger = Ledger()
        jobs = [obj for obj in world["objects"] if obj.job is not None][:6]
        for principal in world["principals"]:
            client = _client(principal)
            for obj in jobs:
                urls = [f"/admin/transcode_jobs/{view}/{obj.job.pk}/" for view in ("edit", "inspect")]
                urls += [f"/media-pipeline/jobs/{obj.job.pk}/status.json", "/admin/transcode_jobs/"]
                text = "".join(client.get(url).content.decode(errors="replace") for url in urls)
                shown = world["media_root"] in text
                ledger.add("admin: server path", principal, obj, exposed=shown, allowed=False)
        _conclude(ledger, "server paths")

    def test_signed_links_expired_altered_replayed(self, world):
        """A signed /media/ link works as issued; expired, altered, used for another file, or with an unsigned
        ``dl=`` that turns it into a download, it gives nothing (items 1 and 5)."""
        ledger = Ledger()
        nobody = Principal("anonymous")
        client = Client()
        signed = [obj for obj in world["objects"] if obj.files and obj.state == "open"]
        for obj in signed:
            for label, name in obj.files.items():
                other = signed[(signed.index(obj) + 1) % len(signed)].files["master"]
                expires, signature = sign_name(name)
                old_expires, old_signature = sign_name(name, now=time.time() - 3 * 3600)
                _e, other_signature = sign_name(other)
                base = f"/media/{quote(name)}"
                served = _served(client, f"{base}?e={expires}&s={signature}", name)
                ledger.add(f"signed: as issued ({label})", nobody, obj, exposed=served, allowed=True)
                for case, url in {
                    "expired": f"{base}?e={old_expires}&s={old_signature}",
                    "altered": f"{base}?e={expires}&s={signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
                    "replayed for another file": f"{base}?e={expires}&s={other_signature}",
                    "longer expiry": f"{base}?e={expires + 86400}&s={signature}",
                }.items():
                    ledger.add(f"signed: {case}", nobody, obj, exposed=_served(client, url, name), allowed=False)
                response = client.get(f"{base}?e={expires}&s={signature}&dl=x.pdf")
                attachment = "attachment" in response.get("Content-Disposition", "")
                ledger.add("signed: unsigned dl= makes a download", nobody, obj, exposed=attachment, allowed=False)
        strict = tuple(f"signed: as issued ({label})" for label in ("master", "hls-segment"))
        _conclude(ledger, "signed links", strict=strict)

    def test_admin_urls_without_parameters_send_anonymous_to_login(self, world):
        """Every admin URL that takes no parameter redirects an anonymous visitor to the login page."""
        client, refused = Client(), []
        for pattern in _routes():
            if pattern.startswith("admin/") and "<" not in pattern and "(" not in pattern and "^" not in pattern:
                if pattern in ADMIN_PUBLIC:
                    continue
                response = client.get("/" + pattern)
                COUNTS["matrix cells (admin anonymous)"] += 1
                if not (response.status_code in (302, 301) and "login" in response.get("Location", "")):
                    refused.append(f"/{pattern} → {response.status_code}")
        assert not refused, "admin URLs that do not send anonymous to the login page:\n" + "\n".join(refused)


def _chain_open(principal: Principal, item: LibraryItem) -> bool:
    chain = [item, item.parent, item.parent.parent if item.parent else None]
    return all(_open(principal, link) for link in chain if link is not None)


def _listable(surface_name: str, obj: Obj) -> bool:
    """Lists of top-level rows only show top-level objects; the others show every level."""
    top_level_only = ("site: browse", "api: items", "opds: newest", "podcasts: index")
    if surface_name.startswith(top_level_only):
        return obj.item.parent_id is None
    return True


def _list_surfaces(world) -> dict[str, tuple[list[str], Callable]]:
    kinds = LibraryItem.Kind.values
    return {
        "site: browse": ([f"/library/?kind={kind}" for kind in kinds], may_read),
        "site: author page": ([f"/library/creator/{CREATOR}/"], may_read),
        "site: curated list": ([f"/library/list/{LIST_SLUG}/"], may_read),
        "site: my library": (["/library/me/"], may_read),
        "api: items": ([f"/api/v1/library/items?kind={kind}&limit=50" for kind in kinds], may_read),
        "api: my favourites": (["/api/v1/library/me/favourites?limit=50"], may_read),
        "search: page": ([f"/search/?q={TITLE_WORD}"], may_read),
        "search: api": ([f"/api/v1/search/?q={TITLE_WORD}&per_page=50&page={n}" for n in (1, 2, 3, 4)], may_read),
        "search: suggestions": ([f"/api/v1/search/suggest?q={TITLE_WORD}&limit=20"], may_read),
        "opds: newest": (["/opds/new/ebook/", "/opds/new/periodical/", "/opds/"], may_read),
        "opds: search": ([f"/opds/search?q={TITLE_WORD}"], may_read),
        "podcasts: index": (["/podcasts/"], may_read),
        "sitemap": (["/sitemap.xml"], may_read),
        "tv: home and search": (["/tv/", f"/tv/search/?q={TITLE_WORD}"], may_read),
        "admin: item list": ([f"/admin/library_items/?kind={kind}" for kind in kinds], may_manage),
        "admin: item chooser": ([f"/admin/library_item_chooser/?q={TITLE_WORD}"], may_choose),
        "admin: parent chooser": ([f"/admin/library_parent_chooser/?q={TITLE_WORD}"], may_manage),
        "admin: job list": ([f"/admin/transcode_jobs/?p={n}" for n in (1, 2, 3, 4, 5, 6)], may_manage),
        "admin: issue pages": (
            [f"/admin/library_issue_pages/?issue={obj.item.pk}" for obj in world["objects"] if obj.item.pages.exists()],
            may_manage,
        ),
    }


LIST_ROUTES = {
    "<LibraryPage>",
    "<LibraryPage>creator/<str:name>/",
    "<LibraryPage>list/<slug:slug>/",
    "<LibraryPage>me/",
    "api/v1/library/items",
    "api/v1/library/me/favourites",
    "search/",
    "api/v1/search/",
    "api/v1/search/suggest",
    "opds/",
    "opds/new/<str:kind>/",
    "opds/search",
    "podcasts/",
    "sitemap.xml",
    "admin/library_items/",
    "admin/library_items/results/",
    "admin/library_item_chooser/",
    "admin/library_item_chooser/results/",
    "admin/library_parent_chooser/",
    "admin/library_parent_chooser/results/",
    "admin/transcode_jobs/",
    "admin/transcode_jobs/results/",
    "admin/library_issue_pages/",
    "admin/library_issue_pages/results/",
    # The TV's rows (screens/tv): items_visible_to / course lessons filtered by it / search's audience; members-only
    # items hidden from an anonymous TV (tests/screens/test_tv.py).
    "tv/",
    "tv/course/",
    "tv/search/",
}


def _pages(client: Client, url: str) -> str:
    response = client.get(url)
    return response.content.decode(errors="replace") if response.status_code == 200 else ""


def _served(client: Client, url: str, name: str) -> bool:
    response = client.get(url)
    return response.status_code in (200, 206) and _body(response) == _stored(name)


# --- Raw /media/ paths through a live server ----------------------------------------------------------------


def _raw_variants(name: str) -> dict[str, str]:
    """The same file asked for in ways a path normaliser or decoder would turn into ``name``."""
    head, _sep, rest = name.partition("/")
    return {
        "as stored": f"/media/{name}",
        "double slash": f"/media//{name}",
        "dot segment": f"/media/./{name}",
        "dot-dot through documents": f"/media/documents/../{name}",
        "encoded leading slash": f"/media/%2F{name}",
        "encoded inner slash": f"/media/{head}%2F{rest}",
        "encoded dot segment": f"/media/%2e/{name}",
        "encoded dot-dot": f"/media/documents/%2e%2e/{name}",
        "backslash": f"/media/{head}%5C{rest}",
        "trailing dot segment": f"/media/{name}/.",
    }


def _stable_url_allowed(label: str, obj: Obj) -> bool:
    """A Wagtail document is the whole file (download right); a newspaper page image is what readers read."""
    if label == "page-image":
        return may_read(Principal("anonymous"), obj)
    return public_stable_url_allowed(obj)


def _raw_get(address: str, path: str) -> tuple[int, bytes]:
    host, port = urlsplit(address).hostname, urlsplit(address).port
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)  # sent byte for byte, never normalised
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_raw_media_paths_through_a_live_server(live_server, settings, local_media, tmp_path, monkeypatch):
    """Every stored file of every object, asked for anonymously at ``/media/`` with dot-segments, doubled and
    encoded slashes and backslashes (sent as-is with http.client): only a file anyone may download is ever served
    at a stable URL, and only at its plain name (items 1 and 2)."""
    # Django's live server answers /media/ itself (whole files, no checks): off, so our view answers as in production.
    monkeypatch.setattr(_MediaFilesHandler, "_should_handle", lambda self, path: False)
    settings.MEDIA_ROOT, settings.MEDIA_WORK_DIR, settings.SEARCH_URL = tmp_path / "media", tmp_path / "work", ""
    world = build_world(tmp_path / "media")
    ledger, nobody = Ledger(), Principal("anonymous")
    for obj in world["objects"]:
        for label, name in {**obj.files, **obj.public_files}.items():
            stored = _stored(name)
            plain_allowed = label in obj.public_files and _stable_url_allowed(label, obj)
            for variant, path in _raw_variants(name).items():
                status, body = _raw_get(live_server.url, path)
                exposed = status in (200, 206) and body == stored
                # Another spelling of a file anyone may see leaks nothing (test_files.py holds the spelling rule).
                allowed = plain_allowed
                ledger.add(f"raw /media/: {label}, {variant}", nobody, obj, exposed=exposed, allowed=allowed)
            if label in obj.files:  # the positive control: the signed canonical URL does serve the file
                expires, signature = sign_name(name)
                status, body = _raw_get(live_server.url, f"/media/{quote(name)}?e={expires}&s={signature}")
                ledger.add("raw /media/: signed as issued", nobody, obj, exposed=body == stored, allowed=True)
    _conclude(ledger, "raw media paths", strict=("raw /media/: signed as issued",))


# --- The enumeration: every route has a row -----------------------------------------------------------------

# Routes that return no library object, count or byte — each with the reason it is not a matrix row.
NOT_OBJECT_SURFACES = {
    "i18n/setlang/": "language switch: a redirect, no content",
    "jsi18n/": "the scripts' words in a language (our own catalogue, the same for everyone): no object",
    "preferences/large-type/": "large-type toggle: sets a cookie and redirects",
    "login/": "members' sign-in form (throttled: tests/cms/test_member_sign_in.py), then a redirect",
    "logout/": "sign-out: a POST that ends the session and redirects",
    "login/forgot/": "forgotten password: the secretary's way and a form asking for a mobile number",
    "login/forgot/code/": "forgotten password: the SMS code and a new password, no object",
    "favicon.ico": "a redirect to the static icon",
    "robots.txt": "static text",
    "api/v1/openapi.json": "the API's schema: no object (fuzzed by test_api_fuzz.py)",
    "api/v1/docs": "Swagger UI page: no object",
    "api/v1/": "ninja's root: no object",
    "api/v1/auth/token": "sign-in: trades a password for a token (throttling: tests/security/test_login_throttle.py)",
    "opds/login/": "asks for credentials, then the root catalogue (covered as opds/)",
    "opds/opensearch.xml": "OpenSearch description: a URL template, no object",
    "podcasts/artwork.png": "the site's podcast artwork: one public image, the same for everyone, no object",
    "opds/clc/": "CLC class index: names and links of the classes holding items the requester may open (opds_items);"
    " classes' items covered as opds/clc/<letter>/",
    "opds/clc/<str:letter>/": "same items as opds/new/ filtered by class (opds_items), no access rule of its own",
    "opds/lists/": "curated lists' names (lists themselves covered as the library page's list route)",
    "opds/lists/<slug:slug>/": "a curated list for OPDS: item_list_items, the same selector as the list page",
    "media-pipeline/uploads/": "tus upload endpoint for editors: writes, returns no stored object",
    "media-pipeline/uploads/<uuid:upload_id>": "an editor's own resumable upload (random id), no library object",
    "media/<path:path>": "raw paths: test_raw_media_paths_through_a_live_server and signed-link cells",
    "documents/authenticate_with_password/<int:restriction_id>/": "Wagtail collection password form: unused",
    "_util/authenticate_with_password/<int:page_view_restriction_id>/<int:page_id>/": "page password form",
    "_util/login/": "Wagtail's front-end login for private pages",
    "^((?:[\\w\\-]+/)*)$": "Wagtail page serving: the library page's routes are listed as <LibraryPage>…",
    "api/v1/library/me/history": "the caller's own history (only items they opened, filtered like favourites)",
    "api/v1/library/me/continue": "the caller's own progress (the same selector as history)",
    "admin/library_items/new/": "empty add form: no object",
    "admin/library_issue_pages/new/": "empty add form (the issue is chosen in it): no object",
    "admin/transcode_jobs/new/": "jobs are made by the pipeline; the add view shows an empty form",
    "admin/library_item_chooser/create/": "the chooser's create form: no object",
    "admin/library_parent_chooser/create/": "the chooser's create form: no object",
    # Courses (issue 14): lessons are library items linked to their own pages (the rows above); what a course shows
    # of a lesson, and who may see courses, attempts and banks, is proved in tests/courses and
    # tests/security/test_courses_access.py, not yet as cells of this matrix.
    "<CoursePage>": "a course page: lessons listed as links to item pages (tests/courses/test_pages.py)",
    "<CoursePage>practice/": "practice questions of the course's published practice bank: no library object",
    "<CoursePage>quiz/": "the member's own attempt (no answer key before release: tests/courses/test_pages.py)",
    "<CoursePage>quiz/result/<int:attempt_id>/": "the member's own result; another member's is a 404",
    "<CoursePage>quiz/start/": "POST: starts the member's own attempt",
    "<CoursePage>quiz/submit/": "POST: saves or submits the member's own attempt",
    "<CoursePage>sessions/": "the branches' sessions the caller runs (secretary, committee, editor); else a 404",
    "<CoursePage>sessions/<int:session_id>/": "a session of a branch the caller runs; else a 404 (test_sessions.py)",
    "<CoursePage>sessions/<int:session_id>/code/": "the check-in code of a session the caller runs; else a 404",
    "<CoursePage>sessions/<int:session_id>/tv/": "TV mode: lessons as on the course page, streams only of items "
    "the caller may open (items_visible_to); a session the caller does not run is a 404",
    "<CoursePage>checkin/": "a member's own check-in by signed code and their own reflection (test_sessions.py)",
    "study/hours/": "the signed-in member's own study hours (test_study_hours.py)",
    "study/hours/<int:year>/": "the signed-in member's own study hours of a year",
    "study/hours/<int:year>/certificate/": "POST: issues the member's own certificate",
    "study/hours/<int:year>/certificate.pdf": "the member's own certificate",
    "study/verify/<str:code>/": "public check of a certificate code: masked name, unit, year, hours; no library object",
    "branch/members/": "a branch secretary's own members (names, masked phones) and their password reset; 404 to "
    "anyone else (tests/cms/test_branch_members.py); no library object",
    "inbox/": "the signed-in member's own notices (tests/courses/test_notices.py); no library object",
    "study/reports/": "aggregate figures of units the caller manages (or their own branch); names only to the "
    "branch's own secretary (tests/courses/test_reports.py); no library object",
    "study/reports/hours/": "a year's study hours of units the caller manages (or their own branch), sums below 3 "
    "members hidden; names only to the branch's own secretary (tests/courses/test_hours_report.py); no library object",
    "api/v1/courses/<course_id>": "a course with the caller's progress (tests/courses/test_api.py)",
    "api/v1/courses/<course_id>/attempts": "POST: starts the caller's own attempt",
    "api/v1/courses/<course_id>/practice": "practice questions: no library object",
    "api/v1/courses/attempts/<attempt_id>": "the caller's own attempt; another member's is a 404",
    "api/v1/courses/attempts/<attempt_id>/answers": "POST: the caller's own answers (sealed ids)",
    "api/v1/courses/attempts/<attempt_id>/result": "the caller's own result, released by the course's settings",
    "api/v1/courses/attempts/<attempt_id>/submit": "POST: submits the caller's own attempt",
    "api/v1/courses/practice/check": "checks one practice answer: no library object",
    "api/v1/courses/time": "the server's clock for the quiz timer",
    "api/v1/courses/me/hours": "the caller's own study hours (tests/courses/test_api_sessions.py)",
    "api/v1/courses/sessions/checkin": "POST: the caller's own check-in with a signed code; no library object",
    # Screens (issue 18): devices authenticate with their own credential; no route takes a device id. Access is
    # proved in tests/screens/test_access.py and tests/screens/test_pairing_and_api.py.
    "api/v1/screens/pairings": "POST: a new screen's pairing code and credential (throttled); no object",
    "api/v1/screens/pairings/me": "a waiting screen's own pairing state, by its credential; no library object",
    "api/v1/screens/device/manifest": "the calling device's own manifest: public, published items only "
    "(items_visible_to(AnonymousUser)), signed links (tests/screens/test_access.py)",
    "api/v1/screens/device/heartbeat": "POST: the calling device's own heartbeat; no object",
    # The linear channel (issue 18): anonymous like broadcast, only channels marked 对外直播 of the TV type, only
    # public, published items (items_visible_to(AnonymousUser)); a members-only item on the channel is left out of
    # the playlist and the guide (tests/screens/test_linear.py).
    "linear/<int:channel_id>/master.m3u8": "a linear channel's live master: public items only, anonymous",
    "linear/<int:channel_id>/<slug:rung>.m3u8": "a linear channel's live playlist: public items' TV segments, signed",
    "linear/units/<slug:code>/guide.xml": "XMLTV of a unit subtree's linear channels: public items' titles only",
    "linear/units/<slug:code>/channels.m3u": "M3U of a unit subtree's linear channels: names and master URLs",
    "api/v1/screens/device/plays": "POST: the calling device's own proof of play, stored under its own id "
    "(tests/screens/test_plays.py); no object read",
    "screens/player/": "the screens' web player page: static, no object (its API calls carry the device credential)",
    "screens/player/sw.js": "the web player's Service Worker script: static, no object",
    "api/v1/screens/device/emergencies/<emergency_id>/ack": "POST: the calling device acknowledges an emergency "
    "that reaches it (another's is a 404; tests/screens/test_emergencies.py)",
    "api/v1/screens/device/keys": "the public keys that verify emergencies, for a paired device; no object",
    # The TV signed in by a phone (screens/tv/signin.py; tests/screens/test_tv.py): single use, five minutes, only
    # the browser that showed the code is signed in.
    "tv/signin/": "the TV's sign-in code (a QR of a signed link, throttled per address); no object",
    "tv/signin/poll/": "whether a phone confirmed this browser's own code; signs this browser in once; no object",
    "tv/signin/phone/": "a signed-in member confirms a TV's code (throttled); refuses forged, reused, expired codes",
    "tv/signout/": "POST: signs the TV out; no object",
}
# Admin URL groups (the first segment after admin/) that show no library object: all behind the admin login,
# which test_admin_urls_without_parameters_send_anonymous_to_login checks for every parameterless one.
ADMIN_GROUPS = {
    "pages",
    "workflows",
    "images",
    "reports",
    "api",
    "sites",
    "users",
    "groups",
    "redirects",
    "collections",
    "forms",
    "search_synonyms",
    "search_promotions",
    "search_index_chooser",
    "choose-page",
    "password_reset",
    "tag-autocomplete",
    "editing-sessions",
    "embeds",
    "",
    "test404",
    "failwhale",
    "bulk",
    "choose-external-link",
    "choose-email-link",
    "choose-phone-link",
    "choose-anchor-link",
    "account",
    "logout",
    "dismissibles",
    "block-preview",
    "snippets",
    "search_report",
    "search_status",
    "courses_banks",
    "courses_questions",
    "courses-bank-import",
    "courses-analysis",  # question statistics of a course the editor may edit (tests/courses/test_analysis.py)
    "roster",  # the roster import: members' masked numbers only, no library object (tests/cms/test_roster.py)
    "sprite",
    "login",
    "jsi18n",
    "^.*",
    "media-pipeline",
    "library_lists",
    "library-import",
    "documents",
    # Screens (issue 18): channels, rules and screens of the editor's subtree, pairing and the per-screen preview and
    # revoke; another unit's row is a 404 (tests/screens/test_access.py). Channels name only public items.
    "screens_channels",
    "screens_rules",
    "screens_devices",
    "screens-pair",
    "screens-device",
    "screens-delivery",  # delivery rates of the editor's own units (figures only; tests/screens/test_plays.py)
    "screens_emergencies",
    "screens-emergency",
}
# Admin pages an anonymous visitor may open (the login itself and what it needs).
ADMIN_PUBLIC = {
    "admin/login/",
    "admin/password_reset/",
    "admin/password_reset/done/",
    "admin/password_reset/complete/",
    "admin/jsi18n/",
    "admin/sprite/",
    "admin/test404/",
    "admin/failwhale/",
    "admin/logout/",
}


def _walk(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _routes() -> set[str]:
    """Every route: Django's resolver (ninja's API and Wagtail's admin included) and the routes of every routable
    page model, written ``<Model>pattern``."""
    found = set(_walk(get_resolver()))
    for model in get_page_models():
        if issubclass(model, RoutablePageMixin) and model is not Page:
            found |= {f"<{model.__name__}>{entry.pattern}" for entry in model.get_subpage_urls()}
    return found


def test_every_route_has_a_matrix_row():
    """Each route is an object surface of the matrix, a list surface, a reasoned non-object route, or an admin
    URL in a known group; a route added without a row fails here."""
    covered = set(LIST_ROUTES) | set(NOT_OBJECT_SURFACES)
    for routes, _applies, _check in OBJECT_SURFACES.values():
        covered |= set(routes)
    missing = []
    for route in sorted(_routes()):
        if route in covered:
            continue
        if route.startswith("admin/") and route.removeprefix("admin/").split("/")[0] in ADMIN_GROUPS:
            continue
        missing.append(route)
    COUNTS["routes enumerated"] = len(_routes())
    assert not missing, "routes with no matrix row (add a surface or a reasoned allow-list entry):\n" + "\n".join(
        missing
    )
