"""What goes into the one search index: library items (with their extracted text), editorial pages and
education bases, kept in step with publishing, and never opening what a visitor may not read."""

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction, Site

from cms.models import EducationBasePage, LighthouseDocument, OrgUnit, SectionPage, StandardPage
from cms.search_documents import page_document
from cms.services import member_create, org_unit_create, org_unit_set_section_page
from library.models import LibraryItem, LibraryPage
from library.search_documents import MAX_BOOST, item_document
from library.services import library_item_fulltext_refresh
from media_pipeline.models import Caption, MediaAsset
from media_pipeline.synthetic.documents import chinese_pdf
from search import registry
from search.models import IndexEntry, OutboxEntry
from search.selectors import search
from tests.factories import EbookFactory, MemberFactory, NewspaperFactory, PeriodicalFactory, VideoFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(unit_tree):
    """The site's root page, owned by the province (its editors' section), with the library below it."""
    page = Site.objects.get(is_default_site=True).root_page
    org_unit_set_section_page(unit=unit_tree["shandong"], page=page)
    page.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))
    return page


@pytest.fixture
def member(unit_tree):
    return MemberFactory(username="wang", org_unit=unit_tree["zouping"])


def _titles(query: str, user=None) -> list[str]:
    return [hit.title for hit in search(query=query, user=user).hits]


# --- Library items ------------------------------------------------------------------------------------------------


def test_item_document_carries_subject_year_unit_access_unit_boost_and_fulltext(unit_tree, root):
    """A library item's document names its 中图法 basic class as the subject, its year, the owning unit's path,
    the unit an inherited "unit" opening names, a mild capped popularity boost, role/tags/clc facets, and its
    extracted full text in the body."""
    series = EbookFactory(
        owning_unit=unit_tree["zouping"],
        title="红色家书",
        role="series",
        access="unit",
        access_unit=unit_tree["binzhou"],
        clc="K20",
    )
    article = EbookFactory(
        owning_unit=unit_tree["zouping"], title="家书一封", parent=series, role="episode", clc="k825", year=2021,
        read_count=999, fulltext="见字如面，革命理想高于天。",
    )  # fmt: skip
    article.tags.add("家风")
    document = item_document(LibraryItem.objects.get(pk=article.pk))
    assert document.subject == "K 历史、地理"
    assert document.year == 2021
    assert document.unit_id == unit_tree["zouping"].pk and document.unit_path == unit_tree["zouping"].path
    assert (document.access, document.access_unit_id) == ("unit", unit_tree["binzhou"].pk)
    assert 1.25 < document.boost <= MAX_BOOST
    assert document.facets == {"role": "episode", "clc": "k825", "clc_top": "k", "tags": ["家风"]}
    assert "革命理想高于天" in document.body and "家风" in document.body
    assert item_document(LibraryItem.objects.get(pk=series.pk)).access_unit_id == unit_tree["binzhou"].pk
    public = item_document(EbookFactory(owning_unit=unit_tree["zouping"], title="无分类", read_count=10**9))
    assert (public.subject, public.access_unit_id, public.boost) == ("", None, MAX_BOOST)


def test_rebuild_reads_items_with_the_same_number_of_queries_for_3_or_30(unit_tree, root):
    """Reading every document for a rebuild takes a fixed number of queries, however many items (and tags,
    parents and owning units) there are: no query per item."""

    def queries_for(count: int) -> int:
        LibraryItem.objects.all().delete()
        series = EbookFactory(owning_unit=unit_tree["zouping"], title="系列", role="series", access="members")
        for n in range(count):
            item = EbookFactory(
                owning_unit=unit_tree["zouping"],
                title=f"第{n}集",
                parent=series,
                role="episode",
                clc="D2",
                fulltext="正文" * 50,
            )
            item.tags.add(f"标签{n % 3}")
        with CaptureQueriesContext(connection) as captured:
            documents = list(registry.iter_documents(chunk_size=500))
        assert len([d for d in documents if d.kind == "ebook"]) == count + 1
        return len(captured)

    queries_for(1)  # the library page's URL and Wagtail's site root paths are looked up once, then remembered
    assert queries_for(3) == queries_for(30)


