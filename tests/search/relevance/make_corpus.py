"""Builds corpus.json (and queries.json) for the relevance test from the npm package chinese-poetry 2.0.1.

Run once by hand; the output is committed so the tests need no network:

    .venv/bin/python tests/search/relevance/make_corpus.py PATH/TO/chinese-poetry-2.0.1.tgz

(`library.management.generator.poetry_archive` downloads and checks that file). The corpus is: well-known poems
the queries aim at, poems that share their titles or words (so ranking matters), a seeded random sample of the rest,
and hand-written library-like items. Tang and Song shi stay in traditional characters as the package has them, the
Song ci are simplified: queries in the other script test the folding.

queries.json is written from QUERIES below: each entry names its expected ids, or a rule ("creator:NAME",
"title:TEXT") that is expanded here over the corpus, so the committed file always lists explicit ids.
"""

import json
import random
import re
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEMBER = re.compile(r"^package/dist/(?:quantangshi/poet\.(tang|song)|songci/ci\.(song))\.\d+\.json$")
COLLECTIONS = {"tang": "全唐诗", "song": "全宋诗", "ci": "全宋词"}
BODY_CHARS = 300
RANDOM_POEMS = 330
SEED = 5

# (id, collection, title in the package, author, first line starts with or "", title to give it or "")
FAMOUS = [
    ("poem:jingyesi", "tang", "靜夜思", "李白", "", ""),
    ("poem:chunwang", "tang", "春望", "杜甫", "", ""),
    ("poem:huanghelou", "tang", "黃鶴樓", "崔顥", "", ""),
    ("poem:changhenge", "tang", "長恨歌", "白居易", "", ""),
    ("poem:guanquelou", "tang", "登鸛雀樓", "王之渙", "", ""),
    ("poem:fengqiao", "tang", "楓橋夜泊", "張繼", "", ""),
    ("poem:chunxiao", "tang", "春曉", "孟浩然", "", ""),
    ("poem:qiangjinjiu", "tang", "將進酒", "李白", "", ""),
    ("poem:denggao", "tang", "登高", "杜甫", "", ""),
    ("poem:jiangxue", "tang", "江雪", "柳宗元", "", ""),
    ("poem:youziyin", "tang", "遊子吟", "孟郊", "", ""),
    ("poem:jinse", "tang", "錦瑟", "李商隱", "", ""),
    ("poem:chibi", "tang", "赤壁", "杜牧", "", ""),
    ("poem:shanxing", "tang", "山行", "杜牧", "", ""),
    ("poem:yilibai", "tang", "春日憶李白", "杜甫", "", ""),
    ("poem:wanglun", "tang", "贈汪倫", "李白", "", ""),
    ("poem:baidicheng", "tang", "早發白帝城", "李白", "", ""),
    ("poem:shudaonan", "tang", "蜀道難", "李白", "", ""),
    ("poem:chunyexiyu", "tang", "春夜喜雨", "杜甫", "", ""),
    ("poem:yueyanglou", "tang", "登岳陽樓", "杜甫", "", ""),
    ("poem:guyuancao", "tang", "賦得古原草送別", "白居易", "", ""),
    ("poem:guazhou", "song", "泊船瓜洲", "王安石", "", ""),
    ("poem:xilinbi", "song", "題西林壁", "蘇軾", "", ""),
    ("poem:yuanri", "song", "元日", "王安石", "", ""),
    ("ci:chibihuaigu", "ci", "念奴娇", "苏轼", "大江东去", "念奴娇·赤壁怀古"),
    ("ci:mingyue", "ci", "水调歌头", "苏轼", "明月几时有", "水调歌头·明月几时有"),
    ("ci:shengshengman", "ci", "声声慢", "李清照", "寻寻觅觅", ""),
    ("ci:rumengling", "ci", "如梦令", "李清照", "昨夜雨疏风骤", ""),
    ("ci:manjianghong", "ci", "满江红", "岳飞", "怒发冲冠", "满江红·写怀"),
    ("ci:pozhenzi", "ci", "破阵子", "辛弃疾", "醉里挑灯看剑", "破阵子·为陈同甫赋壮词以寄之"),
    ("ci:qingyuan", "ci", "青玉案", "辛弃疾", "东风夜放花千树", "青玉案·元夕"),
    ("ci:yulinling", "ci", "雨霖铃", "柳永", "寒蝉凄切", ""),
    ("ci:busuanzi", "ci", "卜算子", "陆游", "驿外断桥边", "卜算子·咏梅"),
    ("ci:queqiaoxian", "ci", "鹊桥仙", "秦观", "纤云弄巧", ""),
]
# Poems that share a word with the famous ones (in the title or the text), so a query has rivals to beat.
RIVAL_WORDS = ["赤壁", "黃鶴樓", "明月", "長恨", "岳陽樓", "李白", "蘇軾", "声声慢", "满江红", "泰山", "黃河", "紅樓"]
RIVALS_PER_WORD = 3

