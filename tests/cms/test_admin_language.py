"""The Wagtail admin speaks Chinese: every screen an editor can open is walked, and English UI text fails the test.

The walk signs in as the superuser and as the province, city and county editors of the demo, starts from the
dashboard, the sidebar's menus (read from the sidebar's JSON, where Wagtail keeps them) and a list of screens a
menu does not link (add and edit screens of every page type, one object of each admin model, choosers), and
follows every admin link it finds, one URL per shape (``/admin/pages/12/edit/`` stands for every page's edit
screen of that shape). Each HTML answer (and each chooser's HTML inside its JSON answer) is read the way a person
reads it: the text outside ``<script>``, ``<style>`` and ``<code>``, and the attributes people read (``placeholder``,
``title``, ``aria-label``, ``alt``, tooltips, button values) and the sidebar's labels. A run of English words there
fails the test, listed with the URL where it was seen.

A "word" is two or more ASCII letters. Not words: the names of things (Wagtail, PDF, EPUB…, ``ALLOWED_WORDS``),
keyboard keys, file names, e-mail addresses, web addresses, and what people typed (user names, the site's host
name): those are the data, not the interface.
"""

import json
import re
from collections import defaultdict, deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

# Proper names, abbreviations, units and keyboard keys that are the same in a Chinese interface.
ALLOWED_WORDS = {
    # Names of things and formats.
    "Wagtail",
    "OpenSearch",
    "Elasticsearch",
    "PDF",
    "EPUB",
    "HLS",
    "ID",
    "URL",
    "CSV",
    "API",
    "OPDS",
    "RSS",
    "JSON",
    "XLSX",
    "MARC",
    "CNMARC",
    "MARCXML",
    "UTF",
    "GB",
    "ISBN",
    "ISSN",
    "CN",
    "SHA",
    "GIF",
    "JPG",
    "JPEG",
    "PNG",
    "WEBP",
    "AVIF",
    "TXT",
    "DOCX",
    "PPTX",
    "ZIP",
    "MP3",
    "M4A",
    "AAC",
    "TV",
    "CLC",
    "ISO",
    "SRT",
    "WebVTT",
    "VTT",
    "GBK",
    "TSV",
    "Excel",
    "English",  # the language's own name in the language chooser
    # ISO 639 language codes the item form gives as examples ("如 zh、en、bo").
    "zh",
    "en",
    "bo",
    # Units.
    "KB",
    "MB",
    "px",
    "kbps",
    # Keyboard keys, printed on the keys in English.
    "Ctrl",
    "Alt",
    "Shift",
    "Esc",
    "Enter",
    "Cmd",
    "Tab",
}
WORD = re.compile(r"[A-Za-z]{2,}")
# Tokens that are data, not interface: web addresses and paths, e-mail addresses, file names, host names.
NOT_INTERFACE = re.compile(
    r"https?://\S+"
    r"|\S+@\S+\.\w+"
    r"|(?<![\w/])/[\w\-./?=&%#]*"
    r"|(?<![\w.])\.(?:xlsx|csv|pdf|epub|docx|txt)\b"
    r"|[\w\-]+\.(?:pdf|epub|txt|docx|xlsx|pptx|zip|csv|json|xml|mrc|mp4|mov|mp3|m4a|wav|vtt|srt|jpe?g|png|gif|webp|avif)\b",
    re.IGNORECASE,
)
# A class code of the 中图法 before its Chinese name ("TB 一般工业技术"): a code, not a word.
CLASS_CODE = re.compile(r"\b[A-Z]{1,2}\d*(?=\s+[\u4e00-\u9fff])")
# A quiz answer written as option letters ("多选如 ACD"): letters of options A–F, not a word.
ANSWER_LETTERS = re.compile(r"\b[A-F]{2,6}\b")
READ_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "data-w-tooltip-content-value", "aria-description")
SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "svg", "noscript"}
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Labels in the sidebar's JSON that people read.
SIDEBAR_TEXT_KEYS = {"label", "footer_text", "title"}

# Links not walked: they sign out, download files, or show the site rather than the admin.
SKIPPED_PATHS = re.compile(r"/logout/|/preview|/view_draft/|/jsi18n/|/sprite/|\.csv$|\.xlsx$|/rejected\.csv")
SKIPPED_QUERY_KEYS = {"export", "next"}
BULK_ACTION = re.compile(r"^/admin/bulk/(\w+/\w+)/\w+/")


