"""Request and response shapes of the courses' JSON API; OpenAPI is generated from these.

Inputs are strict and bounded (a seq must be a JSON integer, an answer id a UUID, at most 50 answers a request), so
a broken or hostile client gets a 422 naming the field instead of a 500. Outputs never carry an answer key before
its release, a question id, or an option's original letter."""

import uuid
from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import Field, Strict

from courses.quiz.responses import BLANK_MAX_LENGTH
from courses.services import MAX_ANSWERS_PER_REQUEST, SEQ_MAX


class ErrorOut(Schema):
    detail: str = Field(description="给人看的中文说明")
    errors: list[dict] | None = Field(default=None, description="422 时逐项说明：field、message、type")


class TimeOut(Schema):
    now: datetime = Field(description="服务器时间")
    epoch_ms: int = Field(description="服务器时间（毫秒）：客户端据此校准倒计时，偏差 = epoch_ms − (发出 + 收到) / 2")
    client_ms: int | None = Field(default=None, description="请求中的 client_ms，原样返回（便于计算往返时间）")


class LessonOut(Schema):
    item_id: int
    title: str
    kind: str
    kind_display: str
    required: bool
    note: str
    url: str = Field(description="条目页；首播前为空")
    readable: bool = Field(description="我能否打开它")
    required_minutes: int = Field(description="学完所需的有效学习分钟数")
    studied_minutes: int = Field(description="本期窗口内我已有效学习的分钟数")
    done: bool


class ProgressOut(Schema):
    required_total: int
    required_done: int
    percent: int
    complete: bool


class QuizStatusOut(Schema):
    phase: str = Field(description="none 无测验 / not_open 未开放 / open 进行中 / closed 已截止")
    opens_at: datetime
    closes_at: datetime
    attempts_allowed: int
    attempts_used: int
    time_limit_minutes: int
    pass_mark: int
    open_attempt_id: int | None
    best_attempt_id: int | None


class CourseOut(Schema):
    id: int
    issue_number: int
    theme: str
    title: str
    summary: str
    url: str
    premiere_at: datetime
    study_closes_at: datetime
    makeup_deadline: datetime
    server_now: datetime
    lessons: list[LessonOut]
    progress: ProgressOut | None = Field(description="未登录时为空")
    quiz: QuizStatusOut


class OptionOut(Schema):
    id: str = Field(description="本次答题专用的选项标识（已签名）")
    letter: str = Field(description="显示用的字母（按本次打乱后的顺序）")
    text: str


class SavedOut(Schema):
    options: list[str]
    blanks: list[str]
    seq: int


class QuestionOut(Schema):
    ref: str = Field(description="本次答题专用的题目标识（已签名）；保存答案时原样送回")
    number: int
    kind: str = Field(description="single / multiple / truefalse / blank")
    kind_display: str
    stem: str
    points: int
    options: list[OptionOut]
    blank_count: int
    saved: SavedOut | None


class AttemptOut(Schema):
    id: int
    course_id: int
    number: int
    state: str = Field(description="in_progress / submitted / timed_out")
    created: bool = Field(default=False, description="开始答题时：这次是否新建")
    started_at: datetime
    deadline: datetime = Field(description="服务器截止时间；超过后答案不再接收")
    server_now: datetime
    seconds_left: int
    attempts_allowed: int
    questions: list[QuestionOut]
    result_url: str


OptionId = Annotated[str, Field(min_length=1, max_length=32)]
BlankText = Annotated[str, Field(max_length=BLANK_MAX_LENGTH)]


class AnswerIn(Schema):
    ref: str = Field(min_length=3, max_length=40, description="题目的 ref")
    answer_id: uuid.UUID = Field(description="客户端为这次修改生成的 UUID；重发同一个不会重复保存")
    seq: Annotated[int, Strict(), Field(ge=0, le=SEQ_MAX)] = Field(
        description="客户端按服务器时间校准的毫秒时刻；同一题以较大者为准"
    )
    options: list[OptionId] | None = Field(default=None, max_length=6, description="选择题：所选选项的 id")
    blanks: list[BlankText] | None = Field(default=None, max_length=10, description="填空题：各空的答案")


class AnswersIn(Schema):
    answers: list[AnswerIn] = Field(min_length=1, max_length=MAX_ANSWERS_PER_REQUEST)


class AnswerSavedOut(Schema):
    ref: str
    answer_id: uuid.UUID
    applied: bool = Field(description="false：重发或较旧的修改，未改变已保存的答案")
    seq: int


class AnswersOut(Schema):
    state: str
    server_now: datetime
    deadline: datetime
    seconds_left: int
    results: list[AnswerSavedOut]


class ResultOptionOut(Schema):
    letter: str
    text: str
    chosen: bool
    key: bool


class ResultQuestionOut(Schema):
    number: int
    kind_display: str
    stem: str
    options: list[ResultOptionOut]
    blanks: list[str]
    correct: bool
    points: int
    key: str
    explanation: str


class ResultOut(Schema):
    attempt_id: int
    state: str
    submitted_at: datetime | None
    score_released: bool
    score: int | None = Field(description="成绩公布前为空")
    max_score: int
    percent: int | None
    passed: bool | None
    pass_mark: int
    results_release_at: datetime | None
    answers_released: bool
    answers_release_at: datetime
    questions: list[ResultQuestionOut] = Field(description="答案与解析公布前为空")


class PracticeQuestionOut(Schema):
    id: int
    kind: str
    kind_display: str
    stem: str
    topic: str
    options: list[OptionOut]
    blank_count: int


class PracticeOut(Schema):
    topics: list[str]
    questions: list[PracticeQuestionOut]


class PracticeCheckIn(Schema):
    question_id: Annotated[int, Strict(), Field(ge=1)]
    options: list[Annotated[str, Field(max_length=1)]] | None = Field(default=None, max_length=6)
    blanks: list[BlankText] | None = Field(default=None, max_length=10)


class PracticeCheckOut(Schema):
    question_id: int
    correct: bool
    key: str
    explanation: str


class StudyHoursOut(Schema):
    year: int
    online_seconds: int = Field(description="在线学习的实际学习秒数")
    online_hours: float = Field(description="在线学习折算学时（每 45 分钟 1 学时）")
    sessions: int = Field(description="签到的支部集中学习次数")
    session_hours: float
    quizzes_passed: int = Field(description="测验合格的课程期数")
    quiz_hours: float
    total: float
    required: float = Field(description="年度要求学时")
    met: bool
    certificate_code: str = Field(description="已领取的年度证书验证码；未领取为空")


class CheckInIn(Schema):
    code: str = Field(
        min_length=3, max_length=200, description="扫描电视或投影上的二维码得到的签到码（网址中 c= 的值）"
    )


class CheckInOut(Schema):
    session_id: int
    branch: str
    checked_in_at: datetime
    created: bool = Field(description="false：之前已经签到过")
