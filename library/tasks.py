"""Background work for the library: thin tasks that take ids and call a service."""

from django_tasks import task


@task(queue_name="default")
def facet_counts_refresh_task() -> None:
    from .facets import facet_counts_refresh

    facet_counts_refresh()


@task(queue_name="default")
def import_batch_run_task(batch_id: int, path: str) -> None:
    """Run an import an editor started in the admin (the file was saved at ``path``)."""
    from .imports.importer import import_batch_run_saved

    import_batch_run_saved(batch_id=batch_id, path=path)


@task(queue_name="media_light")
def library_item_fulltext_refresh_task(item_id: int) -> str:
    """Extract the text of an item's document or captions for search (queued when they change)."""
    from .services import library_item_fulltext_refresh

    return library_item_fulltext_refresh(item_id=item_id)


@task(queue_name="default")
def import_batch_resume_task(batch_id: int) -> None:
    """Resume an interrupted import an editor sent back to the queue ("继续导入")."""
    from .imports.importer import import_batch_resume

    import_batch_resume(batch_id=batch_id)


@task(queue_name="default")
def import_batch_check_task(batch_id: int) -> None:
    """While an import runs, look every minute on the ordinary workers for imports whose process died."""
    from .imports.importer import import_batch_check

    import_batch_check(batch_id=batch_id)


@task(queue_name="media_light")
def card_renditions_make_task(wanted: list[list]) -> int:
    """Make the card covers' renditions a page found missing ([image id, shape name] pairs): never in the request."""
    from .site.cards import card_renditions_make

    return card_renditions_make(wanted=[(image_id, shape) for image_id, shape in wanted])
