"""The Wagtail admin of the organisation app: a dashboard that says what to do next, and an admin in Chinese.

The dashboard opens with the work waiting in the editor's own part of the site; every app adds the panels about its
own data (here: pages waiting for review and pages with unpublished changes; media_pipeline: failed transcodes;
library: unpublished items and recent imports). Wagtail's own panels that say nothing to our editors go (its
release notes and upgrade banner, and "your pages in a workflow", which the review panel covers for the whole unit),
and so do its summary counts of pictures and documents, and the help menu's links to Wagtail's English guides.

A few Wagtail 8.0 screens label things with English that no catalogue reaches (Django's field names turned into
labels): those labels are set here from the models' own translated names.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.forms.auth import LoginForm
from wagtail.admin.forms.workflows import WorkflowPageForm
from wagtail.admin.site_summary import SummaryItem
from wagtail.admin.ui.components import Component
from wagtail.admin.views.home import (
    UpgradeNotificationPanel,
    UserObjectsInWorkflowModerationPanel,
    WhatsNewInWagtailVersionPanel,
)
from wagtail.admin.views.pages.search import SearchView as PageSearchView
from wagtail.models import Site
from wagtail.sites.views import IndexView as SiteIndexView
from wagtail.users.forms import PagePermissionsForm
from wagtail.users.views.bulk_actions.assign_role import RoleForm

from .selectors import pages_awaiting_review, pages_with_drafts

# Dashboard panels of every app come before Wagtail's own (its first is at 210), in this order.
REVIEW_ORDER = 10
DRAFTS_ORDER = 20
NOISE_PANELS = (WhatsNewInWagtailVersionPanel, UpgradeNotificationPanel, UserObjectsInWorkflowModerationPanel)
# Help menu items that open Wagtail's English documentation.
ENGLISH_HELP_ITEMS = ("whats-new-in-wagtail", "editor-guide")


class PagesAwaitingReviewPanel(Component):
    """待审核: pages of the editor's part of the site in a moderation workflow."""

    name = "lighthouse_pages_awaiting_review"
    template_name = "cms/admin/dashboard_review.html"
    order = REVIEW_ORDER

    def get_context_data(self, parent_context):
        return {"states": pages_awaiting_review(parent_context["request"].user)}


class PageDraftsPanel(Component):
    """本单位的草稿: pages of the editor's part of the site with changes not yet published."""

    name = "lighthouse_page_drafts"
    template_name = "cms/admin/dashboard_drafts.html"
    order = DRAFTS_ORDER

    def get_context_data(self, parent_context):
        return {"pages": pages_with_drafts(parent_context["request"].user)}


@hooks.register("construct_homepage_panels")
def dashboard_pages_panels(request, panels):
    panels[:] = [panel for panel in panels if not isinstance(panel, NOISE_PANELS)]
    panels += [PagesAwaitingReviewPanel(), PageDraftsPanel()]


# Runs after Wagtail's own hooks (order 0 and theirs), which add the summary items it then takes away.
@hooks.register("construct_homepage_summary_items", order=1000)
def dashboard_summary_without_media_counts(request, items):
    items[:] = [item for item in items if not _is_media_count(item)]


def _is_media_count(item: SummaryItem) -> bool:
    return type(item).__module__.startswith(("wagtail.images", "wagtail.documents"))


@hooks.register("construct_help_menu")
def help_menu_without_english_guides(request, menu_items):
    menu_items[:] = [item for item in menu_items if not item.name.startswith(ENGLISH_HELP_ITEMS)]


def wagtail_labels_from_models() -> None:
    """Labels Wagtail 8.0 leaves to Django's English field names: the sites list's columns, the page fields of the
    group and workflow editors (screen-reader labels), the sign-in form's password and the users' role: they get
    translated names."""
    for column in SiteIndexView.columns:
        if column.name in {"port", "site_name", "root_page"}:
            column.label = Site._meta.get_field(column.name).verbose_name
    for form in (PagePermissionsForm, WorkflowPageForm):
        form.base_fields["page"].label = _("Page")
    LoginForm.base_fields["password"].label = _("Password")
    RoleForm.base_fields["role"].label = _("角色")  # the users list's "assign role" bulk action
    # The page search names what it counts by the view's verbose name, which Wagtail 8.0 leaves None there
    # ("共 3 个None，第 1–3 个" whenever a search finds pages).
    PageSearchView.verbose_name, PageSearchView.verbose_name_plural = _("页面"), _("页面")


wagtail_labels_from_models()

# The roster screen registers its own admin URLs and menu item (cms/roster/admin.py).
from .roster import admin as roster_screen  # noqa: E402, F401