def test_rebuild_reads_titles_issues_and_articles_opened_to_units_with_the_same_number_of_queries(unit_tree, root):
    """Articles in issues of a title, each row opened to a unit: the chain's openings and the units' paths (all a
    document reads of them, the rest is not loaded) come with the items, never with a query per item."""

    def queries_for(count: int) -> int:
        LibraryItem.objects.all().delete()
        city, county = unit_tree["binzhou"], unit_tree["zouping"]
        title = NewspaperFactory(role="series", title="滨州日报", owning_unit=city, access="unit", access_unit=city)
        for n in range(count):
            issue = NewspaperFactory(role="issue", title=f"第{n}期", parent=title, owning_unit=city)
            NewspaperFactory(
                role="article", title=f"头版{n}", parent=issue, owning_unit=county, access="unit", access_unit=county
            )
        with CaptureQueriesContext(connection) as captured:
            documents = [d for d in registry.iter_documents(chunk_size=500) if d.kind == "newspaper"]
        articles = [d for d in documents if d.title.startswith("头版")]
        assert len(articles) == count
        assert {(d.access, d.access_unit_id, d.unit_path) for d in articles} == {("unit", county.pk, county.path)}
        return len(captured)

    queries_for(1)
    assert queries_for(3) == queries_for(30)


def test_rebuild_without_a_library_page_looks_for_it_once(unit_tree):
    """A site with no live library page yet: the rebuild remembers that there is none (for the same minute, like
    the page's URL) instead of looking for it once per item, so 30 items take the queries 3 do."""

    def queries_for(count: int) -> int:
        LibraryItem.objects.all().delete()
        for n in range(count):
            EbookFactory(owning_unit=unit_tree["zouping"], title=f"第{n}册")
        with CaptureQueriesContext(connection) as captured:
            documents = list(registry.iter_documents(chunk_size=500))
        assert [d.url for d in documents if d.kind == "ebook"] == [""] * count
        return len(captured)

    queries_for(1)
    assert queries_for(3) == queries_for(30)


def test_publishing_the_library_page_ends_the_remembered_absence(unit_tree):
    """That there is no library page is remembered, but publishing one is seen at once: the next document carries
    the new page's URL."""
    item = EbookFactory(owning_unit=unit_tree["zouping"], title="党史学习读本")
    assert item_document(item).url == ""
    home = Site.objects.get(is_default_site=True).root_page
    page = home.add_child(instance=LibraryPage(title="数字图书馆", slug="library", live=False))
    assert item_document(item).url == ""
    page.save_revision().publish()
    assert item_document(item).url.startswith("/library/")


@pytest.mark.usefixtures("embedded")
def test_an_article_opened_to_the_province_in_a_periodical_opened_to_one_city_is_for_that_city(unit_tree, root, drain):
    """Every row of the chain must be open to the reader: an article opened to 山东省 inside a periodical opened
    to 滨州市 is found by a 滨州市 member only, not by a member of another city (青岛市) nor by a visitor."""
    qingdao = org_unit_create(parent=unit_tree["shandong"], name="青岛市", code="qingdao", level=OrgUnit.Level.CITY)
    periodical = PeriodicalFactory(
        owning_unit=unit_tree["zouping"],
        title="滨州党建",
        role="series",
        access="unit",
        access_unit=unit_tree["binzhou"],
    )
    PeriodicalFactory(
        owning_unit=unit_tree["zouping"], title="全省组织工作会议纪要", role="article", parent=periodical,
        access="unit", access_unit=unit_tree["shandong"],
    )  # fmt: skip
    drain()
    inside = member_create(username="bz", password="pw-123456", org_unit=unit_tree["binzhou"])
    outside = member_create(username="qd", password="pw-123456", org_unit=qingdao)
    assert _titles("组织工作会议", user=inside) == ["全省组织工作会议纪要"]
    assert _titles("组织工作会议", user=outside) == [] and _titles("组织工作会议") == []


@pytest.mark.usefixtures("embedded")
def test_a_word_from_a_pdf_finds_its_item(unit_tree, root, drain):
    """Text extracted from an item's PDF is searchable: a phrase that appears only inside the PDF finds the item."""
    document = LighthouseDocument.objects.create(title="手册", file=ContentFile(chinese_pdf(), name="book.pdf"))
    item = EbookFactory(owning_unit=unit_tree["zouping"], title="学习手册", document=document)
    drain()
    assert _titles("照亮前路") == []
    library_item_fulltext_refresh(item_id=item.pk)
    drain()
    assert _titles("照亮前路") == ["学习手册"]


