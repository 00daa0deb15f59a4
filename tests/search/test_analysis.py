from search.engines.analysis import index_terms, normalize, parse_query, synonym_map, title_key, words


def query_terms(query: str) -> list[str]:
    """The terms a query's first alternative needs (ParsedQuery.terms), or none."""
    parsed = parse_query(query)
    return parsed.terms(parsed.alternatives[0]) if parsed.alternatives else []


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
    from search.engines.analysis import pinyin_terms

    terms = pinyin_terms("灯塔大课堂")
    assert any(term.startswith("dengta") for term in terms)
    assert any(term.startswith("dtdk") for term in terms)
    assert any(term.startswith("ketang") for term in terms)


def test_pinyin_terms_skip_latin_text():
    """Only Chinese runs are spelled out; other words are left to the text fields."""
    from search.engines.analysis import pinyin_terms

    assert pinyin_terms("Python 3") == []


def test_query_pinyin_accepts_letters_with_spaces_and_apostrophes_only():
    """`Deng Ta` and `xi'an` read as pinyin; Chinese, digits or a single letter do not."""
    from search.engines.analysis import query_pinyin

    assert query_pinyin("Deng Ta") == "dengta"
    assert query_pinyin("xi'an") == "xian"
    assert query_pinyin("红楼") == ""
    assert query_pinyin("a") == ""
    assert query_pinyin("abc123") == ""


def test_spoken_pinyin_makes_homophone_typos_equal():
    """A homophone slip (红楼孟 for 红楼梦) spells the same as the intended words."""
    from search.engines.analysis import spoken_pinyin

    assert spoken_pinyin("红楼孟") == spoken_pinyin("红楼梦") == "hongloumeng"


def test_pinyin_match_returns_whole_words():
    """Did-you-mean offers whole words: `dengta` → 灯塔, `dtdk` → 灯塔大课堂, `hongloumeng` → 红楼梦."""
    from search.engines.analysis import pinyin_match

    assert pinyin_match("灯塔大课堂", "dengta") == "灯塔"
    assert pinyin_match("灯塔大课堂", "dtdk") == "灯塔大课堂"
    assert pinyin_match("红楼梦有声书", "hongloumeng") == "红楼梦"
    assert pinyin_match("红楼梦有声书", "xiyou") == ""


def test_parse_query_drops_syntax_punctuation_and_emoji():
    """Lucene/DSL syntax, HTML and emoji are plain text: only letters, digits and Chinese remain as runs."""
    from search.engines.analysis import parse_query

    parsed = parse_query('title:* AND ( <script>alert("x")</script> 😀')
    assert parsed.alternatives == (("title", "and", "script", "alert", "x"),)
    assert parse_query("！？…😀").empty
    assert parse_query("   ").empty


def test_parse_query_cuts_long_queries():
    """A 10,000-character query is cut to the first `max_chars` characters."""
    from search.engines.analysis import parse_query

    parsed = parse_query("党" * 10_000, max_chars=100)
    assert len(parsed.text) == 100
    assert parsed.terms(parsed.alternatives[0]) == ["党党"]


def test_synonyms_add_alternatives_after_the_query_itself():
    """党史 also searches 中国共产党历史 (and the reverse); the query as typed stays first."""
    from search.engines.analysis import parse_query, synonym_map

    mapping = synonym_map([["党史", "中国共产党历史"]])
    assert parse_query("党史学习", synonyms=mapping).alternatives == (("党史学习",), ("中国共产党历史学习",))
    assert parse_query("中国共产党历史", synonyms=mapping).alternatives[1] == ("党史",)


def test_synonym_map_folds_words_and_ignores_single_word_groups():
    """Editors' words are normalized (traditional, width); a group of one word maps nothing."""
    from search.engines.analysis import synonym_map

    assert synonym_map([["黨史", "ＤＳ"], ["孤单"]]) == {"党史": ("ds",), "ds": ("党史",)}


# --- One rule for "is this run Chinese", Latin-word synonyms, boosts