# Hand-written library-like items: (id, kind, title, subtitle, creators, body). Some in traditional characters.
LIBRARY = [
    (
        "lib:hlm-audio",
        "audio",
        "红楼梦有声书",
        "古典名著全本朗读",
        "曹雪芹 著；王刚 演播",
        "贾宝玉与林黛玉的故事，一百二十回全本演播。",
    ),
    (
        "lib:hlm-book",
        "ebook",
        "红楼梦（校注本）",
        "中国古典文学读本丛书",
        "曹雪芹 著",
        "附有详细注释与插图的通行校注本。",
    ),
    (
        "lib:dengta",
        "video",
        "灯塔大课堂",
        "基层党员教育系列讲座",
        "灯塔编辑部",
        "每周一讲，讲理论、讲政策、讲身边的好故事。",
    ),
    (
        "lib:dangshi-history",
        "ebook",
        "中国共产党历史（第一卷）",
        "1921—1949",
        "中共中央党史研究室",
        "记述新民主主义革命时期的历史。",
    ),
    (
        "lib:xuexi-dangshi",
        "ebook",
        "学习党史的好书",
        "推荐书目与导读",
        "灯塔编辑部",
        "为基层党员挑选的读物，附导读文字。",
    ),
    (
        "lib:dangshi-gushi",
        "audio",
        "中国共产党历史故事一百讲",
        "每天一个故事",
        "齐鲁广播",
        "从建党到新时代，一百个真实的故事。",
    ),
    (
        "lib:dangshi-xuexi",
        "ebook",
        "党史学习教育读本",
        "基层党组织用书",
        "山东人民出版社",
        "围绕学习教育的重点编写，配有思考题。",
    ),
    ("lib:yimeng", "ebook", "沂蒙精神", "水乳交融 生死与共", "沂蒙精神研究会", "讲述沂蒙老区人民支前拥军的历史。"),
    ("lib:hongsao", "audio", "沂蒙红嫂的故事", "用乳汁救伤员", "临沂广播电视台", "明德英等红嫂救护子弟兵的真实故事。"),
    ("lib:xiaodiao", "audio", "沂蒙山小调", "山东民歌", "沂蒙艺术团", "人人那个都说哎，沂蒙山好。"),
    (
        "lib:menglianggu",
        "base",
        "孟良崮战役纪念馆",
        "爱国主义教育基地",
        "蒙阴县",
        "位于临沂市蒙阴县，纪念一九四七年的孟良崮战役。",
    ),
    (
        "lib:taierzhuang",
        "base",
        "台儿庄大战纪念馆",
        "全国重点文物保护单位",
        "枣庄市",
        "纪念一九三八年春台儿庄大战的专题纪念馆。",
    ),
    (
        "lib:jiaoyulu",
        "ebook",
        "焦裕禄精神学习读本",
        "县委书记的榜样",
        "灯塔编辑部",
        "亲民爱民、艰苦奋斗、科学求实、迎难而上。",
    ),
    (
        "lib:xiangcun",
        "video",
        "乡村振兴实用技术",
        "果树栽培与病虫害防治",
        "山东农业大学",
        "苹果、桃、梨的栽培管理，春季修剪要点。",
    ),
    ("lib:guoshu", "ebook", "果树栽培手册", "农业技术丛书", "王国华", "从选苗、定植到施肥、灌溉，一步一步讲清楚。"),
    ("lib:shuihu", "audio", "水浒传评书", "一百单八将", "施耐庵 原著；单田芳 播讲", "梁山好汉的故事，评书全本。"),
    ("lib:sanguo", "audio", "三國演義評書", "全本", "羅貫中 原著；袁闊成 播講", "桃園結義、三顧茅廬、赤壁鏖兵。"),
    ("lib:lunyu", "ebook", "論語講讀", "儒家經典", "楊伯峻 譯注", "學而時習之，不亦說乎。"),
    ("lib:xiyouji", "ebook", "西游记", "古典名著", "吴承恩", "唐僧师徒四人西天取经的故事。"),
    ("lib:jiashu", "ebook", "红色家书", "革命先烈书信选", "灯塔编辑部", "一封封写给亲人的信，字里行间是信仰。"),
    ("lib:changzheng", "ebook", "长征：红军长征的故事", "二万五千里", "王树增", "红军长征途中的战斗与生活。"),
    ("lib:taishan", "video", "泰山", "五岳独尊", "山东电视台", "纪录片，讲述泰山的自然与人文。"),
    ("lib:huanghe", "video", "黄河入海口湿地", "东营纪行", "黄河口日报", "黄河在东营注入渤海，湿地里有成群的候鸟。"),
    ("lib:qilu", "audio", "齐鲁文化十讲", "从孔孟到泰山", "山东大学", "十讲齐鲁文化的源流。"),
    ("lib:jiaoyu-pian", "video", "党员教育电视片", "身边的榜样", "灯塔编辑部", "基层党员的先进事迹。"),
    ("lib:zhibu", "periodical", "支部生活", "月刊", "支部生活杂志社", "基层党支部工作的经验与交流。"),
    ("lib:chibi-war", "audio", "赤壁之战", "三国故事", "袁阔成", "孙刘联军在赤壁以火攻大破曹军。"),
    ("lib:dengta-yuekan", "periodical", "灯塔月刊", "2024年第3期", "灯塔编辑部", "本期专题：乡村振兴。"),
    ("lib:dengta-bao", "newspaper", "灯塔党建报", "第一版 要闻", "灯塔党建报社", "全省基层党建工作会议召开。"),
    ("lib:kongzi", "ebook", "孔子传", "至圣先师", "钱穆", "叙述孔子一生的行事与思想。"),
    ("lib:yangsheng", "video", "中医养生知识", "冬季养生", "省中医院", "冬季饮食与起居，老年人怎样保养身体。"),
    ("lib:jiankang", "video", "老年人健康讲座", "预防高血压", "省立医院", "血压怎样测、怎样控制，医生讲给您听。"),
    ("lib:shufa", "course", "书法入门", "楷书基础", "李文华", "从执笔、笔画讲起，每课配有练习。"),
    ("lib:jingju", "audio", "京剧唱段精选", "名家名段", "梅兰芳 等", "《贵妃醉酒》《霸王别姬》等经典唱段。"),
    ("lib:tangshi", "audio", "唐诗三百首朗读", "名家朗诵", "蘅塘退士 编", "床前明月光，疑是地上霜。"),
    ("lib:songci", "audio", "宋词名篇赏析", "十讲", "叶嘉莹", "从柳永、苏轼到李清照、辛弃疾。"),
    ("lib:libai-zhuan", "ebook", "李白传", "诗仙的一生", "李长之", "李白的生平与诗歌。"),
    ("lib:nahan", "ebook", "吶喊", "小說集", "魯迅", "收入《狂人日記》《阿Q正傳》《故鄉》等小說。"),
    ("lib:jiafeng", "ebook", "家风家训", "百家家训选读", "灯塔编辑部", "好家风代代相传。"),
    ("lib:taiji", "video", "太极拳入门", "二十四式", "山东体育学院", "动作舒缓，适合中老年人锻炼。"),
    ("lib:hongse-dianying", "video", "紅色經典電影選", "電影", "八一電影製片廠", "《地道戰》《地雷戰》等經典影片。"),
]

