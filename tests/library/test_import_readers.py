"""Catalogue files become rows: CSV, JSON, MARC21, CNMARC and MARCXML, whatever Chinese encoding they arrive in."""

import re

import pymarc
import pytest
from pymarc import Field, Indicators, RawField, Record, Subfield

from library.imports.readers import ImportReadError, decode_text, format_from_name, read_rows

CSV_TEXT = "external_id,title,creators\nA1,红楼梦,曹雪芹 著；高鹗 续\nA2,三国演义,罗贯中 著\n"


def marc21_record(*, identifier="m21-1") -> Record:
    record = Record(force_utf8=True)
    record.leader = record.leader[:9] + "a" + record.leader[10:]
    record.add_field(
        Field(tag="001", data=identifier),
        Field(tag="008", data="260101s2019    cc            000 0 chi d"),
        Field(tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", "9787020002207 (平装)")]),
        Field(tag="041", indicators=Indicators("0", " "), subfields=[Subfield("a", "chi")]),
        Field(tag="084", indicators=Indicators(" ", " "), subfields=[Subfield("a", "I242.4"), Subfield("2", "clc")]),
        Field(tag="100", indicators=Indicators("1", " "), subfields=[Subfield("a", "曹雪芹,"), Subfield("4", "aut")]),
        Field(
            tag="245",
            indicators=Indicators("1", "0"),
            subfields=[Subfield("a", "红楼梦 :"), Subfield("b", "脂评本 /"), Subfield("c", "曹雪芹著")],
        ),
        Field(
            tag="264",
            indicators=Indicators(" ", "1"),
            subfields=[Subfield("a", "北京 :"), Subfield("b", "人民文学出版社,"), Subfield("c", "2019.")],
        ),
        Field(tag="520", indicators=Indicators(" ", " "), subfields=[Subfield("a", "中国古典长篇小说。")]),
        Field(tag="650", indicators=Indicators(" ", "0"), subfields=[Subfield("a", "章回小说")]),
        Field(tag="700", indicators=Indicators("1", " "), subfields=[Subfield("a", "高鹗"), Subfield("e", "编")]),
    )
    return record


CNMARC_FIELDS = [
    ("001", None, "cn-1"),
    ("010", "a", "7-02-000220-X"),
    ("101", "a", "chi"),
    ("200", "a", "骆驼祥子"),
    ("200", "e", "长篇小说"),
    ("210", "c", "人民文学出版社"),
    ("210", "d", "2000.3"),
    ("330", "a", "北平人力车夫的故事。"),
    ("606", "a", "长篇小说"),
    ("690", "a", "I246.57"),
    ("701", "a", "老舍"),
    ("701", "4", "070"),
    ("702", "a", "张三"),
    ("702", "4", "730"),
]


def cnmarc_bytes(encoding: str) -> bytes:
    """A CNMARC record written the way Chinese vendors do: raw field bytes in the given encoding, leader/09 blank."""
    grouped: dict[str, list] = {}
    for tag, code, value in CNMARC_FIELDS:
        grouped.setdefault(tag, []).append((code, value))
    record = Record(to_unicode=False)
    for tag, parts in grouped.items():
        if parts[0][0] is None:
            record.add_field(RawField(tag=tag, data=parts[0][1].encode(encoding)))
        else:
            subfields = [Subfield(code, value.encode(encoding)) for code, value in parts]
            record.add_field(RawField(tag=tag, indicators=Indicators(" ", " "), subfields=subfields))
    return record.as_marc()


def test_gb18030_csv_without_bom_is_read():
    """A GB18030 (GBK) file, as Chinese Windows Excel saves it, is read without being told its encoding."""
    rows, encoding = read_rows(data=CSV_TEXT.encode("gb18030"), file_format="csv")
    assert encoding == "gb18030"
    assert [row.values["title"] for row in rows] == ["红楼梦", "三国演义"]
    assert rows[0].line == 2


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("\ufeff".encode() + CSV_TEXT.encode(), "utf-8-sig"),
        (CSV_TEXT.encode("utf-16"), "utf-16"),
        (CSV_TEXT.encode(), "utf-8"),
    ],
)
def test_byte_order_marks_and_utf8(data, expected):
    """A BOM decides the encoding first (UTF-8, UTF-16); without one, strict UTF-8 wins over GB18030."""
    rows, encoding = read_rows(data=data, file_format="csv")
    assert encoding == expected
    assert rows[0].values == {"external_id": "A1", "title": "红楼梦", "creators": "曹雪芹 著；高鹗 续"}


def test_gb18030_with_a_bom_header_is_still_gb18030():
    """A GB18030 file whose first bytes are the GB18030 BOM (0x84319533) decodes as GB18030, BOM dropped."""
    text, encoding = decode_text("\ufeff".encode("gb18030") + CSV_TEXT.encode("gb18030"))
    assert encoding == "gb18030" and "红楼梦" in text
    rows, _ = read_rows(data="\ufeff".encode("gb18030") + CSV_TEXT.encode("gb18030"), file_format="csv")
    assert "external_id" in rows[0].values


