from search.analysis import index_terms, normalize, query_terms, words


def test_index_terms_are_characters_and_bigrams():
    """A Chinese run is stored as each character and each pair of neighbours."""
    assert index_terms("红楼梦") == ["红", "楼", "梦", "红楼", "楼梦"]


def test_latin_words_and_digits_are_lowercase_words():
    """Latin letters and digits are whole lowercase words, split from neighbouring Chinese."""
    assert index_terms("Python3教程 DengTa") == ["python3", "教", "程", "教程", "dengta"]


def test_query_of_one_character_is_its_unigram():
    """A one-character query looks up the character itself."""
    assert query_terms("党") == ["党"]


def test_longer_query_is_its_bigrams():
    """A longer query needs all of its bigrams (every one is in the index of a matching title)."""
    assert query_terms("红楼梦") == ["红楼", "楼梦"]
    assert set(query_terms("红楼梦")) <= set(index_terms("红楼梦有声书"))


def test_traditional_folds_to_simplified():
    """Traditional characters fold to simplified, so 黨史 finds 党史."""
    assert normalize("黨史") == "党史"
    assert query_terms("黨史") == query_terms("党史")


def test_full_width_folds_to_half_width_lowercase():
    """Full-width Latin letters fold to plain lowercase ASCII."""
    assert normalize("ＡＢＣ") == "abc"
    assert index_terms("ＡＢＣ１２３") == ["abc123"]


def test_punctuation_and_emoji_make_no_terms():
    """Queries of punctuation or emoji give no terms (and so no results, not an error)."""
    assert query_terms("！？…😀 *:()") == []


def test_words_segments_with_rjieba():
    """The precision field gets jieba-style words."""
    assert "红楼梦" in words("我爱读红楼梦")
