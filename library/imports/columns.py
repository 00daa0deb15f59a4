"""The import's column cleaners and the words they understand: one raw cell in, a checked value on the row's plan
out (or a ValidationError in the editor's language). ``CLEANERS`` maps each column a catalogue file may have to its
cleaner; columns not in it are ignored, and named back to the editor as unknown (``unknown_columns``).

``COLUMN_DOCS`` says what each column is for, with an example: the admin screen lists it and the downloadable
templates are written from it (``templates``), so the list, the templates and the cleaners cannot drift apart
(a test holds them to the same columns)."""

import hashlib
import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cms.models import OrgUnit
from library.catalogue.clc import clc_validate
from library.catalogue.identifiers import cn_serial_normalise, isbn_normalise, issn_normalise
from library.models import ItemCredit, LibraryItem
from library.text.cleaning import clean_text

if TYPE_CHECKING:
    from .importer import _Import

BODY_TAGS = {"p", "br", "h2", "h3", "h4", "strong", "em", "ul", "ol", "li", "blockquote", "img"}
BODY_ATTRIBUTES = {"img": {"src", "alt"}}
HTML_TAG = re.compile(r"<[a-zA-Z!/]")
# An <img> as nh3 writes it (every value double-quoted, quotes inside escaped), to drop those left without a src.
IMG_TAG = re.compile(r'<img((?:\s+[\w:-]+="[^"]*")*)\s*/?>')
IMG_ATTRIBUTE = re.compile(r'\s+([\w:-]+)="[^"]*"')
URL_IGNORED = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL
CREDIT_SPLIT = re.compile(r"[；;/、]")
TAG_SPLIT = re.compile(r"[；;，,、]")
DYNASTY = re.compile(r"^[\[(（〔【][^\])）〕】]{1,6}[\])）〕】]\s*")  # "[清]曹雪芹", "（英）莎士比亚"
# Longest first, so "主编" is not read as a name ending in "编".
ROLE_WORDS = (
    ("播讲", ItemCredit.Role.NARRATOR),
    ("主讲", ItemCredit.Role.PRESENTER),
    ("导演", ItemCredit.Role.DIRECTOR),
    ("主编", ItemCredit.Role.EDITOR),
    ("编著", ItemCredit.Role.AUTHOR),
    ("编译", ItemCredit.Role.TRANSLATOR),
    ("译注", ItemCredit.Role.ANNOTATOR),
    ("著", ItemCredit.Role.AUTHOR),
    ("撰", ItemCredit.Role.AUTHOR),
    ("编", ItemCredit.Role.EDITOR),
    ("译", ItemCredit.Role.TRANSLATOR),
    ("注", ItemCredit.Role.ANNOTATOR),
    ("绘", ItemCredit.Role.ILLUSTRATOR),
    ("续", ItemCredit.Role.CONTINUATOR),
)
EXTRA_WORDS = {
    "access": {"仅党员": "members", "党员": "members", "指定单位": "unit", "指定单位及下级": "unit"},
    "download": {"否": "none", "不可下载": "none", "是": "readers", "可下载": "readers", "仅党员": "members"},
    "kind": {"图书": "ebook", "期刊": "periodical", "报纸": "newspaper", "文章": "article"},
    "role": {"系列": "series", "刊名": "series", "报名": "series", "期": "issue", "集": "episode"},
}
TRUE_WORDS = {"1", "true", "t", "yes", "y", "是", "已发布", "发布"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "否", "未发布", "不发布"}
LANGUAGES = {"chi": "zh", "zho": "zh", "中文": "zh", "汉语": "zh", "eng": "en", "英文": "en", "tib": "bo", "bod": "bo"}
LANGUAGES |= {"藏文": "bo", "uig": "ug", "维吾尔文": "ug", "mon": "mn", "蒙古文": "mn", "jpn": "ja", "rus": "ru"}
LANGUAGES |= {"fre": "fr", "fra": "fr", "ger": "de", "deu": "de", "kor": "ko"}
FILE_KINDS = {".mp4": "video", ".mov": "video", ".mkv": "video", ".mpg": "video", ".ts": "video", ".avi": "video"}
FILE_KINDS |= {".mp3": "audio", ".m4a": "audio", ".wav": "audio", ".aac": "audio", ".flac": "audio"}
FILE_KINDS |= {".pdf": "ebook", ".epub": "ebook"}