class VisibleText(HTMLParser):
    """Collects the text a person reads on a page, the admin links on it, and the sidebar's menu."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.hidden: list[bool] = []  # per open element: has the `hidden` attribute
        self.texts: list[str] = []
        self.links: list[str] = []
        self.json_scripts: dict[str, str] = {}
        self._script_id = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        for name in READ_ATTRIBUTES:
            if attributes.get(name):
                self.texts.append(attributes[name])
        if tag == "input" and attributes.get("type") in {"submit", "button", "reset"} and attributes.get("value"):
            self.texts.append(attributes["value"])
        if tag == "script" and attributes.get("type") == "application/json":
            self._script_id = attributes.get("id", "")
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)
            self.hidden.append("hidden" in attributes)

    @property
    def hidden_depth(self) -> int:
        return sum(self.hidden)

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open:
                self.hidden.pop()
                if self.open.pop() == tag:
                    break
        if tag == "script":
            self._script_id = None

    def handle_data(self, data):
        if self._script_id is not None:
            self.json_scripts[self._script_id] = self.json_scripts.get(self._script_id, "") + data
            return
        text = data.strip()
        # Wagtail prints an empty counter as "None" inside an element it keeps hidden until there is a number.
        if text == "None" and self.hidden_depth:
            return
        if not SKIPPED_ELEMENTS.intersection(self.open) and text:
            self.texts.append(text)


def sidebar_entries(props: str) -> tuple[list[str], list[str]]:
    """The labels and URLs in Wagtail's sidebar JSON (``wagtail-sidebar-props``)."""
    texts, urls = [], []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in SIDEBAR_TEXT_KEYS and isinstance(value, str):
                    texts.append(value)
                elif key == "url" and isinstance(value, str):
                    urls.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(props))
    return texts, urls


def english_runs(text: str, data_words: set[str]) -> list[str]:
    """The parts of ``text`` that are English interface words (empty when there are none)."""
    text = ANSWER_LETTERS.sub(" ", CLASS_CODE.sub(" ", NOT_INTERFACE.sub(" ", text)))
    words = [word for word in WORD.findall(text) if word not in ALLOWED_WORDS and word not in data_words]
    return [text.strip()] if words else []


def url_shape(url: str) -> str:
    """One URL stands for every URL of its shape: numbers become N, query values are dropped."""
    parts = urlsplit(url)
    keys = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def admin_link(href: str) -> str | None:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin/") or SKIPPED_PATHS.search(parts.path):
        return None
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)]
    if any(key in SKIPPED_QUERY_KEYS for key, _ in query):
        return None
    return parts.path + ("?" + parts.query if parts.query else "")


class Walk:
    """Walks the admin as one signed-in user, collecting English runs per URL."""

    def __init__(self, client: Client, data_words: set[str], limit: int = 500, bulk_ids: dict | None = None):
        self.client, self.data_words, self.limit = client, data_words, limit
        self.bulk_ids = bulk_ids or {}
        self.visited: dict[str, int] = {}
        self.shapes: set[str] = set()
        self.english: dict[str, set[str]] = defaultdict(set)
        self.queue: deque[str] = deque()

    def add(self, url: str, *, seed: bool = False) -> None:
        link = self.with_bulk_object(admin_link(url) or "")
        if not link or link in self.visited:
            return
        shape = url_shape(link)
        if shape in self.shapes and not seed:
            return
        self.shapes.add(shape)
        self.queue.append(link)

    def with_bulk_object(self, link: str) -> str:
        """A bulk action's confirmation screen is linked without objects (the listing's script adds the chosen
        ones): it is opened for one object of that model the user may act on."""
        match = BULK_ACTION.match(link)
        if match and "?" not in link and match.group(1) in self.bulk_ids:
            return f"{link}?id={self.bulk_ids[match.group(1)]}"
        return link

    def run(self, seeds: list[str]) -> "Walk":
        for url in seeds:
            self.add(url, seed=True)
        while self.queue and len(self.visited) < self.limit:
            url = self.queue.popleft()
            if url not in self.visited:
                self.read(url)
        return self

    def read(self, url: str) -> None:
        response = self.client.get(url)
        self.visited[url] = response.status_code
        if response.status_code != 200:
            return
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html"):
            self.check(url, response.content.decode())
        elif content_type.startswith("application/json"):
            data = response.json()
            if isinstance(data, dict) and isinstance(data.get("html"), str):  # a chooser's modal
                self.check(url, data["html"])

    def check(self, url: str, html: str) -> None:
        page = VisibleText()
        page.feed(html)
        texts, links = list(page.texts), list(page.links)
        if "wagtail-sidebar-props" in page.json_scripts:
            sidebar_texts, sidebar_urls = sidebar_entries(page.json_scripts["wagtail-sidebar-props"])
            texts += sidebar_texts
            links += sidebar_urls
        for text in texts:
            for run in english_runs(text, self.data_words):
                self.english[run].add(url)
        for link in links:
            self.add(link)

    def failures(self) -> list[str]:
        return [f"{run!r} on {', '.join(sorted(urls)[:3])}" for run, urls in sorted(self.english.items())]

    def server_errors(self) -> list[str]:
        return [f"{status} {url}" for url, status in self.visited.items() if status >= 500]


