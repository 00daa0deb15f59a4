"""Who may fetch a Wagtail document's file at /documents/<id>/<name> (before_serve_document): the whole file is
handed out, so reading rights are not enough, and nothing is served just because nobody forbade it.

- A document library items use: to someone who may download one of them (library.selectors decides), or to an
  editor who manages one of them (checking an item not published yet).
- A document no item uses: to anyone when a live, public page links it (the reference index knows), else only to
  editors who may edit or choose it (its collection's permissions, as the admin decides). A withdrawn e-book's
  document (the takedown drops it from the item, the file stays) is therefore no longer served by its old URL.

Anyone else gets a 404, and an anonymous visitor the login page first (they may be a member).
"""

from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from wagtail.documents import get_document_model
from wagtail.models import Page, ReferenceIndex
from wagtail.permissions import policy_registry

from library.models import LibraryItem
from library.selectors import item_downloadable, items_visible_to

from .selectors import items_managed_by

PAGE_REFERENCES_CHECKED = 100


def library_document_guard(document, request):
    user = request.user
    if LibraryItem.objects.filter(document=document).exists():
        allowed = _may_fetch_library_document(user, document)
    else:
        allowed = _linked_from_a_public_page(document) or _editor_of(user, document)
    if allowed:
        return None
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    raise Http404


def _may_fetch_library_document(user, document) -> bool:
    readable = items_visible_to(user).filter(document=document)[:20]
    if any(item_downloadable(user=user, item=item, known_readable=True) for item in readable):
        return True
    return user.is_authenticated and items_managed_by(user).filter(document=document).exists()


def _editor_of(user, document) -> bool:
    policy = policy_registry.get_by_type(get_document_model())
    return user.is_authenticated and policy.user_has_any_permission_for_instance(user, ["change", "choose"], document)


def _linked_from_a_public_page(document) -> bool:
    page_type = ContentType.objects.get_for_model(Page)
    page_ids = (
        ReferenceIndex.get_references_to(document)
        .filter(base_content_type=page_type)
        .values_list("object_id", flat=True)[:PAGE_REFERENCES_CHECKED]
    )
    return Page.objects.live().public().filter(pk__in=[int(pk) for pk in page_ids if pk.isdigit()]).exists()