@dataclass(slots=True)
class Planned:
    """A row checked and cleaned: model attributes to set (only the columns the row has), and the rest."""

    line: int
    external_id: str
    fields: dict
    credits: list[tuple[str, str]] | None = None
    tags: list[str] | None = None
    parent_ref: str | None = None  # None: no parent column; "": top level
    file: str = ""
    cover: str = ""
    priority: int = 0  # the file's place in the transcoding queue (media_ingest's manifests have it)


# --- Column cleaners: (run, plan, raw value) → set plan.fields / plan.* or raise ValidationError -----------------


def choice_maps() -> dict[str, dict[str, str]]:
    """Values and their Chinese labels → the stored value, per column (built per run: labels are translations)."""
    maps = {}
    for column, choices in (
        ("kind", LibraryItem.Kind.choices),
        ("role", LibraryItem.Role.choices),
        ("access", LibraryItem.Access.choices),
        ("download", LibraryItem.Download.choices),
    ):
        mapping = {value: value for value, _label in choices} | {str(label): value for value, label in choices}
        maps[column] = mapping | EXTRA_WORDS.get(column, {})
    return maps


def _choice(column: str, label: str):
    def clean(run: "_Import", plan: Planned, raw: str) -> None:
        if not raw:
            return  # empty: the default on a new item, left alone on an existing one
        value = run.choices[column].get(raw) or run.choices[column].get(raw.lower())
        if value is None:
            allowed = "、".join(sorted({v for v in run.choices[column].values()}))
            raise ValidationError(
                _("%(label)s “%(value)s” 无效，可选：%(allowed)s") % {"label": label, "value": raw, "allowed": allowed}
            )
        plan.fields[column] = value

    return clean


def _plain(value: str) -> str:
    """Titles and other plain-text fields: markup is dropped (script content included), never kept to run; control
    and bidirectional characters go too (text.cleaning: stored, they break feeds or disguise a title)."""
    value = clean_text(value)
    if "<" not in value and "&" not in value:
        return value.strip()
    # A character reference (&#1;, &#x202E;) comes out of the parser as the character itself: clean again.
    return clean_text(html.unescape(nh3.clean(value, tags=set()))).strip()


def rich_text_clean(value: str) -> str:
    """A body as rich text: a short whitelist of tags, no scripts, handlers or javascript: URLs, and images only
    from our own site or media host. Plain text with line breaks becomes paragraphs."""
    value = clean_text(value)
    if not HTML_TAG.search(value):
        paragraphs = [line.strip() for line in value.splitlines() if line.strip()]
        return "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in paragraphs)
    cleaned = nh3.clean(
        value,
        tags=BODY_TAGS,
        attributes=BODY_ATTRIBUTES,
        attribute_filter=_image_source_filter,
        url_schemes={"http", "https"},
        link_rel=None,
    )
    # A character reference (&#1;) comes out of the parser as the character itself.
    return IMG_TAG.sub(_image_kept, clean_text(cleaned))


