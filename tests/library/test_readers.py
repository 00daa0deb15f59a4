"""Item pages and protected file links: every kind gets its reader, and nobody learns of an item they may not open."""

import io
import json
import os
import re
import time
import uuid
import zipfile
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from cms.models import LighthouseImage
from cms.services import member_create
from library.models import ArticleArea, IssuePage, ItemProgress, LibraryItem
from library.selectors import item_url
from library.site.readers import episode_window, polygon_points, reader_context
from media_pipeline.models import MediaAsset, TranscodeJob
from media_pipeline.services import media_asset_create, transcode_job_run
from media_pipeline.synthetic.documents import chinese_epub, chinese_pdf
from tests.factories import AudioFactory, EbookFactory, LibraryItemFactory, NewspaperFactory, VideoFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("library_page")]
State = TranscodeJob.State


@pytest.fixture
def member(unit):
    return member_create(username="dangyuan", password="pw-123456", real_name="党员甲", org_unit=unit)


def _document_asset(data: bytes, name: str) -> MediaAsset:
    """A document through the real pipeline (analysis, then the document group), in this process."""
    asset = media_asset_create(file=ContentFile(data, name=name), options={"only_groups": ["document"]})
    while job := TranscodeJob.objects.filter(asset=asset, state=State.QUEUED).order_by("pk").first():
        transcode_job_run(job_id=job.pk, worker_id="test")
    asset.refresh_from_db()
    assert asset.state == MediaAsset.State.READY, asset.state_error
    return asset


def _page(client, item, **params):
    response = client.get(item_url(item), params)
    return response, response.content.decode() if response.status_code == 200 else ""


def test_members_only_item_and_its_files_are_404_for_outsiders(client, unit, member):
    """An anonymous visitor gets 404 for a members-only item's read link and download link alike; its page only asks
    them to sign in (issue 13: title and cover, no reader or file link)."""
    asset = _document_asset(chinese_pdf(), "book.pdf")
    book = EbookFactory(owning_unit=unit, title="党员手册", access="members", download="readers", media_asset=asset)
    prompt = client.get(item_url(book)).content.decode()
    assert "请登录后阅读" in prompt and "/library-files/" not in prompt
    assert client.get(f"/library-files/items/{book.pk}/read/").status_code == 404
    assert client.get(f"/library-files/items/{book.pk}/download/").status_code == 404
    assert client.get("/library-files/items/999999/read/").status_code == 404  # the same answer as no item
    client.force_login(member)
    assert client.get(item_url(book)).status_code == 200
    assert client.get(f"/library-files/items/{book.pk}/read/").status_code == 302


def test_download_only_where_the_item_allows_it(local_media, client, unit, member):
    """No 下载 button and a 404 when downloads are off; on, a 302 to a signed attachment URL that serves the file."""
    asset = _document_asset(chinese_pdf(), "book.pdf")
    book = EbookFactory(owning_unit=unit, title="学习读本", download="none", media_asset=asset)
    _response, html = _page(client, book)
    assert "下载" not in html
    assert client.get(f"/library-files/items/{book.pk}/download/").status_code == 404

    LibraryItem.objects.filter(pk=book.pk).update(download="members")
    assert client.get(f"/library-files/items/{book.pk}/download/").status_code == 404  # members only
    client.force_login(member)
    _response, html = _page(client, book)
    assert f'href="/library-files/items/{book.pk}/download/"' in html
    response = client.get(f"/library-files/items/{book.pk}/download/")
    assert response.status_code == 302 and "no-cache" in response["Cache-Control"]
    assert "response-content-disposition=attachment" in response["Location"] and "&s=" in response["Location"]
    file_response = client.get(response["Location"])
    assert file_response.status_code == 200
    assert "attachment" in file_response["Content-Disposition"]
    assert b"".join(file_response.streaming_content).startswith(b"%PDF")


