"""Every reader in a real browser: media made by the real pipeline (in this process), pages from the live server,
Debian's Chromium driven by Playwright. Tiny generated media keep the whole file to a few minutes on two cores."""

import io
import random
import re
import time

import pytest
from django.core.files import File
from django.core.files.base import ContentFile
from django.test import Client
from django.test.testcases import _MediaFilesHandler
from PIL import Image, ImageDraw
from playwright.sync_api import Error as PlaywrightError

from cms.models import LighthouseImage
from library.models import ArticleArea, IssuePage, ItemProgress
from library.selectors import item_url
from media_pipeline.models import MediaAsset, TranscodeJob
from media_pipeline.services import caption_attach, media_asset_create, transcode_job_run
from media_pipeline.synthetic.documents import chinese_epub, chinese_pdf
from media_pipeline.synthetic.media import make_clip
from tests.factories import AudioFactory, EbookFactory, MemberFactory, NewspaperFactory, VideoFactory, province

pytestmark = [pytest.mark.browser]
State = TranscodeJob.State
CAPTIONS = "1\n00:00:00,000 --> 00:00:05,000\n灯塔照亮前路\n"


@pytest.fixture(autouse=True)
def _media_through_our_view(monkeypatch):
    """Django's live server answers /media/ itself (whole files, no signature check). Production serves them through
    media_pipeline's view (signed URLs, byte ranges) or S3: so do these tests, by turning that shortcut off."""
    monkeypatch.setattr(_MediaFilesHandler, "_should_handle", lambda self, path: False)


@pytest.fixture
def unit(transactional_db, django_db_serialized_rollback, library_page):
    # Serialized rollback: the next test again finds Wagtail's root page, which a transactional flush removes.
    return province()


@pytest.fixture
def member(unit):
    return MemberFactory(username="dangyuan", real_name="党员甲", org_unit=unit)


def _signed_in(page, live_server, member) -> None:
    """The browser carries the member's session, as after logging in."""
    client = Client()
    client.force_login(member)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _processed(file: File, groups: list[str], captions: str = "") -> MediaAsset:
    """An uploaded master run through the real pipeline here (analysis, then its groups) until it is ready."""
    asset = media_asset_create(file=file, options={"only_groups": groups})
    if captions:
        caption_attach(asset=asset, file=ContentFile(captions.encode(), name="zh.srt"))
    while job := TranscodeJob.objects.filter(asset=asset, state=State.QUEUED).order_by("pk").first():
        transcode_job_run(job_id=job.pk, worker_id="e2e")
    asset.refresh_from_db()
    assert asset.state == MediaAsset.State.READY, asset.state_error
    return asset


def _clip_file(path) -> File:
    return File(path.open("rb"), name=path.name)


def test_video_plays_with_captions_speed_and_a_heartbeat(live_server, browser_page, unit, member, tmp_path):
    """hls.js plays a series episode (currentTime advances) with captions and speed controls and a next-episode
    link; the page's script puts the episode in the member's history (the GET does not) and the member's progress
    reaches the server while it plays."""
    clip = make_clip(tmp_path / "weike.mp4", size="320x180", seconds=6)
    asset = _processed(_clip_file(clip), ["ladder"], captions=CAPTIONS)
    series = VideoFactory(owning_unit=unit, role="series", title="党史微课")
    episode = VideoFactory(
        owning_unit=unit, role="episode", parent=series, position=1, title="第一集", media_asset=asset
    )
    VideoFactory(owning_unit=unit, role="episode", parent=series, position=2, title="第二集")
    page = browser_page
    _signed_in(page, live_server, member)

    page.goto(live_server.url + item_url(episode))
    page.wait_for_selector("video#player")
    opened = _wait_for(lambda: ItemProgress.objects.filter(member=member, item=episode).first(), page=page)
    assert opened.last_heartbeat_at is None  # written by item.js's POST …/open, before any heartbeat
    page.evaluate("() => { const v = document.getElementById('player'); v.muted = true; return v.play(); }")
    page.wait_for_function(
        "() => { const v = document.getElementById('player');"
        " return v.dataset.state === 'playing' && v.currentTime > 1; }",
        timeout=60_000,
    )
    page.select_option("#speed", "1.5")
    assert page.evaluate("() => document.getElementById('player').playbackRate") == 1.5
    captions = page.locator("#captions")
    captions.wait_for(state="visible")
    assert captions.inner_text() == "字幕：开"
    captions.click()
    assert captions.inner_text() == "字幕：关" and captions.get_attribute("aria-pressed") == "false"
    assert page.locator("#next-episode").inner_text() == "下一集"
    assert page.locator(".episodes [aria-current]").inner_text() == "第一集"

    # Leaving the page sends the last heartbeat (fetch keepalive): the position reaches the member's progress.
    page.goto(live_server.url + "/")
    progress = _wait_for(lambda: ItemProgress.objects.filter(member=member, item=episode, position__gt=0).first())
    assert progress.position > 1


