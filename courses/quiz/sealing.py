"""The ids a client sees in an attempt, sealed with an HMAC so that it cannot invent or swap them.

A question is handed out as a ``ref``: its 1-based position and an HMAC over the attempt, its nonce, the position
and the question id. An option is handed out as an opaque id: an HMAC over the nonce, the question and the
option's original label. Neither reveals a question id or an option letter (the shuffled letters on screen are
positions), and any id the server did not issue for this attempt fails the check. Keys come from the site's
SECRET_KEY through Django's ``salted_hmac``.
"""

from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "lighthouse.courses.quiz"
REF_MAC_LENGTH = 16  # hex characters: 64 bits
OPTION_MAC_LENGTH = 12


def _mac(*parts) -> str:
    return salted_hmac(SALT, ":".join(str(part) for part in parts), algorithm="sha256").hexdigest()


def question_ref(*, attempt, position: int) -> str:
    question_id = attempt.questions[position]["q"]
    return f"{position + 1}.{_mac('q', attempt.pk, attempt.nonce, position, question_id)[:REF_MAC_LENGTH]}"


def ref_position(*, attempt, ref: str) -> int | None:
    """The 0-based position a ref names in this attempt, or None when the server did not issue it."""
    number, _dot, mac = str(ref).partition(".")
    if not number.isdigit() or len(number) > 4:
        return None
    position = int(number) - 1
    if not 0 <= position < len(attempt.questions):
        return None
    question_id = attempt.questions[position]["q"]
    expected = _mac("q", attempt.pk, attempt.nonce, position, question_id)[:REF_MAC_LENGTH]
    return position if constant_time_compare(mac, expected) else None


def option_id(*, attempt, question_id: int, label: str) -> str:
    return _mac("o", attempt.pk, attempt.nonce, question_id, label)[:OPTION_MAC_LENGTH]


def option_ids(*, attempt, position: int) -> dict[str, str]:
    """{option id: original label} for the question at ``position``, in the attempt's shown order."""
    entry = attempt.questions[position]
    return {option_id(attempt=attempt, question_id=entry["q"], label=label): label for label in entry["o"]}
