"""The library's JSON API for the phone and TV apps and the web players.

Mounted at /api/v1/library/. Lists are keyset-paginated (``cursor`` in, ``next_cursor`` out). An item the caller
may not read is a 404 exactly like one that does not exist. Who may read what is decided by library.selectors;
member writes go through library.activity.
"""

import logging
from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router
from wagtail.rich_text import expand_db_html

from cms.api_auth import MEMBER_AUTH, PUBLIC_AUTH, PUBLIC_OPENAPI, api_user
from library import activity, selectors
from library.catalogue.clc import clc_label
from library.models import ArticleArea, ItemProgress, LibraryItem, LibraryPage
from library.site.links import asset_master_url, master_allowed
from library.site.playback import item_playback
from library.site.readers import page_image_url
from media_pipeline.models import MediaAsset, Rendition
from media_pipeline.selectors import asset_playback_urls, playback_token_query, renditions_by_profile

from .schemas import (
    DocumentPages,
    ErrorOut,
    FavouriteOut,
    FavouritePage,
    ItemDetail,
    ItemPage,
    ProgressIn,
    ProgressOut,
    ProgressPage,
    RenditionsOut,
    SortChoice,
)

logger = logging.getLogger(__name__)

router = Router(tags=["library"])

KindChoice = Literal["video", "audio", "article", "ebook", "periodical", "newspaper"]
LIST_COVER = "fill-360x480"  # 3:4, the shape of a book cover; one size for every list so it is made once
DETAIL_COVER = "max-720x960"
ISSUE_PAGE_IMAGE = "width-1600"
NOT_FOUND = {404: ErrorOut}
# Cursors are two decimal integers joined by "_", as next_cursor gives them; anything else is a 422.
CURSOR_PATTERN = r"^-?[0-9]{1,20}_[0-9]{1,20}$"
NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot compare text with NUL bytes: a clear 422, not a 500
UNIT_DESCRIPTION = "所属单位 id（1 至 9223372036854775807 的整数）：只列出该单位所属的条目；超出范围的数字返回 422。"
ITEMS_CURSOR_DESCRIPTION = (
    "翻页：原样传回上一页的 next_cursor。sort=newest 时为“发布时间（自 1970-01-01 UTC 起的微秒数）_条目 id”，"
    "sort=popular 时为“阅读次数_条目 id”，都是十进制整数；换了 sort 须从第一页重新开始。"
    "格式不对或数字超出范围返回 422。"
)
CHILDREN_CURSOR_DESCRIPTION = "翻页：原样传回上一页的 next_cursor，格式为“序号_条目 id”（十进制整数）；无效时返回 422。"
ACTIVITY_CURSOR_DESCRIPTION = (
    "翻页：原样传回上一页的 next_cursor，格式为“时间（自 1970-01-01 UTC 起的微秒数）_记录 id”（十进制整数）；"
    "无效时返回 422。"
)
MEMBER_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- Shared pieces --------------------------------------------------------------------------------------------


def _absolute(request: HttpRequest, url: str) -> str:
    return request.build_absolute_uri(url) if url else ""


def _item_or_404(request: HttpRequest, item_id: int) -> LibraryItem:
    item = selectors.item_visible_to(api_user(request), item_id)
    if item is None:
        raise activity.ItemNotReadable(_("未找到该条目"))
    return item


def _library_page(request: HttpRequest) -> LibraryPage | None:
    """The library's page, looked up once per request: every item URL in a list is built on it."""
    if not hasattr(request, "_library_page"):
        request._library_page = selectors.library_page()
    return request._library_page


def _item_url(request: HttpRequest, item: LibraryItem) -> str:
    page = _library_page(request)
    return _absolute(request, selectors.item_url(item, page=page)) if page is not None else ""


def _image_url(request: HttpRequest, image, spec: str) -> str:
    if image is None:
        return ""
    try:
        return _absolute(request, image.get_rendition(spec).url)
    except Exception:  # a missing or broken original must not break a whole list
        logger.warning("cannot render image %s as %s", image.pk, spec, exc_info=True)
        return ""


