"""Loads the demo site: organisation tree, roles, editors, pages and library items of every kind. Idempotent."""

import io
import tempfile
from datetime import date
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.db import transaction
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from wagtail.models import Page, Site

from cms.models import (
    EducationBasePage,
    HomePage,
    LighthouseDocument,
    LighthouseImage,
    Member,
    OrgUnit,
    SectionPage,
    StandardPage,
)
from cms.services import member_create, org_unit_create, org_unit_ensure_roles, org_unit_set_section_page
from media_pipeline.synthetic.documents import chinese_epub, chinese_pdf
from media_pipeline.synthetic.media import make_clip

from . import data

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def demo_load(*, log=print, media: bool = True, library: bool | None = None) -> None:
    """``library`` (default: as ``media``) loads the library's demo items; with ``media`` off they come without
    their files. ``load_demo --no-media`` keeps loading no items: tests count on an empty library after it."""
    with transaction.atomic():
        home = _site_home()
        units = _org_tree(home, log)
        _pages(home, units)
        _accounts(units, log)
        _screens(units, log)
    # Media items enqueue transcode jobs on commit, so they come after the structure is committed.
    if media if library is None else library:
        _library(units, log, media=media)
        _courses(home, units, log)


def _courses(home: HomePage, units: dict[str, OrgUnit], log) -> None:
    """This month's 大课堂 on the demo library: lessons, a question bank, members' attempts (courses/demo.py)."""
    from courses.demo import courses_demo_load
    from library.activity import progress_heartbeat

    courses_demo_load(home=home, units=units, log=log, heartbeat=progress_heartbeat)


def _screens(units: dict[str, OrgUnit], log) -> None:
    """A paired virtual portrait and landscape screen of 邹平市 playing notices (screens/demo.py prints their links)."""
    from screens.demo import screens_demo_load

    screens_demo_load(unit=units["zouping"], log=log)


def _site_home() -> HomePage:
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        home = root.add_child(instance=HomePage(title="灯塔-党建在线", slug="lighthouse"))
        site = Site.objects.filter(is_default_site=True).first()
        old_root = site.root_page if site else None
        Site.objects.update_or_create(
            is_default_site=True, defaults={"root_page": home, "hostname": "localhost", "site_name": "灯塔"}
        )
        if old_root is not None and old_root.specific_class is Page:
            old_root.delete()  # Wagtail's placeholder "Welcome" page
    return home


def _org_tree(home: HomePage, log) -> dict[str, OrgUnit]:
    name, code = data.PROVINCE
    units = {code: org_unit_create(parent=None, name=name, code=code, level=OrgUnit.Level.PROVINCE)}
    org_unit_set_section_page(unit=units[code], page=home)
    for name, code in data.CITIES:
        units[code] = org_unit_create(parent=units["shandong"], name=name, code=code, level=OrgUnit.Level.CITY)
    for name, code, city in data.COUNTIES:
        units[code] = org_unit_create(parent=units[city], name=name, code=code, level=OrgUnit.Level.COUNTY)
    for name, code, level, parent in data.LOCAL_UNITS:
        units[code] = org_unit_create(parent=units[parent], name=name, code=code, level=level)
    for unit in units.values():
        org_unit_ensure_roles(unit=unit)
    log(f"组织单位：{OrgUnit.objects.count()} 个")
    return units


def _section(parent: Page, unit: OrgUnit) -> SectionPage:
    page = SectionPage.objects.filter(org_unit=unit).first()
    if page is None:
        page = parent.add_child(instance=SectionPage(title=unit.name, slug=unit.code, org_unit=unit))
        org_unit_set_section_page(unit=unit, page=page)
    return page


