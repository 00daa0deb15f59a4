"""The document step: PDF e-books and periodicals (page images, text, cover, outline through PDFium) and EPUB
books (chapters, text, cover, table of contents through EbookLib, after a zip safety check). ``step.py`` tells
the formats apart and holds the helpers both share; ``text.py`` reads a document's text for search."""
