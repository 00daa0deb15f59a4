"""Admin search while the engine is unreachable: a plain database filter rather than an error page."""

import logging

from django.core.exceptions import FieldDoesNotExist
from django.db.models import CharField, Count, Q, TextField
from modelsearch.index import AutocompleteField, SearchField
from modelsearch.query import And, Boost, Phrase, PlainText

logger = logging.getLogger(__name__)


def _text_fields(model) -> list[str]:
    names = []
    for field in model.get_search_fields():
        if isinstance(field, (SearchField, AutocompleteField)) and field.field_name not in names:
            try:
                column = model._meta.get_field(field.field_name)
            except FieldDoesNotExist:  # a method or a property: not a column
                continue
            if isinstance(column, (CharField, TextField)):
                names.append(field.field_name)
    return names


def _words(query) -> list[str]:
    if isinstance(query, (PlainText, Phrase)):
        return query.query_string.split()
    if isinstance(query, Boost):
        return _words(query.subquery)
    if isinstance(query, And):
        return [word for subquery in query.subqueries for word in _words(subquery)]
    return []  # MatchAll; Or and Not are left to the engine's answer


def database_matches(queryset, query):
    """Objects whose text columns contain every word of the query (`icontains`: slow, but answers)."""
    words = _words(query)
    names = _text_fields(queryset.model)
    if words and not names:
        return queryset.none()
    for word in words:
        condition = Q()
        for name in names:
            condition |= Q(**{f"{name}__icontains": word})
        queryset = queryset.filter(condition)
    return queryset if queryset.ordered else queryset.order_by("-pk")


class FallbackResultsMixin:
    """Search results that answer from the database when the engine fails (down, timed out, or refusing)."""

    engine_errors: tuple[type[Exception], ...] = ()

    def _fallback(self, error):
        logger.warning("Admin search engine failed (%s); answering from the database", error)
        return database_matches(self.query_compiler.queryset, self.query_compiler.query)

    def _do_search(self):
        try:
            return list(super()._do_search())  # modelsearch's is a generator: run it here, inside the try
        except self.engine_errors as error:
            return list(self._fallback(error)[self.start : self.stop])

    def _do_count(self):
        try:
            return super()._do_count()
        except self.engine_errors as error:
            total = self._fallback(error).count()
            end = total if self.stop is None else min(total, self.stop)
            return max(end - self.start, 0)

    def facet(self, field_name):
        try:
            return super().facet(field_name)
        except self.engine_errors as error:
            rows = self._fallback(error).order_by().values(field_name).annotate(count=Count("pk")).order_by("-count")
            return {row[field_name]: row["count"] for row in rows}