def _image_source_filter(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src" and not _own_image_url(value):
        return None
    return value


def _image_kept(match: re.Match) -> str:
    """An image whose src was refused (external, javascript:) goes entirely, not as an empty box."""
    return match[0] if "src" in IMG_ATTRIBUTE.findall(match[1]) else ""


def _own_image_url(url: str) -> bool:
    """Relative URLs, or absolute ones on our own site or media host. An image from anywhere else would tell its
    host the IP address of every member who opens the page."""
    # Read the way a browser does: "/\evil.example" and "/<tab>/evil.example" are both "//evil.example".
    url = URL_IGNORED.sub("", url).strip(" \x00\x0c").replace("\\", "/")
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return True
    return parts.scheme in {"http", "https"} and (parts.hostname or "") in _own_hosts()


def _own_hosts() -> set[str]:
    options = settings.STORAGES.get("default", {}).get("OPTIONS", {})
    urls = [settings.MEDIA_URL, getattr(settings, "WAGTAILADMIN_BASE_URL", "")]
    if options.get("custom_domain"):
        urls.append(f"//{options['custom_domain']}")
    return {urlsplit(url).hostname for url in urls if url and urlsplit(url).hostname}


def _text(attribute: str, label: str, *, limit: int | None = None, required: bool = False):
    def clean(run: "_Import", plan: Planned, raw: str) -> None:
        value = _plain(raw)
        if required and raw and not value:
            raise ValidationError(_emptied(label, raw))
        if limit and len(value) > limit:
            raise ValidationError(_("%(label)s不能超过 %(limit)d 个字") % {"label": label, "limit": limit})
        plan.fields[attribute] = value

    return clean


def _emptied(label: str, raw: str) -> str:
    """Why a required field that had something in it is empty after cleaning: say what it held, not "missing"."""
    if HTML_TAG.search(raw) or "&" in raw:
        return _("%(label)s只有 HTML 标记，清理后为空") % {"label": label}
    return _("%(label)s只有控制字符或不可见字符，清理后为空") % {"label": label}


def _clean_body(run: "_Import", plan: Planned, raw: str) -> None:
    plan.fields["body"] = rich_text_clean(raw)


def _clean_position(run: "_Import", plan: Planned, raw: str) -> None:
    value = unicodedata.normalize("NFKC", raw) or "0"
    if not value.isdigit() or int(value) > 2_147_483_647:
        raise ValidationError(_("序号必须是不小于 0 的整数"))
    plan.fields["position"] = int(value)


def _identifier(attribute: str, normalise):
    def clean(run: "_Import", plan: Planned, raw: str) -> None:
        plan.fields[attribute] = normalise(raw) if raw else ""

    return clean


def _clean_clc(run: "_Import", plan: Planned, raw: str) -> None:
    value = clc_validate(raw) if raw else ""
    if len(value) > 32:
        raise ValidationError(_("中图法分类号不能超过 32 个字符"))
    plan.fields["clc"] = value


def _clean_language(run: "_Import", plan: Planned, raw: str) -> None:
    value = unicodedata.normalize("NFKC", raw).strip().lower() or "zh"
    value = LANGUAGES.get(value, value)
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", value) or len(value) > 16:
        raise ValidationError(_("语种应为 ISO 639 代码，如 zh、en、bo"))
    plan.fields["language"] = value


def parse_issued(raw: str) -> date | None:
    """'2026', '2026-03', '2026-03-05', '2026年3月', '2026年3月5日', '2026.3.5', '20260305' → a date (the first
    day of the year or month when only those are known); raises ValidationError otherwise."""
    value = unicodedata.normalize("NFKC", raw).strip().rstrip("日").strip()
    if not value:
        return None
    match = re.fullmatch(r"(\d{4})(?:[-./年](\d{1,2})月?(?:[-./月](\d{1,2}))?)?年?", value) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", value
    )
    try:
        if not match:
            raise ValueError(value)
        return date(int(match[1]), int(match[2] or 1), int(match[3] or 1))
    except ValueError:
        raise ValidationError(
            _("日期“%(value)s”无法识别（可写 2026、2026-03、2026-03-05 或 2026年3月）") % {"value": raw}
        ) from None


def _clean_issued(run: "_Import", plan: Planned, raw: str) -> None:
    plan.fields["issued"] = parse_issued(raw)


def _clean_published_at(run: "_Import", plan: Planned, raw: str) -> None:
    if not raw:
        return
    value = parse_datetime(unicodedata.normalize("NFKC", raw).replace("/", "-"))
    if value is None:
        day = parse_issued(raw)
        value = datetime(day.year, day.month, day.day) if day else None
    if value is None:
        raise ValidationError(_("发布时间无法识别（可写 2026-03-05 10:00）"))
    plan.fields["published_at"] = timezone.make_aware(value) if timezone.is_naive(value) else value


