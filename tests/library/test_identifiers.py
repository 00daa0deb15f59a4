"""ISBN, ISSN and CN serial numbers are normalised to one spelling and rejected with a Chinese message when wrong.

Check digits in the examples are recomputed here from the published rules (ISO 2108, ISO 3297) with code that does not
share anything with library.identifiers, so a wrong example from memory fails loudly instead of passing silently.
"""

import pytest
from django.core.exceptions import ValidationError

from library.catalogue.identifiers import (
    CN_REGION_CODES,
    cn_serial_normalise,
    isbn_is_valid,
    isbn_normalise,
    issn_normalise,
    validate_cn_serial,
    validate_isbn,
    validate_issn,
)


def _digits(text):
    return [c for c in text if c.isdigit() or c == "X"]


def _isbn13_ok(isbn):
    """Sum of digits weighted 1,3,1,3… including the check digit is a multiple of 10."""
    digits = [int(c) for c in _digits(isbn)]
    return len(digits) == 13 and sum(d * 3 if i % 2 else d for i, d in enumerate(digits)) % 10 == 0


def _isbn10_ok(isbn):
    """Sum of characters weighted 10..1 (X = 10) is a multiple of 11."""
    values = [10 if c == "X" else int(c) for c in _digits(isbn)]
    return len(values) == 10 and sum(v * (10 - i) for i, v in enumerate(values)) % 11 == 0


def _issn_ok(issn):
    """Sum of characters weighted 8..1 (X = 10) is a multiple of 11."""
    values = [10 if c == "X" else int(c) for c in _digits(issn)]
    return len(values) == 8 and sum(v * (8 - i) for i, v in enumerate(values)) % 11 == 0


# Real Chinese books: 《三体》 (重庆出版社), 《活着》 (作家出版社), and a number in the 人民出版社 (7-01) range;
# the ISBN-10 forms are the same books' older numbers.
REAL_ISBN13 = ["978-7-5366-9293-0", "978-7-5063-6543-7", "978-7-01-000922-3"]
REAL_ISBN10 = {"7-01-000922-8": "9787010009223", "7-5366-9293-5": "9787536692930"}
# Nature, Science, an ISSN whose check character is X, and the example from the brief.
REAL_ISSN = ["0028-0836", "0036-8075", "2434-561X", "0375-6564"]


@pytest.mark.parametrize("isbn", REAL_ISBN13)
def test_real_isbn13_examples_have_correct_check_digits(isbn):
    """The ISBN-13 examples really are valid by the EAN-13 rule, and the module agrees and strips the hyphens."""
    assert _isbn13_ok(isbn)
    assert isbn_normalise(isbn) == isbn.replace("-", "")


@pytest.mark.parametrize(("isbn10", "isbn13"), REAL_ISBN10.items())
def test_isbn10_is_converted_to_isbn13(isbn10, isbn13):
    """An ISBN-10 is checked by the mod-11 rule and turned into the 978 form with a recomputed check digit."""
    assert _isbn10_ok(isbn10) and _isbn13_ok(isbn13)
    assert isbn_normalise(isbn10) == isbn13


@pytest.mark.parametrize(
    "spelling",
    [
        "ISBN 978-7-5366-9293-0",
        "ISBN: 978 7 5366 9293 0",
        "isbn-13 978-7-5366-9293-0",
        "９７８－７－５３６６－９２９３－０",
        "ＩＳＢＮ ９７８７５３６６９２９３０",
        "978\u20137\u20135366\u20139293\u20130",
        "  9787536692930\n",
        "ISBN 7-5366-9293-5",
    ],
)
def test_isbn_spellings_found_in_chinese_data_normalise_to_one_form(spelling):
    """Prefixes, spaces, en dashes and full-width digits and letters all give the same 13 digits."""
    assert isbn_normalise(spelling) == "9787536692930"


def test_lowercase_x_check_character_is_accepted():
    """An ISBN-10 ending in a lowercase x (check value 10) is valid and converts to ISBN-13."""
    # Search a 高等教育出版社 (7-04) range for a body whose check value is 10, instead of trusting memory for one.
    first9 = next(f"70400{n:04d}" for n in range(10000) if _isbn10_ok(f"70400{n:04d}X"))
    expected13 = next(f"978{first9}{d}" for d in "0123456789" if _isbn13_ok(f"978{first9}{d}"))
    assert isbn_normalise(f"{first9[0]}-{first9[1:3]}-{first9[3:]}-x") == expected13
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in first9) + "ｘ"
    assert isbn_normalise(full_width) == expected13


@pytest.mark.parametrize("bad", ["978-7-5366-9293-1", "9787536692939", "7-01-000922-7", "7-01-000922-X"])
def test_wrong_check_digit_is_rejected_in_chinese(bad):
    """A single wrong check character is caught for both lengths with the message 'ISBN 校验位不正确'."""
    with pytest.raises(ValidationError) as info:
        isbn_normalise(bad)
    assert info.value.messages == ["ISBN 校验位不正确"]
    assert info.value.code == "isbn_checksum"
    assert not isbn_is_valid(bad)


