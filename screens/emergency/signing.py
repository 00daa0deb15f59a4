"""The screens' signatures: Ed25519 over an emergency's canonical JSON text and over each manifest response's exact
bytes, so a player shows only what this server sent.

``SCREENS_SIGNING_KEYS`` (environment): ``id:base64seed[,id:base64seed…]``, each a 32-byte Ed25519 private key
seed; the first signs, every one verifies, so a new key goes first and the old one stays until its emergencies have
expired (24 hours at most). Without it (not production) a development key ``dev`` is derived from SECRET_KEY with
HKDF, as ``cms.roster.keys`` does for ID numbers, so ``make run`` needs nothing.

The signed text is ``json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))`` encoded as
UTF-8, where the payload holds only integers, strings and null (times as ISO 8601 in UTC): a browser rebuilds the
same bytes with ``JSON.stringify`` over the keys in sorted order.

A manifest response carries a detached signature of its body in ``X-Lighthouse-Signature: keyid=<id>, sig=<base64>``
(``signature_header``): the body holds fresh signed links on every 200, so it is signed as it is sent (one Ed25519
signature, tens of microseconds); the 304 has no body and needs none.
"""

import base64
import binascii
import json
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

DEVELOPMENT_KEY_ID = "dev"


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _development_key() -> Ed25519PrivateKey:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"lighthouse-screens", info=b"emergency-signing")
    return Ed25519PrivateKey.from_private_bytes(hkdf.derive(settings.SECRET_KEY.encode()))


def _parse(text: str) -> tuple[tuple[str, Ed25519PrivateKey], ...]:
    keys = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        key_id, sep, encoded = part.partition(":")
        try:
            seed = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            seed = b""
        if not sep or not key_id or len(key_id) > 32 or len(seed) != 32:
            raise ImproperlyConfigured("SCREENS_SIGNING_KEYS 的每一项应写成 编号:base64(32 字节 Ed25519 私钥种子)。")
        keys.append((key_id, Ed25519PrivateKey.from_private_bytes(seed)))
    return tuple(keys)


@cache
def signing_keys() -> tuple[tuple[str, Ed25519PrivateKey], ...]:
    """(id, private key) pairs, the signing one first."""
    return _parse(getattr(settings, "SCREENS_SIGNING_KEYS", "")) or ((DEVELOPMENT_KEY_ID, _development_key()),)


@receiver(setting_changed)
def _forget_keys(setting, **kwargs):
    if setting in ("SCREENS_SIGNING_KEYS", "SECRET_KEY"):
        signing_keys.cache_clear()


def public_keys() -> dict[str, str]:
    """{key id: the raw 32-byte public key, base64}: what a player verifies with."""
    return {key_id: _public_text(key.public_key()) for key_id, key in signing_keys()}


def _public_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(payload: dict) -> tuple[str, str]:
    """(key id, base64 signature) of the payload with the current key."""
    return sign_bytes(canonical(payload))


def sign_bytes(data: bytes) -> tuple[str, str]:
    """(key id, base64 signature) of exactly these bytes with the current key."""
    key_id, key = signing_keys()[0]
    return key_id, base64.b64encode(key.sign(data)).decode()


def signature_valid(payload: dict, *, key_id: str, signature: str) -> bool:
    """Whether ``signature`` is one of our keys' signature of exactly this payload (a forged or tampered one is not)."""
    return bytes_signature_valid(canonical(payload), key_id=key_id, signature=signature)


def bytes_signature_valid(data: bytes, *, key_id: str, signature: str) -> bool:
    """Whether ``signature`` is one of our keys' signature of exactly these bytes."""
    keys = dict(signing_keys())
    if key_id not in keys:
        return False
    try:
        keys[key_id].public_key().verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


SIGNATURE_HEADER = "X-Lighthouse-Signature"


def signature_header(body: bytes) -> str:
    """The ``X-Lighthouse-Signature`` value for a response body: ``keyid=<id>, sig=<base64 Ed25519 signature>``."""
    key_id, signature = sign_bytes(body)
    return f"keyid={key_id}, sig={signature}"


def signature_header_parts(value: str) -> tuple[str, str]:
    """(key id, signature) read back from a header value ("" for a part that is missing)."""
    fields = dict(part.strip().partition("=")[::2] for part in value.split(",") if "=" in part)
    return fields.get("keyid", ""), fields.get("sig", "")
