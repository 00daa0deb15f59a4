"""The demo organisation: Shandong's 16 prefecture-level cities and a few real counties."""

PROVINCE = ("山东省", "shandong")

CITIES = [
    ("济南市", "jinan"),
    ("青岛市", "qingdao"),
    ("淄博市", "zibo"),
    ("枣庄市", "zaozhuang"),
    ("东营市", "dongying"),
    ("烟台市", "yantai"),
    ("潍坊市", "weifang"),
    ("济宁市", "jining"),
    ("泰安市", "taian"),
    ("威海市", "weihai"),
    ("日照市", "rizhao"),
    ("临沂市", "linyi"),
    ("德州市", "dezhou"),
    ("聊城市", "liaocheng"),
    ("滨州市", "binzhou"),
    ("菏泽市", "heze"),
]

# (county, code, city code)
COUNTIES = [
    ("邹平市", "zouping", "binzhou"),
    ("芝罘区", "zhifu", "yantai"),
    ("泗水县", "sishui", "jining"),
    ("山亭区", "shanting", "zaozhuang"),
    ("沂南县", "yinan", "linyi"),
]

# (name, code, level, parent code)
LOCAL_UNITS = [
    ("黛溪街道", "zouping-daixi", "township", "zouping"),
    ("黛溪街道第一党支部", "zouping-daixi-1", "branch", "zouping-daixi"),
    ("马牧池乡", "yinan-mamuchi", "township", "yinan"),
    ("常山庄村党支部", "yinan-mamuchi-changshanzhuang", "branch", "yinan-mamuchi"),
]

DEMO_PASSWORD = "lighthouse-demo"

# (username, real name, unit code, role)
EDITORS = [
    ("sheng_editor", "省级编辑", "shandong", "editor"),
    ("binzhou_editor", "滨州市编辑", "binzhou", "editor"),
    ("zouping_editor", "邹平市编辑", "zouping", "editor"),
    ("yinan_editor", "沂南县编辑", "yinan", "editor"),
    ("changshanzhuang_secretary", "常山庄村支部书记", "yinan-mamuchi-changshanzhuang", "secretary"),
]

# Plain members, no role: they sign in on the site (/login/) with the username or the mobile number.
# (username, real name, mobile number, unit code)
MEMBERS = [
    ("dangyuan", "王德明", "13800000001", "zouping-daixi-1"),
]

# (kind, title, summary, unit code, access): standalone articles
ITEMS = [
    ("article", "党史学习教育：从红船到复兴号", "回顾中国共产党百年奋斗的重大成就和历史经验。", "shandong", "public"),
    ("article", "沂蒙精神的时代价值", "党群同心、军民情深、水乳交融、生死与共的沂蒙精神。", "yinan", "public"),
    ("article", "乡村振兴看山东：合作社里的新农人", "邹平市黛溪街道发展特色产业的故事。", "zouping", "public"),
    (
        "article",
        "基层党支部“三会一课”工作指南",
        "支部党员大会、支部委员会、党小组会和党课的组织方法。",
        "shandong",
        "members",
    ),
    ("article", "黄河流域生态保护和高质量发展", "山东沿黄九市的生态保护实践。", "binzhou", "public"),
    ("article", "红色记忆：台儿庄大战", "枣庄市山亭区老党员口述的抗战记忆。", "shanting", "public"),
    ("article", "新时代文明实践在芝罘", "烟台市芝罘区志愿服务活动纪实。", "zhifu", "public"),
    ("article", "泗水县：孔孟之乡的乡风文明建设", "以文化人、以文育人的基层实践。", "sishui", "public"),
]

# (title, summary, unit code, ffmpeg test pattern, seconds): standalone videos
VIDEOS = [
    ("党史故事：沂蒙红嫂", "沂南县马牧池乡常山庄的红嫂故事。", "yinan", "testsrc2", 8),
    ("灯塔大课堂：学习贯彻党的二十大精神", "全省统一课程的导学视频。", "shandong", "smptebars", 8),
]

