"""Question banks and questions in the Wagtail admin, and the bank import screen.

Editors see and change only banks owned by units they manage (cms.selectors.units_managed_by) and those banks'
questions: another unit's bank or question is a 404 in every view that opens one. The import checks every row and
writes all or nothing (courses.bank.importer); its report names each bad row with a Chinese reason.
"""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet

from cms.models import OrgUnit
from cms.selectors import units_managed_by

from ..models import Question, QuestionBank
from ..services import question_bank_import

UPLOAD_MAX_BYTES = 20 * 1024 * 1024  # 20,000 questions are a few MiB


def banks_managed_by(user):
    return QuestionBank.objects.filter(owning_unit__in=units_managed_by(user))


def questions_managed_by(user):
    return Question.objects.filter(bank__in=banks_managed_by(user))


class _Scoped:
    """Edit, delete, history and usage find their object among the editor's own rows."""

    scope = None

    def get_queryset(self):
        return type(self).scope(self.request.user)

    def get_base_object_queryset(self):
        return type(self).scope(self.request.user)


def _scoped(view_class, scope):
    if issubclass(view_class, (HistoryView, UsageView)):

        class ObjectOnly(view_class):
            def get_base_object_queryset(self):
                return scope(self.request.user)

        return ObjectOnly
    return type(f"Scoped{view_class.__name__}", (_Scoped, view_class), {"scope": staticmethod(scope)})


# --- Banks ------------------------------------------------------------------------------------------------------


class BankForm(WagtailAdminModelForm):
    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        if for_user is not None:
            self.fields["owning_unit"].queryset = units_managed_by(for_user).order_by("path")


class BankIndexView(generic.IndexView):
    def get_base_queryset(self):
        return (
            banks_managed_by(self.request.user)
            .select_related("owning_unit")
            .annotate(question_count=Count("questions"))
        )


class QuestionBankViewSet(ModelViewSet):
    model = QuestionBank
    icon = "folder-open-inverse"
    menu_label = gettext_lazy("题库")
    index_view_class = BankIndexView
    edit_view_class = _scoped(generic.EditView, banks_managed_by)
    delete_view_class = _scoped(generic.DeleteView, banks_managed_by)
    history_view_class = _scoped(HistoryView, banks_managed_by)
    usage_view_class = _scoped(UsageView, banks_managed_by)
    copy_view_enabled = False
    list_display = [
        "name",
        "code",
        "owning_unit",
        Column("updated_at", label=gettext_lazy("更新时间"), sort_key="updated_at"),
    ]
    search_fields = ["name", "code"]
    edit_handler = ObjectList(
        [FieldPanel("name"), FieldPanel("code"), FieldPanel("owning_unit"), FieldPanel("description")],
        base_form_class=BankForm,
    )


# --- Questions ----------------------------------------------------------------------------------------------------


class QuestionForm(WagtailAdminModelForm):
    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        if for_user is not None:
            self.fields["bank"].queryset = banks_managed_by(for_user)

    def clean(self):
        from ..bank.parsing import parse_row

        cleaned = super().clean()
        options = [
            row for row in getattr(self.formsets.get("options"), "cleaned_data", []) if row and not row.get("DELETE")
        ]
        row = {
            "kind": str(dict(Question._meta.get_field("kind").choices).get(cleaned.get("kind"), "")),
            "stem": cleaned.get("stem") or "",
            "answer": cleaned.get("answer") or "",
        } | {f"option_{option['label']}": option.get("text", "") for option in options if option.get("label")}
        _question, errors = parse_row(row)
        for message in errors:
            self.add_error(None, message)
        if _question is not None:
            cleaned["answer"] = _question.answer  # stored canonically: "A、C" → "AC", "对" → "T"
            self.instance.answer = _question.answer
        return cleaned


class QuestionIndexView(generic.IndexView):
    def get_base_queryset(self):
        return questions_managed_by(self.request.user).select_related("bank")


def _banks_of_request(request):
    return banks_managed_by(request.user) if request is not None else QuestionBank.objects.none()


class QuestionFilterSet(WagtailFilterSet):
    """The index's filters; 题库 offers only the editor's own banks (another unit's bank names are never listed)."""

    bank = django_filters.ModelChoiceFilter(label=gettext_lazy("题库"), queryset=_banks_of_request)

    class Meta:
        model = Question
        fields = ["bank", "kind", "difficulty", "is_practice", "is_active", "topic"]


class QuestionViewSet(ModelViewSet):
    model = Question
    icon = "help"
    menu_label = gettext_lazy("试题")
    index_view_class = QuestionIndexView
    edit_view_class = _scoped(generic.EditView, questions_managed_by)
    delete_view_class = _scoped(generic.DeleteView, questions_managed_by)
    history_view_class = _scoped(HistoryView, questions_managed_by)
    usage_view_class = _scoped(UsageView, questions_managed_by)
    copy_view_enabled = False
    list_display = ["stem", "kind", "topic", "difficulty", "is_practice", "is_active", "bank"]
    filterset_class = QuestionFilterSet
    search_fields = ["stem", "topic", "key"]
    list_per_page = 50
    edit_handler = ObjectList(Question.panels, base_form_class=QuestionForm)


# --- Import -------------------------------------------------------------------------------------------------------


class BankImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy(
            "Excel（.xlsx）或 CSV：题型、题干、选项A–F、答案、解析、难度、知识点；可加“编号”“练习”两列。"
        ),
    )
    bank = forms.ModelChoiceField(
        label=gettext_lazy("导入到题库"),
        queryset=QuestionBank.objects.none(),
        required=False,
        empty_label=gettext_lazy("新建题库"),
    )
    new_name = forms.CharField(label=gettext_lazy("新题库名称"), max_length=100, required=False)
    new_code = forms.SlugField(label=gettext_lazy("新题库代码"), max_length=64, required=False)
    new_unit = forms.ModelChoiceField(
        label=gettext_lazy("新题库所属单位"), queryset=OrgUnit.objects.none(), required=False
    )
    practice = forms.BooleanField(label=gettext_lazy("没有“练习”一列时，全部作为练习题"), required=False)
    dry_run = forms.BooleanField(label=gettext_lazy("只检查，不写入"), required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = banks_managed_by(user)
        self.fields["new_unit"].queryset = units_managed_by(user).order_by("path")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("文件太大，最大允许 %(limit)s。") % {"limit": filesizeformat(UPLOAD_MAX_BYTES)}
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("bank") is None:
            for name in ("new_name", "new_code", "new_unit"):
                if not cleaned.get(name):
                    self.add_error(name, _("新建题库时必须填写。"))
            code = cleaned.get("new_code")
            if code and QuestionBank.objects.filter(code=code).exists():
                self.add_error("new_code", _("这个代码已被其他题库使用。"))
        return cleaned

    def target_bank(self) -> QuestionBank:
        data = self.cleaned_data
        return data["bank"] or QuestionBank(name=data["new_name"], code=data["new_code"], owning_unit=data["new_unit"])


def bank_import_view(request: HttpRequest) -> HttpResponse:
    if not units_managed_by(request.user).exists():
        raise PermissionDenied
    form = BankImportForm(request.POST or None, request.FILES or None, user=request.user)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        report = question_bank_import(
            data=upload.read(),
            filename=upload.name,
            bank=form.target_bank(),
            practice_default=form.cleaned_data["practice"],
            dry_run=form.cleaned_data["dry_run"],
        )
        (messages.success if report.ok else messages.error)(request, report.summary())
    return TemplateResponse(request, "courses/admin/bank_import.html", {"form": form, "report": report})
