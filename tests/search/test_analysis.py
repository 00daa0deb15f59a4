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


# --- pinyin, corrections, parsed queries and synonyms


def test_pinyin_terms_cover_full_spelling_and_initials_from_every_syllable():
    """灯塔大课堂 is findable by `dengta`, `dtdk` and by spelling that starts inside the title (`ketang`)."""
    from search.analysis import pinyin_terms

    terms = pinyin_terms("灯塔大课堂")
    assert any(term.startswith("dengta") for term in terms)
    assert any(term.startswith("dtdk") for term in terms)
    assert any(term.startswith("ketang") for term in terms)


def test_pinyin_terms_skip_latin_text():
    """Only Chinese runs are spelled out; other words are left to the text fields."""
    from search.analysis import pinyin_terms

    assert pinyin_terms("Python 3") == []


def test_query_pinyin_accepts_letters_with_spaces_and_apostrophes_only():
    """`Deng Ta` and `xi'an` read as pinyin; Chinese, digits or a single letter do not."""
    from search.analysis import query_pinyin

    assert query_pinyin("Deng Ta") == "dengta"
    assert query_pinyin("xi'an") == "xian"
    assert query_pinyin("红楼") == ""
    assert query_pinyin("a") == ""
    assert query_pinyin("abc123") == ""


def test_spoken_pinyin_makes_homophone_typos_equal():
    """A homophone slip (红楼孟 for 红楼梦) spells the same as the intended words."""
    from search.analysis import spoken_pinyin

    assert spoken_pinyin("红楼孟") == spoken_pinyin("红楼梦") == "hongloumeng"


def test_pinyin_match_returns_whole_words():
    """Did-you-mean offers whole words: `dengta` → 灯塔, `dtdk` → 灯塔大课堂, `hongloumeng` → 红楼梦."""
    from search.analysis import pinyin_match

    assert pinyin_match("灯塔大课堂", "dengta") == "灯塔"
    assert pinyin_match("灯塔大课堂", "dtdk") == "灯塔大课堂"
    assert pinyin_match("红楼梦有声书", "hongloumeng") == "红楼梦"
    assert pinyin_match("红楼梦有声书", "xiyou") == ""


def test_parse_query_drops_syntax_punctuation_and_emoji():
    """Lucene/DSL syntax, HTML and emoji are plain text: only letters, digits and Chinese remain as runs."""
    from search.analysis import parse_query

    parsed = parse_query('title:* AND ( <script>alert("x")</script> 😀')
    assert parsed.alternatives == (("title", "and", "script", "alert", "x"),)
    assert parse_query("！？…😀").empty
    assert parse_query("   ").empty


def test_parse_query_cuts_long_queries():
    """A 10,000-character query is cut to the first `max_chars` characters."""
    from search.analysis import parse_query

    parsed = parse_query("党" * 10_000, max_chars=100)
    assert len(parsed.text) == 100
    assert parsed.terms(parsed.alternatives[0]) == ["党党"]


def test_synonyms_add_alternatives_after_the_query_itself():
    """党史 also searches 中国共产党历史 (and the reverse); the query as typed stays first."""
    from search.analysis import parse_query, synonym_map

    mapping = synonym_map([["党史", "中国共产党历史"]])
    assert parse_query("党史学习", synonyms=mapping).alternatives == (("党史学习",), ("中国共产党历史学习",))
    assert parse_query("中国共产党历史", synonyms=mapping).alternatives[1] == ("党史",)


def test_synonym_map_folds_words_and_ignores_single_word_groups():
    """Editors' words are normalized (traditional, width); a group of one word maps nothing."""
    from search.analysis import synonym_map

    assert synonym_map([["黨史", "ＤＳ"], ["孤单"]]) == {"党史": ("ds",), "ds": ("党史",)}
