"""The library's rows on the site's home page (cms.HomePage asks every app through the ``construct_home_page`` hook).

本月推荐, the member's 继续学习, the newest videos, audio and reading, and the newest issue of each newspaper and
periodical (one card per issue, dated by the issue, never one per article). Every row is read as this visitor may open
it (library.selectors), each from the first rows of an index, so the page costs the same at 300,000 items as at 30;
the covers of every row are read in one query (library.site.cards).
"""

from dataclasses import dataclass, field

from django.db.models import prefetch_related_objects
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from library import activity, selectors
from library.models import LibraryItem
from library.site.cards import CARDS_EAGER, cards_prepare

Kind = LibraryItem.Kind
ROW = 4  # cards per row: one row of four at a desk, a short column on a phone
TEMPLATE = "library/includes/home_row.html"
READING = (Kind.EBOOK, Kind.ARTICLE)  # 最新读物: books and illustrated articles (serials have their own row)


@dataclass
class Row:
    """One row of cards as the home page's template reads it (``home_sections`` entries are its dict)."""

    key: str
    title: str
    order: int
    items: list[LibraryItem]
    more_url: str = ""
    more_label: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict)

    def section(self) -> dict:
        return {"template": TEMPLATE, **self.__dict__}


def home_sections(request, sections: list) -> None:
    """The ``construct_home_page`` hook: append the library's rows that have something to show."""
    page = selectors.library_page()
    if page is None:
        return
    rows = [row for row in home_rows(user=request.user, library_url=page.url) if row.items]
    cards = [item for row in rows for item in row.items]
    # The first row's cards are the first screen's: fetched at once (when the course is above them, still near the top).
    cards_prepare(cards, eager=min(CARDS_EAGER, len(rows[0].items)) if rows else 0)
    selectors.item_hrefs_set(cards, page)
    sections.extend(row.section() for row in rows)


def home_rows(*, user, library_url: str) -> list[Row]:
    """Every row the library offers this visitor, in the page's order (empty ones included; the hook drops them)."""
    curated = selectors.item_list_current(today=timezone.localdate())
    rows = []
    if curated is not None:
        items = selectors.item_list_items(user=user, item_list=curated)[:ROW]
        prefetch_related_objects(items, "owning_unit")
        title = _("本月推荐") if curated.title == "本月推荐" else _("本月推荐：%(title)s") % {"title": curated.title}
        list_url = f"{library_url}list/{curated.slug}/"
        rows.append(Row("curated", title, 20, items, list_url, _("查看全部推荐"), curated.summary))
    if getattr(user, "is_authenticated", False):
        rows.append(_continue_row(user=user, library_url=library_url))
    rows += [
        _latest("video", _("最新视频"), 40, user=user, kinds=(Kind.VIDEO,), url=_kind_url(library_url, Kind.VIDEO)),
        _latest("audio", _("最新音频"), 50, user=user, kinds=(Kind.AUDIO,), url=_kind_url(library_url, Kind.AUDIO)),
        _latest("reading", _("最新读物"), 60, user=user, kinds=READING, url=_kind_url(library_url, Kind.EBOOK)),
        Row(
            "serials",
            _("最新报刊"),
            70,
            selectors.latest_issues(user=user, count=ROW),
            _kind_url(library_url, Kind.NEWSPAPER),
            _("全部报纸"),
            extra={"periodicals_url": _kind_url(library_url, Kind.PERIODICAL)},
        ),
    ]
    return rows


def _continue_row(*, user, library_url: str) -> Row:
    """继续学习: what the member really started and has not finished, with its time from the one calculation that
    我的图书馆 uses (library.activity.study_time_of)."""
    progress, _next = activity.continue_items(member=user, per_page=ROW)
    study = activity.study_time_of(member=user, item_ids={row.item_id for row in progress})
    items = []
    for row in progress:
        row.item.card_progress = {"fraction": row.fraction, "seconds": study.of(row.item_id).total}
        items.append(row.item)
    return Row("continue", _("继续学习"), 30, items, f"{library_url}me/", _("我的图书馆"))


def _latest(key: str, title: str, order: int, *, user, kinds: tuple[str, ...], url: str) -> Row:
    items = selectors.latest_listed(user=user, kinds=kinds, count=ROW)
    return Row(key, title, order, items, url, _("更多"))


def _kind_url(library_url: str, kind: str) -> str:
    query = QueryDict(mutable=True)
    query["kind"] = kind
    return f"{library_url}?{query.urlencode()}"
