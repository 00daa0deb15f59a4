"""The Chinese Library Classification data gives labels, parents, validation and form choices for subject codes."""

import pytest
from django.core.exceptions import ValidationError

from library.catalogue.clc import CLC_CHOICES, CLC_SECOND, CLC_TOP, clc_label, clc_parent, clc_validate


def test_there_are_22_basic_classes_in_scheme_order():
    """The basic classes are exactly A–Z without L, M, W and Y, in alphabetical order."""
    assert "".join(CLC_TOP) == "ABCDEFGHIJKNOPQRSTUVXZ"
    assert CLC_TOP["A"] == "马克思主义、列宁主义、毛泽东思想、邓小平理论"
    assert CLC_TOP["Z"] == "综合性图书"


def test_every_second_level_class_sits_under_a_basic_class():
    """No second-level entry refers to a basic class that does not exist."""
    assert all(code[0] in CLC_TOP for code in CLC_SECOND)


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("D2", "D2 中国共产党"),
        ("D", "D 政治、法律"),
        ("A4", "A4 毛泽东著作"),
        ("A49", "A49 邓小平著作"),
        ("K2", "K2 中国史"),
        ("TP", "TP 自动化技术、计算机技术"),
        ("D33/37", "D33/37 各国共产党"),
    ],
)
def test_label_of_known_classes(code, label):
    """A known class is labelled with its code and official Chinese name."""
    assert clc_label(code) == label


def test_label_of_finer_code_names_its_nearest_known_class():
    """A code finer than the table still gets a readable label pointing at the class it belongs to."""
    assert clc_label("D261.4") == "D261.4（D2 中国共产党）"
    assert clc_label("TP311.13") == "TP311.13（TP 自动化技术、计算机技术）"
    assert clc_label("I247.5") == "I247.5（I 文学）"


@pytest.mark.parametrize(
    ("code", "parent"),
    [
        ("D", None),
        ("D2", "D"),
        ("D261.4", "D2"),
        ("K27", "K2"),
        ("A49", "A4"),
        ("A491", "A49"),
        ("D35", "D33/37"),
        ("D33/37", "D"),
        ("TP", "T"),
        ("TP311", "TP"),
        ("O13", "O"),
    ],
)
def test_parent_is_the_nearest_known_broader_class(code, parent):
    """The parent walks up through the listed classes, treating printed ranges such as D33/37 as one class."""
    assert clc_parent(code) == parent


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("D261.4", "D261.4"),
        ("k27", "K27"),
        ("Ｄ２６１．４", "D261.4"),
        (" TP 311.13 ", "TP311.13"),
        ("D0-0", "D0-0"),
        ("K837.12=4", "K837.12=4"),
        ("A", "A"),
    ],
)
def test_validate_accepts_and_normalises_finer_codes(raw, normalised):
    """Finer codes, lower case, full-width input and auxiliary notation are accepted and folded."""
    assert clc_validate(raw) == normalised


@pytest.mark.parametrize("bad", ["L12", "W", "Y1", "A6", "A9", "TX", "DF", "D2abc", "D261.", "", "中国共产党", "1D"])
def test_validate_rejects_codes_that_are_not_clc(bad):
    """Unused letters, missing A-class divisions (there is no A6), unknown T subclasses and junk are refused."""
    with pytest.raises(ValidationError):
        clc_validate(bad)


def test_choices_are_flat_ordered_and_cover_every_listed_class():
    """CLC_CHOICES lists each basic class followed by its listed second-level classes, once each."""
    codes = [code for code, _label in CLC_CHOICES]
    assert len(codes) == len(set(codes)) == len(CLC_TOP) + len(CLC_SECOND)
    assert codes[0] == "A" and codes[1] == "A1"
    assert codes.index("D2") < codes.index("E") < codes.index("K2")
    assert dict(CLC_CHOICES)["D2"].strip() == "D2 中国共产党"