# --- The world the walk sees: the demo with its library, and one object of every kind an editor opens.


@pytest.fixture
def admin_world(demo):
    from cms.demo import demo_load

    demo_load(log=lambda line: None, media=False, library=True)
    return admin_objects()


def admin_objects() -> dict:
    """One of each object an admin screen shows: an image and a document in the county's collection, a failed
    transcode of an episode, a synonym, a promotion, an import batch, a page waiting for review."""
    from django.core.files.base import ContentFile
    from wagtail.models import Workflow

    from cms.models import LighthouseDocument, LighthouseImage, Member, OrgUnit, SectionPage, StandardPage
    from library.models import ImportBatch, LibraryItem
    from media_pipeline.models import MediaAsset, TranscodeJob
    from search.models import IndexEntry, Promotion, Synonym

    zouping = OrgUnit.objects.get(code="zouping")
    admin = Member.objects.get(username="admin")
    image = LighthouseImage.objects.create(
        title="黛溪街道合影", file=ContentFile(tiny_png(), name="daixi.png"), collection=zouping.collection
    )
    document = LighthouseDocument.objects.create(
        title="支部工作手册", file=ContentFile(b"%PDF-1.4\n", name="shouce.pdf"), collection=zouping.collection
    )
    episode = LibraryItem.objects.filter(role="episode", kind="video").order_by("pk").first()
    asset = MediaAsset.objects.create(file="uploads/2026/12/weidangke.mp4", original_name="weidangke.mp4", kind="video")
    LibraryItem.objects.filter(pk=episode.pk).update(media_asset=asset, owning_unit=zouping)
    analysis = TranscodeJob.objects.create(asset=asset, group="analyse", state="done", progress=1)
    TranscodeJob.objects.create(asset=asset, group="ladder", parent=analysis, state="failed", error="编码失败")
    Synonym.objects.create(terms="党史，中国共产党历史")
    entry = IndexEntry.objects.create(doc_id=f"library.libraryitem:{episode.pk}", kind="video", title=episode.title)
    Promotion.objects.create(query="党史", doc_id=entry.doc_id)
    ImportBatch.objects.create(
        source="demo-2026", file_name="catalogue.csv", file_format="csv", owning_unit=zouping, started_by=admin
    )
    page = StandardPage.objects.get(slug="about")
    page.save_revision(user=admin)
    Workflow.objects.filter(active=True).order_by("pk").first().start(page, admin)
    page_in_county = SectionPage.objects.get(org_unit=zouping)
    _screens_objects(zouping, episode)
    return {"image": image, "document": document, "asset": asset, "page": page, "page_in_county": page_in_county}


def _screens_objects(unit, episode) -> None:
    """A channel with a video and a notice, a rule, and a paired screen that never sent a heartbeat (issue 18)."""
    from screens.models import Channel, Device, PlaylistEntry, ScheduleRule

    channel = Channel.objects.create(name="邹平大厅", owning_unit=unit, screen_type="landscape")
    PlaylistEntry.objects.create(channel=channel, kind="video", item=episode, sort_order=0)
    PlaylistEntry.objects.create(channel=channel, kind="notice", text="今晚七点支部学习", sort_order=1)
    ScheduleRule.objects.create(unit=unit, channel=channel, start_time="08:00", end_time="22:00")
    Device.objects.create(name="便民服务中心大屏", unit=unit, screen_type="landscape", credential_id="0" * 24)