def _clean_is_published(run: "_Import", plan: Planned, raw: str) -> None:
    word = raw.lower()
    if not word:
        return
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise ValidationError(_("“已发布”应填 是/否（或 true/false、1/0）"))
    plan.fields["is_published"] = word in TRUE_WORDS


def _clean_access_unit(run: "_Import", plan: Planned, raw: str) -> None:
    if not raw:
        plan.fields["access_unit_id"] = None
        return
    if raw not in run.unit_ids:
        run.unit_ids[raw] = OrgUnit.objects.filter(code=raw).values_list("pk", flat=True).first()
    unit_id = run.unit_ids[raw]
    if unit_id is None:
        raise ValidationError(_("找不到单位代码“%(code)s”") % {"code": raw})
    if not run.unit_managed(unit_id):
        raise ValidationError(_("单位“%(code)s”不在导入者管理的范围内，不能指定为可阅读单位") % {"code": raw})
    plan.fields["access_unit_id"] = unit_id


CREDIT_NAME_MAX = 100
_ROLE_PATTERN = "|".join(re.escape(word) for word, _role in ROLE_WORDS)  # longest first, as ROLE_WORDS is
# A role word counts only where the source marks it: after a space ("曹雪芹 著") or in brackets ("曹雪芹（著）",
# "曹雪芹[著]"). Never from the end of a bare name: 陳著 and 關注 are names, not 陳 + 著 and 關 + 注.
MARKED_ROLE = re.compile(
    rf"^(?P<name>.+?)(?:\s+(?P<spaced>{_ROLE_PATTERN})|\s*[\[(（〔【](?P<bracketed>{_ROLE_PATTERN})[\])）〕】])$"
)


def parse_credits(raw: str) -> list[tuple[str, str]]:
    """'曹雪芹 著；高鹗 续' → [("曹雪芹", "author"), ("高鹗", "continuator")]; a name without a marked role word is
    an author, stored exactly as written (a dynasty or nationality in brackets before it is not part of it)."""
    roles = dict(ROLE_WORDS)
    credits = []
    for part in CREDIT_SPLIT.split(_plain(raw)):
        part = DYNASTY.sub("", part.strip()).strip()
        if not part:
            continue
        role = ItemCredit.Role.AUTHOR
        marked = MARKED_ROLE.match(part)
        if marked:
            part, role = marked["name"].strip(), roles[marked["spaced"] or marked["bracketed"]]
        credits.append((part, str(role)))
    return credits


def _clean_creators(run: "_Import", plan: Planned, raw: str) -> None:
    plan.credits = parse_credits(raw)
    too_long = [name for name, _role in plan.credits if len(name) > CREDIT_NAME_MAX]
    if too_long:  # never cut a name short: the editor decides how it should read
        raise ValidationError(
            _("责任者“%(name)s…”超过 %(max)d 个字，请检查是否漏了分隔符“；”")
            % {"name": too_long[0][:20], "max": CREDIT_NAME_MAX}
        )


def _clean_tags(run: "_Import", plan: Planned, raw: str) -> None:
    names = list(dict.fromkeys(name.strip() for name in TAG_SPLIT.split(_plain(raw)) if name.strip()))
    if any(len(name) > 100 for name in names):
        raise ValidationError(_("标签不能超过 100 个字"))
    plan.tags = names


def _clean_parent(run: "_Import", plan: Planned, raw: str) -> None:
    plan.parent_ref = raw


def _clean_path(attribute: str):
    def clean(run: "_Import", plan: Planned, raw: str) -> None:
        if raw and ".." in PurePosixPath(raw.replace("\\", "/")).parts:
            raise ValidationError(_("文件路径不能包含“..”"))
        setattr(plan, attribute, raw.replace("\\", "/").lstrip("/"))  # Windows exports write backslashes

    return clean


def _clean_priority(run: "_Import", plan: Planned, raw: str) -> None:
    value = unicodedata.normalize("NFKC", raw).strip()
    if value and not value.lstrip("-").isdigit():
        raise ValidationError(_("优先级必须是整数"))
    plan.priority = max(-100, min(100, int(value or 0)))  # django-tasks' range


