"""Builds pinyin_queries.json for the relevance test: the full pinyin of phrases taken from the corpus's body text.

Run by hand after corpus.json changes; the output is committed:

    .venv/bin/python tests/search/relevance/make_pinyin_queries.py

Each query is a phrase of 5 to 7 characters from the body (not the title) of a seeded random document, as a member
without a Chinese input method would type it: toneless full pinyin (pypinyin's reading of the phrase in its
sentence), run together, or for every fourth query one syllable apart. It expects every document whose title,
subtitle, creators or body holds the phrase (after folding: the Tang and Song shi are in traditional characters).
"""

import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
QUERIES = 60
SEED = 17
_RUN = re.compile(r"[\u4e00-\u9fff]{5,}")


def main() -> None:
    from pypinyin import lazy_pinyin

    from search.engines.analysis import normalize

    corpus = json.loads((HERE / "corpus.json").read_text("utf-8"))
    texts = {
        row["id"]: normalize(" ".join((row["title"], row["subtitle"], row["creators"], row["body"]))) for row in corpus
    }
    rng, queries, seen = random.Random(SEED), [], set()
    for row in rng.sample(corpus, len(corpus)):
        runs = _RUN.findall(normalize(row["body"]))
        if not runs or len(queries) >= QUERIES:
            continue
        run = rng.choice(runs)
        size = min(rng.randint(5, 7), len(run))
        start = rng.randint(0, len(run) - size)
        phrase = run[start : start + size]
        syllables = lazy_pinyin(run)[start : start + size]
        if phrase in seen or not all(s.isascii() and s.isalpha() for s in syllables):
            continue
        seen.add(phrase)
        query = " ".join(syllables) if len(queries) % 4 == 3 else "".join(syllables)
        expected = sorted(doc_id for doc_id, text in texts.items() if phrase in text)
        queries.append({"group": "pinyin of text", "query": query, "phrase": phrase, "expected": expected})
    (HERE / "pinyin_queries.json").write_text(json.dumps(queries, ensure_ascii=False, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