def test_read_link_signs_documents_only(local_media, client, unit):
    """For who may download, the read link redirects to a fresh signed URL of a document, served inline and never
    cached; it never hands out a video's master."""
    asset = _document_asset(chinese_pdf(), "book.pdf")
    book = EbookFactory(owning_unit=unit, title="读本", media_asset=asset, download="readers")
    response = client.get(f"/library-files/items/{book.pk}/read/")
    assert response.status_code == 302 and re.search(r"/media/uploads/.+\?e=\d+&s=", response["Location"])
    ranged = client.get(response["Location"], HTTP_RANGE="bytes=0-4")
    assert ranged.status_code == 206 and b"".join(ranged.streaming_content) == b"%PDF-"
    assert ranged["Content-Disposition"] == "inline" and "no-store" in ranged["Cache-Control"]

    video_asset = MediaAsset.objects.create(file="uploads/2026/01/clip.mp4", kind=MediaAsset.Kind.VIDEO)
    video = VideoFactory(owning_unit=unit, title="微课", media_asset=video_asset, download="none")
    assert client.get(f"/library-files/items/{video.pk}/read/").status_code == 404


def test_pdf_ebook_page_has_the_reader_outline_and_text_version(local_media, client, unit):
    """A PDF e-book anyone may download opens in the pdf.js reader with its signed master URL and outline; the 文字版
    shows a page's text."""
    asset = _document_asset(chinese_pdf(), "book.pdf")
    book = EbookFactory(owning_unit=unit, title="灯塔学习手册", media_asset=asset, download="readers")
    response, html = _page(client, book)
    assert 'id="pdf-reader"' in html and "pdf.worker.min.mjs" in html and "cmaps/" in html
    assert re.search(r'data-url="/media/uploads/[^"]+\?e=\d+&amp;s=', html)
    assert "第一章 序言" in html and 'data-goto-page="2"' in html  # the outline, from the pipeline
    assert "script-src 'self'" in response["Content-Security-Policy"]
    _response, text = _page(client, book, view="text", part=2)
    assert "第二页 灯塔照亮前路" in text and "第一页 序言" not in text
    assert "?view=text&amp;part=3" in text and "?view=text&amp;part=1" in text  # next and previous parts
    _response, clamped = _page(client, book, view="text", part=99)
    assert "第三页 结语" in clamped  # past the end: the last page, not an error


def test_epub_ebook_gets_the_epub_reader_and_chapter_text(client, unit, tmp_path):
    """An EPUB opens in the foliate-js reader (by its parts for a reader without the download right); its 文字版
    goes chapter by chapter, without the book's script."""
    path = chinese_epub(tmp_path / "book.epub")
    asset = _document_asset(path.read_bytes(), "book.epub")
    book = EbookFactory(owning_unit=unit, title="灯塔学习读本", media_asset=asset)
    _response, html = _page(client, book)
    assert 'id="epub-reader"' in html and "foliate-js/view.js" in html and "pdf-reader" not in html
    assert 'data-source="parts"' in html and f'data-parts-url="/library-files/items/{book.pk}/epub/"' in html
    assert "/uploads/" not in html and "data-read-url" not in html
    _response, text = _page(client, book, view="text", part=1)
    assert "灯塔照亮前路" in text and "第一章 灯塔" in text and "alert(1)" not in text


def test_newspaper_page_draws_areas_of_readable_articles_only(client, unit, member):
    """A 版面 shows one focusable polygon link per article the visitor may open; a broken area is skipped."""
    title = NewspaperFactory(owning_unit=unit, role="series", title="灯塔日报")
    issue = NewspaperFactory(owning_unit=unit, role="issue", title="灯塔日报", parent=title, number="第100期")
    public = NewspaperFactory(owning_unit=unit, role="article", parent=issue, title="要闻一则", body="<p>全文。</p>")
    private = NewspaperFactory(owning_unit=unit, role="article", parent=issue, title="内部通知", access="members")
    image = _image(unit)
    page = IssuePage.objects.create(issue=issue, number=1, name="要闻", image=image)
    ArticleArea.objects.create(page=page, article=public, points=[[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5]])
    ArticleArea.objects.create(page=page, article=private, points=[[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1]])
    ArticleArea.objects.create(page=page, article=public, points=[[0, 0], [2, 2]])  # broken: skipped
    _response, html = _page(client, issue)
    assert 'viewBox="0 0 1 1"' in html and html.count("<polygon") == 1
    assert "要闻一则" in html and "内部通知" not in html
    assert "0.00000,0.00000 0.50000,0.00000" in html
    client.force_login(member)
    _response, html = _page(client, issue)
    assert html.count("<polygon") == 2 and "内部通知" in html
    _response, article = _page(client, public)
    assert "全文。" in article and f"{item_url(issue)}?p=1" in article  # back to the 版面 it is printed on


