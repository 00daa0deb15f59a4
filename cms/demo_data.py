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

# (kind, title, summary, unit code, access)
ITEMS = [
    ("article", "党史学习教育：从红船到复兴号", "回顾中国共产党百年奋斗的重大成就和历史经验。", "shandong", "public"),
    ("article", "沂蒙精神的时代价值", "党群同心、军民情深、水乳交融、生死与共的沂蒙精神。", "yinan", "public"),
    ("article", "乡村振兴看山东：合作社里的新农人", "邹平市黛溪街道发展特色产业的故事。", "zouping", "public"),
    ("audio", "灯塔有声：党章学习十讲（第一讲）", "适合老党员收听的党章导读，语速平缓。", "shandong", "public"),
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
    ("ebook", "党员学习手册（电子书）", "党员日常学习的基本篇目汇编。", "shandong", "public"),
]

# (title, summary, unit code, ffmpeg test pattern, seconds)
VIDEOS = [
    ("党史故事：沂蒙红嫂", "沂南县马牧池乡常山庄的红嫂故事。", "yinan", "testsrc2", 8),
    ("灯塔大课堂：学习贯彻党的二十大精神", "全省统一课程的导学视频。", "shandong", "smptebars", 8),
]

EDUCATION_BASE = {
    "title": "沂蒙红嫂纪念馆",
    "slug": "yimeng-hongsao",
    "address": "山东省临沂市沂南县马牧池乡常山庄村",
    "latitude": "35.592000",
    "longitude": "118.285000",
    "opening_hours": "周二至周日 8:30—17:00",
    "body": "<p>纪念沂蒙红嫂拥军支前事迹的爱国主义教育基地。</p>",
}
