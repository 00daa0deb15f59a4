"""The scale-data generator: every kind, every level of the organisation tree, real or made-up Chinese text."""

import io
import json
import re
import tarfile

import pytest
from django.core.management import CommandError, call_command

from cms.models import OrgUnit
from library.catalogue.clc import clc_validate
from library.catalogue.identifiers import isbn_is_valid, issn_normalise
from library.management import generator
from library.management.generator import GeneratorError, library_generate, poetry_poems
from library.models import ArticleArea, FacetCount, ItemCredit, LibraryItem
from library.services import credits_display

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")

# The package's real layout (package/dist/...), with its real record shapes, in a few poems.
TANG = [
    {
        "author": "太宗皇帝",
        "paragraphs": ["秦川雄帝宅，函谷壯皇居。", "綺殿千尋起，離宮百雉餘。"],
        "title": "帝京篇十首 一",
        "id": "3ad6d468-7ff1-4a7b-8b24-a27d70d00ed4",
    },
    {"author": "", "paragraphs": ["連甍遙接漢，飛觀迥凌虛。"], "title": "", "id": "x"},
]
SONG = [{"author": "宋太祖", "paragraphs": ["未離海底千山黑，纔到天中萬國明。"], "title": "句", "id": "y"}]
CI = [{"author": "和岘", "paragraphs": ["气和玉烛，睿化著鸿明。", "缇管一阳生。"], "rhythmic": "导引"}]
IGNORED = [{"author": "重复", "paragraphs": ["不该读到。"], "title": "错误"}]