def _image(unit) -> LighthouseImage:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 600), (240, 240, 230)).save(buffer, "PNG")
    return LighthouseImage.objects.create(
        title="版面", file=ContentFile(buffer.getvalue(), name="page1.png"), collection=unit.collection
    )


def test_newspaper_title_lists_issues_newest_first_by_page(client, unit):
    """A newspaper title lists its issues by date, newest first, 48 to a page."""
    title = NewspaperFactory(owning_unit=unit, role="series", title="灯塔日报")
    for day in range(1, 51):
        issued = f"2026-01-{day % 28 + 1:02d}"
        NewspaperFactory(owning_unit=unit, role="issue", title="灯塔日报", parent=title, issued=issued, position=day)
    _response, html = _page(client, title)
    assert "2026年1月28日" in html and html.index("2026年1月28日") < html.index("2026年1月27日")
    assert "?p=2" in html
    _response, second = _page(client, title, p=2)
    assert "2026年1月1日" in second or "2026年1月2日" in second


def test_series_lists_its_visible_episodes_in_order(client, unit):
    """A series page lists its episodes by position and leaves out unpublished or members-only ones."""
    series = VideoFactory(owning_unit=unit, role="series", title="党史微课")
    for position, (name, extra) in enumerate(
        [("第二集", {}), ("第一集", {}), ("草稿", {"is_published": False}), ("内部", {"access": "members"})]
    ):
        VideoFactory(
            owning_unit=unit, role="episode", parent=series, title=name, position=[2, 1, 3, 4][position], **extra
        )
    _response, html = _page(client, series)
    assert html.index("第一集") < html.index("第二集") and "草稿" not in html and "内部" not in html


def test_episode_window_is_the_series_around_the_current_episode(unit):
    """The playlist holds the visible episodes in order around the current one, at most `size` each side."""
    series = AudioFactory(owning_unit=unit, role="series", title="有声党课")
    episodes = [
        AudioFactory(owning_unit=unit, role="episode", parent=series, title=f"第{n}讲", position=n) for n in range(1, 8)
    ]
    AudioFactory(owning_unit=unit, role="episode", parent=series, title="内部", position=4, access="members")

    window, current = episode_window(item=episodes[3], user=AnonymousUser(), size=2)
    assert [episode.title for episode in window] == ["第2讲", "第3讲", "第4讲", "第5讲", "第6讲"] and current == 2
    alone = AudioFactory(owning_unit=unit, title="单独节目")
    assert episode_window(item=alone, user=AnonymousUser()) == ([alone], 0)


def test_audio_page_offers_the_playlist_with_media_session_data(client, unit):
    """An audio episode's page carries the series playlist as JSON for the player (title, album, page URLs)."""
    series = AudioFactory(owning_unit=unit, role="series", title="有声党课")
    first = AudioFactory(owning_unit=unit, role="episode", parent=series, title="第一讲", position=1)
    AudioFactory(owning_unit=unit, role="episode", parent=series, title="第二讲", position=2)
    asset = MediaAsset.objects.create(file="uploads/2026/01/a.m4a", kind=MediaAsset.Kind.AUDIO)
    LibraryItem.objects.filter(pk=first.pk).update(media_asset=asset)
    _response, html = _page(client, first)
    assert "排队中" in html and 'id="audio-player"' not in html  # nothing to play yet: the state, no player
    first.refresh_from_db()
    context = reader_context(item=first, user=AnonymousUser())
    assert [entry["title"] for entry in context["playlist"]] == ["第一讲", "第二讲"]
    assert context["playlist"][0]["album"] == "有声党课" and context["playlist"][1]["url"].endswith(
        f"/item/{context['playlist'][1]['id']}/"
    )
    json.dumps(context["playlist"])  # the template embeds it with json_script


def test_rendition_state_is_shown_while_media_are_being_made(client, unit):
    """A video whose renditions are still being made shows “转码中 45%” instead of a player."""
    asset = MediaAsset.objects.create(file="uploads/2026/01/v.mp4", kind=MediaAsset.Kind.VIDEO)
    analysis = TranscodeJob.objects.create(asset=asset, state=State.DONE, progress=1)
    TranscodeJob.objects.create(asset=asset, parent=analysis, group="ladder", state=State.ENCODING, progress=0.42)
    video = VideoFactory(owning_unit=unit, title="正在转码的视频", media_asset=asset)
    _response, html = _page(client, video)
    assert "转码中 45%" in html and 'id="player"' not in html