def test_undecodable_file_names_line_and_offset():
    """Bytes that are neither UTF-8 nor GB18030 are refused with a Chinese message naming the line and offset."""
    data = b"external_id,title\nA1,ok\nA2,\xff\xfe\xff\n"
    with pytest.raises(ImportReadError) as caught:
        read_rows(data=data, file_format="csv")
    message = str(caught.value)
    assert "第 3 行" in message and "字节偏移 27" in message and "编码无法识别" in message


def test_explicit_encoding_is_strict():
    """Told --encoding utf-8, a GB18030 file is refused rather than read as mojibake."""
    with pytest.raises(ImportReadError):
        read_rows(data=CSV_TEXT.encode("gb18030"), file_format="csv", encoding="utf-8")


def test_malformed_csv_rejects_rows_not_the_file():
    """Ragged rows and bad quoting reject those rows only, each with its line; the good rows are read."""
    text = 'external_id,title\nA1,好\nA2,多,一列\n"A3"x,坏引号\nA4,也好\nA5\n'
    rows, _ = read_rows(data=text.encode(), file_format="csv")
    by_line = {row.line: row for row in rows}
    assert by_line[2].values["title"] == "好" and not by_line[2].errors
    assert "3 列" in by_line[3].errors["__all__"][0]
    assert "CSV 格式错误" in by_line[4].errors["__all__"][0]
    assert not re.search(r"[A-Za-z]+ [A-Za-z]+", by_line[4].errors["__all__"][0])  # not csv's English message
    assert by_line[5].values["title"] == "也好"
    assert by_line[6].errors


def test_chinese_headers_are_understood():
    """Headers such as 外部编号/标题/作者 map onto the columns."""
    rows, _ = read_rows(data="外部编号,标题,作者\nX,题,某 著\n".encode(), file_format="csv")
    assert rows[0].values == {"external_id": "X", "title": "题", "creators": "某 著"}


@pytest.mark.parametrize(
    "text",
    [
        '[{"external_id": "J1", "title": "甲", "tags": ["党史", "红色"]}, {"external_id": "J2", "title": "乙"}]',
        '{"items": [{"external_id": "J1", "title": "甲", "tags": ["党史", "红色"]},'
        ' {"external_id": "J2", "title": "乙"}]}',
        '{"external_id": "J1", "title": "甲", "tags": ["党史", "红色"]}\n{"external_id": "J2", "title": "乙"}\n',
    ],
)
def test_json_list_items_and_lines(text):
    """JSON as a list, as {"items": [...]}, or as JSON Lines gives the same rows; lists join with ；."""
    rows, _ = read_rows(data=text.encode(), file_format="json")
    assert [row.values["external_id"] for row in rows] == ["J1", "J2"]
    assert rows[0].values["tags"] == "党史；红色"


def test_json_lines_bad_line_is_a_row_error():
    """One broken line of a JSON Lines file rejects that line only."""
    text = (
        '{"external_id": "J1", "title": "甲"}\n{"external_id": "J2", "title": \n{"external_id": "J3", "title": "丙"}\n'
    )
    rows, _ = read_rows(data=text.encode(), file_format="json")
    assert [bool(row.errors) for row in rows] == [False, True, False]
    assert rows[1].line == 2


def test_broken_json_document_is_refused():
    """A JSON document that does not parse is refused with its line and column."""
    with pytest.raises(ImportReadError, match="不是有效的 JSON"):
        read_rows(data=b'[{"external_id": "J1",', file_format="json")


def test_marc21_fields_map_to_columns():
    """MARC21 (UTF-8): 001, 020, 245 $a $b, 100/700 with $4/$e, 264 $b $c, 084 $2 clc, 650, 520, 041."""
    rows, encoding = read_rows(data=marc21_record().as_marc(), file_format="marc")
    values = rows[0].values
    assert encoding == "utf-8"
    assert values["external_id"] == "m21-1"
    assert values["isbn"] == "9787020002207"
    assert (values["title"], values["subtitle"]) == ("红楼梦", "脂评本")
    assert values["creators"] == "曹雪芹 著；高鹗 编"
    assert (values["publisher"], values["issued"]) == ("人民文学出版社", "2019")
    assert values["clc"] == "I242.4" and values["tags"] == "章回小说"
    assert values["summary"] == "中国古典长篇小说。" and values["language"] == "chi"
    assert values["kind"] == "ebook"