EXTERNAL_ID_MAX = 128


def media_row_defaults(rows) -> None:
    """A media_ingest row without an external_id is known by its file's path (so running the same folder again
    updates the same items), and one without a title is called by its file's name."""
    for row in rows:
        path = row.values.get("file", "").strip().replace("\\", "/").lstrip("/")
        if not path:
            continue
        if not row.values.get("external_id", "").strip():
            too_long = len(path) > EXTERNAL_ID_MAX
            row.values["external_id"] = f"sha1:{hashlib.sha1(path.encode()).hexdigest()}" if too_long else path
        if not row.values.get("title", "").strip():
            row.values["title"] = PurePosixPath(path).stem


def guess_kind(plan: Planned) -> str:
    """A new row without a kind: the file's type says it, else an ISBN means a book, an ISSN a periodical."""
    by_file = FILE_KINDS.get(PurePosixPath(plan.file).suffix.lower()) if plan.file else None
    if by_file:
        return by_file
    if plan.fields.get("isbn"):
        return LibraryItem.Kind.EBOOK
    if plan.fields.get("issn") or plan.fields.get("cn_serial"):
        return LibraryItem.Kind.PERIODICAL
    return LibraryItem.Kind.ARTICLE


CLEANERS: dict[str, Callable[["_Import", Planned, str], None]] = {
    "kind": _choice("kind", "类型"),
    "role": _choice("role", "层级"),
    "access": _choice("access", "阅读权限"),
    "download": _choice("download", "下载权限"),
    "parent_external_id": _clean_parent,
    "position": _clean_position,
    "number": _text("number", "期号", limit=32),
    "title": _text("title", "标题", limit=255, required=True),
    "subtitle": _text("subtitle", "副标题", limit=255),
    "summary": _text("summary", "简介"),
    "body": _clean_body,
    "creators": _clean_creators,
    "publisher": _text("publisher", "出版者", limit=128),
    "issued": _clean_issued,
    "language": _clean_language,
    "isbn": _identifier("isbn", isbn_normalise),
    "issn": _identifier("issn", issn_normalise),
    "cn_serial": _identifier("cn_serial", cn_serial_normalise),
    "clc": _clean_clc,
    "tags": _clean_tags,
    "access_unit": _clean_access_unit,
    "rights_note": _text("rights_note", "版权说明"),
    "published_at": _clean_published_at,
    "is_published": _clean_is_published,
    "file": _clean_path("file"),
    "cover": _clean_path("cover"),
    "priority": _clean_priority,
}


# --- What each column means: the admin screen's column list and the templates ----------------------------------


@dataclass(frozen=True, slots=True)
class ColumnDoc:
    """One column as the editor reads about it: its code name, the Chinese header the templates use (the reader
    takes either), whether a row needs it, what it means and an example value. ``command_only`` columns name
    files, which only the command line can read."""

    name: str
    header: str
    required: bool
    meaning: str
    example: str = ""
    command_only: bool = False