# Series: (key, kind, title, summary, unit code, credits, tags, episodes as (key, title, summary, seconds))
SERIES = [
    (
        "video-weidangke",
        "video",
        "党史微课",
        "每集五分钟，讲一个党史上的关键时刻。",
        "shandong",
        [("李红梅", "presenter"), ("王建国", "director")],
        ["党史", "党课"],
        [
            ("video-weidangke-1", "党史微课 第1集：南湖红船", "1921年，嘉兴南湖的一条游船上。", 6),
            ("video-weidangke-2", "党史微课 第2集：井冈山的星火", "1927年，工农革命军上井冈山。", 6),
        ],
    ),
    (
        "audio-dangzhang",
        "audio",
        "灯塔有声：党章学习十讲",
        "适合老党员收听的党章导读，语速平缓。",
        "shandong",
        [("张秀英", "narrator"), ("灯塔编辑部", "editor")],
        ["党章", "老党员"],
        [
            ("audio-dangzhang-1", "灯塔有声：党章学习十讲（第一讲）", "党章的总纲。", 6),
            ("audio-dangzhang-2", "灯塔有声：党章学习十讲（第二讲）", "党员的义务和权利。", 6),
        ],
    ),
]

ILLUSTRATED_ARTICLE = {
    "key": "article-hongsao",
    "title": "图说沂蒙红嫂",
    "summary": "一组老照片，讲述常山庄村红嫂用乳汁救伤员的故事。",
    "unit": "yinan",
    "credits": [("刘晓光", "author"), ("陈玉兰", "illustrator")],
    "tags": ["沂蒙精神", "红色故事"],
    "clc": "K825",
    "paragraphs": [
        "1941年冬，日军“扫荡”沂蒙山区，八路军一名小战士身负重伤。",
        "常山庄村的明德英把他藏进山洞，用自己的乳汁救活了他。",
    ],
}

# E-books: (key, title, summary, format, credits, isbn, clc, publisher, issued)
EBOOKS = [
    (
        "ebook-shouce",
        "党员学习手册（电子书）",
        "党员日常学习的基本篇目汇编。",
        "pdf",
        [("灯塔编辑部", "editor")],
        "9787010000008",
        "D262",
        "人民出版社",
        "2024-07-01",
    ),
    (
        "ebook-duben",
        "灯塔学习读本",
        "两章小读本：灯塔照亮前路，不忘初心、牢记使命。",
        "epub",
        [("王国华", "author"), ("李文", "annotator")],
        "9787209000000",
        "D261.4",
        "山东人民出版社",
        "2024-07-01",
    ),
]

PERIODICAL = {
    "key": "periodical-xianfeng",
    "title": "齐鲁先锋",
    "summary": "面向全省基层党员的月刊。",
    "issn": "1671-6736",
    "cn_serial": "CN 37-1392/D",
    "clc": "D26",
    "publisher": "齐鲁先锋杂志社",
    "issue": ("periodical-xianfeng-2026-1", "齐鲁先锋（2026年第1期）", "2026年第1期", "2026-01-05"),
    "articles": [
        ("periodical-xianfeng-2026-1-a1", "新年寄语：把初心写在大地上", [("本刊评论员", "author")]),
        ("periodical-xianfeng-2026-1-a2", "一个村支书的三本账", [("孙立成", "author")]),
    ],
}

NEWSPAPER = {
    "key": "newspaper-dengta",
    "title": "灯塔党建报",
    "summary": "全省党员的学习周报。",
    "cn_serial": "CN 37-0088/D",
    "publisher": "灯塔党建报社",
    "issue": ("newspaper-dengta-1", "灯塔党建报 2026年03月02日", "总第1期", "2026-03-02"),
    "page": (1, "要闻"),
    # (key, title, author, rectangle as [left, top, right, bottom] fractions of the page)
    "articles": [
        ("newspaper-dengta-1-a1", "全省党员冬春训工作全面展开", "赵海", [0.05, 0.12, 0.95, 0.52]),
        ("newspaper-dengta-1-a2", "沂南县：红色课堂搬进田间地头", "周春红", [0.05, 0.56, 0.95, 0.94]),
    ],
}

# The curated list on the library's front page: the keys above, in the editors' order.
CURATED = {
    "slug": "benyue-tuijian",
    "title": "本月推荐",
    "summary": "编辑为您挑选的本月好内容。",
    "keys": [
        "video-weidangke",
        "audio-dangzhang",
        "article-hongsao",
        "ebook-duben",
        "ebook-shouce",
        "periodical-xianfeng",
        "newspaper-dengta",
    ],
}

EDUCATION_BASE = {
    "title": "沂蒙红嫂纪念馆",
    "slug": "yimeng-hongsao",
    "address": "山东省临沂市沂南县马牧池乡常山庄村",
    "latitude": "35.592000",
    "longitude": "118.285000",
    "opening_hours": "周二至周日 8:30—17:00",
    "body": "<p>纪念沂蒙红嫂拥军支前事迹的爱国主义教育基地。</p>",
}