@pytest.mark.usefixtures("embedded")
def test_words_spoken_in_a_video_find_it_through_its_captions(unit_tree, root, drain):
    """A caption track's transcript makes a video findable by what is said in it."""
    asset = MediaAsset.objects.create(file="uploads/v.mp4", kind="video", state="ready")
    Caption.objects.create(
        asset=asset, file=ContentFile("WEBVTT\n\n00:01.000 --> 00:03.000\n弘扬红船精神\n".encode(), name="v.vtt")
    )
    item = VideoFactory(owning_unit=unit_tree["zouping"], title="专题片", media_asset=asset)
    library_item_fulltext_refresh(item_id=item.pk)
    drain()
    assert _titles("红船精神") == ["专题片"]


# --- Pages and education bases -----------------------------------------------------------------------------------


def _standard(parent, title="学习动态", body="<p>全省开展主题教育读书班</p>", **fields) -> StandardPage:
    return parent.add_child(
        instance=StandardPage(title=title, slug=f"p{StandardPage.objects.count()}", body=body, **fields)
    )


@pytest.mark.usefixtures("embedded")
def test_a_published_page_is_found_and_unpublishing_or_deleting_removes_it(root, drain):
    """Publishing a page makes its title and rich-text body findable; unpublishing removes it from the index, and
    so does deleting a published page."""
    page = _standard(root)
    drain()
    assert _titles("读书班") == ["学习动态"]
    hit = search(query="读书班", user=None).hits[0]
    assert (hit.kind, hit.kind_label, hit.url) == ("page", "编辑页面", page.url)
    page.unpublish()
    drain()
    assert _titles("读书班") == []
    page.save_revision().publish()
    drain()
    assert _titles("读书班") == ["学习动态"]
    page.delete()
    drain()
    assert _titles("读书班") == [] and not IndexEntry.objects.filter(doc_id__startswith="cms.").exists()


@pytest.mark.usefixtures("embedded")
def test_a_saved_draft_does_not_reach_the_index(root, drain):
    """Saving a draft revision changes nothing members can find: the live text stays, the draft text is not
    indexed until it is published."""
    page = _standard(root)
    drain()
    page.body = "<p>尚未审核的草稿内容</p>"
    page.title = "草稿标题"
    page.save_revision()
    drain()
    assert _titles("审核的草稿") == [] and _titles("草稿标题") == []
    assert _titles("读书班") == ["学习动态"]
    StandardPage.objects.get(pk=page.pk).get_latest_revision().publish()
    drain()
    assert _titles("审核的草稿") == ["草稿标题"] and _titles("读书班") == []


@pytest.mark.usefixtures("embedded")
def test_education_base_is_found_by_its_address_and_owned_by_its_section(root, unit_tree, drain):
    """An education base is its own kind (教育基地), found by its address and description, and owned by the unit
    of the section it sits in (a filter by the city's subtree finds it)."""
    section = root.add_child(instance=SectionPage(title="滨州市", slug="binzhou", org_unit=unit_tree["binzhou"]))
    base = section.add_child(
        instance=EducationBasePage(
            title="渤海革命老区纪念园", slug="bohai", address="滨州市惠民县何坊街道", opening_hours="9:00-17:00",
            body="<p>渤海区党委旧址</p>",
        )
    )  # fmt: skip
    document = page_document(base)
    assert (document.unit_id, document.unit_path) == (unit_tree["binzhou"].pk, unit_tree["binzhou"].path)
    assert page_document(StandardPage.objects.get(pk=_standard(root).pk)).unit_id == unit_tree["shandong"].pk
    drain()
    results = search(query="惠民县", user=None)
    assert [(hit.title, hit.kind, hit.kind_label) for hit in results.hits] == [
        ("渤海革命老区纪念园", "education_base", "教育基地")
    ]
    assert _titles("党委旧址") == ["渤海革命老区纪念园"]
    assert [hit.title for hit in search(query="纪念园", user=None, unit_path=unit_tree["shandong"].path).hits] == [
        "渤海革命老区纪念园"
    ]


