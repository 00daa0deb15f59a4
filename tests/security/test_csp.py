"""Content-Security-Policy (issue 11, item 10): every public page type answers with a policy that allows scripts only
from our own origin (no 'unsafe-inline', no eval), and its HTML has no inline executable script, no inline event
handler and no inline style attribute for the policy to break. The Wagtail admin is excluded from the policy (its
own inline scripts); item pages add only what the readers need."""

from html.parser import HTMLParser

import pytest
from django.core.files.base import ContentFile
from wagtail.models import Page

from cms.models import OrgUnit
from cms.services import member_create
from cms.settings.base import s3_origins
from library.models import LibraryItem
from library.selectors import item_url
from media_pipeline.models import MediaAsset, Rendition, TranscodeJob
from media_pipeline.services import media_asset_create, transcode_job_run
from media_pipeline.synthetic.documents import chinese_epub, chinese_pdf

pytestmark = pytest.mark.django_db

DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}  # data, never executed


class _InlineFinder(HTMLParser):
    """Collects what a strict policy would block: inline scripts, on* handlers, javascript: URLs, style attributes."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            executable = (attributes.get("type") or "").lower() not in DATA_SCRIPT_TYPES
            self._inline_script = executable and not attributes.get("src")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name == "style":
                self.problems.append(f"<{tag} style=…>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "style":
            self.problems.append("<style>")

    def handle_data(self, data):
        if self._inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._inline_script = False


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def _assert_strict_page(client, url: str) -> dict[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    assert "Content-Security-Policy" in response, url
    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"], url
    assert policy["script-src"][0] == "'self'" and "'unsafe-inline'" not in policy["script-src"], url
    assert "'unsafe-eval'" not in policy["script-src"] and "'strict-dynamic'" not in policy["script-src"], url
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"], url
    assert policy["frame-ancestors"] == ["'self'"] and policy["form-action"] == ["'self'"], url
    assert policy["worker-src"] == ["'self'", "blob:"], url
    finder = _InlineFinder()
    finder.feed(response.content.decode())
    assert finder.problems == [], (url, finder.problems)
    return policy


def _document_asset(data: bytes, name: str) -> MediaAsset:
    asset = media_asset_create(file=ContentFile(data, name=name), options={"only_groups": ["document"]})
    while job := TranscodeJob.objects.filter(asset=asset, state=TranscodeJob.State.QUEUED).order_by("pk").first():
        transcode_job_run(job_id=job.pk, worker_id="test")
    asset.refresh_from_db()
    return asset


def test_site_pages_have_a_strict_policy_and_no_inline_script(client, demo):
    """Home, every editorial page type, the library, 我的图书馆 and the search page (with results): script-src
    'self' without 'unsafe-inline', style-src 'self' only, and nothing inline in the HTML."""
    urls = ["/", "/library/", "/search/?q=灯塔", "/search/?q=zzzz-nothing"]
    for model in {type(page) for page in Page.objects.live().filter(depth__gt=1).specific()}:
        urls.append(model.objects.live().first().url)
    for url in urls:
        policy = _assert_strict_page(client, url)
        assert policy["style-src"] == ["'self'"], url
    client.force_login(
        member_create(username="dy", password="pw-123456", real_name="党员", org_unit=OrgUnit.objects.first())
    )
    assert _assert_strict_page(client, "/library/me/")["style-src"] == ["'self'"]


def _ready_asset(kind: str, renditions: list[tuple[str, str, str]]) -> MediaAsset:
    asset = MediaAsset.objects.create(file=f"uploads/2026/01/{kind}.bin", kind=kind, state="ready")
    job = TranscodeJob.objects.create(asset=asset, state=TranscodeJob.State.DONE)
    for profile, rendition_kind, path in renditions:
        Rendition.objects.create(asset=asset, job=job, profile=profile, kind=rendition_kind, path=path)
    return asset


def _every_kind_of_item(unit, tmp_path) -> list[tuple[str, LibraryItem]]:
    """(what, item) for each page type: players with media ready, both readers, series, issues and articles."""

    def new(**fields) -> LibraryItem:
        return LibraryItem.objects.create(owning_unit=unit, **{"title": "灯塔", **fields})

    video = _ready_asset("video", [("hls_web", "hls", "r/v/hls/master.m3u8"), ("poster", "poster", "r/v/p.jpg")])
    audio = _ready_asset("audio", [("audio_m4a", "audio", "r/a/audio.m4a")])
    epub_bytes = chinese_epub(tmp_path / "book.epub").read_bytes()
    video_series = new(kind="video", role="series")
    audio_series = new(kind="audio", role="series")
    periodical = new(kind="periodical", role="series")
    newspaper = new(kind="newspaper", role="series")
    issue = new(kind="newspaper", role="issue", parent=newspaper)
    return [
        ("video", new(kind="video", media_asset=video)),
        ("video series", video_series),
        ("video episode", new(kind="video", role="episode", parent=video_series, media_asset=video)),
        ("audio", new(kind="audio", media_asset=audio)),
        ("audio episode", new(kind="audio", role="episode", parent=audio_series, media_asset=audio)),
        ("article", new(kind="article", body="<p>正文</p>")),
        ("pdf e-book", new(kind="ebook", media_asset=_document_asset(chinese_pdf(), "book.pdf"))),
        ("epub e-book", new(kind="ebook", media_asset=_document_asset(epub_bytes, "book.epub"))),
        ("periodical", periodical),
        ("periodical issue", new(kind="periodical", role="issue", parent=periodical)),
        ("newspaper", newspaper),
        ("newspaper issue", issue),
        ("newspaper article", new(kind="newspaper", role="article", parent=issue, body="<p>要闻</p>")),
    ]


def test_every_kind_of_item_page_and_reader_has_the_policy(client, demo, local_media, tmp_path):
    """Every kind and role of item page (video and audio players with media ready, PDF and EPUB readers, the text
    version, series, issues, articles): the site policy with scripts from 'self' only; the readers' additions are
    styles for books (inline and blob:), blob: frames for EPUB chapters and WebAssembly for pdf.js, never inline
    script."""
    items = _every_kind_of_item(OrgUnit.objects.get(code="shandong"), tmp_path)
    pages = dict(items)
    urls = [item_url(item) for _what, item in items] + [f"{item_url(pages['pdf e-book'])}?view=text&part=1"]
    for url in urls:
        policy = _assert_strict_page(client, url)
        assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"], url
        assert policy["frame-src"] == ["'self'", "blob:"], url
    players = {what: client.get(item_url(pages[what])).content.decode() for what in ("video", "audio", "pdf e-book")}
    assert 'id="player"' in players["video"] and "hls.min.js" in players["video"]
    assert 'id="audio-player"' in players["audio"] and 'id="pdf-reader"' in players["pdf e-book"]
    assert 'id="epub-reader"' in client.get(item_url(pages["epub e-book"])).content.decode()


def test_the_wagtail_admin_is_excluded_from_the_policy(client):
    """The admin runs Wagtail's own inline scripts, so it is excluded (EXCLUDE_URL_PREFIXES), not loosened for all."""
    response = client.get("/admin/login/")
    assert response.status_code == 200 and "Content-Security-Policy" not in response


def test_s3_origins_cover_path_and_virtual_host_style_urls():
    """With S3 configured, presigned media URLs are on the bucket's host: the endpoint in both addressing styles, a
    custom domain, or AWS's own hosts; none without a bucket."""
    assert s3_origins(bucket="", endpoint_url="http://127.0.0.1:9000", custom_domain="", region="") == []
    assert s3_origins(bucket="media", endpoint_url="http://127.0.0.1:9000", custom_domain="", region="") == [
        "http://127.0.0.1:9000",
        "http://media.127.0.0.1:9000",
    ]
    assert s3_origins(bucket="media", endpoint_url="", custom_domain="cdn.example.cn", region="cn-north-1") == [
        "https://cdn.example.cn",
        "https://media.s3.amazonaws.com",
        "https://media.s3.cn-north-1.amazonaws.com",
    ]