def _wait_for(read, timeout: float = 15, page=None):
    """Poll ``read`` until it returns something. With a page, wait through Playwright: its sync API learns of new
    frames only while it runs, never during a plain sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := read():
            return found
        if page is not None:
            page.wait_for_timeout(250)
        else:
            time.sleep(0.25)
    raise AssertionError("没有等到期望的结果")


def test_audio_programme_plays_and_moves_to_the_next_episode(live_server, browser_page, unit, tmp_path):
    """The audio edition (M4A) plays in a plain <audio>; 下一集 switches to the next episode in the same element,
    and the lock-screen (Media Session) title follows."""
    series = AudioFactory(owning_unit=unit, role="series", title="有声党课")
    episodes = []
    for number, tone in ((1, 440), (2, 660)):
        clip = make_clip(tmp_path / f"lesson{number}.m4a", seconds=3, video=False, tone_hz=tone)
        asset = _processed(_clip_file(clip), ["audio_edition"])
        episodes.append(
            AudioFactory(
                owning_unit=unit,
                role="episode",
                parent=series,
                position=number,
                title=f"第{number}讲",
                media_asset=asset,
            )
        )
    page = browser_page
    page.goto(live_server.url + item_url(episodes[0]))
    page.wait_for_selector("#audio-player")
    page.evaluate("() => { const a = document.getElementById('audio'); a.muted = true; return a.play(); }")
    page.wait_for_function(
        "() => { const a = document.getElementById('audio');"
        " return a.dataset.state === 'playing' && a.currentTime > 0.3; }"
    )
    assert ".m4a" in page.evaluate("() => document.getElementById('audio').currentSrc")
    page.click("#audio-next")
    page.wait_for_function(
        f"() => {{ const a = document.getElementById('audio'); return a.dataset.item === '{episodes[1].pk}'"
        " && !a.paused && a.currentTime > 0.3; }"
    )
    assert page.locator("#now-playing").inner_text() == "第2讲"
    assert page.locator(".playlist [aria-current]").inner_text() == "第2讲"
    assert page.evaluate("() => navigator.mediaSession.metadata.title") == "第2讲"
    assert page.url.endswith(item_url(episodes[1]))  # the address follows, so a reload keeps the episode


def _padded_pdf() -> bytes:
    """chinese_pdf() plus an incremental update holding 300 KB of filler: big enough that pdf.js reads it by ranges
    (it fetches whole any file under two 64 KB chunks), with the page objects near the start and the xref at the end."""
    base = chinese_pdf()
    previous_xref = int(re.search(rb"startxref\n(\d+)", base).group(1))
    size = int(re.search(rb"/Size (\d+)", base).group(1))
    filler = random.Random(4).randbytes(300_000)
    body = f"{size} 0 obj\n<< /Length {len(filler)} >>\nstream\n".encode() + filler + b"\nendstream\nendobj\n"
    xref_at = len(base) + len(body)
    tail = (
        f"xref\n{size} 1\n{len(base):010d} 00000 n \ntrailer\n<< /Size {size + 1} /Root 1 0 R /Info 10 0 R "
        f"/Prev {previous_xref} >>\nstartxref\n{xref_at}\n%%EOF\n"
    )
    return base + body + tail.encode()


def test_pdf_opens_by_range_requests_and_renders_page_one(live_server, browser_page, unit):
    """For who may download, pdf.js reads the signed master with HTTP range requests (206) and draws page 1 on a
    canvas; 下一页 turns."""
    asset = _processed(ContentFile(_padded_pdf(), name="shouce.pdf"), ["document"])
    book = EbookFactory(owning_unit=unit, title="灯塔学习手册", media_asset=asset, download="readers")
    page, statuses = browser_page, []
    page.on("response", lambda response: statuses.append(response.status) if "/uploads/" in response.url else None)
    page.goto(live_server.url + item_url(book))
    page.dispatch_event("#pdf-reader", "pointerdown")  # pdf.js waits for the member's touch (reader-controls.mjs)
    page.wait_for_selector("#pdf-reader[data-state=rendered]")
    inked = page.evaluate(
        """() => { const c = document.querySelector('#pdf-reader canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 160 && d[i + 3] > 0) n++; return n; }"""
    )
    assert inked > 200  # the text of page 1 (STSong-Light through pdf.js's CMaps and a system CJK font)
    assert 206 in statuses
    assert page.locator("#pdf-reader .page-count").inner_text() == "3"
    page.click("[data-pdf=next]")
    page.wait_for_selector("#pdf-reader[data-page='2']")
    page.click(".document-toc [data-goto-page='3']")  # the outline from the pipeline
    page.wait_for_selector("#pdf-reader[data-page='3']")


def test_pdf_page_reader_for_readers_without_the_download_right(live_server, browser_page, unit, member):
    """A member who may read but not download a PDF reads its page images: page 1 shows, 下一页, the outline and the
    page box turn pages, the saved place comes back on the next visit, and no request ever asks for the master."""
    asset = _processed(ContentFile(chinese_pdf(), name="shouce.pdf"), ["document"])
    book = EbookFactory(owning_unit=unit, title="灯塔学习手册", media_asset=asset, access="members", download="none")
    page, requested = browser_page, []
    page.on("request", lambda request: requested.append(request.url))
    _signed_in(page, live_server, member)
    page.goto(live_server.url + item_url(book))
    page.wait_for_selector("#pdf-reader[data-state=rendered][data-page='1']")
    assert page.evaluate("() => document.querySelector('#pdf-reader img').naturalWidth") > 0
    assert page.locator("#pdf-reader .page-count").inner_text() == "3"
    page.click("[data-pdf=next]")
    page.wait_for_selector("#pdf-reader[data-state=rendered][data-page='2']")
    page.click(".document-toc [data-goto-page='3']")
    page.wait_for_selector("#pdf-reader[data-state=rendered][data-page='3']")
    page.keyboard.press("Home")
    page.wait_for_selector("#pdf-reader[data-state=rendered][data-page='1']")
    page.fill("#pdf-reader input[name=page]", "2")
    page.dispatch_event("#pdf-reader input[name=page]", "change")
    page.wait_for_selector("#pdf-reader[data-state=rendered][data-page='2']")
    page.goto(live_server.url + "/")  # leaving sends the last heartbeat with the page reached
    _wait_for(lambda: ItemProgress.objects.filter(member=member, item=book, position=2).exists())
    page.goto(live_server.url + item_url(book))  # back at page 2 (the last page would count as finished)
    page.wait_for_selector("#pdf-reader[data-state=rendered][data-page='2']")
    assert any("/renditions/" in url for url in requested)
    assert not [url for url in requested if "/uploads/" in url or "/read/" in url]


def test_epub_shows_its_chapter_text_and_runs_no_book_script(live_server, browser_page, unit, tmp_path):
    """foliate-js opens the EPUB part by part (no download right: the .epub itself is never fetched); choosing a
    chapter in the contents shows its text; the book's <script> never runs."""
    asset = _processed(_clip_file(chinese_epub(tmp_path / "duben.epub")), ["document"])
    book = EbookFactory(owning_unit=unit, title="灯塔学习读本", media_asset=asset)
    page, dialogs, requested = browser_page, [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + item_url(book))
    page.wait_for_selector("#epub-reader[data-state=ready]")
    page.click("#epub-toc-list a:has-text('第一章 灯塔')")
    _wait_for(
        lambda: any("灯塔照亮前路" in _text(frame) for frame in page.frames if frame != page.main_frame), page=page
    )
    page.wait_for_function("() => document.getElementById('epub-reader').dataset.chapter === '第一章 灯塔'")
    assert dialogs == []
    assert any(f"/library-files/items/{book.pk}/epub/" in url and url.endswith(".xhtml") for url in requested)
    assert not [url for url in requested if "/uploads/" in url or "/read/" in url]


def test_epub_master_reader_for_who_may_download(live_server, browser_page, unit, tmp_path):
    """Who may download the book still opens the whole .epub in foliate-js through the reading link."""
    asset = _processed(_clip_file(chinese_epub(tmp_path / "duben.epub")), ["document"])
    book = EbookFactory(owning_unit=unit, title="灯塔学习读本", media_asset=asset, download="readers")
    page, requested = browser_page, []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + item_url(book))
    page.wait_for_selector("#epub-reader[data-state=ready]")
    assert any("/uploads/" in url for url in requested)
    assert not [url for url in requested if "/epub/" in url and "/library-files/" in url]