@pytest.fixture
def poetry_tgz(tmp_path):
    path = tmp_path / "chinese-poetry-test.tgz"
    members = {
        "package/package.json": {"name": "chinese-poetry"},
        "package/dist/quantangshi/authors.tang.json": [{"name": "太宗皇帝", "desc": "不是诗"}],
        "package/dist/quantangshi/poet.tang.0.json": TANG,
        "package/dist/quantangshi/error/poet.tang.0.json": IGNORED,
        "package/dist/quantangshi/poet.song.0.json": SONG,
        "package/dist/songci/author.song.json": [{"name": "和岘"}],
        "package/dist/songci/ci.song.0.json": CI,
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            data = json.dumps(content, ensure_ascii=False, indent=4).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_synthetic_fills_every_kind_and_level(unit_tree):
    """600 synthetic rows: exactly 600, all six kinds and five roles, owners at province, city and county level,
    Chinese titles and credits, mostly public with some members-only, unique external ids, ten years of dates,
    issues carrying their number, and browse counts refreshed at the end."""
    assert library_generate(count=600, source="synthetic", seed=7, batch_size=100) == 600
    items = LibraryItem.objects.filter(source=generator.SOURCE)
    assert items.count() == 600
    assert set(items.values_list("kind", flat=True)) == set(LibraryItem.Kind.values)
    assert set(items.values_list("role", flat=True)) == set(LibraryItem.Role.values)
    levels = set(OrgUnit.objects.filter(library_items__in=items).values_list("level", flat=True))
    assert {"province", "city", "county"} <= levels
    assert all(CJK.search(title) for title in items.values_list("title", flat=True))
    assert all(
        CJK.search(c)
        for c in items.exclude(role="issue").exclude(kind="newspaper", role="series").values_list("creators", flat=True)
    )
    assert {"public", "members"} <= set(items.values_list("access", flat=True))
    assert items.filter(access="public").count() > 400  # mostly public
    ids = list(items.values_list("external_id", flat=True))
    assert len(set(ids)) == 600 and all(i.startswith("synthetic:7:") for i in ids)
    dates = sorted(items.values_list("published_at", flat=True))
    assert (dates[-1] - dates[0]).days > 3000
    assert not items.filter(role="issue").exclude(title__contains="期").exclude(kind="newspaper").exists()
    assert not items.filter(role="issue", kind="newspaper").exclude(number__contains="期").exists()
    listed = items.filter(parent__isnull=True, is_published=True, access="public")
    facets = FacetCount.objects.filter(kind="", dimension="kind", audience="public")
    assert sum(facets.values_list("count", flat=True)) == listed.count()


def test_every_role_hangs_together(unit_tree):
    """Episodes belong to a series of their kind, issues to a title, articles to an issue; e-books carry a valid
    ISBN, a publisher and a CLC code; credits rows match the display string; newspaper issues have pages whose
    areas (polygons inside the page) open articles of that issue; listed rows have tags."""
    library_generate(count=400, source="synthetic", seed=5, batch_size=64)
    items = LibraryItem.objects.filter(source=generator.SOURCE).select_related("parent")
    for item in items:
        if item.role in ("item", "series"):
            assert item.parent is None and item.tags.exists()
        else:
            assert item.parent.kind == item.kind
            expected = {"episode": "series", "issue": "series", "article": "issue"}[item.role]
            assert item.parent.role == expected and item.access == item.parent.access
        if item.clc:
            assert clc_validate(item.clc) == item.clc
        credits = list(item.credits.values_list("name", "role"))
        assert item.creators == credits_display(credits)
    ebooks = items.filter(kind="ebook", role="item")
    assert ebooks.exists() and all(
        isbn_is_valid(isbn) and len(isbn) == 13 for isbn in ebooks.values_list("isbn", flat=True)
    )
    assert not ebooks.filter(publisher="").exists() and not ebooks.filter(clc="").exists()
    assert all(
        issn_normalise(i) == i for i in items.filter(kind="periodical", role="series").values_list("issn", flat=True)
    )
    assert ItemCredit.objects.filter(role="narrator").exists() and ItemCredit.objects.filter(role="presenter").exists()
    issues = items.filter(kind="newspaper", role="issue")
    assert issues.exists() and not issues.filter(pages__isnull=True).exists()
    areas = ArticleArea.objects.select_related("page", "article")
    assert areas.count() == items.filter(kind="newspaper", role="article").count()
    for area in areas:
        assert area.article.parent_id == area.page.issue_id and len(area.points) >= 4
        assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in area.points)
    reads = sorted(items.filter(parent__isnull=True).values_list("read_count", flat=True))
    assert reads[-1] > 10 * max(reads[len(reads) // 2], 1) and len(set(reads)) < len(reads)  # long tail, ties


def test_proportions_are_realistic(unit_tree):
    """At a few thousand rows each kind's share of rows is near the real library's mix, and most rows are
    public with a few members-only and unit-only ones."""
    library_generate(count=3000, source="synthetic", seed=11, batch_size=1000)
    items = LibraryItem.objects.filter(source=generator.SOURCE)
    shares = {kind: items.filter(kind=kind).count() / 30 for kind in LibraryItem.Kind.values}
    targets = {"article": 30, "audio": 28, "ebook": 24, "video": 8, "periodical": 6, "newspaper": 4}
    assert all(abs(shares[kind] - target) < 5 for kind, target in targets.items()), shares
    listed = items.filter(parent__isnull=True)
    assert listed.filter(access="public").count() > 0.8 * listed.count()
    assert listed.filter(access="unit").exists() and not listed.filter(access="unit", access_unit__isnull=True).exists()


def test_rerun_is_idempotent_and_fills_gaps_identically(unit_tree):
    """A second run adds nothing; a larger count adds only the difference (finishing a group cut short); a
    deleted item, or a deleted newspaper article with its area, comes back the same."""
    library_generate(count=200, source="synthetic", seed=3, batch_size=64)
    assert library_generate(count=200, source="synthetic", seed=3) == 0
    assert library_generate(count=250, source="synthetic", seed=3, batch_size=64) == 50
    assert LibraryItem.objects.filter(source=generator.SOURCE).count() == 250
    assert not LibraryItem.objects.filter(role__in=["episode", "issue", "article"], parent__isnull=True).exists()
    fields = ("kind", "role", "title", "creators", "body", "owning_unit_id", "access", "isbn", "read_count", "position")
    for gone in (
        LibraryItem.objects.filter(source=generator.SOURCE, role="item", kind="ebook").order_by("pk")[3],
        LibraryItem.objects.filter(source=generator.SOURCE, role="article", kind="newspaper").order_by("pk")[1],
    ):
        before = {name: getattr(gone, name) for name in fields} | {"parent": gone.parent_id}
        points = list(gone.areas.values_list("points", flat=True))
        gone.delete()
        assert library_generate(count=250, source="synthetic", seed=3) == 1
        again = LibraryItem.objects.get(external_id=gone.external_id)
        assert {name: getattr(again, name) for name in fields} | {"parent": again.parent_id} == before
        assert list(again.areas.values_list("points", flat=True)) == points


def test_other_seed_is_a_separate_set(unit_tree):
    """Another seed makes its own items rather than skipping the first seed's."""
    library_generate(count=30, source="synthetic", seed=1)
    assert library_generate(count=30, source="synthetic", seed=2) == 30


def test_without_units_it_asks_for_load_demo():
    """With no organisation units there is nothing to own the items: a clear error naming load_demo."""
    with pytest.raises(GeneratorError, match="load_demo"):
        library_generate(count=5, source="synthetic")
    with pytest.raises(CommandError, match="load_demo"):
        call_command("library_generate", "--count", "5", "--source", "synthetic")
    assert not LibraryItem.objects.exists()


def test_poetry_archive_is_read_with_its_real_layout(poetry_tgz):
    """Poems and ci come from poet.*.json and ci.song.*.json only (not error/ or author files); a ci is titled by
    its tune, missing titles and authors get 无题/佚名, and each poem is labelled with its collection."""
    poems = list(poetry_poems(archive=poetry_tgz))
    assert [(p.title, p.author, p.collection) for p in poems] == [
        ("帝京篇十首 一", "太宗皇帝", "全唐诗"),
        ("无题", "佚名", "全唐诗"),
        ("句", "宋太祖", "全宋诗"),
        ("导引", "和岘", "全宋词"),
    ]
    assert poems[0].paragraphs == ("秦川雄帝宅，函谷壯皇居。", "綺殿千尋起，離宮百雉餘。")
    assert [p.traditional for p in poems] == [True, True, True, False]  # only poet.* files need folding


def test_poetry_items_are_simplified_and_cycle(unit_tree, poetry_tgz):
    """Generated from the archive, traditional text is folded to simplified; asking for more items than poems
    starts the poems again, marked as a new round."""
    assert library_generate(count=6, archive=poetry_tgz, batch_size=4) == 6
    first = LibraryItem.objects.get(external_id="poetry:1:0000000")  # the first group is an illustrated article
    assert "<p>秦川雄帝宅，函谷壮皇居。</p><p>绮殿千寻起，离宫百雉余。</p>" in first.body
    assert first.summary == "秦川雄帝宅，函谷壮皇居。绮殿千寻起，离宫百雉余。"
    assert first.creators == "太宗皇帝 著" and first.subtitle == "全唐诗" and first.title == "帝京篇十首 一"
    assert "萬" not in LibraryItem.objects.get(external_id="poetry:1:0000002").body
    fifth = LibraryItem.objects.get(external_id="poetry:1:0000004")  # an episode: the poem gives its title
    assert "帝京篇十首 一" in fifth.title and "第2版" in fifth.subtitle


def test_unreadable_download_suggests_synthetic(unit_tree, settings, tmp_path, monkeypatch):
    """When the package cannot be fetched the error is in Chinese and points to --source synthetic;
    nothing is left in the cache."""
    settings.VAR_DIR = tmp_path / "var"
    monkeypatch.setattr(generator, "POETRY_URL", "http://127.0.0.1:9/chinese-poetry.tgz")
    with pytest.raises(CommandError, match="--source synthetic") as raised:
        call_command("library_generate", "--count", "5")
    assert "无法下载" in str(raised.value)
    assert not list((tmp_path / "var" / "cache").iterdir())


def test_command_reports_progress_and_search_note(unit_tree, capsys):
    """The command prints progress with a rate on stderr and a summary naming search_rebuild on stdout."""
    call_command("library_generate", "--count", "40", "--source", "synthetic", "--batch-size", "10")
    out, err = capsys.readouterr()
    assert "40/40" in err and "条/秒" in err
    assert "新增 40 条" in out and "search_rebuild" in out
    call_command("library_generate", "--count", "40", "--source", "synthetic")
    assert "新增 0 条，跳过已有 40 条" in capsys.readouterr().out