def _summary(request: HttpRequest, item: LibraryItem, *, cover: str = LIST_COVER) -> dict:
    return {
        "id": item.pk,
        "kind": item.kind,
        "kind_display": item.get_kind_display(),
        "role": item.role,
        "title": item.title,
        "subtitle": item.subtitle,
        "creators": item.creators,
        "summary": item.summary,
        "number": item.number,
        "position": item.position,
        "year": item.year,
        "published_at": item.published_at,
        "read_count": item.read_count,
        "access": item.access,
        "owning_unit": {"id": item.owning_unit_id, "name": item.owning_unit.name},
        "parent_id": item.parent_id,
        "cover_url": _image_url(request, item.cover, cover),
        "url": _item_url(request, item),
    }


def _summaries(request: HttpRequest, items: list[LibraryItem]) -> list[dict]:
    # One query each for the owning units and every cover's existing renditions instead of one per card
    # (a unit already joined in by the caller is not fetched again).
    prefetch_related_objects(items, "owning_unit")
    prefetch_related_objects([item for item in items if item.cover_id], "cover__renditions")
    return [_summary(request, item) for item in items]


def _items_cursor_parse(raw: str | None, *, sort: str) -> tuple[datetime | int, int] | None:
    """ "<read count or published_at in µs>_<id>": digits only, so apps can paste it into a URL unescaped."""
    if not raw:
        return None
    try:
        value, item_id = raw.split("_", 1)
        key = activity.int64(value) if sort == "popular" else activity.stamp_parse(value)
        return key, activity.int64(item_id)
    except (ValueError, OverflowError):
        raise ValidationError(_("翻页参数无效")) from None


def _items_cursor_format(cursor) -> str | None:
    if cursor is None:
        return None
    value, item_id = cursor
    return f"{activity.stamp_format(value) if isinstance(value, datetime) else value}_{item_id}"


def _activity_cursor(raw: str | None):
    return activity.activity_cursor_parse(raw)


# --- Browsing --------------------------------------------------------------------------------------------------


@router.get(
    "/items",
    response={200: ItemPage, 422: ErrorOut},
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC_OPENAPI,
    summary="浏览条目（按最新或最热）",
)
def items_list(
    request: HttpRequest,
    kind: KindChoice | None = None,
    sort: SortChoice = "newest",
    clc: str | None = Query(None, max_length=32, pattern=NO_NUL, description="中图法分类号，含下位类"),
    year: int | None = Query(None, ge=1000, le=2100),
    unit: int | None = Query(None, ge=1, le=activity.INT64_MAX, description=UNIT_DESCRIPTION),
    tag: str | None = Query(None, max_length=100, pattern=NO_NUL, description="标签 slug"),
    cursor: str | None = Query(None, max_length=80, pattern=CURSOR_PATTERN, description=ITEMS_CURSOR_DESCRIPTION),
    limit: int = Query(24, ge=1, le=50),
):
    filters = {"clc": (clc or "").strip().upper(), "year": year, "unit": unit, "tag": tag}
    items, next_cursor = selectors.items_page(
        user=api_user(request),
        kind=kind,
        sort=sort,
        filters=filters,
        before=_items_cursor_parse(cursor, sort=sort),
        per_page=limit,
    )
    return {"items": _summaries(request, items), "next_cursor": _items_cursor_format(next_cursor)}


