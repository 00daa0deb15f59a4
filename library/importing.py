"""Bulk import of library items from CSV, JSON and MARC (OWNER: import helper)."""


def import_batch_run_saved(*, batch_id: int, path: str) -> None:
    raise NotImplementedError
