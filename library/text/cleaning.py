"""Small text cleaners shared by the importer and the admin forms: what may be stored in a title or text field,
and what may be written into a CSV cell that an editor will open in a spreadsheet.

``clean_text`` removes characters that are invisible on screen but change what a reader sees or breaks the
feeds: C0/C1 control characters (tab and line breaks kept), the bidirectional embedding, override and isolate
controls that reorder a title ("Trojan Source" spoofing), a stray byte-order mark, and XML's non-characters.
Left-to-right and right-to-left marks are kept only where right-to-left script (Uyghur, Arabic) is present,
the one place they do a job.

``neutralise_formula`` follows OWASP's advice on CSV injection: a cell that a spreadsheet would read as a formula
(``=HYPERLINK(…)``, ``=cmd|…``, ``+``, ``-``, ``@``, or a leading tab or carriage return) gets a leading ``'``,
so it is shown as text and never run.
"""

import re

from cms.spreadsheets import neutralise_formula  # noqa: F401 — one rule for every spreadsheet we write

# C0 controls except tab, LF and CR; DEL and the C1 controls; XML's two non-characters; the BOM as a character.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff]")
# Embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069), the Arabic letter mark (U+061C), and the
# line and paragraph separators, which break scripts that embed the text.
BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069\u061c\u2028\u2029]")
DIRECTION_MARK = re.compile("[\u200e\u200f]")
# Hebrew, Arabic (Uyghur), Syriac, Thaana and their presentation forms: the scripts a direction mark serves.
RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe]")


def clean_text(value: str) -> str:
    """The text without control characters or bidirectional controls (see the module's note)."""
    value = BIDI_CONTROL.sub("", CONTROL.sub("", value))
    if DIRECTION_MARK.search(value) and not RIGHT_TO_LEFT.search(value):
        value = DIRECTION_MARK.sub("", value)
    return value