COLUMN_DOCS: tuple[ColumnDoc, ...] = (
    ColumnDoc(
        "external_id",
        "外部编号",
        True,
        gettext_lazy("条目在来源中的编号；同一来源再次导入时按它更新，不会重复新增"),
        "DY-2026-001",
    ),
    ColumnDoc("title", "标题", True, gettext_lazy("标题（不超过 255 个字）"), "沂蒙精神读本"),
    ColumnDoc(
        "kind",
        "类型",
        False,
        gettext_lazy("视频、音频、图文、电子书、电子期刊、电子报纸；不填时按 ISBN/ISSN 判断，否则为图文"),
        "电子书",
    ),
    ColumnDoc("role", "层级", False, gettext_lazy("单件、系列（刊名、报名）、期、集、文章；不填为单件"), "单件"),
    ColumnDoc(
        "parent_external_id",
        "上级编号",
        False,
        gettext_lazy("所属系列或期的外部编号（同一来源，本文件或已导入的）"),
        "",
    ),
    ColumnDoc("position", "序号", False, gettext_lazy("在上级中的第几集、第几篇（整数）"), "1"),
    ColumnDoc("number", "期号", False, gettext_lazy("期号或版次，如“2026年第3期”"), ""),
    ColumnDoc("subtitle", "副标题", False, gettext_lazy("副标题"), ""),
    ColumnDoc("summary", "简介", False, gettext_lazy("简介（纯文本）"), "革命老区的党史教育读本。"),
    ColumnDoc(
        "body", "正文", False, gettext_lazy("纯文本按行分段，也可带简单的网页格式（段落、标题、列表、本站图片）"), ""
    ),
    ColumnDoc(
        "creators",
        "作者",
        False,
        gettext_lazy("作者及责任方式，多位用“；”隔开，如“曹雪芹 著；高鹗 续”"),
        "山东人民出版社 编",
    ),
    ColumnDoc("publisher", "出版者", False, gettext_lazy("出版者"), "山东人民出版社"),
    ColumnDoc("issued", "出版日期", False, gettext_lazy("出版日期：2026、2026-03、2026-03-05 或 2026年3月"), "2021-06"),
    ColumnDoc("language", "语种", False, gettext_lazy("语种代码或名称，如 zh、中文、bo；不填为中文"), "zh"),
    ColumnDoc("isbn", "ISBN", False, gettext_lazy("图书的 ISBN（10 位或 13 位，会核对校验位）"), "9787020002207"),
    ColumnDoc("issn", "ISSN", False, gettext_lazy("期刊的 ISSN"), ""),
    ColumnDoc("cn_serial", "国内统一刊号", False, gettext_lazy("国内统一连续出版物号，如 CN 37-1001/D"), ""),
    ColumnDoc("clc", "中图法分类号", False, gettext_lazy("《中国图书馆分类法》分类号，如 D261"), "D261"),
    ColumnDoc("tags", "标签", False, gettext_lazy("标签，多个用“，”或“；”隔开"), "党史，沂蒙精神"),
    ColumnDoc("access", "阅读权限", False, gettext_lazy("公开、仅党员或指定单位；不填为公开"), "公开"),
    ColumnDoc(
        "access_unit",
        "可阅读单位",
        False,
        gettext_lazy("阅读权限为“指定单位”时，可阅读单位的代码（须在您管理的范围内）"),
        "",
    ),
    ColumnDoc(
        "download",
        "下载权限",
        False,
        gettext_lazy("否（不可下载）、是（能阅读的人都可下载）或仅党员；不填为不可下载"),
        "否",
    ),
    ColumnDoc("rights_note", "版权说明", False, gettext_lazy("版权说明"), ""),
    ColumnDoc(
        "published_at",
        "发布时间",
        False,
        gettext_lazy("在馆藏中显示的发布时间，如 2026-03-05 10:00；不填为导入时间"),
        "",
    ),
    ColumnDoc("is_published", "已发布", False, gettext_lazy("是/否；选择“导入为待审核”时新条目一律先不发布"), "是"),
    ColumnDoc("file", "文件", False, gettext_lazy("音视频或文档文件的路径"), "", command_only=True),
    ColumnDoc("cover", "封面", False, gettext_lazy("封面图片的路径"), "", command_only=True),
    ColumnDoc(
        "priority",
        "转码优先级",
        False,
        gettext_lazy("文件的转码优先级（-100 到 100，越大越先）"),
        "",
        command_only=True,
    ),
)


# The columns an import reads: external_id is checked by the importer itself, the rest by their cleaners.
KNOWN_COLUMNS = frozenset({"external_id", *CLEANERS})


def unknown_columns(rows) -> list[str]:
    """Columns of the file that no cleaner reads (in the order they first appear): they would be dropped without a
    word, so the batch names them to the editor (a misspelt header, a column meant for another system)."""
    unknown: dict[str, None] = {}
    for row in rows:
        for name in row.values:
            if name not in KNOWN_COLUMNS:
                unknown.setdefault(name, None)
    return list(unknown)
