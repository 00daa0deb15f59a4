"""The text of a PDF or EPUB file on local disk, for search: what the document step stores as ``text/all.txt``.

Search reads the stored text where the pipeline has processed the document (``selectors.stored_document_text``);
this reads it from the file itself where it has not. The parsers and safety checks are the step's own (PDFium under
its process-wide lock, the EPUB zip-bomb and encryption checks), so a file the step refuses is refused here for the
same reason: ``BadInputError``.
"""

from dataclasses import dataclass
from pathlib import Path

from ...errors import BadInputError
from .step import document_kind


@dataclass(frozen=True)
class DocumentText:
    kind: str  # "pdf" or "epub"
    text: str  # pages or chapters in reading order, separated by form feeds (step.PART_SEPARATOR), as all.txt


def document_file_text(*, path: Path, limit: int) -> DocumentText | None:
    """The text of the PDF or EPUB at ``path``, read until at least ``limit`` characters are in. None for a file
    that is neither (a Word file, a picture: nothing to read, and nothing wrong either); BadInputError for a
    damaged or encrypted one."""
    try:
        kind = document_kind(path)
    except BadInputError:
        return None
    # Imported here so that only processes that read a PDF load PDFium's native library.
    if kind == "pdf":
        from .pdf import pdf_text as read
    else:
        from .epub import epub_text as read
    return DocumentText(kind=kind, text=read(path, limit=limit))