@pytest.mark.parametrize("bad", ["", "978-7-5366-9293", "97875366929300", "123456789"])
def test_wrong_length_is_rejected_in_chinese(bad):
    """Anything that is not 10 or 13 characters after cleaning gets 'ISBN 应为 10 位或 13 位'."""
    with pytest.raises(ValidationError) as info:
        isbn_normalise(bad)
    assert info.value.messages == ["ISBN 应为 10 位或 13 位"]


@pytest.mark.parametrize("bad", ["97875366929X0", "X015366929", "978-7-5366-929A-0"])
def test_letters_in_the_wrong_place_are_rejected(bad):
    """X is only allowed as the last character of an ISBN-10; other letters are never allowed."""
    with pytest.raises(ValidationError):
        isbn_normalise(bad)


def test_isbn13_outside_the_book_prefixes_is_rejected():
    """A 13-digit EAN with a correct check digit but not starting 978/979 (e.g. a grocery barcode) is not an ISBN."""
    ean = next(f"690123456789{d}" for d in "0123456789" if _isbn13_ok(f"690123456789{d}"))
    with pytest.raises(ValidationError) as info:
        isbn_normalise(ean)
    assert info.value.code == "isbn_prefix"


def test_isbn_is_valid_and_validator():
    """isbn_is_valid answers True/False; validate_isbn returns None or raises, as Django validators do."""
    assert isbn_is_valid("978-7-5063-6543-7")
    assert validate_isbn("978-7-5063-6543-7") is None
    with pytest.raises(ValidationError):
        validate_isbn("978-7-5063-6543-0")


@pytest.mark.parametrize("issn", REAL_ISSN)
def test_real_issn_examples_normalise(issn):
    """Real ISSNs pass the mod-11 rule and keep the NNNN-NNNC form, X check character included."""
    assert _issn_ok(issn)
    assert issn_normalise(issn) == issn
    assert issn_normalise("ISSN " + issn.replace("-", "")) == issn
    assert validate_issn(issn) is None


def test_issn_full_width_and_lowercase_x():
    """Full-width digits, a full-width dash and a lowercase x are folded before checking."""
    assert issn_normalise("ＩＳＳＮ ２４３４－５６１ｘ") == "2434-561X"
    assert issn_normalise("issn:0028 0836") == "0028-0836"


@pytest.mark.parametrize(
    ("bad", "code"), [("0028-0835", "issn_checksum"), ("0028-083", "issn_format"), ("00X8-0836", "issn_format")]
)
def test_bad_issn_is_rejected(bad, code):
    """A wrong check character or a malformed ISSN raises ValidationError with a distinct code."""
    with pytest.raises(ValidationError) as info:
        issn_normalise(bad)
    assert info.value.code == code
    assert "ISSN" in info.value.messages[0]


@pytest.mark.parametrize(
    "spelling",
    [
        "CN 11-1000/D",
        "CN11-1000/D",
        "cn 11-1000/d",
        "ＣＮ 11－1000／D",
        "ＣＮ１１－１０００／Ｄ",
        "CN 11 - 1000 / D",
        "CN111000/D",
    ],
)
def test_cn_serial_spellings_normalise(spelling):
    """The CN serial number (国内统一连续出版物号) is written one way whatever the input spacing, width or case."""
    assert cn_serial_normalise(spelling) == "CN 11-1000/D"
    assert validate_cn_serial(spelling) is None


def test_cn_serial_accepts_two_letter_industrial_class():
    """Technical journals carry classes like TP (computing) after the slash."""
    assert cn_serial_normalise("CN 11-1826/TP") == "CN 11-1826/TP"


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("CN 10-1000/D", "cn_region"),
        ("CN 66-1000/D", "cn_region"),
        ("CN 81-1000/D", "cn_region"),
        ("CN 11-1000/L", "cn_class"),
        ("CN 11-1000/W", "cn_class"),
        ("CN 11-1000/TX", "cn_class"),
        ("CN 11-100/D", "cn_format"),
        ("CN 11-1000", "cn_format"),
        ("ISSN 0028-0836", "cn_format"),
    ],
)
def test_bad_cn_serial_is_rejected(bad, code):
    """Unknown regions, letters that are not CLC classes (L, M, W, Y are unused) and malformed numbers are refused."""
    with pytest.raises(ValidationError) as info:
        cn_serial_normalise(bad)
    assert info.value.code == code


def test_region_codes_are_the_31_mainland_province_level_divisions():
    """The data lists exactly the 31 province-level codes between 11 and 65, from 北京 to 新疆."""
    assert len(CN_REGION_CODES) == 31
    assert all(11 <= int(code) <= 65 for code in CN_REGION_CODES)
    assert CN_REGION_CODES["11"] == "北京市" and CN_REGION_CODES["65"] == "新疆维吾尔自治区"