@router.get(
    "/items/{item_id}",
    response={200: ItemDetail, **NOT_FOUND},
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC_OPENAPI,
    summary="条目详情",
)
def item_detail(request: HttpRequest, item_id: int):
    item = _item_or_404(request, item_id)
    user = api_user(request)
    can_download = selectors.item_downloadable(user=user, item=item, known_readable=True)  # _item_or_404 read it
    has_file = bool(item.media_asset_id)
    return {
        **_summary(request, item, cover=DETAIL_COVER),
        "body_html": expand_db_html(item.body) if item.body else "",
        "credits": [
            {"name": credit.name, "role": credit.role, "role_display": credit.get_role_display()}
            for credit in item.credits.all()
        ],
        "publisher": item.publisher,
        "issued": item.issued,
        "language": item.language,
        "isbn": item.isbn,
        "issn": item.issn,
        "cn_serial": item.cn_serial,
        "clc": item.clc,
        "clc_label": _clc_label(item.clc),
        "tags": [{"name": tag.name, "slug": tag.slug} for tag in item.tags.all()],
        "access_display": item.get_access_display(),
        "rights_note": item.rights_note,
        "can_download": can_download and has_file,
        "download_url": _absolute(request, reverse("library_files:download", args=[item.pk]))
        if can_download and has_file
        else "",
        "parent": _parent(user, item),
        "children_count": selectors.item_children(user=user, item=item).count(),
        "is_favourite": activity.is_favourite(member=user, item=item),
    }


def _clc_label(code: str) -> str:
    try:
        return clc_label(code) if code else ""
    except ValidationError:
        return code  # an odd legacy code still shows as itself


def _parent(user, item: LibraryItem) -> dict | None:
    """The series or issue above, only when the caller may read it too."""
    if item.parent_id is None:
        return None
    parent = selectors.item_visible_to(user, item.parent_id)
    return {"id": parent.pk, "kind": parent.kind, "title": parent.title} if parent else None


@router.get(
    "/items/{item_id}/children",
    response={200: ItemPage, 404: ErrorOut, 422: ErrorOut},
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC_OPENAPI,
    summary="下级条目（单集、各期、文章），按序号",
)
def item_children(
    request: HttpRequest,
    item_id: int,
    cursor: str | None = Query(None, max_length=41, pattern=CURSOR_PATTERN, description=CHILDREN_CURSOR_DESCRIPTION),
    limit: int = Query(50, ge=1, le=100),
):
    item = _item_or_404(request, item_id)
    rows = selectors.item_children(user=api_user(request), item=item).select_related("owning_unit", "cover")
    after = _children_cursor_parse(cursor)
    if after is not None:
        rows = rows.filter(Q(position__gt=after[0]) | Q(position=after[0], id__gt=after[1]))
    page = list(rows[: limit + 1])
    next_cursor = f"{page[limit - 1].position}_{page[limit - 1].pk}" if len(page) > limit else None
    return {"items": _summaries(request, page[:limit]), "next_cursor": next_cursor}


def _children_cursor_parse(raw: str | None) -> tuple[int, int] | None:
    if not raw:
        return None
    try:
        position, item_id = raw.split("_", 1)
        return activity.int64(position), activity.int64(item_id)
    except ValueError:
        raise ValidationError(_("翻页参数无效")) from None


# --- What a player or reader needs ----------------------------------------------------------------------------


@router.get(
    "/items/{item_id}/renditions",
    response={200: RenditionsOut, **NOT_FOUND},
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC_OPENAPI,
    summary="播放/阅读所需的地址（签名、短时有效）",
)
def item_renditions(request: HttpRequest, item_id: int):
    item = _item_or_404(request, item_id)
    playback = item_playback(item)
    media = _asset_media(request, item, item.media_asset) if item.media_asset_id else {}
    urls = _playback_urls(request, item.media_asset) if item.media_asset_id else {}
    return {
        "state": playback["job_state"],
        "state_display": str(playback["state"]),
        "hls_url": urls.get("hls", ""),
        "poster_url": urls.get("poster", ""),
        "audio": media.get("audio", []),
        "tv_mp4": media.get("tv_mp4"),
        "tv_hls_url": media.get("tv_hls_url", ""),
        "captions": media.get("captions", []),
        "sprite": media.get("sprite"),
        "document": media.get("document"),
        "issue_pages": _issue_pages(request, item),
    }


