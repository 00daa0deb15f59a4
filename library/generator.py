"""Fills the library with many items of realistic Chinese text, for scale benchmarks.

The text comes from the npm package ``chinese-poetry`` (~330,000 Tang/Song poems and Song ci), fetched once into
``VAR_DIR/cache`` and read straight from its .tgz, or from a made-up ``synthetic`` source that needs no network.
Rows go in with ``bulk_create``, which on purpose sends no ``post_save`` signals: search's outbox is not fed one row
at a time; run ``manage.py search_rebuild`` afterwards to index them.
"""

import base64
import hashlib
import json
import random
import re
import shutil
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.models import OrgUnit

from .models import LibraryItem

SOURCE = "generator"  # LibraryItem.source of every generated row; external ids carry the text source and seed
POETRY_VERSION = "2.0.1"
POETRY_URL = f"https://registry.npmjs.org/chinese-poetry/-/chinese-poetry-{POETRY_VERSION}.tgz"
# From `npm view chinese-poetry@2.0.1 dist.integrity`: a cached or downloaded file must match it exactly.
POETRY_SHA512 = "KtYARvV7CWNtax0na9+Jn6PlhGgSoid7PWyDzXI4KsCEm2odZcqEQyval5koaLygZnM/EQ3lfJ//25K8p3uHNg=="
# Poems and ci only; `error/` holds the upstream's rejected duplicates, authors.*.json are biographies.
POETRY_MEMBER = re.compile(r"^package/dist/(?:quantangshi/poet\.(tang|song)|songci/ci\.(song))\.\d+\.json$")
# (collection, written in traditional characters?): the ci files are simplified already.
COLLECTIONS = {("tang", None): ("全唐诗", True), ("song", None): ("全宋诗", True), (None, "song"): ("全宋词", False)}

# Roughly the real library's mix: audio and articles most, e-books many, video fewer, serials fewest.
KIND_WEIGHTS = {
    LibraryItem.Kind.ARTICLE: 30,
    LibraryItem.Kind.AUDIO: 28,
    LibraryItem.Kind.EBOOK: 24,
    LibraryItem.Kind.VIDEO: 8,
    LibraryItem.Kind.PERIODICAL: 6,
    LibraryItem.Kind.NEWSPAPER: 4,
}
# The province's own library holds most; each city and county adds its own.
LEVEL_WEIGHTS = {OrgUnit.Level.PROVINCE: 3, OrgUnit.Level.CITY: 3, OrgUnit.Level.COUNTY: 4}
MEMBERS_ONLY_SHARE = 0.15
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


def library_generate(
    *,
    count: int,
    source: str = "poetry",
    seed: int = 1,
    batch_size: int = 5000,
    on_progress: Progress | None = None,
    archive: Path | None = None,
) -> int:
    """Make sure items 0..count-1 of (source, seed) exist; returns how many rows were added.

    Re-running is idempotent: each item's external id is stable, existing ones are skipped and bulk_create
    ignores conflicts. bulk_create sends no post_save, so search's outbox is not fed: run search_rebuild after.
    ``on_progress(done, count)`` is called after each batch.
    """
    units = _unit_picker()
    prefix = f"{source}:{seed}:"
    existing = set(
        LibraryItem.objects.filter(source=SOURCE, external_id__startswith=prefix).values_list("external_id", flat=True)
    )
    before = len(existing)
    if all(_external_id(prefix, index) in existing for index in range(count)):
        return 0
    poems = _poem_stream(source=source, seed=seed, archive=archive)
    batch: list[LibraryItem] = []
    end = timezone.now().replace(microsecond=0)
    for index, poem in zip(range(count), poems, strict=False):
        external_id = _external_id(prefix, index)
        if external_id not in existing:
            rng = random.Random(seed * 1_000_000_007 + index)  # per index, so a gap fills the same way
            poem = _simplified(poem) if poem.traditional else poem
            batch.append(_item(poem=poem, rng=rng, unit_id=units(rng), end=end, external_id=external_id))
        if len(batch) >= batch_size:
            _insert(batch, batch_size)
            batch = []
        if on_progress and (index + 1) % batch_size == 0:
            on_progress(index + 1, count)
    _insert(batch, batch_size)
    if on_progress and count % batch_size:
        on_progress(count, count)
    return LibraryItem.objects.filter(source=SOURCE, external_id__startswith=prefix).count() - before


def _external_id(prefix: str, index: int) -> str:
    return f"{prefix}{index:07d}"


def _insert(batch: list[LibraryItem], batch_size: int) -> None:
    with transaction.atomic():
        LibraryItem.objects.bulk_create(batch, batch_size=batch_size, ignore_conflicts=True)


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


def _item(*, poem: Poem, rng: random.Random, unit_id: int, end, external_id: str) -> LibraryItem:
    kind = rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
    published_at = end - timedelta(seconds=rng.randrange(int(SPREAD.total_seconds())))
    return LibraryItem(
        kind=kind,
        title=_title(kind=kind, title=poem.title, published_at=published_at, rng=rng)[:255],
        subtitle=poem.collection,
        summary="".join(poem.paragraphs[:2]),
        body="\n".join(poem.paragraphs),
        creators=poem.author[:255],
        owning_unit_id=unit_id,
        access=LibraryItem.Access.MEMBERS if rng.random() < MEMBERS_ONLY_SHARE else LibraryItem.Access.PUBLIC,
        published_at=published_at,
        source=SOURCE,
        external_id=external_id,
    )


def _title(*, kind: str, title: str, published_at, rng: random.Random) -> str:
    """Serials are issues: the poem names the title, the issue number makes it one issue of it."""
    if kind == LibraryItem.Kind.PERIODICAL:
        return _("%(title)s（%(year)s年第%(number)s期）") % {
            "title": title,
            "year": published_at.year,
            "number": rng.randint(1, 12),
        }
    if kind == LibraryItem.Kind.NEWSPAPER:
        return _("%(title)s（总第%(number)s期）") % {"title": title, "number": rng.randint(1, 9999)}
    return title


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
