"""The course page's admin form: refuses, in Chinese, a course that could not work for its members (dates out of
order, a lesson twice, a lesson some of its audience cannot open, a quiz whose pool is too small)."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from wagtail.admin.forms import WagtailAdminPageForm


def _kept_rows(formset) -> list[dict]:
    """The cleaned rows an inline formset will keep (not deleted, not left empty)."""
    if formset is None or not hasattr(formset, "cleaned_data"):
        return []
    return [row for row in formset.cleaned_data if row and not row.get("DELETE")]


class CoursePageForm(WagtailAdminPageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._scope_banks()

    def _scope_banks(self):
        """The 题库 choice offers the banks of units the editor manages (and the course's own, kept as it is)."""
        from cms.selectors import units_managed_by

        from .models import QuestionBank

        field = self.fields.get("question_bank")
        if field is None or self.for_user is None:
            return
        own = Q(owning_unit__in=units_managed_by(self.for_user)) | Q(pk=self.instance.question_bank_id)
        field.queryset = QuestionBank.objects.filter(own).order_by("name")

    def clean(self):
        cleaned = super().clean()
        self._check_dates(cleaned)
        self._check_issue_number(cleaned)
        self._check_lessons(cleaned)
        self._check_quiz(cleaned)
        return cleaned

    def _check_dates(self, cleaned):
        premiere, closes, makeup = (cleaned.get(name) for name in ("premiere_at", "study_closes_at", "makeup_deadline"))
        if premiere and closes and closes < premiere:
            self.add_error("study_closes_at", _("学习截止不能早于首播时间。"))
        if closes and makeup and makeup < closes:
            self.add_error("makeup_deadline", _("补学截止不能早于学习截止。"))

    def _check_issue_number(self, cleaned):
        from .models import CoursePage

        number = cleaned.get("issue_number")
        if number and CoursePage.objects.filter(issue_number=number).exclude(pk=self.instance.pk).exists():
            self.add_error("issue_number", _("第 %(n)d 期已经有课程了。") % {"n": number})

    def _check_lessons(self, cleaned):
        from library.models import LibraryItem
        from library.selectors import items_visible_to

        from .selectors import AudienceMember

        rows = _kept_rows(self.formsets.get("lessons"))
        items = [row["item"] for row in rows if row.get("item")]
        if len({item.pk for item in items}) < len(items):
            raise forms.ValidationError(_("同一条目不能在课程里出现两次。"))
        audience = AudienceMember(cleaned.get("audience_unit"))
        readable = set(
            items_visible_to(audience).filter(pk__in=[item.pk for item in items]).values_list("pk", flat=True)
        )
        for item in items:
            if item.role == LibraryItem.Role.SERIES:
                raise forms.ValidationError(
                    _("《%(title)s》是系列或刊名，请选择其中具体的一集、一期或一篇。") % {"title": item.title}
                )
            if item.pk not in readable:
                raise forms.ValidationError(
                    _("《%(title)s》未发布，或不是对本课程全部学员开放的，学员将无法学习。") % {"title": item.title}
                )

    def _check_quiz(self, cleaned):
        from .quiz.drawing import POOL_FACTOR, Rule, pool_shortfalls

        bank = cleaned.get("question_bank")
        rules = [Rule(r["kind"], (r.get("topic") or "").strip(), r.get("difficulty"), r["count"], r.get("points") or 1)
                 for r in _kept_rows(self.formsets.get("quiz_rules")) if r.get("kind") and r.get("count")]  # fmt: skip
        if rules and bank is None:
            self.add_error("question_bank", _("有组卷规则时请选择题库。"))
        if bank is not None and not rules:
            raise forms.ValidationError(_("选择了题库，请再添加至少一条组卷规则。"))
        if bank is None or not rules:
            return
        for shortfall in pool_shortfalls(bank.pk, rules, fresh=True):
            rule = shortfall.rule
            raise forms.ValidationError(
                _(
                    "组卷规则“%(rule)s %(count)d 题”只有 %(available)d 道可用试题，"
                    "至少需要 %(needed)d 道（%(factor)d 倍）。"
                )
                % {
                    "rule": _rule_label(rule),
                    "count": rule.count,
                    "available": shortfall.available,
                    "needed": shortfall.needed,
                    "factor": POOL_FACTOR,
                }
            )


def _rule_label(rule) -> str:
    from .models import Difficulty, QuestionKind

    parts = [str(QuestionKind(rule.kind).label)]
    if rule.topic:
        parts.append(rule.topic)
    if rule.difficulty:
        parts.append(str(Difficulty(rule.difficulty).label))
    return "·".join(parts)