def _playback_urls(request: HttpRequest, asset: MediaAsset) -> dict[str, str]:
    """Master playlist and poster, carrying a short-lived token: an app signed in with a bearer token has no session
    for the playback views to check, so they accept this token instead (the caller's right was checked above)."""
    query = playback_token_query(asset_id=asset.pk)
    return {name: _absolute(request, f"{url}?{query}") for name, url in asset_playback_urls(asset=asset).items()}


def _file_url(request: HttpRequest, name: str) -> str:
    """A stored file's URL: signed on local disk, presigned on S3 (both expire)."""
    return _absolute(request, default_storage.url(name))


def _prefix(rendition: Rendition, depth: int) -> str:
    """The job's folder in storage: a rendition's path minus its last ``depth`` parts."""
    return rendition.path.rsplit("/", depth)[0]


def _asset_media(request: HttpRequest, item: LibraryItem, asset: MediaAsset) -> dict:
    by_profile = renditions_by_profile(asset=asset)
    media: dict = {"audio": [], "captions": _captions(request, asset)}
    for name in ("audio_m4a", "audio_mp3"):
        if (rendition := by_profile.get(name)) is not None:
            media["audio"].append(
                {
                    "format": rendition.meta.get("container") or name.removeprefix("audio_"),
                    "url": _file_url(request, rendition.path),
                    "bitrate": rendition.bandwidth,
                    "duration": rendition.duration,
                    "size": rendition.size,
                }
            )
    if (tv := by_profile.get("tv_1080p")) is not None:
        media["tv_mp4"] = {
            "url": _file_url(request, tv.path),
            "width": tv.width,
            "height": tv.height,
            "bitrate": tv.bandwidth,
            "size": tv.size,
        }
    if (tv_hls := by_profile.get("tv_1080p_hls")) is not None:
        master = reverse("media_pipeline:hls_master", args=[tv_hls.pk])
        media["tv_hls_url"] = _absolute(request, f"{master}?{playback_token_query(asset_id=asset.pk)}")
    if (sprite := by_profile.get("sprite")) is not None:
        media["sprite"] = {
            "vtt_url": _file_url(request, sprite.path),
            "image_url": _file_url(request, f"{_prefix(sprite, 2)}/{sprite.meta.get('image', '')}"),
            "interval": sprite.meta.get("interval"),
            "tile": list(sprite.meta.get("tile") or []),
        }
    if (document := by_profile.get("document")) is not None:
        media["document"] = _document(request, item, asset, document, by_profile.get("document_text"))
    return media


def _captions(request: HttpRequest, asset: MediaAsset) -> list[dict]:
    latest: dict[str, Rendition] = {}
    for rendition in asset.renditions.filter(kind=Rendition.Kind.CAPTIONS).order_by("-created_at", "-id"):
        latest.setdefault(rendition.meta.get("language", ""), rendition)
    captions = []
    for language, rendition in latest.items():
        vtt = rendition.meta.get("vtt", "")  # relative to the job's folder, like the path's last three parts
        prefix = _prefix(rendition, 3)
        captions.append(
            {
                "language": language,
                "label": rendition.meta.get("label", language),
                "default": bool(rendition.meta.get("default")),
                "vtt_url": _file_url(request, f"{prefix}/{vtt}") if vtt else "",
            }
        )
    return captions


def _document(request, item, asset, pages: Rendition, text: Rendition | None) -> dict:
    fmt = pages.meta.get("format", "pdf")
    # The master only for who may download it or manages the item (issue 11, item 5); readers use the pages.
    whole = master_allowed(user=api_user(request), item=item)
    return {
        "format": fmt,
        "file_url": _absolute(request, asset_master_url(asset)) if whole else "",
        "manifest_url": _file_url(request, pages.path),
        "text_url": _file_url(request, text.path) if text is not None else "",
        "page_count": pages.meta.get("page_count"),
        "page_widths": list(pages.meta.get("widths") or []),
        "outline": list(pages.meta.get("toc") or []),
        "pages_url": _absolute(request, reverse("api:library_item_pages", args=[item.pk])) if fmt == "pdf" else "",
    }