def tiny_png() -> bytes:
    import io

    from PIL import Image

    stream = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(stream, "PNG")
    return stream.getvalue()


def data_words() -> set[str]:
    """Words that are data people typed: user names, the site's host names, import sources, question banks' codes."""
    from wagtail.models import Site

    from cms.models import Member
    from courses.models import QuestionBank
    from library.models import ImportBatch

    values = [
        *Member.objects.values_list("username", flat=True),
        *Site.objects.values_list("hostname", flat=True),
        *ImportBatch.objects.values_list("source", flat=True),
        *QuestionBank.objects.values_list("code", flat=True),
    ]
    return {word for value in values for word in WORD.findall(value)}


def bulk_ids(admin_world: dict) -> dict[str, int]:
    """For each model with bulk actions, one object every walking editor may act on (the county's)."""
    from cms.models import Member
    from library.models import LibraryItem

    return {
        "wagtailcore/page": admin_world["page_in_county"].pk,
        "cms/lighthouseimage": admin_world["image"].pk,
        "cms/lighthousedocument": admin_world["document"].pk,
        "library/libraryitem": LibraryItem.objects.filter(owning_unit__code="zouping").values_list("pk", flat=True)[0],
        "cms/member": Member.objects.get(username="zouping_editor").pk,
    }


def seeds() -> list[str]:
    """Screens a menu does not link to: add and edit for every page type, one object of each admin model."""
    from django.contrib.contenttypes.models import ContentType
    from django.urls import reverse
    from wagtail.models import Page

    from cms.models import LighthouseDocument, LighthouseImage
    from library.models import ImportBatch, ItemList, LibraryItem
    from media_pipeline.models import TranscodeJob
    from search.models import Promotion, Synonym

    urls = ["/admin/", "/admin/account/", "/admin/pages/", "/admin/pages/search/?q=灯塔", "/admin/not-a-screen/"]
    for page in Page.objects.filter(depth__gt=1).specific().order_by("depth"):
        urls += [f"/admin/pages/{page.pk}/", f"/admin/pages/{page.pk}/edit/", f"/admin/pages/{page.pk}/history/"]
        for page_type in page.specific_class.creatable_subpage_models():
            content_type = ContentType.objects.get_for_model(page_type)
            urls.append(f"/admin/pages/add/{content_type.app_label}/{content_type.model}/{page.pk}/")
    urls.append(f"/admin/pages/{Page.objects.get(slug='about').pk}/workflow_history/")
    for model, prefix in [
        (LighthouseImage, "/admin/images/"),
        (LighthouseDocument, "/admin/documents/edit/"),
    ]:
        for pk in model.objects.values_list("pk", flat=True)[:1]:
            urls.append(f"{prefix}{pk}/")
    for model, name in [
        (LibraryItem, "library_items"),
        (ItemList, "library_lists"),
        (Synonym, "search_synonyms"),
        (Promotion, "search_promotions"),
    ]:
        urls += [reverse(f"{name}:index"), reverse(f"{name}:add")]
        for pk in model.objects.order_by("pk").values_list("pk", flat=True)[:1]:
            urls += [reverse(f"{name}:edit", args=[pk]), reverse(f"{name}:history", args=[pk])]
    for kind in LibraryItem.Kind.values:
        urls.append(reverse("library_items:add") + f"?kind={kind}")
    for role in ("series", "episode", "issue", "article"):
        for pk in LibraryItem.objects.filter(role=role).values_list("pk", flat=True)[:1]:
            urls.append(reverse("library_items:edit", args=[pk]))
    for job in TranscodeJob.objects.order_by("pk")[:2]:
        urls.append(reverse("transcode_jobs:inspect", args=[job.pk]))
    for batch in ImportBatch.objects.all()[:1]:
        urls.append(reverse("library_import:detail", args=[batch.pk]))
    urls += [
        reverse("search_index_chooser:choose"),
        reverse("search_index_chooser:choose") + "?q=党史",
        "/admin/choose-page/",
        "/admin/images/chooser/",
        "/admin/documents/chooser/",
        "/admin/reports/locked/",
        "/admin/reports/workflow/",
        "/admin/reports/workflow_tasks/",
        "/admin/reports/site-history/",
        "/admin/reports/aging-pages/",
        "/admin/reports/page-types-usage/",
    ]
    return urls


