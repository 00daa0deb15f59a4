"""Fills the library with many items of realistic Chinese text, for scale benchmarks: every kind and role at
realistic proportions (standalone items, video and audio series with episodes, periodical and newspaper titles
with issues, newspaper pages and articles with their areas), with credits, tags, CLC codes and valid ISBNs.

The text comes from the npm package ``chinese-poetry`` (~330,000 Tang/Song poems and Song ci), fetched once into
``VAR_DIR/cache`` and read straight from its .tgz, or from a made-up ``synthetic`` source that needs no network.
Rows go in with ``bulk_create``, which on purpose sends no ``post_save`` signals: search's outbox is not fed one row
at a time; run ``manage.py search_rebuild`` afterwards to index them.
"""

import base64
import hashlib
import itertools
import json
import random
import re
import shutil
import string
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache, partial
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cms.models import OrgUnit
from library.catalogue.identifiers import isbn_is_valid, issn_normalise
from library.models import ArticleArea, IssuePage, ItemCredit, LibraryItem, LibraryItemTag, LibraryTag
from library.services import credits_display, item_year, library_statistics_refresh

SOURCE = "generator"  # LibraryItem.source of every generated row; external ids carry the text source and seed
POETRY_VERSION = "2.0.1"
POETRY_URL = f"https://registry.npmjs.org/chinese-poetry/-/chinese-poetry-{POETRY_VERSION}.tgz"
# From `npm view chinese-poetry@2.0.1 dist.integrity`: a cached or downloaded file must match it exactly.
POETRY_SHA512 = "KtYARvV7CWNtax0na9+Jn6PlhGgSoid7PWyDzXI4KsCEm2odZcqEQyval5koaLygZnM/EQ3lfJ//25K8p3uHNg=="
# Poems and ci only; `error/` holds the upstream's rejected duplicates, authors.*.json are biographies.
POETRY_MEMBER = re.compile(r"^package/dist/(?:quantangshi/poet\.(tang|song)|songci/ci\.(song))\.\d+\.json$")
# (collection, written in traditional characters?): the ci files are simplified already.
COLLECTIONS = {("tang", None): ("全唐诗", True), ("song", None): ("全宋诗", True), (None, "song"): ("全宋词", False)}

# Group shapes at realistic proportions: (kind, shape) → (share of rows in %, mean rows per group). A group is one
# standalone item, a series with its episodes, or a serial title with its issues and their articles. The real
# library (see reference: 18,000 videos, 180,000 audio and articles, 110,000 e-books, 3,000 periodicals, 500
# newspapers) is mostly audio, articles and books; serials are few titles with many issues.
SHAPES: dict[tuple[str, str], tuple[float, float]] = {
    (LibraryItem.Kind.ARTICLE, "item"): (30, 1),
    (LibraryItem.Kind.AUDIO, "item"): (12, 1),
    (LibraryItem.Kind.AUDIO, "series"): (16, 1 + 9.5),  # 3–16 episodes
    (LibraryItem.Kind.EBOOK, "item"): (24, 1),
    (LibraryItem.Kind.VIDEO, "item"): (4, 1),
    (LibraryItem.Kind.VIDEO, "series"): (4, 1 + 6),  # 2–10 episodes
    (LibraryItem.Kind.PERIODICAL, "serial"): (6, 1 + 3 * (1 + 4.5)),  # 2–4 issues of 3–6 articles
    (LibraryItem.Kind.NEWSPAPER, "serial"): (4, 1 + 3 * (1 + 3 * 2)),  # 2–4 issues, 2–4 pages of 1–3 articles
}
GROUP_WEIGHTS = {shape: share / size for shape, (share, size) in SHAPES.items()}
# The first groups show every shape once, so even a small run has each kind and role.
TOUR = (
    (LibraryItem.Kind.ARTICLE, "item"),
    (LibraryItem.Kind.VIDEO, "series"),
    (LibraryItem.Kind.AUDIO, "series"),
    (LibraryItem.Kind.EBOOK, "item"),
    (LibraryItem.Kind.PERIODICAL, "serial"),
    (LibraryItem.Kind.NEWSPAPER, "serial"),
    (LibraryItem.Kind.VIDEO, "item"),
    (LibraryItem.Kind.AUDIO, "item"),
)
# The province's own library holds most; each city and county adds its own.
LEVEL_WEIGHTS = {OrgUnit.Level.PROVINCE: 3, OrgUnit.Level.CITY: 3, OrgUnit.Level.COUNTY: 4}
MEMBERS_ONLY_SHARE = 0.13
UNIT_ONLY_SHARE = 0.02
SPREAD = timedelta(days=3653)  # published_at spread over ten years