def _issue_pages(request: HttpRequest, item: LibraryItem) -> list[dict]:
    """The issue's 版面 with the areas of only those articles the caller may open (as the web page shows them)."""
    visible = selectors.visible_item_q(api_user(request), field="article")
    areas = Prefetch("areas", queryset=ArticleArea.objects.filter(visible).order_by("id"))
    pages = item.pages.select_related("image").prefetch_related(areas).order_by("number")
    return [
        {
            "number": page.number,
            "name": page.name,
            "image_url": _absolute(request, page_image_url(page.image, ISSUE_PAGE_IMAGE).get("url", ""))
            if page.image
            else "",
            "areas": [{"article_id": area.article_id, "points": area.points} for area in page.areas.all()],
        }
        for page in pages
    ]


@router.get(
    "/items/{item_id}/pages",
    response={200: DocumentPages, 404: ErrorOut, 422: ErrorOut},
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC_OPENAPI,
    url_name="library_item_pages",
    summary="PDF 的版面图和逐页文字（分页，签名地址）",
)
def item_pages(
    request: HttpRequest,
    item_id: int,
    width: int | None = Query(None, ge=1, description="图片宽度，须是 page_widths 之一；默认最大的"),
    start: int = Query(1, ge=1, le=100_000),
    limit: int = Query(20, ge=1, le=100),
):
    item = _item_or_404(request, item_id)
    pages = renditions_by_profile(asset=item.media_asset).get("document") if item.media_asset_id else None
    if pages is None or pages.meta.get("format", "pdf") != "pdf":
        raise activity.ItemNotReadable(_("该条目没有可分页阅读的文档"))
    widths = [int(value) for value in pages.meta.get("widths") or []]
    width = width or max(widths, default=0)
    if width not in widths:
        raise ValidationError(_("图片宽度只能是 %(widths)s") % {"widths": "、".join(map(str, widths))})
    count = int(pages.meta.get("page_count") or 0)
    prefix = _prefix(pages, 2)
    numbers = range(start, min(start + limit, count + 1))
    return {
        "page_count": count,
        "width": width,
        "pages": [
            {
                "number": number,
                "image_url": _file_url(request, f"{prefix}/pages/{width}/p{number:04d}.jpg"),
                "text_url": _file_url(request, f"{prefix}/text/p{number:04d}.txt"),
            }
            for number in numbers
        ],
        "next_start": start + limit if start + limit <= count else None,
    }


# --- Member activity ------------------------------------------------------------------------------------------


def _progress_out(item_id: int, progress: ItemProgress | None) -> dict:
    if progress is None:
        return {
            "item_id": item_id,
            "started": False,
            "position": 0,
            "locator": "",
            "fraction": 0,
            "completed": False,
            "study_seconds": 0,
            "updated_at": None,
        }
    return {
        "item_id": item_id,
        "started": progress.last_heartbeat_at is not None,
        "position": progress.position,
        "locator": progress.locator,
        "fraction": progress.fraction,
        "completed": progress.completed,
        "study_seconds": progress.study_seconds,
        "updated_at": progress.updated_at,
    }


@router.get(
    "/items/{item_id}/progress",
    response={200: ProgressOut, **MEMBER_ERRORS},
    auth=MEMBER_AUTH,
    summary="我在这个条目的进度（跨设备续播/续读）",
)
def progress_get(request: HttpRequest, item_id: int):
    item = _item_or_404(request, item_id)
    return _progress_out(item.pk, activity.progress_of(member=api_user(request), item=item))


@router.post(
    "/items/{item_id}/progress",
    response={200: ProgressOut, **MEMBER_ERRORS},
    auth=MEMBER_AUTH,
    summary="学习心跳：约每 20 秒一次，仅在真正播放或阅读时发送",
)
def progress_post(request: HttpRequest, item_id: int, payload: ProgressIn):
    item = _item_or_404(request, item_id)
    progress = activity.progress_heartbeat(
        member=api_user(request),
        item=item,
        position=payload.position,
        locator=payload.locator,
        fraction=payload.fraction,
        active_seconds=payload.active_seconds,
        completed=payload.completed,
    )
    return _progress_out(item.pk, progress)


