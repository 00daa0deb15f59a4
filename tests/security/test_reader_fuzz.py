"""Property-based fuzzing of the importers' readers (library/imports/readers.py), issue 11.

An editor (or whoever stole an editor's login) can hand the importer any bytes. Whatever comes in — well-formed
catalogues in UTF-8, UTF-8 with BOM or GB18030, the same files truncated anywhere, damaged records, random
bytes — every reader must either give rows or raise its own ``ImportReadError`` (a Chinese message the import
screen shows). Anything else is an unhandled exception: a 500 in the admin, a batch stuck half-way.

Bounded: a few hundred examples per format, so the whole file runs in well under a minute.
"""

import csv
import io
import json

import pymarc
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from library.imports.readers import FORMATS, HEADER_ALIASES, ImportReadError, Row, read_rows

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENCODINGS = ("auto", "utf-8", "gb18030")

# The columns the importer knows (English and the Chinese headers catalogue exports use), plus noise.
COLUMNS = sorted({*HEADER_ALIASES, *HEADER_ALIASES.values()})
header = st.one_of(st.sampled_from(COLUMNS), st.text(max_size=12))
cell = st.one_of(
    st.text(max_size=40), st.sampled_from(["", '=HYPERLINK("http://x")', "仅党员", "2026年3月", '"', "\r\n"])
)


def _read(data: bytes, file_format: str, encoding: str = "auto") -> None:
    """The contract: rows of string values, or ImportReadError. Any other exception fails the test."""
    try:
        rows, used = read_rows(data=data, file_format=file_format, encoding=encoding)
    except ImportReadError as error:
        assert str(error), "an ImportReadError must say what is wrong"
        return
    assert isinstance(used, str)
    for row in rows:
        assert isinstance(row, Row) and isinstance(row.line, int)
        assert all(isinstance(key, str) and isinstance(value, str) for key, value in row.values.items())


def _encode(text: str, how: str) -> bytes:
    if how == "utf-8-bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(how)


@st.composite
def csv_files(draw) -> str:
    names = draw(st.lists(header, min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(names) + 1), max_size=6))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(names)
    writer.writerows(rows)
    return out.getvalue()


@FUZZ
@given(
    text=csv_files(),
    how=st.sampled_from(["utf-8", "utf-8-bom", "gb18030"]),
    cut=st.one_of(st.none(), st.integers(0, 400)),
    encoding=st.sampled_from(ENCODINGS),
)
@example(text='title\n"unterminated', how="utf-8", cut=None, encoding="auto")
@example(text="题名,标题\n灯塔,灯塔\n", how="gb18030", cut=7, encoding="auto")  # cut inside a two-byte character
def test_csv_reader_reads_or_refuses_clearly(text, how, cut, encoding):
    """Any CSV (any header, ragged rows, bad quoting, formula cells) in UTF-8, UTF-8 with BOM or GB18030, whole
    or truncated at any byte, read with any encoding setting: rows or ImportReadError, never another exception."""
    data = _encode(text, how)
    _read(data if cut is None else data[:cut], "csv", encoding)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.sampled_from(COLUMNS) | st.text(max_size=8), children)
    ),
    max_leaves=12,
)


@FUZZ
@given(
    document=json_values,
    shape=st.sampled_from(["plain", "items", "lines"]),
    how=st.sampled_from(["utf-8", "utf-8-bom", "gb18030"]),
    cut=st.one_of(st.none(), st.integers(0, 300)),
)
def test_json_reader_reads_or_refuses_clearly(document, shape, how, cut):
    """Any JSON value as a plain document, under ``items`` or as JSON Lines, in any of the encodings, whole or
    truncated: rows or ImportReadError."""
    if shape == "items":
        text = json.dumps({"items": document}, ensure_ascii=False)
    elif shape == "lines" and isinstance(document, list):
        text = "\n".join(json.dumps(entry, ensure_ascii=False) for entry in document)
    else:
        text = json.dumps(document, ensure_ascii=False)
    data = _encode(text, how)
    _read(data if cut is None else data[:cut], "json")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # nesting deeper than Python's recursion limit
        '{"a": 1}\n' + "[" * 100_000,  # the same on a JSON Lines line
        '[{"external_id": ' + "9" * 5000 + "}]",  # an integer longer than Python's 4,300-digit limit
        '{"a": 1}\n{"external_id": ' + "9" * 5000 + "}",
    ],
    ids=["deep-document", "deep-line", "huge-int-document", "huge-int-line"],
)
def test_json_reader_refuses_pathological_documents_clearly(text):
    """Documents the json module itself cannot take (RecursionError, the int-digits ValueError) are the readers'
    clear refusal or a row error, not an unhandled exception."""
    _read(text.encode(), "json")