def test_article_page_related_items_rights_and_history(client, unit, member):
    """An article shows its rich text, the related items the visitor may open, the rights note; opening it signed in
    puts it in the member's history, through the POST its page makes when it loads (the GET itself writes nothing)."""
    other = LibraryItemFactory(owning_unit=unit, title="相关文章")
    hidden = LibraryItemFactory(owning_unit=unit, title="内部相关", access="members")
    article = LibraryItemFactory(
        owning_unit=unit, title="主文章", body="<p>正文<b>加粗</b></p>", rights_note="本文版权归灯塔所有"
    )
    article.related_items.set([other, hidden])
    _response, html = _page(client, article)
    assert "正文<b>加粗</b>" in html and "相关文章" in html and "内部相关" not in html
    assert "本文版权归灯塔所有" in html and 'data-text-size="1"' in html
    assert not ItemProgress.objects.exists()  # anonymous visits leave no history
    client.force_login(member)
    _response, html = _page(client, article)
    assert not ItemProgress.objects.exists() and f'data-opened-item="{article.pk}"' in html
    assert client.post(f"/api/v1/library/items/{article.pk}/open").status_code == 200  # what item.js sends
    assert ItemProgress.objects.filter(member=member, item=article).exists()


def test_polygon_points_accepts_only_polygons_inside_the_page():
    """Areas become SVG points; fewer than three points, values outside 0–1 or junk give nothing."""
    assert polygon_points([[0, 0], [1, 0], [1, 1]]) == "0.00000,0.00000 1.00000,0.00000 1.00000,1.00000"
    assert polygon_points([[0, 0], [1, 1]]) == ""
    assert polygon_points([[0, 0], [1, 0], [1, 1.5]]) == ""
    assert polygon_points("junk") == "" and polygon_points(None) == ""


def test_related_falls_back_to_the_same_class_and_never_repeats_the_episode_list(client, unit):
    """Without editor's picks an item suggests others of its 中图法 class (an episode: its series' class); an
    episode's siblings are left to the episode list."""
    series = VideoFactory(owning_unit=unit, role="series", title="党史微课", clc="D2")
    episode = VideoFactory(owning_unit=unit, role="episode", parent=series, title="第一集", position=1)
    VideoFactory(owning_unit=unit, role="episode", parent=series, title="第二集", position=2)
    EbookFactory(owning_unit=unit, title="党的建设读本", clc="D2")
    EbookFactory(owning_unit=unit, title="文学作品", clc="I2")
    _response, html = _page(client, episode)
    related = html[html.index('id="related-title"') :]
    assert "党的建设读本" in related and "文学作品" not in related and "第二集" not in related


def _lost(image: LighthouseImage) -> LighthouseImage:
    """The image row stays but its original file is gone from storage (a failed restore, a bucket clean-up)."""
    image.file.storage.delete(image.file.name)
    return image


def test_missing_cover_file_gives_no_artwork_instead_of_a_500(client, unit):
    """A series cover whose original file is missing leaves the lock-screen artwork empty; the page still opens."""
    series = AudioFactory(owning_unit=unit, role="series", title="有声党课", cover=_lost(_image(unit)))
    episode = AudioFactory(owning_unit=unit, role="episode", parent=series, title="第一讲", position=1)
    asset = MediaAsset.objects.create(file="uploads/2026/01/a.m4a", kind=MediaAsset.Kind.AUDIO)
    LibraryItem.objects.filter(pk=episode.pk).update(media_asset=asset)
    episode.refresh_from_db()
    assert reader_context(item=episode, user=AnonymousUser())["playlist"][0]["artwork"] == ""
    response, _html = _page(client, episode)
    assert response.status_code == 200


def test_area_editor_opens_for_a_page_whose_image_file_is_missing(client, unit):
    """The admin 文章区域 editor of a 版面 whose image file is gone answers 200 (with its no-image notice), not 500."""
    title = NewspaperFactory(owning_unit=unit, role="series", title="灯塔日报")
    issue = NewspaperFactory(owning_unit=unit, role="issue", title="灯塔日报", parent=title)
    page = IssuePage.objects.create(issue=issue, number=1, name="要闻", image=_lost(_image(unit)))
    admin = get_user_model().objects.create_superuser(username="root", email="root@example.com", password="pw")
    client.force_login(admin)
    response = client.get(f"/admin/library_issue_pages/areas/{page.pk}/")
    assert response.status_code == 200 and response.context["image_url"] == ""