# Exact ties (issue 17): titles that equal a query beside titles that merely contain it, and pairs alike in every
# other way (same creators, body and age), so the order comes only from exactness, then the shorter title.
# (id, kind, title, subtitle, creators, body, age_days): ages fixed, so adding these changes no other document.
EXACT_TIES = [
    ("tie:san", "poem", "三", "组诗", "佚名", "三山半落青天外，二水中分白鹭洲。", 500),
    ("tie:qiyisan", "poem", "其一三", "组诗", "佚名", "三山半落青天外，二水中分白鹭洲。", 500),
    ("tie:qiyi", "poem", "其一", "组诗", "佚名", "一水护田将绿绕，两山排闼送青来。", 800),
    ("tie:qiyiling", "poem", "其一○", "组诗", "佚名", "一水护田将绿绕，两山排闼送青来。", 800),
    ("tie:qiuxing-2", "poem", "秋兴 其二", "组诗", "佚名", "夔府孤城落日斜，每依北斗望京华。", 600),
    ("tie:qiuxing-20", "poem", "秋兴 其二○", "组诗", "佚名", "夔府孤城落日斜，每依北斗望京华。", 600),
    ("tie:meihua", "poem", "梅花", "全宋诗", "佚名", "墙角数枝梅，凌寒独自开。", 2500),
    ("tie:meihua-xuan", "ebook", "梅花诗词选", "梅花主题", "灯塔编辑部", "梅花诗词一百首，梅花的诗、梅花的词。", 20),
]