def _pages(home: HomePage, units: dict[str, OrgUnit]) -> None:
    city_pages = {code: _section(home, units[code]) for _, code in data.CITIES}
    county_pages = {code: _section(city_pages[city], units[code]) for _, code, city in data.COUNTIES}
    if not EducationBasePage.objects.filter(slug=data.EDUCATION_BASE["slug"]).exists():
        county_pages["yinan"].add_child(instance=EducationBasePage(**data.EDUCATION_BASE))
    if not StandardPage.objects.filter(slug="about").exists():
        home.add_child(
            instance=StandardPage(
                title="关于灯塔", slug="about", body="<p>灯塔是全省党员学习教育平台：视频、音频、图文、电子书刊。</p>"
            )
        )
    from library.models import LibraryPage

    if not LibraryPage.objects.exists():
        home.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))


def _accounts(units: dict[str, OrgUnit], log) -> None:
    """The superuser, one editor per level, a branch secretary and a plain member, all with the demo password."""
    member_create(username="admin", password=data.DEMO_PASSWORD, real_name="系统管理员", is_superuser=True)
    for username, real_name, code, role in data.EDITORS:
        member_create(
            username=username, password=data.DEMO_PASSWORD, real_name=real_name, org_unit=units[code], roles=(role,)
        )
    for username, real_name, phone, code in data.MEMBERS:
        member_create(
            username=username, password=data.DEMO_PASSWORD, real_name=real_name, phone=phone, org_unit=units[code]
        )
    log(f"演示账号：admin、{'、'.join(e[0] for e in data.EDITORS)}，密码均为 {data.DEMO_PASSWORD}")
    members = "、".join(f"{username}（手机号 {phone}）" for username, _name, phone, _code in data.MEMBERS)
    log(f"党员演示账号（在网站右上角“登录”）：{members}，密码 {data.DEMO_PASSWORD}")


def _library(units: dict[str, OrgUnit], log, *, media: bool) -> None:
    """At least one item of every kind and role, a newspaper page with article areas and the 本月推荐 list. With
    ``media`` off, the same rows without their files (no uploads, documents or images)."""
    from library.facets import facet_counts_refresh
    from library.models import LibraryItem

    admin = Member.objects.get(username="admin")
    with tempfile.TemporaryDirectory() as tmp:
        files = _Files(Path(tmp), media=media)
        saved = {}
        for kind, title, summary, code, access in data.ITEMS:
            _save(admin, key="", kind=kind, title=title, summary=summary, unit=units[code], access=access)
        for title, summary, code, pattern, seconds in data.VIDEOS:
            upload = files.clip(f"{pattern}.mp4", pattern=pattern, seconds=seconds)
            _save(admin, key="", kind="video", title=title, summary=summary, unit=units[code], upload=upload)
        for key, kind, title, summary, code, credits, tags, episodes in data.SERIES:
            series = _save(admin, key=key, kind=kind, title=title, summary=summary, unit=units[code], role="series")
            _credit_and_tag(series, credits=credits, tags=tags)
            saved[key] = series
            for position, (episode_key, episode_title, episode_summary, seconds) in enumerate(episodes, start=1):
                upload = files.clip(f"{episode_key}.{'m4a' if kind == 'audio' else 'mp4'}", seconds=seconds, kind=kind)
                episode = _save(
                    admin,
                    key=episode_key,
                    kind=kind,
                    title=episode_title,
                    summary=episode_summary,
                    unit=units[code],
                    role="episode",
                    parent=series,
                    position=position,
                    upload=upload,
                )
                _credit_and_tag(episode, credits=credits[:1], tags=[])
        saved.update(_illustrated_article(admin, units, files))
        saved.update(_ebooks(admin, units, files))
        saved.update(_periodical(admin, units, files))
        saved.update(_newspaper(admin, units, files))
        _curated(units, saved)
    facet_counts_refresh()  # the front page's counts right away, before any worker runs
    log(f"馆藏条目：{LibraryItem.objects.count()} 条（音视频在后台转码）")


def _save(admin, *, key: str, unit: OrgUnit, upload=None, credits=None, **fields):
    """The demo item with this key (or, for the first demo items, this title), else a new one through the
    library's service, which starts the media pipeline for its file or document."""
    from library.models import LibraryItem
    from library.services import library_item_save

    existing = LibraryItem.objects.filter(source="demo")
    existing = existing.filter(external_id=key) if key else existing.filter(title=fields["title"])
    item = existing.first()
    if item is not None:
        if upload is not None:
            upload.close()
        return item
    item = LibraryItem(owning_unit=unit, source="demo", external_id=key, **fields)
    return library_item_save(item=item, user=admin, upload=upload, credits=credits)


