"""“我的图书馆”: continue where you left off, favourites and study history.
Served by LibraryPage at <library>/me/. Each section pages on its own keyset cursor, so "more" in one list
leaves the others where they were."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse

from library import activity
from library.site.cards import cards_prepare

CONTINUE_PER_PAGE = 6
FAVOURITES_PER_PAGE = 12
HISTORY_PER_PAGE = 20


def _cursor(request, name: str):
    try:
        return activity.activity_cursor_parse(request.GET.get(name))
    except ValidationError:
        return None  # a mangled "more" link starts the list from the top rather than failing the page


def _more_query(request, name: str, cursor) -> str:
    """The query string of a section's "more" link: its own next cursor, the other sections' cursors kept."""
    if cursor is None:
        return ""
    query = request.GET.copy()
    query[name] = activity.activity_cursor_format(cursor)
    return query.urlencode()


def my_library(request, *, page):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
    member = request.user
    continuing, continue_next = activity.continue_items(
        member=member, before=_cursor(request, "continue"), per_page=CONTINUE_PER_PAGE
    )
    favourites, favourites_next = activity.favourites_of(
        member=member, before=_cursor(request, "favourites"), per_page=FAVOURITES_PER_PAGE
    )
    history, history_next = activity.history_of(
        member=member, before=_cursor(request, "history"), per_page=HISTORY_PER_PAGE
    )
    # One calculation for the totals and every row shown (library.activity.study_time_of): they always agree.
    study = activity.study_time_of(member=member, item_ids={row.item_id for row in [*continuing, *history]})
    for row in [*continuing, *history]:
        row.study = study.of(row.item_id)
    cards_prepare([*[row.item for row in continuing], *[favourite.item for favourite in favourites]])
    context = {
        "page": page,
        "continuing": continuing,
        "favourites": favourites,
        "history": history,
        "continue_more": _more_query(request, "continue", continue_next),
        "favourites_more": _more_query(request, "favourites", favourites_next),
        "history_more": _more_query(request, "history", history_next),
        "study": study,
    }
    return TemplateResponse(request, "library/my_library.html", context)
