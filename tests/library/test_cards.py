"""Pictures on cards (library/site/cards.py, the item_cover tag): covers in their kind's shape from Wagtail renditions
in three widths, read for a whole page in one query and never made while the member waits (queued once, made in the
background), a light CSS placeholder without a picture, sizes that fit the card's cover column in both type modes."""

import io
import re

import pytest
from django.core.files.images import ImageFile
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from cms.models import LighthouseImage, LighthouseRendition
from library.site import cards
from media_pipeline.synthetic.documents import png_bytes
from tests.factories import AudioFactory, EbookFactory, NewspaperFactory, VideoFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("db_tasks")]
TASK_PATH = "library.tasks.card_renditions_make_task"


def _image(width=800, height=600) -> LighthouseImage:
    image = LighthouseImage(title="封面")
    image.file.save("cover.png", ImageFile(io.BytesIO(png_bytes(width, height)), name="cover.png"), save=False)
    image.save()
    return image


def _render(item, **context) -> str:
    return Template("{% load library_tags %}{% item_cover item %}").render(Context({"item": item, **context}))


def _queued() -> list:
    return [result.args_kwargs["kwargs"]["wanted"] for result in DBTaskResult.objects.filter(task_path=TASK_PATH)]


def test_shapes_by_kind(unit):
    """A video's poster is 16:9, an audio programme's picture square, a book's or a paper's cover 3:4."""
    assert cards.card_shape(VideoFactory(owning_unit=unit)) is cards.WIDE
    assert cards.card_shape(AudioFactory(owning_unit=unit)) is cards.SQUARE
    assert cards.card_shape(EbookFactory(owning_unit=unit)) is cards.PORTRAIT
    assert cards.card_shape(NewspaperFactory(owning_unit=unit)) is cards.PORTRAIT


def test_placeholder_without_a_picture(unit, django_assert_num_queries):
    """No cover: a CSS placeholder in the kind's shape and colour (no image bytes, hidden from screen readers), no
    query and nothing queued."""
    item = AudioFactory(owning_unit=unit)
    with django_assert_num_queries(0):
        cards.cards_prepare([item])
        html = _render(item)
    assert html == '<span class="cover cover-square cover-none cover-audio" aria-hidden="true"></span>'
    assert _queued() == []


def test_renditions_are_never_made_in_the_request(unit):
    """A cover without renditions shows the placeholder and is queued once (however many pages ask), in one job for
    the page; the job makes the three widths of the card's shape; then the card shows them."""
    image = _image()
    video, book = VideoFactory(owning_unit=unit, cover=image), EbookFactory(owning_unit=unit, cover=image)
    cards.cards_prepare([video, book])
    assert "cover-none" in _render(video) and not LighthouseRendition.objects.exists()
    cards.cards_prepare([video, book])  # a second visit before the job ran
    assert _queued() == [[[image.pk, "portrait"], [image.pk, "wide"]]]

    assert cards.card_renditions_make(wanted=[(image.pk, "portrait"), (image.pk, "wide")]) == 2
    specs = set(LighthouseRendition.objects.values_list("filter_spec", flat=True))
    assert specs == set(cards.PORTRAIT.specs) | set(cards.WIDE.specs)
    video, book = (type(video).objects.select_related("cover").get(pk=pk) for pk in (video.pk, book.pk))
    cards.cards_prepare([video, book])
    html = _render(video)
    assert re.findall(r" (\d+)w", html) == ["128", "256", "384"] and 'width="128" height="72"' in html
    assert 'loading="lazy"' in html and 'alt=""' in html and 'sizes="108px"' in html


def test_some_widths_missing_show_what_there_is(unit):
    """A cover with only the old 240×320 rendition shows it at once and queues the other widths."""
    image = _image()
    image.get_rendition("fill-240x320")
    book = EbookFactory(owning_unit=unit, cover=image)
    cards.cards_prepare([book])
    assert re.findall(r" (\d+)w", _render(book)) == ["240"]
    assert _queued() == [[[image.pk, "portrait"]]]


def test_a_page_of_covers_is_one_query(unit, django_assert_num_queries):
    """24 cards (many sharing pictures) read their renditions in one query; the first row is eager with high
    priority, the rest lazy; large type asks for the wider column."""
    images = [_image() for _ in range(3)]
    for image in images:
        cards.card_renditions_make(wanted=[(image.pk, "portrait")])
    for n in range(24):
        EbookFactory(owning_unit=unit, cover=images[n % 3])
    items = list(type(unit.library_items.first()).objects.select_related("cover").order_by("pk"))
    with django_assert_num_queries(1):
        cards.cards_prepare(items, eager=cards.CARDS_EAGER)
        html = "".join(_render(item) for item in items)
    assert html.count('fetchpriority="high"') == cards.CARDS_EAGER and html.count('loading="lazy"') == 20
    assert 'sizes="144px"' in _render(items[0], large_type=True)


def test_an_issue_shows_its_titles_cover(unit):
    """An issue without a cover of its own shows its newspaper's or periodical's cover."""
    image = _image()
    cards.card_renditions_make(wanted=[(image.pk, "portrait")])
    issue = NewspaperFactory(owning_unit=unit, role="issue")
    issue.parent.cover = image
    issue.parent.save()
    issue = type(issue).objects.select_related("parent__cover", "cover").get(pk=issue.pk)
    cards.cards_prepare([issue])
    assert "<img" in _render(issue)


def test_a_broken_picture_is_skipped(unit):
    """A picture whose file is gone makes no renditions and fails nothing: its cards keep the placeholder."""
    image = _image()
    image.file.storage.delete(image.file.name)
    assert cards.card_renditions_make(wanted=[(image.pk, "portrait"), (999_999, "portrait"), (image.pk, "odd")]) == 0


def test_search_results_show_library_covers(client, settings, unit, library_page):
    """A search result that is a library item shows its cover as the library's cards do (placeholder by kind without
    one); the covers of a whole results page cost two queries, not one per result."""
    from search.services import search_outbox_drain_all

    settings.SEARCH_URL = ""  # the embedded index answers
    image = _image()
    cards.card_renditions_make(wanted=[(image.pk, "portrait")])
    with_cover = EbookFactory(owning_unit=unit, title="灯塔照亮前路", cover=image)
    AudioFactory(owning_unit=unit, title="灯塔之声")
    search_outbox_drain_all()
    html = client.get("/search/", {"q": "灯塔"}).content.decode()
    assert f"/library/item/{with_cover.pk}/" in html and "之声" in html
    assert len(re.findall(r'<img class="cover cover-portrait"[^>]+srcset="[^"]+ 120w', html)) == 1
    assert 'class="cover cover-square cover-none cover-audio"' in html
    for n in range(10):
        EbookFactory(owning_unit=unit, title=f"灯塔丛书{n}", cover=image)
    search_outbox_drain_all()
    with CaptureQueriesContext(connection) as page:
        html = client.get("/search/", {"q": "灯塔丛书"}).content.decode()
    assert html.count('<img class="cover') == 10
    sql = [query["sql"] for query in page.captured_queries]
    assert len([q for q in sql if 'FROM "library_libraryitem"' in q]) == 1
    assert len([q for q in sql if 'FROM "cms_lighthouserendition"' in q]) == 1