def _text(frame) -> str:
    try:
        # Bounded: a frame the paginator is replacing may never answer an evaluate.
        return frame.locator("body").text_content(timeout=1000) or ""
    except PlaywrightError:  # a frame replaced (detached) while we looked
        return ""


def _page_image(unit) -> LighthouseImage:
    """A 600×900 newspaper page with two printed blocks where the article areas are."""
    picture = Image.new("RGB", (600, 900), "white")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((30, 30, 570, 420), outline="black", width=4)
    draw.rectangle((30, 480, 570, 870), outline="black", width=4)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return LighthouseImage.objects.create(
        title="第01版", file=ContentFile(buffer.getvalue(), name="ban01.png"), collection=unit.collection
    )


def test_newspaper_page_areas_open_their_articles(live_server, browser_page, unit):
    """On a 版面, clicking an article's area opens the article's text; the other area is reached by keyboard."""
    title = NewspaperFactory(owning_unit=unit, role="series", title="灯塔日报")
    issue = NewspaperFactory(owning_unit=unit, role="issue", parent=title, title="灯塔日报", issued="2026-07-01")
    first = NewspaperFactory(
        owning_unit=unit, role="article", parent=issue, title="头条新闻", body="<p>头条正文：灯塔照亮前路。</p>"
    )
    second = NewspaperFactory(
        owning_unit=unit, role="article", parent=issue, title="理论文章", body="<p>理论正文：不忘初心。</p>"
    )
    ban = IssuePage.objects.create(issue=issue, number=1, name="要闻", image=_page_image(unit))
    ArticleArea.objects.create(page=ban, article=first, points=[[0.05, 0.03], [0.95, 0.03], [0.95, 0.47], [0.05, 0.47]])
    ArticleArea.objects.create(
        page=ban, article=second, points=[[0.05, 0.53], [0.95, 0.53], [0.95, 0.97], [0.05, 0.97]]
    )
    page = browser_page

    page.goto(live_server.url + item_url(issue))
    assert page.locator(".page-articles a").all_inner_texts() == ["头条新闻", "理论文章"]  # the text view
    page.locator("svg a.article-area").first.click()
    page.wait_for_url("**" + item_url(first))
    assert "头条正文：灯塔照亮前路。" in page.locator(".article-body").inner_text()

    page.goto(live_server.url + item_url(issue))
    page.locator("svg a.article-area").nth(1).focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**" + item_url(second))
    assert "理论正文：不忘初心。" in page.locator(".article-body").inner_text()