def test_marc21_marc8_record_is_decoded():
    """A MARC21 record with leader/09 blank is read as MARC-8 (here plain ASCII), not as UTF-8."""
    record = Record()
    record.add_field(
        Field(tag="001", data="m8-1"),
        Field(tag="245", indicators=Indicators("0", "0"), subfields=[Subfield("a", "Selected works /")]),
    )
    record.leader = record.leader[:9] + " " + record.leader[10:]
    data = record.as_marc()
    data = data[:9] + b" " + data[10:]
    rows, encoding = read_rows(data=data, file_format="marc")
    assert encoding == "marc-8" and rows[0].values["title"] == "Selected works"


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_cnmarc_fields_map_to_columns(encoding):
    """CNMARC in UTF-8 or GB18030 (no leader flag for either): 001, 010, 200 $a $e, 210 $c $d, 690, 606, 330,
    101 and 701/702 with UNIMARC relator codes."""
    rows, used = read_rows(data=cnmarc_bytes(encoding), file_format="marc")
    values = rows[0].values
    assert used == encoding
    assert values["external_id"] == "cn-1" and values["isbn"] == "7-02-000220-X"
    assert (values["title"], values["subtitle"]) == ("骆驼祥子", "长篇小说")
    assert values["creators"] == "老舍 著；张三 译"
    assert (values["publisher"], values["issued"]) == ("人民文学出版社", "2000-03")
    assert values["clc"] == "I246.57" and values["tags"] == "长篇小说"
    assert values["summary"] == "北平人力车夫的故事。" and values["language"] == "chi"


def test_damaged_marc_record_is_a_row_error():
    """A record with a damaged leader among good ones is rejected alone, with its record number."""
    data = marc21_record(identifier="a").as_marc() + b"99999garbage\x1d" + marc21_record(identifier="b").as_marc()
    rows, _ = read_rows(data=data, file_format="marc")
    assert [row.values.get("external_id") for row in rows] == ["a", None, "b"]
    assert rows[1].line == 2 and "MARC" in rows[1].errors["__all__"][0]


def test_marcxml_records():
    """MARCXML records map like ISO 2709 ones."""
    xml = pymarc.record_to_xml(marc21_record(), namespace=True)
    data = b'<?xml version="1.0" encoding="UTF-8"?><collection xmlns="http://www.loc.gov/MARC21/slim">'
    data += xml.replace(b' xmlns="http://www.loc.gov/MARC21/slim"', b"") + b"</collection>"
    rows, _ = read_rows(data=data, file_format="marcxml")
    assert rows[0].values["title"] == "红楼梦" and rows[0].values["isbn"] == "9787020002207"


def test_broken_marcxml_is_refused():
    """XML that does not parse is refused with a Chinese message."""
    with pytest.raises(ImportReadError, match="MARCXML"):
        read_rows(data=b"<collection><record>", file_format="marcxml")


def test_format_from_extension():
    """The format follows the file's extension; anything else is read as CSV."""
    assert [format_from_name(n) for n in ("a.CSV", "b.jsonl", "c.mrc", "d.iso", "e.xml", "f.dat")] == [
        "csv",
        "json",
        "marc",
        "marc",
        "marcxml",
        "csv",
    ]


def _workbook(rows) -> bytes:
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def test_xlsx_reads_the_first_sheet_as_the_editor_sees_it():
    """An Excel catalogue reads like a CSV one: Chinese headers folded onto our columns, lines numbered as Excel
    numbers its rows, an ISBN typed as a number without ".0", dates as 2026-03-05, TRUE as 是, empty rows skipped,
    empty cells at a row's end filled in, and a row with cells beyond the header rejected on its own."""
    from datetime import date, datetime

    data = _workbook(
        [
            ["外部编号", "标题", "ISBN", "出版日期", "发布时间", "已发布", "序号"],
            ["X1", "红岩", 9787020002207, date(2021, 6, 1), datetime(2026, 3, 5, 10, 30), True, 3.0],
            [None, None, None],
            ["X2", "林海雪原"],
            ["X3", "多一列", None, None, None, None, None, "多余"],
        ]
    )
    assert format_from_name("目录.XLSX") == "xlsx"
    rows, used = read_rows(data=data, file_format="xlsx")
    assert used == "xlsx" and [row.line for row in rows] == [2, 4, 5]
    assert rows[0].values == {
        "external_id": "X1",
        "title": "红岩",
        "isbn": "9787020002207",
        "issued": "2021-06-01",
        "published_at": "2026-03-05 10:30",
        "is_published": "是",
        "position": "3",
    }
    assert rows[1].values["title"] == "林海雪原" and rows[1].values["isbn"] == ""
    assert "标题行有 7 列" in rows[2].errors["__all__"][0]


def test_a_file_that_is_not_a_workbook_is_refused_in_chinese():
    """Bytes that are no XLSX (an old .xls, a renamed CSV) are refused as a whole with a Chinese message."""
    with pytest.raises(ImportReadError, match="无法读取这个 Excel 文件"):
        read_rows(data=CSV_TEXT.encode(), file_format="xlsx")
