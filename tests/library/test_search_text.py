"""The text a library item's rich-text body gives the index: get_text_for_indexing's, worked out without an HTML
parser where the body is plain rich text (library.search_documents._body_text)."""

from django.core.exceptions import SuspiciousOperation
from hypothesis import given, settings
from hypothesis import strategies as st
from wagtail.rich_text import get_text_for_indexing

from library.search_documents import _PLAIN_RICH_TEXT, _body_text

# Pieces of rich text as editors and importers write it, and of what they sometimes write instead.
PIECES = [
    *("<p>", "</p>", "<P>", "</H2>", "<h2>", "</h2>", "<li>", "</li>", "<blockquote>", "</blockquote>"),
    *("<br/>", "<br />", "<hr/>", "<br/ >", "<b>", "</b>", '<a href="/library/item/3/" linktype="page" id="3">'),
    *("</a>", '<embed embedtype="image" id="7" format="left"/>', "</p >", "<ul>", "</ul>", "<x:y>", "<h٣>"),
    *("&amp;", "&lt;", "&gt;", "&nbsp;", "&#x41;", "&#66;", "&amp", "&a.b;", "&", "<", ">", "<>", "</>", "< p>"),
    *("<!-- 注释 -->", "<script>", "</script>", "<style>", "<![CDATA[x]]>", '<a b="<">', "<a b='c'>", "<a b=c>"),
    *("灯塔", "大课堂", "a", " ", "\n", "\u3000", "\t", '"', "=", "/", "第1课", "Ａ"),
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=24))
def test_a_body_gives_the_text_get_text_for_indexing_gives(pieces):
    """For any mix of tags, entities, stray angle brackets and ampersands, comments and scripts, the body's text is
    exactly what Wagtail's get_text_for_indexing gives (and it raises where that raises)."""
    body = "".join(pieces)
    try:
        expected = get_text_for_indexing(body)
    except SuspiciousOperation:
        expected = SuspiciousOperation
    try:
        got = _body_text(body)
    except SuspiciousOperation:
        got = SuspiciousOperation
    assert got == expected, body


def test_rich_text_as_editors_write_it_is_read_without_the_html_parser():
    """What Draftail stores (paragraphs, headings, lists, links, embeds, entities) takes the parser-free way, and
    reads with a space between blocks."""
    body = (
        "<h2>第一讲</h2><p>灯塔&amp;大课堂<br/>第二行</p><ul><li>一</li><li>二</li></ul>"
        '<p><a href="/library/item/3/" linktype="page" id="3">链接</a></p><embed embedtype="image" id="7"/>'
    )
    assert _PLAIN_RICH_TEXT.fullmatch(body)
    assert _body_text(body) == "第一讲 灯塔&大课堂 第二行 一 二 链接" == get_text_for_indexing(body)


def test_a_long_body_that_is_not_plain_rich_text_is_refused_at_once():
    """The check is linear: a long run of text ending in a stray "<" does not backtrack through the run."""
    body = "灯塔" * 200_000 + "<"
    assert not _PLAIN_RICH_TEXT.fullmatch(body)
    assert _body_text(body) == get_text_for_indexing(body)