# (group, query, expected): expected is a list of ids and/or rules "creator:NAME" / "title:TEXT" (folded match).
QUERIES = [
    ("exact title", "红楼梦有声书", ["lib:hlm-audio"]),
    ("exact title", "灯塔大课堂", ["lib:dengta"]),
    ("exact title", "沂蒙精神", ["lib:yimeng"]),
    ("exact title", "孟良崮战役纪念馆", ["lib:menglianggu"]),
    ("exact title", "念奴娇·赤壁怀古", ["ci:chibihuaigu"]),
    ("exact title", "水调歌头·明月几时有", ["ci:mingyue"]),
    ("exact title", "学习党史的好书", ["lib:xuexi-dangshi"]),
    ("exact title", "乡村振兴实用技术", ["lib:xiangcun"]),
    ("exact title", "台儿庄大战纪念馆", ["lib:taierzhuang"]),
    ("exact title", "雨霖铃", ["title:雨霖铃"]),
    ("partial title", "红楼梦", ["lib:hlm-audio", "lib:hlm-book"]),
    ("partial title", "大课堂", ["lib:dengta"]),
    ("partial title", "赤壁怀古", ["ci:chibihuaigu"]),
    ("partial title", "孟良崮", ["lib:menglianggu"]),
    ("partial title", "明月几时有", ["ci:mingyue"]),
    ("partial title", "台儿庄", ["lib:taierzhuang"]),
    ("partial title", "党史学习", ["lib:dangshi-xuexi"]),
    ("partial title", "文化十讲", ["lib:qilu"]),
    ("partial title", "战役纪念馆", ["lib:menglianggu"]),
    ("partial title", "焦裕禄", ["lib:jiaoyulu"]),
    ("two characters", "沂蒙", ["lib:yimeng", "lib:hongsao", "lib:xiaodiao"]),
    ("two characters", "赤壁", ["title:赤壁"]),
    ("two characters", "泰山", ["title:泰山"]),
    ("two characters", "家书", ["lib:jiashu"]),
    ("two characters", "京剧", ["lib:jingju"]),
    ("two characters", "书法", ["lib:shufa"]),
    ("two characters", "养生", ["lib:yangsheng"]),
    ("two characters", "长征", ["title:长征"]),
    ("two characters", "红嫂", ["lib:hongsao"]),
    ("two characters", "太极", ["lib:taiji"]),
    ("creator", "曹雪芹", ["creator:曹雪芹"]),
    ("creator", "苏轼", ["creator:苏轼"]),
    ("creator", "李清照", ["creator:李清照"]),
    ("creator", "辛弃疾", ["creator:辛弃疾"]),
    ("creator", "白居易", ["creator:白居易"]),
    ("creator", "施耐庵", ["lib:shuihu"]),
    ("creator", "单田芳", ["lib:shuihu"]),
    ("creator", "钱穆", ["lib:kongzi"]),
    ("creator", "柳永", ["creator:柳永"]),
    ("creator", "岳飞", ["creator:岳飞"]),
    ("pinyin full", "hongloumeng", ["lib:hlm-audio", "lib:hlm-book"]),
    ("pinyin full", "dengtadaketang", ["lib:dengta"]),
    ("pinyin full", "dengta", ["title:灯塔"]),
    ("pinyin full", "yimengjingshen", ["lib:yimeng"]),
    ("pinyin full", "menglianggu", ["lib:menglianggu"]),
    ("pinyin full", "jingyesi", ["poem:jingyesi"]),
    ("pinyin full", "caoxueqin", ["creator:曹雪芹"]),
    ("pinyin full", "taierzhuang", ["lib:taierzhuang"]),
    ("pinyin initials", "hlm", ["lib:hlm-audio", "lib:hlm-book"]),
    ("pinyin initials", "dtdkt", ["lib:dengta"]),
    ("pinyin initials", "dtdk", ["lib:dengta"]),
    ("pinyin initials", "ymjs", ["lib:yimeng"]),
    ("pinyin initials", "mlgzy", ["lib:menglianggu"]),
    ("pinyin initials", "jys", ["poem:jingyesi"]),
    ("pinyin initials", "tezdz", ["lib:taierzhuang"]),
    ("pinyin initials", "xczx", ["lib:xiangcun"]),
    ("traditional for simplified", "紅樓夢", ["lib:hlm-audio", "lib:hlm-book"]),
    ("traditional for simplified", "燈塔大課堂", ["lib:dengta"]),
    ("traditional for simplified", "學習黨史", ["lib:xuexi-dangshi"]),
    ("traditional for simplified", "沂蒙紅嫂", ["lib:hongsao"]),
    ("traditional for simplified", "蘇軾", ["creator:苏轼"]),
    ("traditional for simplified", "聲聲慢", ["title:声声慢"]),
    ("traditional for simplified", "鄉村振興", ["lib:xiangcun"]),
    ("traditional for simplified", "臺兒莊", ["lib:taierzhuang"]),
    ("simplified for traditional", "静夜思", ["poem:jingyesi"]),
    ("simplified for traditional", "黄鹤楼", ["title:黄鹤楼"]),
    ("simplified for traditional", "长恨歌", ["poem:changhenge"]),
    ("simplified for traditional", "枫桥夜泊", ["poem:fengqiao"]),
    ("simplified for traditional", "登鹳雀楼", ["poem:guanquelou"]),
    ("simplified for traditional", "三国演义", ["lib:sanguo"]),
    ("simplified for traditional", "论语", ["lib:lunyu"]),
    ("simplified for traditional", "鲁迅", ["creator:鲁迅"]),
    ("homophone typo", "红楼孟", ["lib:hlm-audio", "lib:hlm-book"]),
    ("homophone typo", "静夜丝", ["poem:jingyesi"]),
    ("homophone typo", "登塔大课堂", ["lib:dengta"]),
    ("homophone typo", "孟良固", ["lib:menglianggu"]),
    ("homophone typo", "沂梦精神", ["lib:yimeng"]),
    ("homophone typo", "长狠歌", ["poem:changhenge"]),
    ("homophone typo", "台儿壮", ["lib:taierzhuang"]),
    ("homophone typo", "曹雪琴", ["creator:曹雪芹"]),
    ("synonym", "党史故事", ["lib:dangshi-gushi"]),
    ("synonym", "中国共产党历史学习", ["lib:dangshi-xuexi"]),
    ("synonym", "中国共产党历史的好书", ["lib:xuexi-dangshi"]),
    ("synonym", "党史", ["lib:dangshi-history", "lib:xuexi-dangshi", "lib:dangshi-gushi", "lib:dangshi-xuexi"]),
    ("exact tie", "三", ["tie:san"]),
    ("exact tie", "其一", ["tie:qiyi"]),
    ("exact tie", "其一○", ["tie:qiyiling"]),
    ("exact tie", "其一〇", ["tie:qiyiling"]),
    ("exact tie", "秋兴", ["tie:qiuxing-2"]),
    ("exact tie", "秋興 其二", ["tie:qiuxing-2"]),
    ("exact tie", "梅花", ["tie:meihua"]),
]