def _credit_and_tag(item, *, credits, tags) -> None:
    from library.services import library_item_credits_set

    if credits and not item.credits.exists():
        library_item_credits_set(item=item, credits=credits)
    if tags:
        item.tags.add(*tags)


def _illustrated_article(admin, units, files) -> dict:
    spec = data.ILLUSTRATED_ARTICLE
    image = files.image("hongsao.png", spec["title"], size=(960, 640))
    paragraphs = [f"<p>{line}</p>" for line in spec["paragraphs"]]
    if image is not None:  # the picture between the lead and the rest, as the rich-text editor embeds it
        paragraphs.insert(1, f'<embed embedtype="image" id="{image.pk}" format="fullwidth" alt="{spec["title"]}"/>')
    item = _save(
        admin,
        key=spec["key"],
        kind="article",
        title=spec["title"],
        summary=spec["summary"],
        unit=units[spec["unit"]],
        body="".join(paragraphs),
        cover=image,
        clc=spec["clc"],
        credits=spec["credits"],
    )
    item.tags.add(*spec["tags"])
    return {spec["key"]: item}


def _ebooks(admin, units, files) -> dict:
    saved = {}
    for key, title, summary, fmt, credits, isbn, clc, publisher, issued in data.EBOOKS:
        saved[key] = _save(
            admin,
            key=key,
            kind="ebook",
            title=title,
            summary=summary,
            unit=units["shandong"],
            document=files.document(f"{key}.{fmt}", title, fmt=fmt),
            isbn=isbn,
            clc=clc,
            publisher=publisher,
            issued=date.fromisoformat(issued),
            download="readers",
            credits=credits,
        )
        saved[key].tags.add("理论学习")
    return saved


def _periodical(admin, units, files) -> dict:
    spec = data.PERIODICAL
    serial = {"issn": spec["issn"], "cn_serial": spec["cn_serial"], "publisher": spec["publisher"], "clc": spec["clc"]}
    title = _save(
        admin,
        key=spec["key"],
        kind="periodical",
        role="series",
        title=spec["title"],
        summary=spec["summary"],
        unit=units["shandong"],
        **serial,
        credits=[("齐鲁先锋编辑部", "editor")],
    )
    title.tags.add("基层治理")
    key, issue_title, number, issued = spec["issue"]
    issue = _save(
        admin,
        key=key,
        kind="periodical",
        role="issue",
        parent=title,
        position=1,
        number=number,
        title=issue_title,
        unit=units["shandong"],
        issued=date.fromisoformat(issued),
        document=files.document(f"{key}.pdf", issue_title, fmt="pdf"),
        **serial,
    )
    for position, (article_key, article_title, credits) in enumerate(spec["articles"], start=1):
        _save(
            admin,
            key=article_key,
            kind="periodical",
            role="article",
            parent=issue,
            position=position,
            title=article_title,
            unit=units["shandong"],
            issued=date.fromisoformat(issued),
            body=f"<p>{article_title}。</p>",
            credits=credits,
        )
    return {spec["key"]: title}