@pytest.mark.usefixtures("embedded")
def test_login_restricted_pages_are_for_members_and_password_pages_are_not_indexed(root, member, drain):
    """A page below a login restriction is indexed for members only (anonymous visitors never see it); a page below
    a password or group restriction is not indexed at all; adding a restriction re-indexes the pages below it."""
    section = _standard(root, "内部学习", body="<p>支部学习资料</p>")
    child = _standard(section, "学习资料汇编", body="<p>支部学习资料全文</p>")
    drain()
    assert sorted(_titles("支部学习资料")) == ["内部学习", "学习资料汇编"]
    PageViewRestriction.objects.create(page=section, restriction_type=PageViewRestriction.LOGIN)
    drain()
    assert _titles("支部学习资料") == []
    assert sorted(_titles("支部学习资料", user=member)) == ["内部学习", "学习资料汇编"]
    assert page_document(StandardPage.objects.get(pk=child.pk)).access == "members"
    secret = _standard(root, "密码页面", body="<p>只给知道密码的人看的材料</p>")
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.PASSWORD, password="x")
    drain()
    assert page_document(StandardPage.objects.get(pk=secret.pk)) is None
    assert _titles("知道密码", user=member) == []
    assert not IndexEntry.objects.filter(doc_id=f"cms.standardpage:{secret.pk}").exists()


def test_pages_are_read_for_a_rebuild_with_the_same_number_of_queries_for_3_or_30(root, unit_tree):
    """Restrictions above a page and the section that owns it are read with the pages (one query per chunk, not
    three per page), and give the documents that reading each page on its own gives: access from a login
    restriction above, hidden below a password, owned by the nearest section."""
    section = root.add_child(instance=SectionPage(title="滨州市", slug="binzhou", org_unit=unit_tree["binzhou"]))
    members_only = _standard(section, "内部学习")
    PageViewRestriction.objects.create(page=members_only, restriction_type=PageViewRestriction.LOGIN)
    secret = _standard(root, "密码页面")
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.PASSWORD, password="x")

    def queries_for(count: int) -> int:
        StandardPage.objects.filter(title__startswith="文章").delete()
        for n in range(count):
            _standard([members_only, section, secret, root][n % 4], f"文章{n}")
        with CaptureQueriesContext(connection) as captured:
            documents = [d for d in registry.iter_documents(chunk_size=500) if d.doc_id.startswith("cms.")]
        one_by_one = [page_document(page) for model in (StandardPage, SectionPage) for page in model.objects.all()]
        assert sorted(documents, key=_doc_id) == sorted(filter(None, one_by_one), key=_doc_id)
        return len(captured)

    queries_for(1)
    assert queries_for(3) == queries_for(30)
    documents = {d.title: d for d in registry.iter_documents() if d.doc_id.startswith("cms.")}
    assert (documents["文章0"].access, documents["文章0"].unit_id) == ("members", unit_tree["binzhou"].pk)
    assert (documents["文章3"].access, documents["文章3"].unit_id) == ("public", unit_tree["shandong"].pk)
    assert "文章2" not in documents and "密码页面" not in documents


def _doc_id(document) -> str:
    return document.doc_id


def test_moving_a_page_records_its_subtree(root):
    """Moving a page changes the URLs below it without saving those pages: every page of the subtree is recorded
    for re-indexing."""
    first, second = _standard(root, "第一栏目"), _standard(root, "第二栏目")
    child = _standard(first, "栏目文章")
    OutboxEntry.objects.all().delete()
    first.move(second, pos="last-child")
    recorded = set(OutboxEntry.objects.values_list("doc_id", flat=True))
    assert {f"cms.standardpage:{first.pk}", f"cms.standardpage:{child.pk}"} <= recorded


def test_only_reader_pages_are_registered(root):
    """Editorial pages, section pages and education bases are searchable; the library page itself is not (its
    items are)."""
    section = root.add_child(instance=SectionPage(title="栏目", slug="section"))
    section.add_child(instance=EducationBasePage(title="纪念馆", slug="base", address="济南市"))
    _standard(section)
    labels = {label for label, _pks in registry.iter_pks()}
    assert {"cms.standardpage", "cms.sectionpage", "cms.educationbasepage"} <= labels
    assert not {"library.librarypage", root.specific._meta.label_lower} & labels