Progress = Callable[[int, int], object]


class GeneratorError(Exception):
    """The generator cannot run (no data, no organisation units); the message says what to do."""


@dataclass(frozen=True, slots=True)
class Poem:
    title: str
    author: str
    paragraphs: tuple[str, ...]
    collection: str
    traditional: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    """One group's shape, drawn from its own random stream so any row of it can be rebuilt alone. ``children``
    holds, per child, how many grandchildren it has (newspaper issues: a tuple of articles per page)."""

    index: int
    kind: str
    shape: str
    children: tuple = ()


@dataclass(slots=True)
class Row:
    """A row to insert, with what hangs on it once it has an id."""

    item: LibraryItem
    depth: int
    parent_key: str | None
    credits: list[tuple[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    pages: list[tuple[int, str, str]] = field(default_factory=list)  # newspaper issue: (number, name, text)
    area: tuple[int, list] | None = None  # newspaper article: (page number, polygon points)


def library_generate(
    *,
    count: int,
    source: str = "poetry",
    seed: int = 1,
    batch_size: int = 5000,
    on_progress: Progress | None = None,
    archive: Path | None = None,
) -> int:
    """Make sure rows 0..count-1 of (source, seed) exist; returns how many rows were added.

    Rows come in groups (an item, a series with episodes, a serial title with issues and articles); ``count``
    counts rows, and the last group may be cut short (a larger count later adds the rest). Re-running is
    idempotent: each row's external id is stable and existing ones are skipped; a missing row comes back the
    same. Credits, tags, newspaper pages and article areas go in with their rows; browse counts are refreshed at
    the end. bulk_create sends no post_save, so search's outbox is not fed: run search_rebuild after.
    ``on_progress(done, count)`` is called after each batch.
    """
    units = _unit_picker()
    prefix = f"{source}:{seed}:"
    existing = dict(
        LibraryItem.objects.filter(source=SOURCE, external_id__startswith=prefix).values_list("external_id", "pk")
    )
    if all(_external_id(prefix, index) in existing for index in range(count)):
        return 0
    poems = _poem_stream(source=source, seed=seed, archive=archive)
    tag_ids = _tags_ensure()
    end = timezone.now().replace(microsecond=0)
    pending: list[Row] = []
    added = 0
    plan = _plan(seed=seed, units=units, end=end, prefix=prefix)
    for index, (poem, build) in enumerate(zip(poems, plan, strict=False)):
        if index >= count:
            break
        key = _external_id(prefix, index)
        if key not in existing:
            rng = random.Random(seed * 1_000_000_007 + index)  # per row, so a gap fills the same way
            row = build(poem=_simplified(poem) if poem.traditional else poem, rng=rng)
            row.item.external_id = key
            pending.append(row)
        if len(pending) >= batch_size:
            added += _insert(pending, known=existing, tag_ids=tag_ids, batch_size=batch_size)
            pending = []
            if on_progress:
                on_progress(index + 1, count)
    added += _insert(pending, known=existing, tag_ids=tag_ids, batch_size=batch_size)
    if on_progress:
        on_progress(count, count)
    from library.facets import facet_counts_refresh

    facet_counts_refresh()
    library_statistics_refresh()
    return added


def _external_id(prefix: str, index: int) -> str:
    return f"{prefix}{index:07d}"


# -- the plan: groups and their rows ----------------------------------------------------------------------------


def _groups(seed: int) -> Iterator[Group]:
    shapes, weights = list(GROUP_WEIGHTS), list(GROUP_WEIGHTS.values())
    for index in itertools.count():
        rng = random.Random(f"group:{seed}:{index}")
        kind, shape = TOUR[index] if index < len(TOUR) else rng.choices(shapes, weights)[0]
        yield Group(index=index, kind=kind, shape=shape, children=_children(kind, shape, rng))


def _children(kind: str, shape: str, rng: random.Random) -> tuple:
    if shape == "series":
        return tuple(0 for _n in range(rng.randint(2, 10) if kind == LibraryItem.Kind.VIDEO else rng.randint(3, 16)))
    if kind == LibraryItem.Kind.PERIODICAL:
        return tuple(rng.randint(3, 6) for _n in range(rng.randint(2, 4)))
    if kind == LibraryItem.Kind.NEWSPAPER:
        return tuple(tuple(rng.randint(1, 3) for _p in range(rng.randint(2, 4))) for _n in range(rng.randint(2, 4)))
    return ()


def _plan(*, seed: int, units, end, prefix: str) -> Iterator[Callable[..., Row]]:
    """One builder per row in row order: each group's title first, then each child followed by its own children.
    Row keys are their positions in this order, so a builder knows its parent's key without a lookup."""
    ordinal = 0
    for group in _groups(seed):
        context = _GroupContext(group=group, rng=random.Random(f"context:{seed}:{group.index}"), units=units, end=end)
        root_key = _external_id(prefix, ordinal)
        yield partial(context.root)
        ordinal += 1
        for n, grandchildren in enumerate(group.children, start=1):
            child_key = _external_id(prefix, ordinal)
            yield partial(context.child, n=n, parent_key=root_key)
            ordinal += 1
            # A newspaper issue lists articles per page; other issues just how many articles they have.
            pages = grandchildren if isinstance(grandchildren, tuple) else (grandchildren,)
            slots = [(page, k, on_page) for page, on_page in enumerate(pages, start=1) for k in range(on_page)]
            for m, (page, k, on_page) in enumerate(slots, start=1):
                yield partial(context.grandchild, n=n, m=m, parent_key=child_key, page=page, k=k, on_page=on_page)
                ordinal += 1


class _GroupContext:
    """What a group's rows share (owner, access, name, dates, people, subject, tags), drawn when the group is
    planned, before any row is built, so that building only some rows of it gives the same values."""

    def __init__(self, *, group: Group, rng: random.Random, units, end):
        self.group, self.kind = group, group.kind
        self.unit_id = units(rng)
        draw = rng.random()
        self.access = (
            LibraryItem.Access.UNIT
            if draw < UNIT_ONLY_SHARE
            else LibraryItem.Access.MEMBERS
            if draw < UNIT_ONLY_SHARE + MEMBERS_ONLY_SHARE
            else LibraryItem.Access.PUBLIC
        )
        self.latest = end - timedelta(seconds=rng.randrange(int(SPREAD.total_seconds())))
        self.people = [_person(rng) for _n in range(3)]
        self.clc = rng.choice(CLC_CODES)
        self.tags = rng.sample(TAGS, k=rng.randint(1, 3))
        self.publisher = rng.choice(PUBLISHERS)
        self.reads = _reads(rng)
        self.name = _group_name(group, rng)
        self.issn = _issn(rng) if group.kind == LibraryItem.Kind.PERIODICAL else ""
        self.cn_serial = f"CN 37-{rng.randint(1000, 1999)}/{self.clc[0]}" if group.shape == "serial" else ""
        self.first_number = rng.randint(1, 9000)

    # -- rows --

    def root(self, *, poem: Poem, rng: random.Random) -> Row:
        group, kind = self.group, self.kind
        role = LibraryItem.Role.ITEM if group.shape == "item" else LibraryItem.Role.SERIES
        item = self._item(poem=poem, rng=rng, role=role, published_at=self.latest, reads=self.reads)
        item.title = (self.name or poem.title)[:255]
        item.clc = self.clc if kind in SUBJECT_ALWAYS or rng.random() < 0.5 else ""
        credits = [(poem.author, ROLE_BY_KIND[kind])]
        if kind == LibraryItem.Kind.EBOOK:
            item.isbn, item.publisher = _isbn(rng), self.publisher
            item.issued = (self.latest - timedelta(days=rng.randrange(3 * 365))).date()
            item.download = LibraryItem.Download.READERS if rng.random() < 0.3 else LibraryItem.Download.NONE
            if rng.random() < 0.2:
                credits.append((self.people[0], rng.choice(("translator", "editor", "annotator"))))
        elif group.shape == "series":
            credits = [(self.people[0], ROLE_BY_KIND[kind]), (self.people[1], SERIES_SECOND_ROLE[kind])]
        elif group.shape == "serial":
            item.publisher, item.issn, item.cn_serial = self.publisher, self.issn, self.cn_serial
            credits = [(self.people[0], "editor")] if kind == LibraryItem.Kind.PERIODICAL else []
        elif kind == LibraryItem.Kind.ARTICLE:
            item.body = _html(poem)
            if rng.random() < 0.3:
                credits.append((self.people[2], "illustrator"))
        return self._row(item, credits=credits, tags=list(self.tags), depth=0, parent_key=None)

    def child(self, *, poem: Poem, rng: random.Random, n: int, parent_key: str) -> Row:
        """An episode of a series, or an issue of a periodical (monthly) or newspaper (daily)."""
        total = len(self.group.children)
        if self.group.shape == "series":
            published = self.latest - timedelta(days=7 * (total - n))
            item = self._item(poem=poem, rng=rng, role=LibraryItem.Role.EPISODE, published_at=published)
            item.title = _("%(series)s 第%(n)s集：%(title)s") % {"series": self.name, "n": n, "title": poem.title}
            credits = [(self.people[0], ROLE_BY_KIND[self.kind])]
            return self._row(item, credits=credits, depth=1, parent_key=parent_key, position=n)
        daily = self.kind == LibraryItem.Kind.NEWSPAPER
        published = self.latest - timedelta(days=(1 if daily else 30) * (total - n))
        item = self._item(poem=poem, rng=rng, role=LibraryItem.Role.ISSUE, published_at=published)
        item.issued = published.date()
        if daily:
            item.number = _("总第%(number)s期") % {"number": self.first_number + n}
            item.title = f"{self.name} {item.issued:%Y年%m月%d日}"
        else:
            item.number = _("%(year)s年第%(number)s期") % {"year": item.issued.year, "number": item.issued.month}
            item.title = f"{self.name}（{item.number}）"
        item.publisher, item.issn, item.cn_serial, item.summary = self.publisher, self.issn, self.cn_serial, ""
        pages = []
        if daily:
            for number in range(1, len(self.group.children[n - 1]) + 1):
                name = PAGE_NAMES[(number - 1) % len(PAGE_NAMES)]
                pages.append((number, name, _("第%(number)s版 %(name)s") % {"number": number, "name": name}))
        return self._row(item, depth=1, parent_key=parent_key, position=n, pages=pages)

    def grandchild(self, *, poem, rng, n, m, parent_key, page, k, on_page) -> Row:
        """An article of an issue; on a newspaper page it also gets the area of the page it covers."""
        total = len(self.group.children)
        published = self.latest - timedelta(days=(1 if self.kind == LibraryItem.Kind.NEWSPAPER else 30) * (total - n))
        item = self._item(poem=poem, rng=rng, role=LibraryItem.Role.ARTICLE, published_at=published)
        item.body, item.issued = _html(poem), published.date()
        area = (page, _area(k, on_page)) if page and on_page else None
        return self._row(item, credits=[(poem.author, "author")], depth=2, parent_key=parent_key, position=m, area=area)

    # -- shared --

    def _item(self, *, poem: Poem, rng: random.Random, role: str, published_at, reads: int | None = None):
        item = LibraryItem(
            kind=self.kind,
            role=role,
            title=poem.title[:255],
            subtitle=poem.collection,
            summary="".join(poem.paragraphs[:2]),
            body="\n".join(poem.paragraphs),
            owning_unit_id=self.unit_id,
            access=self.access,
            access_unit_id=self.unit_id if self.access == LibraryItem.Access.UNIT else None,
            published_at=published_at,
            read_count=reads if reads is not None else _reads(rng) // 4,
            clc=self.clc if role != LibraryItem.Role.ITEM else "",
            source=SOURCE,
        )
        return item

    def _row(self, item: LibraryItem, *, credits=(), tags=(), depth: int, parent_key, position: int = 0, **extra):
        item.position = position
        item.year = item_year(item)
        credits = [(name, role) for name, role in credits if name]
        item.creators = credits_display(credits)
        return Row(item=item, depth=depth, parent_key=parent_key, credits=credits, tags=list(tags), **extra)


def _reads(rng: random.Random) -> int:
    """Zipf-like: most items are read a handful of times (many ties), a few very often."""
    return min(int(3 * (rng.paretovariate(1.1) - 1)), 5_000_000)


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def _group_name(group: Group, rng: random.Random) -> str:
    if group.shape == "series":
        brand = _("灯塔有声") if group.kind == LibraryItem.Kind.AUDIO else _("灯塔大课堂")
        return f"{brand}·{rng.choice(TOPICS)}{rng.choice(SERIES_FORMS)}"
    if group.kind == LibraryItem.Kind.PERIODICAL:
        return rng.choice(PERIODICAL_NAMES)
    if group.kind == LibraryItem.Kind.NEWSPAPER:
        return rng.choice(NEWSPAPER_NAMES)
    return ""


def _html(poem: Poem) -> str:
    """An illustrated article's body as the rich-text editor stores it: a lead, a heading, the paragraphs."""
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in poem.paragraphs)
    return f"<p><b>{escape(poem.title)}</b></p><h2>{escape(poem.collection)}</h2>{paragraphs}"


def _area(k: int, on_page: int) -> list[list[float]]:
    """The k-th of on_page articles on a newspaper page, in bands from top to bottom; with three, the lower two
    share the bottom half side by side. Points are fractions of the page, clockwise from top left."""
    if on_page == 3 and k > 0:
        left, right = (0.04, 0.49) if k == 1 else (0.51, 0.96)
        top, bottom = 0.52, 0.96
    else:
        bands = 2 if on_page == 3 else on_page
        left, right = 0.04, 0.96
        top, bottom = 0.04 + 0.92 * k / bands, 0.04 + 0.92 * (k + 1) / bands - 0.02
    return [[left, round(top, 3)], [right, round(top, 3)], [right, round(bottom, 3)], [left, round(bottom, 3)]]


def _isbn(rng: random.Random) -> str:
    """A Chinese ISBN-13 (978-7-…) with a correct check digit."""
    body = "9787" + "".join(rng.choices(string.digits, k=8))
    return next(body + digit for digit in string.digits if isbn_is_valid(body + digit))


def _issn(rng: random.Random) -> str:
    body = "".join(rng.choices(string.digits, k=7))
    return next(issn_normalise(body + check) for check in "0123456789X" if _issn_ok(body + check))


def _issn_ok(value: str) -> bool:
    try:
        issn_normalise(value)
    except ValidationError:
        return False
    return True


def _tags_ensure() -> dict[str, int]:
    """The generator's tag vocabulary as LibraryTag rows: {name: id}."""
    LibraryTag.objects.bulk_create(
        [LibraryTag(name=name, slug=slugify(name, allow_unicode=True)) for name in TAGS], ignore_conflicts=True
    )
    return dict(LibraryTag.objects.filter(name__in=TAGS).values_list("name", "pk"))


def _insert(rows: list[Row], *, known: dict[str, int], tag_ids: dict[str, int], batch_size: int) -> int:
    """One batch in one transaction: titles first, then their children, then what hangs on the rows."""
    if not rows:
        return 0
    with transaction.atomic():
        for depth in (0, 1, 2):
            level = [row for row in rows if row.depth == depth]
            for row in level:
                row.item.parent_id = known[row.parent_key] if row.parent_key else None
            LibraryItem.objects.bulk_create([row.item for row in level], batch_size=batch_size)
            known.update((row.item.external_id, row.item.pk) for row in level if row.depth < 2)
        pages = [
            IssuePage(issue_id=row.item.pk, number=number, name=name, text=text)
            for row in rows
            for number, name, text in row.pages
        ]
        IssuePage.objects.bulk_create(pages, batch_size=batch_size)
        ArticleArea.objects.bulk_create(_areas(rows, pages), batch_size=batch_size)
        ItemCredit.objects.bulk_create(
            [
                ItemCredit(item_id=row.item.pk, name=name[:100], role=role, position=position)
                for row in rows
                for position, (name, role) in enumerate(row.credits)
            ],
            batch_size=batch_size,
        )
        LibraryItemTag.objects.bulk_create(
            [LibraryItemTag(content_object_id=row.item.pk, tag_id=tag_ids[name]) for row in rows for name in row.tags],
            batch_size=batch_size,
        )
    return len(rows)


def _areas(rows: list[Row], pages: list[IssuePage]) -> list[ArticleArea]:
    page_ids = {(page.issue_id, page.number): page.pk for page in pages}
    wanted = {(row.item.parent_id, row.area[0]) for row in rows if row.area}
    if wanted - page_ids.keys():  # an article refilled into an issue made by an earlier run
        issues = {issue for issue, _number in wanted - page_ids.keys()}
        page_ids.update(
            ((issue, number), pk)
            for pk, issue, number in IssuePage.objects.filter(issue_id__in=issues).values_list("pk", "issue", "number")
        )
    return [
        ArticleArea(page_id=page_ids[(row.item.parent_id, row.area[0])], article_id=row.item.pk, points=row.area[1])
        for row in rows
        if row.area and (row.item.parent_id, row.area[0]) in page_ids
    ]


def _unit_picker() -> Callable[[random.Random], int]:
    """Chooses an owning unit: a level by weight, then a unit of it; any unit if the tree has other levels only."""
    by_level: dict[str, list[int]] = {}
    for pk, level in OrgUnit.objects.order_by("path").values_list("pk", "level"):
        by_level.setdefault(level, []).append(pk)
    if not by_level:
        raise GeneratorError(_("还没有组织单位：请先运行 manage.py load_demo --no-media（或建好组织架构）再生成馆藏。"))
    levels = [level for level in LEVEL_WEIGHTS if level in by_level]
    if not levels:
        everything = [pk for pks in by_level.values() for pk in pks]
        return lambda rng: rng.choice(everything)
    weights = [LEVEL_WEIGHTS[level] for level in levels]
    return lambda rng: rng.choice(by_level[rng.choices(levels, weights)[0]])


# -- vocabularies ---------------------------------------------------------------------------------------------

ROLE_BY_KIND = {
    LibraryItem.Kind.ARTICLE: "author",
    LibraryItem.Kind.AUDIO: "narrator",
    LibraryItem.Kind.EBOOK: "author",
    LibraryItem.Kind.VIDEO: "presenter",
    LibraryItem.Kind.PERIODICAL: "author",
    LibraryItem.Kind.NEWSPAPER: "author",
}
SERIES_SECOND_ROLE = {LibraryItem.Kind.AUDIO: "author", LibraryItem.Kind.VIDEO: "director"}
SUBJECT_ALWAYS = {LibraryItem.Kind.EBOOK, LibraryItem.Kind.PERIODICAL}
# Real CLC codes, weighted toward what a party-members' library holds (politics, party history, theory).
CLC_CODES = (
    *("D2", "D26", "D261", "D261.4", "D262", "D263", "D267", "D267.1", "D297", "D64", "D422", "D432", "D9", "D92"),
    *("A1", "A4", "A49", "A8", "A81", "A82", "A84", "A841", "D0", "D1", "D5", "D6", "D61", "D8", "D35"),
    *("K2", "K26", "K27", "K29", "K81", "K82", "K825", "K89", "K9", "K92"),
    *("I2", "I207", "I22", "I24", "I247", "I247.5", "I26", "J6", "J2", "G2", "G4", "G12", "F3", "F32", "F49"),
    *("S3", "S5", "R1", "R2", "TP3", "TS97", "X2", "B2", "C91", "Z2", "E2", "H1", "O1"),
)
TAGS = (
    *("党史", "党章", "党课", "初心使命", "乡村振兴", "红色故事", "沂蒙精神", "黄河", "改革开放", "新时代"),
    *("廉政", "家风", "基层治理", "三会一课", "理论学习", "先锋模范", "老党员", "国防教育", "法治", "生态"),
    *("健康", "农技", "文化", "非遗", "科普", "青年", "妇女", "志愿服务", "抗战", "长征"),
    *("英雄", "民生", "教育", "经济", "工匠", "齐鲁", "孔孟", "泰山", "大运河", "海洋"),
)
PUBLISHERS = (
    *("人民出版社", "党建读物出版社", "中共党史出版社", "中央文献出版社", "山东人民出版社", "山东教育出版社"),
    *("山东画报出版社", "齐鲁书社", "山东科学技术出版社", "人民日报出版社", "学习出版社", "红旗出版社"),
)
PERIODICAL_NAMES = ("党员干部之友", "支部生活", "齐鲁先锋", "灯塔月刊", "党建研究", "基层党建", "乡村振兴")
NEWSPAPER_NAMES = ("灯塔党建报", "齐鲁党员报", "沂蒙时报", "黄河口日报", "泰山晚报", "半岛先锋报")
SERIES_FORMS = ("十讲", "二十讲", "故事会", "大讲堂", "微党课", "系列讲座", "有声书")
PAGE_NAMES = ("要闻", "综合", "理论", "基层", "民生", "副刊")


@cache
def _t2s():
    from opencc import OpenCC  # imported on use: loading its dictionaries takes a moment

    return OpenCC("t2s")


def _simplified(poem: Poem) -> Poem:
    """Much of chinese-poetry is in traditional characters; members read simplified. One call per poem."""
    parts = [part.replace("\n", " ") for part in (poem.title, poem.author, *poem.paragraphs)]
    title, author, *paragraphs = _t2s().convert("\n".join(parts)).split("\n")
    return replace(poem, title=title, author=author, paragraphs=tuple(paragraphs), traditional=False)


def _poem_stream(*, source: str, seed: int, archive: Path | None) -> Iterator[Poem]:
    if source == "synthetic":
        return synthetic_poems(seed=seed)
    if source == "poetry":
        path = archive or poetry_archive(cache_dir=Path(settings.VAR_DIR) / "cache")
        return _cycled(lambda: poetry_poems(archive=path))
    raise GeneratorError(_("未知的数据来源：%(source)s（可选 poetry 或 synthetic）。") % {"source": source})


def _cycled(make: Callable[[], Iterator[Poem]]) -> Iterator[Poem]:
    """Asked for more items than there are poems, start again; each round is marked so titles stay telling."""
    round_ = 0
    while True:
        empty = True
        for poem in make():
            empty = False
            yield poem if round_ == 0 else _marked(poem, round_)
        if empty:
            raise GeneratorError(_("chinese-poetry 数据包里没有找到诗词。"))
        round_ += 1


def _marked(poem: Poem, round_: int) -> Poem:
    label = _("%(collection)s·重编第%(round)s版") % {"collection": poem.collection, "round": round_ + 1}
    return replace(poem, collection=label)


# -- chinese-poetry ---------------------------------------------------------------------------------------------


def poetry_archive(*, cache_dir: Path) -> Path:
    """The package's .tgz in the cache, downloaded and checked against npm's sha512 the first time."""
    path = cache_dir / f"chinese-poetry-{POETRY_VERSION}.tgz"
    if path.exists() and _sha512(path) == POETRY_SHA512:
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    try:
        with urllib.request.urlopen(POETRY_URL, timeout=60) as response, partial.open("wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError) as error:
        partial.unlink(missing_ok=True)
        raise GeneratorError(
            _("无法下载 chinese-poetry 数据包（%(url)s）：%(reason)s。可以改用 --source synthetic 生成不需联网的数据。")
            % {"url": POETRY_URL, "reason": getattr(error, "reason", error)}
        ) from error
    if _sha512(partial) != POETRY_SHA512:
        partial.unlink(missing_ok=True)
        raise GeneratorError(
            _("下载的 chinese-poetry 数据包校验不符（%(url)s）。可以重试，或改用 --source synthetic。")
            % {"url": POETRY_URL}
        )
    partial.replace(path)  # only a complete, checked file ever has the cached name
    return path


def _sha512(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def poetry_poems(*, archive: Path) -> Iterator[Poem]:
    """Every poem and ci of the package, in archive order, read member by member without unpacking."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                match = POETRY_MEMBER.match(member.name)
                if match and member.isfile():
                    collection, traditional = COLLECTIONS[match.groups()]
                    yield from _file_poems(json.load(tar.extractfile(member)), collection, traditional)
    except (tarfile.TarError, OSError, json.JSONDecodeError) as error:
        raise GeneratorError(
            _("chinese-poetry 数据包无法读取（%(path)s）：%(reason)s。可以删除后重新下载，或改用 --source synthetic。")
            % {"path": archive, "reason": error}
        ) from error


def _file_poems(records: list[dict], collection: str, traditional: bool) -> Iterator[Poem]:
    for record in records:
        paragraphs = tuple(line.strip() for line in record.get("paragraphs") or () if line.strip())
        title = (record.get("title") or record.get("rhythmic") or "").strip() or "无题"  # a ci is named by its tune
        yield Poem(
            title=title,
            author=(record.get("author") or "").strip() or "佚名",
            paragraphs=paragraphs,
            collection=collection,
            traditional=traditional,
        )


# -- synthetic ----------------------------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = "国华建明文军平志伟东海强晓光春红玉兰秀英德新生云峰雪梅丽敏静立成思远学忠卫兵亮"
TOPICS = (
    "初心",
    "使命",
    "山河",
    "春风",
    "明月",
    "长征",
    "乡村振兴",
    "黄河",
    "泰山",
    "沂蒙",
    "灯塔",
    "丰收",
    "红旗",
    "时代",
    "星火",
    "党史",
    "家风",
    "青春",
    "奋斗",
    "匠心",
)
FORMS = ("颂", "赋", "吟", "记", "谣", "故事", "十讲", "漫谈", "笔记", "新编", "读本", "之歌")
LINE_CHARS = "春风明月山河万里长征红旗飘扬大地丰收人民幸福青山绿水初心使命岁月如歌星火燎原家国天下奋斗时代"


def synthetic_poems(*, seed: int) -> Iterator[Poem]:
    """Endless made-up poems from word lists: deterministic for a seed, no network, all simplified Chinese."""
    rng = random.Random(seed)
    while True:
        width = rng.choice((5, 7))
        lines = tuple("".join(rng.choices(LINE_CHARS, k=width)) + ("，" if n % 2 == 0 else "。") for n in range(4))
        yield Poem(
            title=rng.choice(TOPICS) + rng.choice(FORMS),
            author=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
            paragraphs=("".join(lines[:2]), "".join(lines[2:])),
            collection=_("模拟数据"),
        )
