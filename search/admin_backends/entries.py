"""Writing index entries made of our terms, shared by the SQLite and PostgreSQL flavours."""

from modelsearch.utils import get_content_type_pk


class TermsIndexMixin:
    """An index whose entries hold our terms. modelsearch's `add_items` builds its own indexer, so it is
    replaced by one upsert of the rows `indexer_class` makes (one statement, whatever the number of objects)."""

    indexer_class = None  # the vendor's ObjectIndexer, changed to store terms

    def entry_values(self, indexer) -> dict:
        raise NotImplementedError

    def add_items(self, model, objs):
        if not model.get_search_fields():
            return
        content_type_id = get_content_type_pk(model)
        # By id: an upsert may not touch one row twice.
        values = {
            indexer.id: self.entry_values(indexer) for indexer in (self.indexer_class(o, self.backend) for o in objs)
        }
        if not values:
            return
        entry = self.entries.model
        rows = [
            entry(content_type_id=content_type_id, object_id=object_id, title_norm=1.0, **fields)
            for object_id, fields in values.items()
        ]
        entry._default_manager.using(self.write_connection.alias).bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["content_type", "object_id"],
            # title_norm back to 1.0 marks the row for _refresh_title_norms, as modelsearch does.
            update_fields=["title_norm", *next(iter(values.values()))],
        )
        self._refresh_title_norms()


class TermsQueryMixin:
    """A query compiler that matches our terms: the query is rewritten once, before anything reads it."""

    def __init__(self, *args, **kwargs):
        from .terms import terms_query

        super().__init__(*args, **kwargs)
        self.query = terms_query(self.query)
