"""Links to an item's protected files (OWNER: readers helper): rights are checked, then a redirect to a short-lived
signed URL (library/links.py)."""

from django.http import Http404


def item_download(request, item_id: int):
    raise Http404


def item_read(request, item_id: int):
    raise Http404