marc_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@st.composite
def marc_records(draw) -> pymarc.Record:
    record = pymarc.Record(force_utf8=True)
    record.leader = pymarc.Leader(draw(st.sampled_from(["00000nam a2200000 a 4500", "00000nam  2200000   450 "])))
    for _ in range(draw(st.integers(0, 5))):
        tag = draw(st.sampled_from(["001", "010", "020", "084", "100", "200", "245", "650", "690", "700", "999"]))
        if tag < "010":
            record.add_field(pymarc.Field(tag=tag, data=draw(marc_text)))
            continue
        codes = draw(st.lists(st.sampled_from("abcdefhpvxz4"), min_size=1, max_size=3))
        subfields = [pymarc.Subfield(code=code, value=draw(marc_text)) for code in codes]
        record.add_field(pymarc.Field(tag=tag, indicators=pymarc.Indicators(" ", " "), subfields=subfields))
    return record


@FUZZ
@given(
    records=st.lists(marc_records(), min_size=1, max_size=3),
    how=st.sampled_from(["utf-8", "gb18030"]),
    cut=st.one_of(st.none(), st.integers(0, 600)),
    flips=st.lists(st.tuples(st.integers(0, 600), st.integers(0, 255)), max_size=3),
    encoding=st.sampled_from(ENCODINGS),
)
def test_marc_reader_reads_or_refuses_clearly(records, how, cut, flips, encoding):
    """MARC21 and CNMARC-like ISO 2709 records in UTF-8 or GB18030, truncated and with bytes overwritten anywhere
    (lengths, directory, indicators): rows (damaged records as row errors) or ImportReadError."""
    data = bytearray()
    for record in records:
        raw = record.as_marc()
        data += raw.decode("utf-8").encode(how, errors="replace") if how != "utf-8" else raw
    for position, value in flips:
        if position < len(data):
            data[position] = value
    data = bytes(data)
    _read(data if cut is None else data[:cut], "marc", encoding)


@FUZZ
@given(
    records=st.lists(marc_records(), min_size=0, max_size=3),
    cut=st.one_of(st.none(), st.integers(0, 800)),
)
def test_marcxml_reader_reads_or_refuses_clearly(records, cut):
    """MARCXML collections, whole or truncated anywhere: rows or ImportReadError."""
    body = b"".join(pymarc.record_to_xml(record, namespace=True) for record in records)
    data = b'<?xml version="1.0" encoding="UTF-8"?><collection xmlns="http://www.loc.gov/MARC21/slim">'
    data += body + b"</collection>"
    _read(data if cut is None else data[:cut], "marcxml")


@FUZZ
@given(data=st.binary(max_size=600), file_format=st.sampled_from(FORMATS), encoding=st.sampled_from(ENCODINGS))
@example(data=b"\xff\xfe\x00\xd8", file_format="csv", encoding="auto")  # UTF-16 BOM, then a lone surrogate
@example(data=b"00030nam  2200025   4500\x1e\x1d", file_format="marc", encoding="auto")
@example(data=b"<collection><record><leader>x</leader></record>", file_format="marcxml", encoding="auto")
@example(data=b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><collection>&a;</collection>", file_format="marcxml", encoding="auto")
def test_every_reader_survives_random_bytes(data, file_format, encoding):
    """Random bytes in every format and encoding setting: rows or ImportReadError, never another exception."""
    _read(data, file_format, encoding)
