"""Pages (版面) of a periodical or newspaper issue, and the article areas drawn on a page image.

Pages are ordinary rows edited with Wagtail's generic views, listed per issue (?issue=<id>); the area editor is one
extra view: the page image with a small script that draws rectangles and posts them as fractions (0–1) of the
image, checked again on the server (services.article_areas_validate)."""

import json
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet

from library.models import IssuePage, LibraryItem
from library.site.readers import page_image_url

from .export import SafeExportMixin
from .scoping import scoped
from .selectors import issue_articles, issue_pages_managed_by, items_managed_by
from .services import article_areas_set, issue_page_save


class IssuePageForm(WagtailAdminModelForm):
    class Meta:
        model = IssuePage
        fields = ["issue", "number", "name", "image", "text"]
        widgets = {"issue": forms.HiddenInput}

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        # The page belongs to one of the editor's issues; it comes from the "版面" link of that issue.
        issues = items_managed_by(for_user).filter(role=LibraryItem.Role.ISSUE)
        self.fields["issue"].queryset = issues
        self.fields["issue"].error_messages["invalid_choice"] = _("这一期不存在，或不归您管理。")
        if self.instance.pk:
            self.fields["issue"].disabled = True


class IssueScopedMixin:
    def get_queryset(self):
        return issue_pages_managed_by(self.request.user)


class SaveMixin:
    def save_instance(self):
        return issue_page_save(page=self.form.instance)


class IssuePageIndexView(IssueScopedMixin, SafeExportMixin, generic.IndexView):
    def get_base_queryset(self):
        pages = issue_pages_managed_by(self.request.user)
        issue = self.request.GET.get("issue", "")
        return pages.filter(issue_id=issue) if issue.isdigit() else pages

    def get_add_url(self):
        issue = self.request.GET.get("issue", "")
        url = super().get_add_url()
        return f"{url}?{urlencode({'issue': issue})}" if issue.isdigit() and url else url


class IssuePageCreateView(SaveMixin, generic.CreateView):
    def get_initial(self):
        initial = super().get_initial()
        issue = self.request.GET.get("issue", "")
        if issue.isdigit():
            initial["issue"] = issue
            last = IssuePage.objects.filter(issue_id=issue).order_by("-number").values_list("number", flat=True)
            initial["number"] = (last.first() or 0) + 1
        return initial


class IssuePageEditView(SaveMixin, IssueScopedMixin, generic.EditView):
    pass


class IssuePageDeleteView(IssueScopedMixin, generic.DeleteView):
    pass


def areas_edit(request, pk):
    """Draw, reassign and delete the article areas of one page."""
    page = issue_pages_managed_by(request.user).filter(pk=pk).first()
    if page is None:
        raise Http404
    articles = list(issue_articles(page.issue).values("pk", "title", "position"))
    error = ""
    if request.method == "POST":
        try:
            areas = json.loads(request.POST.get("areas") or "[]")
            article_areas_set(user=request.user, page=page, areas=areas)
        except json.JSONDecodeError:
            error = _("区域数据格式不正确。")
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("文章区域已保存。"))
            return redirect(reverse("library_issue_pages:areas", args=[page.pk]))
    current = [{"article": area.article_id, "points": area.points} for area in page.areas.all()]
    context = {
        "page": page,
        "articles": articles,
        "areas_json": request.POST.get("areas") if error else json.dumps(current),
        "error": error,
        "image_url": page_image_url(page.image, "max-1600x2400").get("url", "") if page.image_id else "",
        "header_title": _("文章区域"),
    }
    return TemplateResponse(request, "library/admin/issue_areas.html", context, status=400 if error else 200)


def areas_link(page):
    return _("画文章区域")


class IssuePageViewSet(ModelViewSet):
    model = IssuePage
    icon = "doc-full"
    add_to_admin_menu = False
    form_class = IssuePageForm
    index_view_class = IssuePageIndexView
    add_view_class = IssuePageCreateView
    edit_view_class = IssuePageEditView
    delete_view_class = IssuePageDeleteView
    list_display = [
        "number",
        "name",
        Column("issue", label=_("期"), accessor="issue"),
        TitleColumn(
            "areas",
            label=_("文章区域"),
            accessor=areas_link,
            get_url=lambda page: reverse("library_issue_pages:areas", args=[page.pk]),
        ),
    ]
    list_per_page = 50
    copy_view_enabled = False
    history_view_class = scoped(HistoryView, issue_pages_managed_by)
    usage_view_class = scoped(UsageView, issue_pages_managed_by)

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [path("areas/<int:pk>/", areas_edit, name="areas")]

    def get_form_class(self, for_update=False):
        return IssuePageForm
