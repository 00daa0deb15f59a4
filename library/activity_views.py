"""“我的图书馆”: favourites, history and continue-where-you-left-off (OWNER: API/activity helper)."""

from django.http import Http404


def my_library(request, *, page):
    raise Http404