def _poems(archive: Path):
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            match = MEMBER.match(member.name)
            if not (match and member.isfile()):
                continue
            collection = "ci" if match[2] else match[1]
            for record in json.load(tar.extractfile(member)):
                lines = [line.strip() for line in record.get("paragraphs") or () if line.strip()]
                title = (record.get("title") or record.get("rhythmic") or "").strip()
                author = (record.get("author") or "").strip()
                if title and author and lines:
                    yield collection, title, author, lines


def _doc(doc_id: str, poem, title: str, rng: random.Random) -> dict:
    collection, original, author, lines = poem
    return {
        "id": doc_id,
        "kind": "poem",
        "title": title or original,
        "subtitle": COLLECTIONS[collection],
        "creators": author,
        "body": "".join(lines)[:BODY_CHARS],
        "age_days": rng.randint(30, 3000),
    }


def _pick_famous(poems: list) -> tuple[dict, set[int]]:
    found, used = {}, set()
    for number, (collection, title, author, lines) in enumerate(poems):
        for doc_id, want_collection, want_title, want_author, first, _ in FAMOUS:
            if doc_id in found or (collection, title, author) != (want_collection, want_title, want_author):
                continue
            if not first or lines[0].startswith(first):
                found[doc_id] = number
                used.add(number)
    missing = [spec[0] for spec in FAMOUS if spec[0] not in found]
    if missing:
        raise SystemExit(f"not in the package: {missing}")
    return found, used


