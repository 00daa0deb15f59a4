"""Wagtail documents that are library e-books are served only to people who may download the item
(before_serve_document): /documents/<id>/<name> hands out the whole file, so reading rights are not enough.

A document no library item uses is served as Wagtail always does. One used by items is served to someone who may
download one of them (library.selectors decides) or to an editor who manages one of them; anyone else gets a 404,
and an anonymous visitor the login page first (they may be a member). Readers read through the library's reader.
"""

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from .admin_selectors import items_managed_by
from .models import LibraryItem
from .selectors import item_downloadable, items_visible_to


def library_document_guard(document, request):
    using = LibraryItem.objects.filter(document=document)
    if not using.exists():
        return None
    user = request.user
    if any(item_downloadable(user=user, item=item) for item in items_visible_to(user).filter(document=document)[:20]):
        return None
    if user.is_authenticated and items_managed_by(user).filter(document=document).exists():
        return None  # the editor checking the file of an item that is not published yet
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    raise Http404
