"""Loads the demo site: organisation tree, roles, editors, pages and a dozen library items. Idempotent."""

import tempfile
from pathlib import Path

from django.core.files import File
from django.db import transaction
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from wagtail.models import Page, Site

from media_pipeline.synthetic import make_clip

from . import demo_data as data
from .models import EducationBasePage, HomePage, LighthouseDocument, Member, OrgUnit, SectionPage, StandardPage
from .services import member_create, org_unit_create, org_unit_ensure_roles, org_unit_set_section_page

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def demo_load(*, log=print, media: bool = True) -> None:
    with transaction.atomic():
        home = _site_home()
        units = _org_tree(home, log)
        _pages(home, units)
        _editors(units, log)
    # Media items enqueue transcode jobs on commit, so they come after the structure is committed.
    if media:
        _library(units, log)


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


def _editors(units: dict[str, OrgUnit], log) -> None:
    member_create(username="admin", password=data.DEMO_PASSWORD, real_name="系统管理员", is_superuser=True)
    for username, real_name, code, role in data.EDITORS:
        member_create(
            username=username, password=data.DEMO_PASSWORD, real_name=real_name, org_unit=units[code], roles=(role,)
        )
    log(f"演示账号：admin、{'、'.join(e[0] for e in data.EDITORS)}，密码均为 {data.DEMO_PASSWORD}")


def _library(units: dict[str, OrgUnit], log) -> None:
    from library.models import LibraryItem
    from library.services import library_item_save

    admin = Member.objects.get(username="admin")
    with tempfile.TemporaryDirectory() as tmp:
        for kind, title, summary, code, access in data.ITEMS:
            if LibraryItem.objects.filter(source="demo", title=title).exists():
                continue
            item = LibraryItem(
                kind=kind, title=title, summary=summary, owning_unit=units[code], access=access, source="demo"
            )
            upload = _clip(make_clip(Path(tmp) / "audio.m4a", seconds=6, video=False)) if kind == "audio" else None
            if kind == "ebook":
                item.document = _ebook(Path(tmp), title)
            library_item_save(item=item, user=admin, upload=upload)
        for title, summary, code, pattern, seconds in data.VIDEOS:
            if LibraryItem.objects.filter(source="demo", title=title).exists():
                continue
            path = make_clip(Path(tmp) / f"{pattern}.mp4", pattern=pattern, seconds=seconds, tone_hz=660)
            upload = _clip(path)
            item = LibraryItem(kind="video", title=title, summary=summary, owning_unit=units[code], source="demo")
            library_item_save(item=item, user=admin, upload=upload)
    log(f"馆藏条目：{LibraryItem.objects.count()} 条（音视频在后台转码）")


def _clip(path: Path) -> File:
    return File(path.open("rb"), name=path.name)


def _ebook(tmp: Path, title: str) -> LighthouseDocument:
    """A two-page PDF e-book drawn with Pillow (Noto CJK when installed)."""
    font = ImageFont.truetype(str(CJK_FONT), 48) if CJK_FONT.exists() else ImageFont.load_default()
    pages = []
    for text in (title, "第一章 党员的权利和义务"):
        page = PILImage.new("RGB", (1240, 1754), "white")
        ImageDraw.Draw(page).text((120, 200), text, fill="black", font=font)
        pages.append(page)
    path = tmp / "ebook.pdf"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    document = LighthouseDocument(title=title)
    with path.open("rb") as handle:
        document.file.save("dangyuan-shouce.pdf", File(handle), save=False)
    document.save()
    return document