# --- Reading is not downloading (issue 11, item 5) ---------------------------------------------------------------


def _bytes(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_read_only_member_never_gets_the_pdf_master(local_media, client, unit, member):
    """A member who may read but not download a PDF (download "none") gets no master: the read link is 404 with any
    parameter, the page embeds no master URL and uses the page reader, and the API's file_url is empty. Before the
    fix the read link redirected them to the signed master and the page embedded its URL."""
    asset = _document_asset(chinese_pdf(), "book.pdf")
    book = EbookFactory(owning_unit=unit, title="党员手册", access="members", download="none", media_asset=asset)
    client.force_login(member)
    for query in ("", "?dl=book.pdf", "?download=1", "?response-content-disposition=attachment", "?whole=1"):
        assert client.get(f"/library-files/items/{book.pk}/read/{query}").status_code == 404, query
    _response, html = _page(client, book)
    assert asset.file.name not in html and "/media/uploads/" not in html and "data-read-url" not in html
    assert 'data-source="pages"' in html and f'data-pages-url="/library-files/items/{book.pk}/pages/"' in html
    assert "page-reader.mjs" in html and "pdf.worker.mjs" not in html
    assert 'data-goto-page="2"' in html  # the outline still works with pages
    for api in (f"/api/v1/library/items/{book.pk}", f"/api/v1/library/items/{book.pk}/renditions"):
        answer = client.get(api).content.decode()
        assert asset.file.name not in answer and "/media/uploads/" not in answer, api
    assert client.get(f"/api/v1/library/items/{book.pk}/renditions").json()["document"]["file_url"] == ""


def test_page_reader_gets_signed_expiring_page_images_at_every_width(local_media, client, unit, member):
    """The page reader's JSON lists each page with an image per width the pipeline made (srcset), as signed URLs
    valid for about an hour that serve JPEGs; an altered or expired signature is refused; outsiders get 404."""
    asset = _document_asset(chinese_pdf(), "book.pdf")
    book = EbookFactory(owning_unit=unit, title="党员手册", access="members", download="none", media_asset=asset)
    assert client.get(f"/library-files/items/{book.pk}/pages/").status_code == 404  # anonymous: not readable
    client.force_login(member)
    response = client.get(f"/library-files/items/{book.pk}/pages/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    data = response.json()
    assert data["page_count"] == 3 and [page["number"] for page in data["pages"]] == [1, 2, 3]
    images = data["pages"][0]["images"]
    assert [image["width"] for image in images] == [400, 1600]
    for image in images:
        url = image["url"]
        assert url.startswith("/media/renditions/") and "/uploads/" not in url
        query = parse_qs(urlsplit(url).query)
        assert int(query["e"][0]) - time.time() <= 3600 + 600  # expires within the hour (rounded up)
        served = client.get(url)
        assert served.status_code == 200 and _bytes(served)[:3] == b"\xff\xd8\xff"  # a JPEG
        assert client.get(url.replace("&s=", "&s=x")).status_code == 404
        path = urlsplit(url).path.removeprefix("/media/")
        assert client.get(f"/media/{path}").status_code == 404  # no stable URL
    expired = client.get(f"/media/{path}?e={int(time.time()) - 60}&s={query['s'][0]}")
    assert expired.status_code == 404
    assert client.get(f"/library-files/items/{book.pk}/pages/", {"start": 3}).json()["pages"][0]["number"] == 3
    assert client.get(f"/library-files/items/{book.pk}/pages/", {"start": "x"}).status_code == 200


def test_downloaders_and_the_items_editors_keep_the_master_reader(local_media, client, unit, member, editors):
    """Who may download (download "members": a signed-in member) or manages the item (its province editor, even
    with download "none") still reads the master in pdf.js through the read link; a visitor who may only read a
    public item with download "members" gets the page reader."""
    asset = _document_asset(chinese_pdf(), "book.pdf")
    book = EbookFactory(owning_unit=unit, title="学习读本", download="members", media_asset=asset)
    _response, html = _page(client, book)
    assert 'data-source="pages"' in html and "/media/uploads/" not in html
    assert client.get(f"/library-files/items/{book.pk}/read/").status_code == 404
    client.force_login(member)
    _response, html = _page(client, book)
    assert 'data-source="master"' in html and re.search(r'data-url="/media/uploads/[^"]+\?e=\d+&amp;s=', html)
    location = client.get(f"/library-files/items/{book.pk}/read/")["Location"]
    assert _bytes(client.get(location)).startswith(b"%PDF")

    LibraryItem.objects.filter(pk=book.pk).update(download="none")
    assert client.get(f"/library-files/items/{book.pk}/read/").status_code == 404
    client.force_login(editors["sheng_editor"])
    _response, html = _page(client, book)
    assert 'data-source="master"' in html
    assert client.get(f"/library-files/items/{book.pk}/read/").status_code == 302


def test_pdf_still_processing_says_so_and_offers_the_text_version(local_media, client, unit):
    """Without page images yet, a reader without the download right is told in Chinese that the document is being
    processed (and offered the 文字版 when it exists), never given the master."""
    asset = MediaAsset.objects.create(
        file="uploads/2026/01/book.pdf", original_name="book.pdf", kind=MediaAsset.Kind.DOCUMENT
    )
    book = EbookFactory(owning_unit=unit, title="新书", media_asset=asset)
    _response, html = _page(client, book)
    assert "文档正在处理中" in html and "/media/uploads/" not in html and "文字版（省流量）" not in html
    assert client.get(f"/library-files/items/{book.pk}/pages/").status_code == 404
    job = TranscodeJob.objects.create(asset=asset, state=State.DONE)
    asset.renditions.create(job=job, profile="document_text", kind="text", path="renditions/x/text/all.txt")
    _response, html = _page(client, book)
    assert "现在可以先阅读文字版" in html and "?view=text" in html


@pytest.fixture
def epub_book(unit, tmp_path):
    """A members-only EPUB e-book through the real pipeline, download "none"."""
    path = chinese_epub(tmp_path / "book.epub")
    asset = _document_asset(path.read_bytes(), "book.epub")
    book = EbookFactory(owning_unit=unit, title="灯塔学习读本", access="members", download="none", media_asset=asset)
    return book, zipfile.ZipFile(path)


def _part_url(book, name: str) -> str:
    return f"/library-files/items/{book.pk}/epub/{quote(name)}"


def test_epub_parts_are_served_to_readers_only(local_media, client, member, epub_book):
    """A reader without the download right gets the EPUB's index (names, sizes) and each part's exact bytes, inline,
    never stored, nosniff, under a policy that runs no script (sandbox); the read link stays 404. Anonymous
    visitors get 404 for the index and every part."""
    book, archive = epub_book
    names = [info.filename for info in archive.infolist() if not info.is_dir()]
    chapter = next(name for name in names if name.endswith("c1.xhtml"))
    assert client.get(f"/library-files/items/{book.pk}/epub/").status_code == 404
    assert client.get(_part_url(book, chapter)).status_code == 404
    client.force_login(member)
    assert client.get(f"/library-files/items/{book.pk}/read/").status_code == 404
    index = client.get(f"/library-files/items/{book.pk}/epub/")
    assert index.status_code == 200 and "no-store" in index["Cache-Control"]
    assert {m["name"]: m["size"] for m in index.json()["members"]} == {
        info.filename: info.file_size for info in archive.infolist() if not info.is_dir()
    }
    part = client.get(_part_url(book, chapter))
    assert part.status_code == 200 and _bytes(part) == archive.read(chapter)
    assert part["Content-Type"] == "application/xhtml+xml" and part["X-Content-Type-Options"] == "nosniff"
    assert part["Content-Disposition"] == "inline" and "no-store" in part["Cache-Control"]
    policy = part["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert _bytes(client.get(_part_url(book, "META-INF/container.xml"))) == archive.read("META-INF/container.xml")


def test_epub_part_names_are_only_the_archives_own(local_media, client, member, epub_book):
    """Only a name the archive lists is served: ``../``, absolute, backslash, encoded dot-segments and slashes,
    NUL, folders and unknown names are 404; so is the EPUB route of a PDF or video item."""
    book, archive = epub_book
    chapter = next(info.filename for info in archive.infolist() if info.filename.endswith("c1.xhtml"))
    folder = chapter.rsplit("/", 1)[0]
    client.force_login(member)
    base = f"/library-files/items/{book.pk}/epub/"
    tricks = [
        f"{folder}/../{chapter}",
        f"../{book.pk}/epub/{chapter}",
        "/etc/passwd",
        f"/{chapter}",
        f"{folder}\\c1.xhtml",
        f"{folder}/%2e%2e/{chapter}",
        f"%2e%2e%2f{chapter}",
        f"{folder}/./c1.xhtml",
        f"{folder}//c1.xhtml",
        f"{chapter}%00",
        f"{folder}/",
        "c1.xhtml",
        "nothing.xhtml",
        "mimetype/",
    ]
    for trick in tricks:
        assert client.get(base + trick).status_code == 404, trick
    assert client.get(base + chapter).status_code == 200
    # Behind gunicorn the undecoded path decides too: an encoding that changes under decoding is refused.
    for raw in (f"{folder}%2Fc1.xhtml", f"{folder}/c1%2Exhtml", f"{folder}/%631.xhtml"):
        assert client.get(base + chapter, RAW_URI=base + raw).status_code == 404, raw
    assert client.get(base + chapter, RAW_URI=base + chapter).status_code == 200
    pdf = EbookFactory(owning_unit=book.owning_unit, media_asset=_document_asset(chinese_pdf(), "b.pdf"))
    assert client.get(f"/library-files/items/{pdf.pk}/epub/").status_code == 404
    video_asset = MediaAsset.objects.create(file="uploads/2026/01/clip.mp4", kind=MediaAsset.Kind.VIDEO)
    video = VideoFactory(owning_unit=book.owning_unit, media_asset=video_asset)
    assert client.get(f"/library-files/items/{video.pk}/epub/").status_code == 404


def test_an_epub_the_vetting_refuses_is_not_served(local_media, client, member, unit):
    """An archive with an unsafe member name (as the pipeline would refuse it) serves no index and no part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr("../evil.xhtml", "<html/>")
    asset = MediaAsset.objects.create(
        file=default_storage.save("uploads/2026/01/evil.epub", ContentFile(buffer.getvalue())),
        original_name="evil.epub",
        kind=MediaAsset.Kind.DOCUMENT,
    )
    book = EbookFactory(owning_unit=unit, title="坏书", media_asset=asset)
    client.force_login(member)
    assert client.get(f"/library-files/items/{book.pk}/epub/").status_code == 404
    assert client.get(f"/library-files/items/{book.pk}/epub/mimetype").status_code == 404


S3_ENV = ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION")


@pytest.fixture
def s3_media(settings, tmp_path):
    """The S3 server `make test` starts, as the default storage (whatever this run configured)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "media_pipeline.storage.MediaS3Storage",
            "OPTIONS": {
                "bucket_name": os.environ["S3_BUCKET"],
                "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
                "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
                "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
                "region_name": os.environ.get("S3_REGION") or None,
            },
        },
    }
    settings.EPUB_READER_CACHE_DIR = tmp_path / "epub-cache"


@pytest.mark.skipif(not os.environ.get("S3_BUCKET"), reason="needs the S3 server `make test` starts")
def test_epub_parts_on_s3_copy_the_book_once(s3_media, settings, client, unit, member, tmp_path):
    """On S3 the parts come from one local copy of the vetted book: after the first request the object can be gone
    from the bucket and every part is still served (no download of the whole EPUB per part). The page embeds no
    presigned master URL for a reader without the download right."""
    path = chinese_epub(tmp_path / "book.epub")
    name = default_storage.save(f"uploads/test-{uuid.uuid4().hex[:8]}/book.epub", ContentFile(path.read_bytes()))
    asset = MediaAsset.objects.create(file=name, original_name="book.epub", kind=MediaAsset.Kind.DOCUMENT)
    book = EbookFactory(owning_unit=unit, title="灯塔学习读本", access="members", media_asset=asset)
    client.force_login(member)
    _response, html = _page(client, book)
    assert 'data-source="parts"' in html and name not in html and "X-Amz" not in html
    members = client.get(f"/library-files/items/{book.pk}/epub/").json()["members"]
    default_storage.delete(name)
    archive = zipfile.ZipFile(path)
    for member_entry in members:
        response = client.get(_part_url(book, member_entry["name"]))
        assert response.status_code == 200 and _bytes(response) == archive.read(member_entry["name"])
    assert len(list(settings.EPUB_READER_CACHE_DIR.glob("*.epub"))) == 1
