"""The courses' demo (called by cms.demo's loader after the library): the course index, this month's course with
lessons from the demo library, next month's course counting down, a question bank imported through the real
import (exam questions three times the blueprint and a practice set), and a few members with finished attempts
and lessons done. Idempotent: what exists is left alone."""

import csv
import io
import secrets
import uuid
from datetime import datetime, time, timedelta

from django.utils import timezone

from cms.models import Member, OrgUnit
from cms.services import member_create
from library.models import LibraryItem

from . import selectors, services
from .errors import CourseError
from .models import (
    BranchSession,
    CourseIndexPage,
    CourseLesson,
    CoursePage,
    QuestionBank,
    QuizAttempt,
    QuizRule,
    SessionAttendance,
)
from .reports import hours as report_hours
from .reports import stats as report_stats

BANK_CODE = "demo-dangshi"
PASSWORD = "lighthouse-demo"  # the demo's one password (cms/demo/data.py)
HEADER = ["编号", "题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "难度", "知识点", "练习"]

# (key, kind, stem, options A–D, answer, explanation, difficulty, topic, practice)
QUESTIONS = [
    (
        "s01",
        "单选",
        "中国共产党第一次全国代表大会召开的年份是",
        ["1919年", "1921年", "1927年", "1949年"],
        "B",
        "1921年7月，中共一大召开。",
        "易",
        "党史",
    ),
    (
        "s02",
        "单选",
        "中共一大最后一天的会议转移到哪里举行？",
        ["上海石库门", "嘉兴南湖游船", "北京红楼", "广州农讲所"],
        "B",
        "因会场受到搜查，会议转至嘉兴南湖的游船上。",
        "易",
        "党史",
    ),
    (
        "s03",
        "单选",
        "“支部建在连上”是在哪次事件中确立的？",
        ["南昌起义", "三湾改编", "古田会议", "遵义会议"],
        "B",
        "1927年三湾改编确立了党对军队的领导。",
        "中",
        "党史",
    ),
    (
        "s04",
        "单选",
        "在党的历史上具有伟大转折意义的会议是",
        ["八七会议", "遵义会议", "洛川会议", "瓦窑堡会议"],
        "B",
        "遵义会议是党的历史上生死攸关的转折点。",
        "中",
        "党史",
    ),
    (
        "s05",
        "单选",
        "沂蒙红嫂的故事发生在今天的哪个省？",
        ["河北", "山东", "河南", "江苏"],
        "B",
        "沂蒙山区位于山东南部。",
        "易",
        "沂蒙精神",
    ),
    (
        "s06",
        "单选",
        "党的根本组织原则是",
        ["集体领导", "民主集中制", "党管干部", "群众路线"],
        "B",
        "党章规定：民主集中制是党的根本组织原则。",
        "易",
        "党章",
    ),
    (
        "s07",
        "单选",
        "党员的党龄从什么时候算起？",
        ["递交申请书之日", "被确定为积极分子之日", "预备期满转为正式党员之日", "支部大会通过之日"],
        "C",
        "党龄从预备期满转为正式党员之日算起。",
        "中",
        "党章",
    ),
    ("s08", "单选", "预备党员的预备期一般为", ["半年", "一年", "两年", "三年"], "B", "预备期为一年。", "易", "党章"),
    (
        "s09",
        "单选",
        "党的基层组织中，党员人数在多少人以上的设立党的基层委员会？",
        ["三人", "五十人", "一百人", "三百人"],
        "C",
        "党员一百人以上的，设立党的基层委员会。",
        "难",
        "组织生活",
    ),
    (
        "s10",
        "单选",
        "“三会一课”中的“一课”指的是",
        ["党课", "团课", "形势政策课", "业务培训课"],
        "A",
        "“一课”即按时上好党课。",
        "易",
        "组织生活",
    ),
    (
        "s11",
        "单选",
        "党支部委员会每届任期一般为",
        ["一年", "二年或三年", "四年", "五年"],
        "B",
        "党支部委员会每届任期为三年（部分为二年）。",
        "难",
        "组织生活",
    ),
    (
        "s12",
        "单选",
        "黄河在山东的哪个市入海？",
        ["滨州", "东营", "烟台", "潍坊"],
        "B",
        "黄河在东营市垦利区入海。",
        "中",
        "黄河流域",
    ),
    (
        "s13",
        "单选",
        "党的最高理想和最终目标是",
        ["全面建成小康社会", "实现共产主义", "实现现代化", "实现共同富裕"],
        "B",
        "党的最高理想和最终目标是实现共产主义。",
        "易",
        "党章",
    ),
    (
        "s14",
        "单选",
        "台儿庄大战发生在哪一年？",
        ["1937年", "1938年", "1940年", "1945年"],
        "B",
        "台儿庄大战发生于1938年春。",
        "中",
        "党史",
    ),
    (
        "s15",
        "单选",
        "党员领导干部过双重组织生活，是指",
        ["参加两个支部", "既参加所在支部又参加领导班子民主生活会", "每月两次组织生活", "线上线下各一次"],
        "B",
        "领导干部既要参加所在党支部的组织生活，又要参加领导班子的民主生活会。",
        "难",
        "组织生活",
    ),
    (
        "m01",
        "多选",
        "“三会一课”中的“三会”包括",
        ["支部党员大会", "支部委员会", "党小组会", "职工代表大会"],
        "ABC",
        "“三会”指支部党员大会、支部委员会、党小组会。",
        "易",
        "组织生活",
    ),
    (
        "m02",
        "多选",
        "沂蒙精神的内涵包括",
        ["党群同心", "军民情深", "水乳交融", "生死与共"],
        "ABCD",
        "沂蒙精神：党群同心、军民情深、水乳交融、生死与共。",
        "中",
        "沂蒙精神",
    ),
    (
        "m03",
        "多选",
        "党的纪律包括",
        ["政治纪律", "组织纪律", "廉洁纪律", "群众纪律"],
        "ABCD",
        "六项纪律还包括工作纪律、生活纪律。",
        "中",
        "党章",
    ),
    (
        "m04",
        "多选",
        "以下属于党员义务的有",
        ["认真学习", "按期交纳党费", "保守党和国家秘密", "在党内享有表决权"],
        "ABC",
        "表决权是党员的权利。",
        "中",
        "党章",
    ),
    (
        "m05",
        "多选",
        "下列属于红色革命旧址的有",
        ["嘉兴南湖", "延安宝塔山", "西柏坡", "故宫太和殿"],
        "ABC",
        "故宫太和殿是古代建筑。",
        "易",
        "党史",
    ),
    (
        "m06",
        "多选",
        "新时代文明实践中心的工作内容可以包括",
        ["理论宣讲", "志愿服务", "移风易俗", "招商引资"],
        "ABC",
        "招商引资不属于文明实践。",
        "难",
        "基层治理",
    ),
    ("t01", "判断", "中国共产党成立于1921年。", [], "对", "", "易", "党史"),
    ("t02", "判断", "预备党员享有表决权。", [], "错", "预备党员没有表决权、选举权和被选举权。", "中", "党章"),
    ("t03", "判断", "党员应当按期交纳党费。", [], "对", "党章规定的党员义务。", "易", "党章"),
    ("t04", "判断", "遵义会议召开于1935年。", [], "对", "1935年1月。", "中", "党史"),
    ("t05", "判断", "党支部可以不开展组织生活。", [], "错", "党支部必须严格落实组织生活制度。", "易", "组织生活"),
    ("t06", "判断", "沂蒙精神与延安精神、井冈山精神、西柏坡精神一脉相承。", [], "对", "", "中", "沂蒙精神"),
    ("t07", "判断", "黄河流域生态保护和高质量发展是重大国家战略。", [], "对", "", "易", "黄河流域"),
    ("t08", "判断", "党员可以不参加党小组会。", [], "错", "党员必须参加党的组织生活。", "易", "组织生活"),
    ("t09", "判断", "党的组织生活会一般每年召开一次。", [], "对", "", "中", "组织生活"),
    ("t10", "判断", "党的全国代表大会每十年举行一次。", [], "错", "每五年举行一次。", "中", "党章"),
    ("t11", "判断", "红嫂明德英用乳汁救护了八路军伤员。", [], "对", "", "易", "沂蒙精神"),
    ("t12", "判断", "入党誓词中有“永不叛党”四个字。", [], "对", "", "易", "党章"),
    ("t13", "判断", "党员的权利包括参加党的有关会议。", [], "对", "", "易", "党章"),
    (
        "t14",
        "判断",
        "党的基层组织只在城市设立。",
        [],
        "错",
        "企业、农村、机关、学校等都设立党的基层组织。",
        "易",
        "组织生活",
    ),
    ("t15", "判断", "主题党日是党支部开展组织生活的一种形式。", [], "对", "", "易", "组织生活"),
    ("b01", "填空", "中国共产党的宗旨是全心全意为（ ）服务。", [], "人民", "", "易", "党章"),
    ("b02", "填空", "中共一大在（ ）召开，最后一天转移到嘉兴南湖。", [], "上海", "", "易", "党史"),
    ("b03", "填空", "党的根本组织原则是（ ）。", [], "民主集中制", "", "中", "党章"),
    ("b04", "填空", "沂蒙精神：党群同心、军民情深、水乳交融、（ ）。", [], "生死与共", "", "中", "沂蒙精神"),
    ("b05", "填空", "预备党员的预备期为（ ）年。", [], "一|1", "", "易", "党章"),
    ("b06", "填空", "党支部的“三会”是支部党员大会、（ ）和党小组会。", [], "支部委员会|支委会", "", "中", "组织生活"),
    (
        "p01",
        "单选",
        "【练习】党的基层组织是党在社会基层组织中的",
        ["领导核心", "战斗堡垒", "参谋助手", "服务窗口"],
        "B",
        "党的基层组织是党在社会基层组织中的战斗堡垒。",
        "易",
        "党章",
        "是",
    ),
    ("p02", "判断", "【练习】党员要密切联系群众。", [], "对", "这是党员的义务。", "易", "党章", "是"),
    (
        "p03",
        "多选",
        "【练习】党员的权利包括",
        ["参加党的有关会议", "在党的会议上参加讨论", "表决权、选举权", "不受纪律约束"],
        "ABC",
        "党员必须遵守党的纪律。",
        "易",
        "党章",
        "是",
    ),
    ("p04", "填空", "【练习】中国共产党成立于（ ）年。", [], "1921", "", "易", "党史", "是"),
    (
        "p05",
        "单选",
        "【练习】党的组织生活会一般多久召开一次？",
        ["每月", "每季度", "每年", "每五年"],
        "C",
        "一般每年召开一次。",
        "中",
        "组织生活",
        "是",
    ),
    ("p06", "判断", "【练习】三湾改编确立了“支部建在连上”。", [], "对", "", "中", "党史", "是"),
]
BLUEPRINT = [("single", 4, 5), ("multiple", 2, 10), ("truefalse", 4, 5), ("blank", 2, 10)]
LESSONS = [  # (how the demo library names the item, required)
    ({"title": "灯塔大课堂：学习贯彻党的二十大精神"}, True),
    ({"external_id": "video-weidangke-1"}, True),
    ({"title": "沂蒙精神的时代价值"}, True),
    ({"title": "基层党支部“三会一课”工作指南"}, False),
]
# (username, real name, unit code): members of two branches who took this month's quiz
STUDENTS = [
    ("xueyuan01", "张桂英", "yinan-mamuchi-changshanzhuang", 1.0),
    ("xueyuan02", "刘传福", "yinan-mamuchi-changshanzhuang", 0.7),
    ("xueyuan03", "孙玉兰", "zouping-daixi-1", 0.4),
]


def _bank_csv() -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow(HEADER)
    for key, kind, stem, options, answer, explanation, difficulty, topic, *practice in QUESTIONS:
        row = [key, kind, stem, *(list(options) + [""] * 4)[:4], answer, explanation, difficulty, topic]
        writer.writerow(row + [practice[0] if practice else "否"])
    return stream.getvalue().encode("utf-8-sig")


def _bank(unit: OrgUnit, log) -> QuestionBank:
    bank = QuestionBank.objects.filter(code=BANK_CODE).first()
    if bank is None:
        bank = QuestionBank(name="党史党章学习题库", code=BANK_CODE, owning_unit=unit, description="演示题库")
    report = services.question_bank_import(data=_bank_csv(), filename="demo-bank.csv", bank=bank)
    log(f"大课堂题库：{report.summary()}")
    return bank


def _month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return timezone.make_aware(datetime.combine(local.date().replace(day=1), time(9, 0)))


def _course(index: CourseIndexPage, bank, *, issue: int, theme: str, premiere: datetime, items) -> CoursePage:
    course = CoursePage.objects.filter(issue_number=issue).first()
    if course is not None:
        return course
    course = index.add_child(
        instance=CoursePage(
            title=f"第{issue}期 {theme}",
            slug=f"issue-{issue}",
            issue_number=issue,
            theme=theme,
            summary="每月一课，全省同上：先看导学视频，再学微课和文章，支部集中讨论后参加测验。",
            premiere_at=premiere,
            study_closes_at=premiere + timedelta(days=24),
            makeup_deadline=premiere + timedelta(days=27),
            discussion_guide="<ol><li>结合本支部实际，谈谈怎样把学习成果转化为为民办实事的行动。</li>"
            "<li>沂蒙精神在今天的乡村振兴中如何体现？</li><li>怎样让“三会一课”开得更有质量？</li></ol>",
            question_bank=bank,
            time_limit_minutes=20,
            attempts_allowed=2,
        )
    )
    for position, (item, required) in enumerate(items):
        CourseLesson.objects.create(page=course, item=item, required=required, sort_order=position)
    for position, (kind, count, points) in enumerate(BLUEPRINT):
        QuizRule.objects.create(page=course, kind=kind, count=count, points=points, sort_order=position)
    course.save_revision().publish()
    return course


def _lesson_items() -> list[tuple[LibraryItem, bool]]:
    items = []
    for lookup, required in LESSONS:
        item = LibraryItem.objects.filter(source="demo", **lookup).first()
        if item is not None:
            items.append((item, required))
    return items


def _take_quiz(member: Member, course: CoursePage, *, share: float, now: datetime) -> None:
    """A finished attempt with about ``share`` of the answers right (through the services, as a member would)."""
    from .models import Question
    from .quiz.sealing import option_id

    if QuizAttempt.objects.filter(member=member, course=course).exists():
        return
    try:
        attempt, _created = services.quiz_attempt_start(member=member, course=course, now=now)
    except CourseError:  # the month's quiz has already closed (the last days of a long month)
        return
    writes, shown = [], selectors.attempt_questions(attempt=attempt)
    right = round(len(shown) * share)
    for position, question in enumerate(shown):
        entry = attempt.questions[position]
        key = Question.objects.get(pk=entry["q"]).answer
        if question["kind"] == "blank":
            texts = [part.split("|")[0] for part in key.split("；")] if position < right else ["不知道"]
            writes.append(services.AnswerWrite(ref=question["ref"], answer_id=uuid.uuid4(), seq=1, blanks=texts))
            continue
        labels = list(key) if position < right else [label for label in entry["o"] if label not in key][:1]
        ids = [option_id(attempt=attempt, question_id=entry["q"], label=label) for label in labels]
        writes.append(services.AnswerWrite(ref=question["ref"], answer_id=uuid.uuid4(), seq=1, options=ids))
    services.quiz_answers_save(member=member, attempt_id=attempt.pk, writes=writes, now=now)
    services.quiz_attempt_submit(member=member, attempt_id=attempt.pk, now=now + timedelta(minutes=8))


def _study(member: Member, items, *, start: datetime, heartbeat) -> None:
    """Honest study of the article lessons through the library's heartbeat, as the reader page would send it."""
    for item, _required in items:
        if item.kind != LibraryItem.Kind.ARTICLE or item.access != LibraryItem.Access.PUBLIC:
            continue
        for beat in range(8):
            moment = start + timedelta(seconds=20 * beat)
            heartbeat(member=member, item=item, position=beat, active_seconds=20, now=moment)
        start += timedelta(minutes=5)


def courses_demo_load(*, home, units: dict[str, OrgUnit], heartbeat, log=print, now: datetime | None = None) -> None:
    """``heartbeat`` is the library's ``activity.progress_heartbeat`` (the demo loader may import it; courses reach
    the library only through its front doors)."""
    now = now or timezone.now()
    index = CourseIndexPage.objects.first()
    if index is None:
        index = home.add_child(
            instance=CourseIndexPage(title="灯塔大课堂", slug="courses", intro="<p>同聚灯塔网，同上一堂课。</p>")
        )
    bank = _bank(units["shandong"], log)
    items = _lesson_items()
    premiere = _month_start(now)
    month = timezone.localtime(premiere)
    issue = (month.year - 2020) * 12 + month.month  # a stable issue number per month
    current = _course(index, bank, issue=issue, theme="学习贯彻党的二十大精神", premiere=premiere, items=items)
    upcoming = _month_start(premiere + timedelta(days=40))
    _course(index, bank, issue=issue + 1, theme="弘扬沂蒙精神 助力乡村振兴", premiere=upcoming, items=items[1:3])
    if now >= current.premiere_at:
        for username, real_name, code, share in STUDENTS:
            member = Member.objects.filter(username=username).first() or member_create(
                username=username, password=PASSWORD, real_name=real_name, org_unit=units[code]
            )
            taken_at = max(now - timedelta(hours=2), current.premiere_at)
            if share >= 0.7 and not QuizAttempt.objects.filter(member=member, course=current).exists():
                _study(member, items, start=taken_at - timedelta(minutes=30), heartbeat=heartbeat)
            _take_quiz(member, current, share=share, now=taken_at)
        _held_session(current, units["yinan-mamuchi-changshanzhuang"], now=now)
    report_stats.rebuild(course=current)  # the demo's figures as the writes would have left them
    report_hours.rebuild(year=report_hours.year_of(now))
    students = "、".join(student[0] for student in STUDENTS)
    log(f"大课堂：{CoursePage.objects.count()} 期课程（本期 {current.url}），演示学员 {students}，密码 {PASSWORD}")


def _held_session(course: CoursePage, branch: OrgUnit, *, now: datetime) -> None:
    """常山庄村党支部 met to watch this month's course: its secretary's session, two members checked in (one by
    scanning, one by the secretary), the minutes and a reflection (rerunning the demo adds nothing)."""
    if BranchSession.objects.filter(course=course, branch=branch).exists():
        return
    secretary = Member.objects.filter(username="changshanzhuang_secretary").first()
    session = BranchSession.objects.create(
        course=course,
        branch=branch,
        opened_by=secretary,
        starts_at=max(course.premiere_at, now - timedelta(hours=3)),
        place="常山庄村党群服务中心",
        mode=BranchSession.Mode.TV,
        minutes="集体收看本期灯塔大课堂，围绕讨论提纲交流发言，党员们结合村里产业发展谈了体会。",
        checkin_secret=secrets.token_hex(16),
    )
    for username, method in (("xueyuan01", "code"), ("xueyuan02", "secretary")):
        member = Member.objects.filter(username=username).first()
        if member:
            SessionAttendance.objects.create(
                session=session, member=member, method=method, checked_in_at=session.starts_at,
                checked_in_by=secretary if method == "secretary" else None,
                reflection="重温入党誓词，学习沂蒙精神，要在乡村振兴中带好头。" if username == "xueyuan01" else "",
            )  # fmt: skip
