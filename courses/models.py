"""灯塔大课堂: the monthly course pages, their lessons (library items) and quiz, the question bank, and what members
do (quiz attempts and answers, lesson completions). docs/courses.md explains the model and its rules."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.images import get_image_model_string
from wagtail.models import Orderable, Page

from .forms import CoursePageForm


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("单选题")
    MULTIPLE = "multiple", _("多选题")
    TRUEFALSE = "truefalse", _("判断题")
    BLANK = "blank", _("填空题")


class Difficulty(models.IntegerChoices):
    EASY = 1, _("易")
    MEDIUM = 2, _("中")
    HARD = 3, _("难")


OPTION_LABELS = "ABCDEF"


# --- Pages ----------------------------------------------------------------------------------------------------


class CourseIndexPage(Page):
    """灯塔大课堂: the list of monthly courses, the current one first."""

    intro = RichTextField(_("导语"), blank=True)
    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["courses.CoursePage"]

    class Meta:
        verbose_name = _("大课堂栏目")
        verbose_name_plural = _("大课堂栏目")

    def get_context(self, request, *args, **kwargs):
        from .site.views import course_index_context

        return super().get_context(request, *args, **kwargs) | course_index_context(request, page=self)


class CoursePage(RoutablePageMixin, Page):
    """One month's course: lessons from the library, a discussion guide and a quiz (docs/courses.md)."""

    issue_number = models.PositiveIntegerField(_("期数"), help_text=_("第几期，所有课程中唯一。"))
    theme = models.CharField(_("主题"), max_length=200)
    summary = models.TextField(_("导语"), blank=True)
    cover = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("封面"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    premiere_at = models.DateTimeField(_("首播时间"), help_text=_("首播前页面显示倒计时；测验从首播开始。"))
    study_closes_at = models.DateTimeField(_("学习截止"))
    makeup_deadline = models.DateTimeField(_("补学截止"), help_text=_("之后学习和测验都不再计入本期。"))
    discussion_guide = RichTextField(_("讨论提纲"), blank=True)
    audience_unit = models.ForeignKey(
        "cms.OrgUnit",
        verbose_name=_("面向单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("留空面向全省；否则面向该单位及下级单位的党员。"),
    )
    question_bank = models.ForeignKey(
        "courses.QuestionBank",
        verbose_name=_("题库"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("留空则本期没有测验。"),
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("及格分（百分制）"), default=60, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    attempts_allowed = models.PositiveSmallIntegerField(
        _("答题次数"), default=2, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    time_limit_minutes = models.PositiveSmallIntegerField(
        _("答题限时（分钟）"), default=30, validators=[MinValueValidator(1), MaxValueValidator(180)]
    )
    results_release_at = models.DateTimeField(
        _("成绩公布时间"), null=True, blank=True, help_text=_("留空：交卷后立即显示成绩。")
    )
    answers_release_at = models.DateTimeField(
        _("答案与解析公布时间"), null=True, blank=True, help_text=_("留空：补学截止后公布。")
    )

    parent_page_types = ["courses.CourseIndexPage"]
    subpage_types = []

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("issue_number"), FieldPanel("theme")]),
        FieldPanel("summary"),
        FieldPanel("cover"),
        MultiFieldPanel(
            [FieldPanel("premiere_at"), FieldPanel("study_closes_at"), FieldPanel("makeup_deadline")],
            heading=_("时间安排"),
        ),
        FieldPanel("audience_unit"),
        InlinePanel("lessons", heading=_("课程内容"), label=_("一课"), min_num=1),
        FieldPanel("discussion_guide"),
    ]
    quiz_panels = [
        FieldPanel("question_bank"),
        InlinePanel("quiz_rules", heading=_("组卷规则"), label=_("一条规则")),
        FieldRowPanel([FieldPanel("pass_mark"), FieldPanel("attempts_allowed"), FieldPanel("time_limit_minutes")]),
        FieldRowPanel([FieldPanel("results_release_at"), FieldPanel("answers_release_at")]),
    ]
    edit_handler = TabbedInterface(
        [
            ObjectList(content_panels, heading=_("内容")),
            ObjectList(quiz_panels, heading=_("测验")),
            ObjectList(Page.promote_panels, heading=_("推广")),
            ObjectList(Page.settings_panels, heading=_("设置")),
        ],
        base_form_class=CoursePageForm,
    )

    class Meta:
        verbose_name = _("大课堂课程")
        verbose_name_plural = _("大课堂课程")
        indexes = [models.Index(fields=["premiere_at"], name="courses_course_premiere")]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return f"第{self.issue_number}期 {self.theme}"

    @property
    def has_quiz(self) -> bool:
        return bool(self.question_bank_id) and self.quiz_rules.exists()

    @property
    def answers_released_at(self):
        """When the key and explanations become visible: the editor's time, else the make-up deadline."""
        return self.answers_release_at or self.makeup_deadline

    def serve(self, request, *args, **kwargs):
        # The page shows the member's own progress and quiz state: never stored by a shared cache.
        from django.http import Http404
        from django.utils.cache import patch_cache_control

        from .selectors import course_open_to

        # A course for one unit does not exist for anyone outside it, on every route of the page (the editor's
        # preview does not come through here: it renders the page for an editor who may edit it).
        if not course_open_to(member=request.user, course=self):
            raise Http404
        response = super().serve(request, *args, **kwargs)
        patch_cache_control(response, private=True)
        return response

    def get_sitemap_urls(self, request=None):
        """Only a course every visitor may open: a unit's own course does not exist for a crawler (serve: 404)."""
        from django.contrib.auth.models import AnonymousUser

        from .selectors import course_open_to

        return super().get_sitemap_urls(request) if course_open_to(member=AnonymousUser(), course=self) else []

    def get_context(self, request, *args, **kwargs):
        from .site.views import course_page_context

        return super().get_context(request, *args, **kwargs) | course_page_context(request, page=self)

    @path("quiz/")
    def quiz_route(self, request):
        from .site.views import quiz_page

        return quiz_page(request, page=self)

    @path("quiz/start/")
    def quiz_start_route(self, request):
        from .site.views import quiz_start

        return quiz_start(request, page=self)

    @path("quiz/submit/")
    def quiz_submit_route(self, request):
        from .site.views import quiz_submit

        return quiz_submit(request, page=self)

    @path("quiz/result/<int:attempt_id>/")
    def quiz_result_route(self, request, attempt_id):
        from .site.views import quiz_result

        return quiz_result(request, page=self, attempt_id=attempt_id)

    @path("practice/")
    def practice_route(self, request):
        from .site.views import practice_page

        return practice_page(request, page=self)

    @path("sessions/")
    def sessions_route(self, request):
        from .site.sessions import sessions_page

        return sessions_page(request, page=self)

    @path("sessions/<int:session_id>/")
    def session_route(self, request, session_id):
        from .site.sessions import session_page

        return session_page(request, page=self, session_id=session_id)

    @path("sessions/<int:session_id>/tv/")
    def session_tv_route(self, request, session_id):
        from .site.sessions import session_tv

        return session_tv(request, page=self, session_id=session_id)

    @path("sessions/<int:session_id>/code/")
    def session_code_route(self, request, session_id):
        from .site.sessions import session_code

        return session_code(request, page=self, session_id=session_id)

    @path("checkin/")
    def checkin_route(self, request):
        # The code rides in the query (?c=…): Wagtail's page paths take only letters, digits, - and _.
        from .site.sessions import checkin_page

        return checkin_page(request, page=self, token=request.GET.get("c", ""))


class CourseLesson(Orderable):
    """One lesson of a course: a library item, required (必学) or optional (选学)."""

    page = ParentalKey(CoursePage, on_delete=models.CASCADE, related_name="lessons")
    item = models.ForeignKey(
        "library.LibraryItem", verbose_name=_("馆藏条目"), on_delete=models.CASCADE, related_name="+"
    )
    required = models.BooleanField(_("必学"), default=True)
    study_minutes = models.PositiveSmallIntegerField(
        _("学习时长要求（分钟）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text=_("留空按内容自动计算：音视频须学满时长的六成，图文按篇幅。"),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    panels = [
        FieldPanel("item"),
        FieldRowPanel([FieldPanel("required"), FieldPanel("study_minutes")]),
        FieldPanel("note"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("课程内容")
        verbose_name_plural = _("课程内容")


class QuizRule(Orderable):
    """One line of the quiz blueprint: how many questions of a type (and topic, difficulty) and their points."""

    page = ParentalKey(CoursePage, on_delete=models.CASCADE, related_name="quiz_rules")
    kind = models.CharField(_("题型"), max_length=16, choices=QuestionKind.choices)
    topic = models.CharField(_("知识点"), max_length=64, blank=True, help_text=_("留空：不限知识点。"))
    difficulty = models.PositiveSmallIntegerField(
        _("难度"), choices=Difficulty.choices, null=True, blank=True, help_text=_("留空：不限难度。")
    )
    count = models.PositiveSmallIntegerField(_("题数"), validators=[MinValueValidator(1), MaxValueValidator(100)])
    points = models.PositiveSmallIntegerField(
        _("每题分值"), default=2, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    panels = [
        FieldRowPanel([FieldPanel("kind"), FieldPanel("topic"), FieldPanel("difficulty")]),
        FieldRowPanel([FieldPanel("count"), FieldPanel("points")]),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("组卷规则")
        verbose_name_plural = _("组卷规则")


# --- Question bank ----------------------------------------------------------------------------------------------


class QuestionBank(models.Model):
    """题库: a set of questions an owning unit's editors maintain and courses draw from."""

    name = models.CharField(_("名称"), max_length=100)
    code = models.SlugField(_("代码"), max_length=64, unique=True, help_text=_("导入时用它指明题库。"))
    owning_unit = models.ForeignKey(
        "cms.OrgUnit", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("题库")
        verbose_name_plural = _("题库")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Question(ClusterableModel):
    bank = models.ForeignKey(QuestionBank, verbose_name=_("题库"), on_delete=models.CASCADE, related_name="questions")
    key = models.CharField(_("编号"), max_length=64, help_text=_("题库内唯一；重复导入按它更新。"))
    kind = models.CharField(_("题型"), max_length=16, choices=QuestionKind.choices)
    stem = models.TextField(_("题干"))
    answer = models.CharField(
        _("答案"),
        max_length=500,
        help_text=_("单选如 B；多选如 ACD；判断为 T（对）或 F（错）；填空各空用“；”分隔，同一空的多个答案用“|”分隔。"),
    )
    explanation = models.TextField(_("解析"), blank=True)
    difficulty = models.PositiveSmallIntegerField(_("难度"), choices=Difficulty.choices, default=Difficulty.MEDIUM)
    topic = models.CharField(_("知识点"), max_length=64, blank=True)
    is_practice = models.BooleanField(
        _("用于练习"), default=False, help_text=_("练习题会即时公布答案，因此不会被抽进正式测验。")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    keep_option_order = models.BooleanField(
        _("选项不打乱"), default=False, help_text=_("选项含“以上”“上述”等字样时须保持原顺序。")
    )
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    panels = [
        FieldPanel("bank"),
        FieldRowPanel([FieldPanel("kind"), FieldPanel("difficulty"), FieldPanel("topic")]),
        FieldPanel("stem"),
        InlinePanel("options", heading=_("选项"), label=_("选项"), max_num=6),
        FieldPanel("answer"),
        FieldPanel("explanation"),
        FieldRowPanel([FieldPanel("is_practice"), FieldPanel("is_active"), FieldPanel("keep_option_order")]),
        FieldPanel("key"),
    ]

    class Meta:
        verbose_name = _("试题")
        verbose_name_plural = _("试题")
        constraints = [models.UniqueConstraint(fields=["bank", "key"], name="courses_question_bank_key")]
        indexes = [
            # A blueprint rule's pool: one bank's active exam (or practice) questions of a type.
            models.Index(fields=["bank", "is_active", "is_practice", "kind"], name="courses_question_pool"),
            models.Index(fields=["bank", "topic"], name="courses_question_topic"),
        ]

    def __str__(self):
        return self.stem[:40]


class QuestionOption(Orderable):
    question = ParentalKey(Question, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("选项"), max_length=1, choices=[(label, label) for label in OPTION_LABELS])
    text = models.CharField(_("内容"), max_length=500)

    panels = [FieldRowPanel([FieldPanel("label"), FieldPanel("text")])]

    class Meta(Orderable.Meta):
        verbose_name = _("选项")
        verbose_name_plural = _("选项")


# --- What members do -------------------------------------------------------------------------------------------


class QuizAttempt(models.Model):
    """One member's attempt at a course's quiz: the drawn set, the server's deadline and, once closed, the grade."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("答题中")
        SUBMITTED = "submitted", _("已交卷")
        TIMED_OUT = "timed_out", _("超时自动交卷")

    course = models.ForeignKey(CoursePage, on_delete=models.PROTECT, related_name="quiz_attempts")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    # The member's unit when the attempt started: reports roll up by it, even after the member moves branch.
    unit = models.ForeignKey("cms.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    questions = models.JSONField()  # [{"q": question id, "o": ["C", "A", …] shown order, "p": points}, …]
    nonce = models.CharField(max_length=32)  # the attempt's secret in its refs and option ids
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    max_score = models.PositiveSmallIntegerField(default=0)
    percent = models.PositiveSmallIntegerField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    late = models.BooleanField(default=False)  # started after the study window: 补考

    class Meta:
        verbose_name = _("答题记录")
        verbose_name_plural = _("答题记录")
        constraints = [
            models.UniqueConstraint(fields=["member", "course", "number"], name="courses_attempt_number"),
            # Double presses, two devices and racing starts all end in one open attempt.
            models.UniqueConstraint(
                fields=["member", "course"], condition=Q(state="in_progress"), name="courses_attempt_one_open"
            ),
        ]
        indexes = [
            models.Index(fields=["course", "unit"], name="courses_attempt_course_unit"),
            models.Index(fields=["state", "deadline"], name="courses_attempt_due"),
        ]

    def __str__(self):
        return f"{self.member_id}·{self.course_id}·{self.number}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.IN_PROGRESS


class QuizAnswer(models.Model):
    """A member's current response to one question of an attempt, with the client write that set it."""

    attempt = models.ForeignKey(QuizAttempt, on_delete=models.CASCADE, related_name="answers")
    position = models.PositiveSmallIntegerField()
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    response = models.JSONField()  # {"options": ["A", "C"]} (original labels) or {"blanks": ["…", "…"]}
    answer_id = models.UUIDField()  # the client's id of the write that set this response
    seq = models.BigIntegerField()  # the client's server-synced clock (ms): a later write wins
    saved_at = models.DateTimeField()
    correct = models.BooleanField(null=True, blank=True)
    points = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "position"], name="courses_answer_position")]

    def __str__(self):
        return f"{self.attempt_id}·{self.position + 1}"


class LessonCompletion(models.Model):
    """A member finished a lesson of a course by the honest study clock (docs/courses.md, Progress)."""

    course = models.ForeignKey(CoursePage, on_delete=models.PROTECT, related_name="completions")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("library.LibraryItem", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("cms.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField()
    study_seconds = models.PositiveIntegerField(default=0)
    late = models.BooleanField(default=False)  # after the study window, before the make-up deadline: 补学

    class Meta:
        verbose_name = _("课程完成记录")
        verbose_name_plural = _("课程完成记录")
        constraints = [
            models.UniqueConstraint(fields=["course", "member", "item"], name="courses_completion_unique"),
        ]
        indexes = [models.Index(fields=["course", "unit"], name="courses_completion_unit")]

    def __str__(self):
        return f"{self.member_id}·{self.course_id}·{self.item_id}"


# --- Branch sessions ----------------------------------------------------------------------------------------------


class BranchSession(models.Model):
    """A branch's study session for a month's course (集中学习): where and when, who came, what was said.

    Members check in by scanning the code shown on the TV or projector (a signed, expiring code whose key is the
    session's own ``checkin_secret``); the secretary checks in members without phones. docs/courses.md, Sessions."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("集中学习")
        TV = "tv", _("电视集体收看")

    course = models.ForeignKey(
        CoursePage, verbose_name=_("课程"), on_delete=models.PROTECT, related_name="branch_sessions"
    )
    branch = models.ForeignKey("cms.OrgUnit", verbose_name=_("党支部"), on_delete=models.PROTECT, related_name="+")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("组织人")
    )
    starts_at = models.DateTimeField(_("开始时间"))
    place = models.CharField(_("地点"), max_length=200)
    mode = models.CharField(_("形式"), max_length=16, choices=Mode.choices, default=Mode.IN_PERSON)
    minutes = models.TextField(_("会议记录"), blank=True)
    checkin_open = models.BooleanField(_("开放扫码签到"), default=True)
    checkin_secret = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("支部集中学习")
        verbose_name_plural = _("支部集中学习")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["branch", "course"], name="courses_session_branch")]

    def __str__(self):
        return f"{self.branch_id}·{self.course_id}·{self.starts_at:%Y-%m-%d}"


class SessionAttendance(models.Model):
    """One member at one session: how they checked in, and their reflection (心得体会) if they wrote one."""

    class Method(models.TextChoices):
        CODE = "code", _("扫码签到")
        SECRETARY = "secretary", _("书记代签")

    session = models.ForeignKey(BranchSession, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(_("签到方式"), max_length=16, choices=Method.choices)
    checked_in_at = models.DateTimeField(_("签到时间"))
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reflection = models.TextField(_("心得体会"), blank=True)
    reflection_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("签到记录")
        verbose_name_plural = _("签到记录")
        constraints = [models.UniqueConstraint(fields=["session", "member"], name="courses_attendance_unique")]

    def __str__(self):
        return f"{self.session_id}·{self.member_id}"


class SessionPhoto(models.Model):
    """A photo of the session (an image in the branch's collection)."""

    session = models.ForeignKey(BranchSession, on_delete=models.CASCADE, related_name="photos")
    image = models.ForeignKey(get_image_model_string(), on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.session_id}·{self.image_id}"


# --- Study hours ----------------------------------------------------------------------------------------------------


class StudyCertificate(models.Model):
    """A member's annual study-hours certificate: the figures as issued, and the code anyone can check on the site
    (``/study/verify/<code>/``). One per member and year; issued once the year's requirement is met."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    code = models.CharField(_("验证码"), max_length=16, unique=True)
    unit_name = models.CharField(_("所在党支部"), max_length=100)
    total_hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1)
    required_hours = models.DecimalField(_("要求学时"), max_digits=6, decimal_places=1)
    figures = models.JSONField(default=dict)  # {"online": "30.5", "sessions": 2, "session_hours": "4", …}
    issued_at = models.DateTimeField(_("颁发时间"), default=timezone.now)

    class Meta:
        verbose_name = _("学时证书")
        verbose_name_plural = _("学时证书")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="courses_certificate_member_year")]

    def __str__(self):
        return self.code


# --- Reports --------------------------------------------------------------------------------------------------------


class CourseUnitStats(models.Model):
    """A course's figures for a unit and everything below it, kept current as members study, attend and pass
    (courses/reports/stats.py), so a report reads one row per unit it shows and never counts learners."""

    course = models.ForeignKey(CoursePage, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("cms.OrgUnit", on_delete=models.CASCADE, related_name="+")
    studied = models.PositiveIntegerField(default=0)  # members with at least one lesson done
    completed = models.PositiveIntegerField(default=0)  # members with every required lesson done
    attended = models.PositiveIntegerField(default=0)  # members checked in at a branch session
    scored = models.PositiveIntegerField(default=0)  # members with a graded attempt
    score_sum = models.PositiveIntegerField(default=0)  # sum of those members' best percentages
    passed = models.PositiveIntegerField(default=0)  # members who passed the quiz

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "unit"], name="courses_unit_stats_unique")]

    def __str__(self):
        return f"{self.course_id}·{self.unit_id}"


class MemberYearHours(models.Model):
    """A member's study hours (学时) of one calendar year as the hours report counts them, kept current with each
    credit (courses/reports/hours.py). ``unit`` is where the year counts: the member's unit at their latest credit,
    because a year is assessed by the branch a member belongs to; the member's own page computes the same figures
    from the activity rows (``credits.hours``)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    unit = models.ForeignKey("cms.OrgUnit", null=True, on_delete=models.SET_NULL, related_name="+")
    online_seconds = models.PositiveIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=0)
    quizzes_passed = models.PositiveIntegerField(default=0)
    tenths = models.PositiveIntegerField(default=0)  # the year's total in tenths of a 学时, as the member's page shows
    met = models.BooleanField(default=False)  # the total reached the member's annual requirement

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="courses_member_year_unique")]

    def __str__(self):
        return f"{self.member_id}·{self.year}"


class UnitYearHours(models.Model):
    """A year's study hours of a unit and everything below it: members with any credit, the sum of their totals in
    tenths, and how many met their requirement; one row per unit read, never a count of learners."""

    unit = models.ForeignKey("cms.OrgUnit", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    active = models.PositiveIntegerField(default=0)
    tenths = models.BigIntegerField(default=0)
    met = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="courses_unit_year_unique")]

    def __str__(self):
        return f"{self.unit_id}·{self.year}"