def _newspaper(admin, units, files) -> dict:
    from library.models import ArticleArea, IssuePage

    spec = data.NEWSPAPER
    title = _save(
        admin,
        key=spec["key"],
        kind="newspaper",
        role="series",
        title=spec["title"],
        summary=spec["summary"],
        unit=units["shandong"],
        cn_serial=spec["cn_serial"],
        publisher=spec["publisher"],
    )
    key, issue_title, number, issued = spec["issue"]
    issue = _save(
        admin,
        key=key,
        kind="newspaper",
        role="issue",
        parent=title,
        position=1,
        number=number,
        title=issue_title,
        unit=units["shandong"],
        issued=date.fromisoformat(issued),
        cn_serial=spec["cn_serial"],
    )
    page_number, page_name = spec["page"]
    page = IssuePage.objects.filter(issue=issue, number=page_number).first()
    if page is None:
        blocks = [(article_title, box) for _key, article_title, _author, box in spec["articles"]]
        image = files.newspaper_page(f"{key}-{page_number}.png", spec["title"], blocks)
        text = "\n".join(article_title for article_title, _box in blocks)
        page = IssuePage.objects.create(issue=issue, number=page_number, name=page_name, image=image, text=text)
    for position, (article_key, article_title, author, (left, top, right, bottom)) in enumerate(spec["articles"], 1):
        article = _save(
            admin,
            key=article_key,
            kind="newspaper",
            role="article",
            parent=issue,
            position=position,
            title=article_title,
            unit=units["shandong"],
            issued=date.fromisoformat(issued),
            body=f"<p>{article_title}。</p>",
            credits=[(author, "author")],
        )
        if not ArticleArea.objects.filter(page=page, article=article).exists():
            points = [[left, top], [right, top], [right, bottom], [left, bottom]]
            ArticleArea.objects.create(page=page, article=article, points=points)
    return {spec["key"]: title}


def _curated(units, saved: dict) -> None:
    from library.models import ItemList, ItemListEntry

    spec = data.CURATED
    item_list, created = ItemList.objects.get_or_create(
        slug=spec["slug"],
        defaults={"title": spec["title"], "summary": spec["summary"], "owning_unit": units["shandong"]},
    )
    if created:
        ItemListEntry.objects.bulk_create(
            ItemListEntry(list=item_list, item=saved[key], sort_order=n) for n, key in enumerate(spec["keys"])
        )


class _Files:
    """The demo's files, made on the spot (ffmpeg clips, Chinese PDF/EPUB, Pillow images); none when media is off."""

    def __init__(self, tmp: Path, *, media: bool):
        self.tmp, self.media = tmp, media

    def clip(self, name: str, *, seconds: int, kind: str = "video", pattern: str = "testsrc2") -> File | None:
        if not self.media:
            return None
        if kind == "audio":
            path = make_clip(self.tmp / name, seconds=seconds, video=False)
        else:
            path = make_clip(self.tmp / name, pattern=pattern, seconds=seconds, tone_hz=660)
        return File(path.open("rb"), name=path.name)

    def document(self, name: str, title: str, *, fmt: str) -> LighthouseDocument | None:
        if not self.media:
            return None
        if fmt == "epub":
            content = chinese_epub(self.tmp / name).read_bytes()
        else:
            content = chinese_pdf()
        document = LighthouseDocument(title=title)
        document.file.save(name, ContentFile(content), save=False)
        document.save()
        return document

    def image(self, name: str, title: str, *, size=(960, 640)) -> LighthouseImage | None:
        if not self.media:
            return None
        picture = PILImage.new("RGB", size, (183, 28, 28))
        ImageDraw.Draw(picture).text((60, size[1] // 2 - 40), title, fill="white", font=_font(72))
        return self._save_image(name, title, picture)

    def newspaper_page(self, name: str, title: str, blocks) -> LighthouseImage | None:
        """A broadsheet page: the masthead, then each article's headline inside its rectangle."""
        if not self.media:
            return None
        width, height = 1200, 1700
        picture = PILImage.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(picture)
        draw.text((60, 40), title, fill=(183, 28, 28), font=_font(96))
        for headline, (left, top, right, bottom) in blocks:
            box = (left * width, top * height, right * width, bottom * height)
            draw.rectangle(box, outline="black", width=3)
            draw.text((box[0] + 30, box[1] + 30), headline, fill="black", font=_font(48))
        return self._save_image(name, title, picture)

    def _save_image(self, name: str, title: str, picture) -> LighthouseImage:
        buffer = io.BytesIO()
        picture.save(buffer, "PNG")
        image = LighthouseImage(title=title)
        image.file.save(name, ImageFile(buffer, name=name), save=False)
        image.save()
        return image


def _font(size: int):
    return ImageFont.truetype(str(CJK_FONT), size) if CJK_FONT.exists() else ImageFont.load_default()