@router.post(
    "/items/{item_id}/open",
    response={200: ProgressOut, **MEMBER_ERRORS},
    auth=MEMBER_AUTH,
    summary="打开了条目（记入学习记录）",
)
def item_open(request: HttpRequest, item_id: int):
    item = _item_or_404(request, item_id)
    return _progress_out(item.pk, activity.item_opened(member=api_user(request), item=item))


@router.post(
    "/items/{item_id}/favourite", response={200: FavouriteOut, **MEMBER_ERRORS}, auth=MEMBER_AUTH, summary="收藏"
)
def favourite_post(request: HttpRequest, item_id: int):
    item = _item_or_404(request, item_id)
    activity.favourite_add(member=api_user(request), item=item)
    return {"item_id": item.pk, "favourite": True}


@router.delete(
    "/items/{item_id}/favourite",
    response={200: FavouriteOut, **MEMBER_ERRORS},
    auth=MEMBER_AUTH,
    summary="取消收藏",
)
def favourite_delete(request: HttpRequest, item_id: int):
    # Un-favouriting an item that has since become unreadable still works: it is the member's own list.
    item = LibraryItem.objects.filter(pk=item_id).first()
    if item is None:
        raise activity.ItemNotReadable(_("未找到该条目"))
    activity.favourite_remove(member=api_user(request), item=item)
    return {"item_id": item.pk, "favourite": False}


def _entry_item(request: HttpRequest, rows: list) -> dict[int, dict]:
    return {item["id"]: item for item in _summaries(request, [row.item for row in rows])}


@router.get("/me/favourites", response={200: FavouritePage, **MEMBER_ERRORS}, auth=MEMBER_AUTH, summary="我的收藏")
def my_favourites(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=80, pattern=CURSOR_PATTERN, description=ACTIVITY_CURSOR_DESCRIPTION),
    limit: int = Query(20, ge=1, le=50),
):
    rows, next_cursor = activity.favourites_of(
        member=api_user(request), before=_activity_cursor(cursor), per_page=limit
    )
    items = _entry_item(request, rows)
    return {
        "items": [{"item": items[row.item_id], "created_at": row.created_at} for row in rows],
        "next_cursor": activity.activity_cursor_format(next_cursor) or None,
    }


def _progress_page(request: HttpRequest, rows: list[ItemProgress], next_cursor) -> dict:
    items = _entry_item(request, rows)
    return {
        "items": [
            {
                "item": items[row.item_id],
                "position": row.position,
                "locator": row.locator,
                "fraction": row.fraction,
                "completed": row.completed,
                "study_seconds": row.study_seconds,
                "updated_at": row.updated_at,
            }
            for row in rows
        ],
        "next_cursor": activity.activity_cursor_format(next_cursor) or None,
    }


@router.get("/me/history", response={200: ProgressPage, **MEMBER_ERRORS}, auth=MEMBER_AUTH, summary="学习记录")
def my_history(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=80, pattern=CURSOR_PATTERN, description=ACTIVITY_CURSOR_DESCRIPTION),
    limit: int = Query(20, ge=1, le=50),
):
    rows, next_cursor = activity.history_of(member=api_user(request), before=_activity_cursor(cursor), per_page=limit)
    return _progress_page(request, rows, next_cursor)


@router.get("/me/continue", response={200: ProgressPage, **MEMBER_ERRORS}, auth=MEMBER_AUTH, summary="继续学习")
def my_continue(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=80, pattern=CURSOR_PATTERN, description=ACTIVITY_CURSOR_DESCRIPTION),
    limit: int = Query(20, ge=1, le=50),
):
    rows, next_cursor = activity.continue_items(
        member=api_user(request), before=_activity_cursor(cursor), per_page=limit
    )
    return _progress_page(request, rows, next_cursor)
