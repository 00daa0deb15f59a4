"""A screen's credential and its pairing code, as data.

A credential is ``<credential id>.<secret>``: the id finds the row, the secret (32 random bytes) is checked against
the SHA-256 kept in the row. A fast hash is right here, unlike for passwords: the secret is random and long, so
there is nothing to guess from its hash. The secret is shown once, to the screen that asked for a pairing code.

A pairing code is what a person reads off the new screen and types into the admin: six characters from an
alphabet without look-alikes (no 0/O, 1/I/L), about 30 bits. It lives ten minutes, works once, and wrong entries
are throttled per editor, so guessing a code that another unit's screen shows is hopeless. Only a keyed digest of
the code is stored.
"""

import hashlib
import hmac
import secrets
import unicodedata

from django.conf import settings

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
CREDENTIAL_ID_BYTES = 12
SECRET_BYTES = 32


def new_credential() -> tuple[str, str, str]:
    """(credential id, secret, the secret's hash)."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return secrets.token_hex(CREDENTIAL_ID_BYTES), secret, secret_hash(secret)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def credential_text(credential_id: str, secret: str) -> str:
    return f"{credential_id}.{secret}"


def credential_parts(text: str) -> tuple[str, str] | None:
    """(credential id, secret) of a credential as the device sends it, or None when it is not shaped like one."""
    credential_id, dot, secret = (text or "").strip().partition(".")
    if not dot or len(credential_id) != CREDENTIAL_ID_BYTES * 2 or not secret or len(secret) > 100:
        return None
    return credential_id, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash or "")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_normalised(text: str) -> str:
    """What a person typed, as the code is stored: upper case, without spaces and dashes. NFKC first: a Chinese IME
    in full-width mode types "２３ＡＢ－ＣＤ" (and 全角空格), which must not count as a wrong guess."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text or "").upper() if ch not in " -\t")


def code_digest(code: str) -> str:
    key = hashlib.sha256(f"lighthouse.screens.pairing:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, code_normalised(code).encode(), hashlib.sha256).hexdigest()