def _pick_rivals(poems: list, used: set[int]) -> list[int]:
    rivals = []
    for word in RIVAL_WORDS:
        hits = [
            n for n, p in enumerate(poems) if n not in used and (word in p[1] or word in "".join(p[3])[:BODY_CHARS])
        ]
        for number in random.Random(f"{SEED}{word}").sample(hits, min(RIVALS_PER_WORD, len(hits))):
            used.add(number)
            rivals.append(number)
    return rivals


def build(archive: Path) -> list[dict]:
    poems = list(_poems(archive))
    rng = random.Random(SEED)
    famous, used = _pick_famous(poems)
    titles = {spec[0]: spec[5] for spec in FAMOUS}
    documents = [_doc(doc_id, poems[number], titles[doc_id], rng) for doc_id, number in famous.items()]
    for n, number in enumerate(_pick_rivals(poems, used)):
        documents.append(_doc(f"poem:rival{n:03}", poems[number], "", rng))
    others = [n for n in range(len(poems)) if n not in used and len("".join(poems[n][3])) <= 400]
    for n, number in enumerate(sorted(rng.sample(others, RANDOM_POEMS))):
        documents.append(_doc(f"poem:r{n:03}", poems[number], "", rng))
    for doc_id, kind, title, subtitle, creators, body in LIBRARY:
        documents.append(
            {
                "id": doc_id,
                "kind": kind,
                "title": title,
                "subtitle": subtitle,
                "creators": creators,
                "body": body,
                "age_days": rng.randint(10, 2000),
            }
        )
    for doc_id, kind, title, subtitle, creators, body, age_days in EXACT_TIES:
        documents.append(
            {
                "id": doc_id,
                "kind": kind,
                "title": title,
                "subtitle": subtitle,
                "creators": creators,
                "body": body,
                "age_days": age_days,
            }
        )
    return documents


def expand(expected: list[str], documents: list[dict], fold) -> list[str]:
    ids = []
    for item in expected:
        rule, _, value = item.partition(":")
        if rule in ("creator", "title"):
            field = "creators" if rule == "creator" else "title"
            ids += [d["id"] for d in documents if fold(value) in fold(d[field])]
        else:
            ids.append(item)
    known = {d["id"] for d in documents}
    if not ids or set(ids) - known:
        raise SystemExit(f"bad expectation {expected}: {sorted(set(ids) - known)}")
    return list(dict.fromkeys(ids))


def main() -> None:
    sys.path.insert(0, str(HERE.parents[2]))
    from search.engines.analysis import normalize

    documents = build(Path(sys.argv[1]))
    (HERE / "corpus.json").write_text(json.dumps(documents, ensure_ascii=False, indent=0) + "\n", "utf-8")
    queries = [
        {"group": group, "query": query, "expected": expand(expected, documents, normalize)}
        for group, query, expected in QUERIES
    ]
    (HERE / "queries.json").write_text(json.dumps(queries, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"{len(documents)} documents, {len(queries)} queries")


if __name__ == "__main__":
    main()