def test_non_chinese_words_are_whole_terms_as_the_index_stores_them():
    """café, Пушкин and ポケモン are words, not Chinese runs: a query needs them whole, exactly as `index_terms`
    stores them (never bigrams such as "ca", "af", "fé" that no document has)."""
    from search.engines.analysis import is_cjk

    parsed = parse_query("Café Пушкин ポケモン 红楼梦 党")
    assert parsed.terms(parsed.alternatives[0]) == ["café", "пушкин", "ポケモン", "红楼", "楼梦", "党"]
    assert set(parsed.terms(parsed.alternatives[0])) <= set(index_terms("Café Пушкин ポケモン 红楼梦 党"))
    assert is_cjk("红楼梦") and is_cjk("党") and not is_cjk("café") and not is_cjk("ポケモン") and not is_cjk("é")


def test_a_latin_synonym_is_swapped_only_as_a_whole_word():
    """AI ↔ 人工智能 rewrites "ai 教程" and "学习AI技术" but never the letters inside "email" or "ai5"; a Chinese
    synonym is still swapped inside a longer Chinese run."""
    from search.engines.analysis import synonym_map

    mapping = synonym_map([["AI", "人工智能"], ["党史", "中国共产党历史"]])
    assert parse_query("email", synonyms=mapping).alternatives == (("email",),)
    assert parse_query("ai5 email", synonyms=mapping).alternatives == (("ai5", "email"),)
    assert parse_query("AI 教程", synonyms=mapping).alternatives == (("ai", "教程"), ("人工智能", "教程"))
    assert parse_query("学习AI技术", synonyms=mapping).alternatives[1] == ("学习人工智能技术",)
    assert parse_query("人工智能教程", synonyms=mapping).alternatives[1] == ("ai", "教程")
    assert parse_query("党史学习", synonyms=mapping).alternatives[1] == ("中国共产党历史学习",)


def test_synonym_map_lists_longest_words_first():
    """The map is ordered longest word first, the order rewrites try them in (sorted once, not per query)."""
    from search.engines.analysis import synonym_map

    mapping = synonym_map([["AI", "人工智能"], ["党史", "中国共产党历史"], ["共产党", "中共"]])
    assert [len(word) for word in mapping] == sorted((len(word) for word in mapping), reverse=True)
    assert next(iter(mapping)) == "中国共产党历史"


def test_document_boost_is_a_finite_number_of_at_least_zero():
    """Every engine reads a boost the same way: negative → 0, NaN/infinite/missing/not a number → 1."""
    from search.engines.analysis import document_boost

    assert document_boost(2.5) == 2.5 and document_boost("1.5") == 1.5 and document_boost(-3) == 0.0
    assert [document_boost(value) for value in (None, float("nan"), float("inf"), "很多", [1])] == [1.0] * 5


def test_pinyin_terms_of_a_remembered_run_are_not_shared():
    """The pinyin of a run is remembered, but each call gets its own list: a caller changing it changes nothing
    for the next document."""
    from search.engines.analysis import pinyin_terms

    first = pinyin_terms("红楼梦 曹雪芹")
    first.clear()
    assert "hongloumeng" in pinyin_terms("红楼梦 曹雪芹") and "cxq" in pinyin_terms("曹雪芹")


def test_a_white_circle_is_the_ideographic_zero_and_indexed():
    """其一○ (poem 10) is not 其一 with a dropped symbol: ○ folds to 〇, a character with its own bigram."""
    assert normalize("其一○") == "其一〇"
    assert "一〇" in index_terms("其一○") and "一〇" in index_terms("其一〇")
    assert query_terms("其一○") == ["其一", "一〇"]


def test_title_key_is_the_folded_title_an_exact_query_equals():
    """Punctuation and the spaces between Chinese runs drop out, words stay apart; a query's alternatives give the
    same keys."""
    assert title_key("念奴嬌·赤壁懷古") == "念奴娇赤壁怀古" == parse_query("念奴娇 赤壁怀古").title_keys[0]
    assert title_key("Ｐｙｔｈｏｎ 编程 入门") == "python 编程入门" == parse_query("python编程入门").title_keys[0]
    assert title_key("其一○") != title_key("其一")
    assert parse_query("党史", synonyms=synonym_map([["党史", "中国共产党历史"]])).title_keys == (
        "党史",
        "中国共产党历史",
    )
