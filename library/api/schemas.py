"""Request and response shapes of the library's JSON API; OpenAPI is generated from these.

Inputs are strict (a number must be a JSON number, a flag a JSON boolean) and bounded, so a broken or hostile
client gets a 422 that says which field is wrong instead of a 500 or a silently stored nonsense value."""

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, Strict

from library.activity import LOCATOR_MAX_LENGTH, MAX_ACTIVE_SECONDS, MAX_POSITION


class ErrorOut(Schema):
    detail: str = Field(description="给人看的中文说明")
    errors: list[dict] | None = Field(default=None, description="422 时逐项说明：field、message、type")


class UnitOut(Schema):
    id: int
    name: str


class ItemRef(Schema):
    id: int
    kind: str
    title: str


class ItemSummary(Schema):
    """One row of a list: enough for a card (cover, title, who, when)."""

    id: int
    kind: str = Field(description="video / audio / article / ebook / periodical / newspaper")
    kind_display: str
    role: str = Field(description="item / series / episode / issue / article")
    title: str
    subtitle: str
    creators: str
    summary: str
    number: str
    position: int
    year: int | None
    published_at: datetime
    read_count: int
    access: str = Field(description="public / members / unit")
    owning_unit: UnitOut
    parent_id: int | None
    cover_url: str = Field(description="封面缩略图（绝对地址），没有封面时为空")
    url: str = Field(description="网页版条目页（绝对地址）")


class CreditOut(Schema):
    name: str
    role: str
    role_display: str


class TagOut(Schema):
    name: str
    slug: str


class ItemDetail(ItemSummary):
    """The shared description every kind has, plus what the caller may do with it."""

    body_html: str
    credits: list[CreditOut]
    publisher: str
    issued: date | None
    language: str
    isbn: str
    issn: str
    cn_serial: str
    clc: str
    clc_label: str
    tags: list[TagOut]
    access_display: str
    rights_note: str
    can_download: bool
    download_url: str = Field(description="下载地址（先检查权限再跳转到签名链接）；不可下载时为空")
    parent: ItemRef | None
    children_count: int
    is_favourite: bool = Field(description="登录用户是否已收藏；未登录为 false")


class ItemPage(Schema):
    items: list[ItemSummary]
    next_cursor: str | None = Field(description="下一页的 cursor；没有更多时为 null")


# --- What a player or reader needs ------------------------------------------------------------------------


class AudioFile(Schema):
    format: str = Field(description="m4a / mp3")
    url: str
    bitrate: int | None
    duration: float | None
    size: int


class VideoFile(Schema):
    url: str
    width: int | None
    height: int | None
    bitrate: int | None
    size: int


class CaptionOut(Schema):
    language: str
    label: str
    default: bool
    vtt_url: str


class SpriteOut(Schema):
    vtt_url: str = Field(description="WebVTT 缩略图轨；其中的图片名请换成 image_url")
    image_url: str
    interval: float | None
    tile: list[int]


class DocumentOut(Schema):
    format: str = Field(description="pdf / epub")
    file_url: str = Field(description="原文件（签名链接，支持 Range 请求）")
    manifest_url: str
    text_url: str
    page_count: int | None
    page_widths: list[int]
    outline: list[dict] = Field(description="目录（书签）")
    pages_url: str = Field(description="分页取版面图和文字的接口（仅 PDF）")


class AreaOut(Schema):
    article_id: int
    points: list[list[float]]


class IssuePageOut(Schema):
    number: int
    name: str
    image_url: str
    areas: list[AreaOut]


class RenditionsOut(Schema):
    """All URLs are absolute and short-lived (signed): fetch this again rather than storing them."""

    state: str = Field(description="pending / processing / ready / failed；没有媒体文件时为空")
    state_display: str
    hls_url: str = Field(
        description="自适应 HLS 主播放列表（手机、网页）；带短时签名（e、t 参数），无需登录 Cookie，过期后请重新获取"
    )
    poster_url: str = Field(description="封面帧；同样带短时签名")
    audio: list[AudioFile]
    tv_mp4: VideoFile | None
    tv_hls_url: str = Field(description="电视用 1080p HLS 主播放列表；同样带短时签名")
    captions: list[CaptionOut]
    sprite: SpriteOut | None
    document: DocumentOut | None
    issue_pages: list[IssuePageOut]


class DocumentPageOut(Schema):
    number: int
    image_url: str
    text_url: str


class DocumentPages(Schema):
    page_count: int
    width: int
    pages: list[DocumentPageOut]
    next_start: int | None


# --- Member activity ------------------------------------------------------------------------------------


class ProgressIn(Schema):
    """A heartbeat: where the member is now and how many seconds they were really active since the last one."""

    position: Annotated[float, Strict(), Field(ge=0, le=MAX_POSITION, allow_inf_nan=False)] = Field(
        description="音视频为秒，PDF/版面为页码"
    )
    locator: str = Field(default="", max_length=LOCATOR_MAX_LENGTH, description="阅读器自己的位置标记（如 EPUB CFI）")
    fraction: Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)] | None = Field(
        default=None, description="0–1 的进度"
    )
    active_seconds: Annotated[float, Strict(), Field(ge=0, le=MAX_ACTIVE_SECONDS, allow_inf_nan=False)] = Field(
        description="距上次心跳真正在播放/阅读的秒数"
    )
    completed: Annotated[bool, Strict()] = False


class ProgressOut(Schema):
    item_id: int
    started: bool = Field(description="是否有过学习记录")
    position: float
    locator: str
    fraction: float
    completed: bool
    study_seconds: int
    updated_at: datetime | None


class FavouriteOut(Schema):
    item_id: int
    favourite: bool


class FavouriteEntry(Schema):
    item: ItemSummary
    created_at: datetime


class FavouritePage(Schema):
    items: list[FavouriteEntry]
    next_cursor: str | None


class ProgressEntry(Schema):
    item: ItemSummary
    position: float
    locator: str
    fraction: float
    completed: bool
    study_seconds: int
    updated_at: datetime


class ProgressPage(Schema):
    items: list[ProgressEntry]
    next_cursor: str | None


SortChoice = Literal["newest", "popular"]