EDITORS = ["admin", "sheng_editor", "binzhou_editor", "zouping_editor"]


@pytest.mark.parametrize("username", EDITORS)
def test_every_admin_screen_an_editor_opens_is_in_chinese(admin_world, username):
    """Signed in as the superuser or a province, city or county editor, no admin screen that user can open shows
    English interface text (visible text, placeholders, titles, ARIA labels, alternative text, the sidebar), and
    none answers with a server error."""
    from cms.models import Member

    client = Client(raise_request_exception=False)
    client.force_login(Member.objects.get(username=username))
    walk = Walk(client, data_words(), bulk_ids=bulk_ids(admin_world)).run(seeds())
    assert len(walk.visited) > 40, walk.visited
    assert not walk.failures(), f"{len(walk.failures())} English runs:\n" + "\n".join(walk.failures())
    assert not walk.server_errors(), walk.server_errors()


def test_sign_in_and_password_reset_are_in_chinese(db):
    """Before signing in: the admin's sign-in and password-reset screens are in Chinese."""
    walk = Walk(Client(), set())
    for url in ["/admin/login/", "/admin/password_reset/", "/admin/password_reset/done/"]:
        walk.read(url)
    assert all(status == 200 for status in walk.visited.values()), walk.visited
    assert not walk.failures(), "\n".join(walk.failures())


# Our copies of Wagtail 8.0 templates (cms/templates/wagtailadmin/), each with the Wagtail lines it changes.
COPIED_TEMPLATES = {
    "wagtailadmin/shared/header.html": {
        '<div class="submit w-sr-only"><input type="submit" value="Search" class="button" /></div>'
    },
    "wagtailadmin/shared/headers/_actions.html": {
        '<nav aria-label="Actions" id="w-slim-header-buttons" class="w-flex w-items-center w-ml-2.5 w-gap-1">'
    },
    "wagtailadmin/home.html": {
        "{% block branding_welcome %}{{ site_name }}{% endblock %}",
        '<div class="submit w-sr-only"><input type="submit" value="Search" class="button" /></div>',
    },
    "wagtailadmin/reports/listing/_list_page_types_usage.html": {"{{ page_type.app_label }}.{{ page_type.model }}"},
    "wagtailadmin/tables/cell.html": {"{% if value is not None %}{{ value }}{% endif %}"},
    "wagtailadmin/shared/user_avatar.html": {"{% if not username %}{{ user }}{% else %}{{ username }}{% endif %}"},
    "wagtailadmin/tables/boolean_cell.html": {
        "{% load wagtailadmin_tags %}",
        '{% icon title=value|stringformat:\'s\' name="help" classname="default" %}',
        '{% icon title=value|stringformat:\'s\' name="check" classname="default w-text-positive-100" %}',
        '{% icon title=value|stringformat:\'s\' name="cross" classname="default w-text-text-error" %}',
    },
}


def _content_lines(text: str, *, home: bool) -> set[str]:
    if home:  # our home.html replaces only Wagtail's content block (the blocks after it stay Wagtail's)
        start = text.index("{% block content %}")
        end = text.find("{% block extra_js %}", start)
        text = text[start : end if end >= 0 else None]
    return {line.strip() for line in text.splitlines() if line.strip()}


@pytest.mark.parametrize("name", sorted(COPIED_TEMPLATES))
def test_copied_wagtail_templates_differ_only_where_they_translate(name):
    """Each Wagtail template we copy to translate a string differs from Wagtail's own only in the lines we change:
    when a Wagtail upgrade changes its file, this fails, and the copy is made again from the new one."""
    from pathlib import Path

    import wagtail
    from django.conf import settings

    wagtail_root = Path(wagtail.__file__).parent
    theirs = next(wagtail_root.glob(f"*/templates/{name}")).read_text()
    ours = (Path(settings.BASE_DIR) / "cms" / "templates" / name).read_text()
    home = name == "wagtailadmin/home.html"
    missing = _content_lines(theirs, home=home) - _content_lines(ours, home=home)
    assert missing == COPIED_TEMPLATES[name]
