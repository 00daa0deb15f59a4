"""ID numbers at rest: AES-GCM with a rotatable keyring, and a keyed hash (HMAC-SHA256) to find a member by number.

``IDENTITY_KEYS`` (environment): ``id:base64key[,id:base64key…]``, 256-bit keys, the first one encrypts, every one
decrypts, so a new key goes first and the old one stays until ``manage.py rotate_identity_keys`` has re-encrypted
every row. ``IDENTITY_HASH_KEY``: the look-up hash's key (base64), kept apart from the encryption keys so a
database dump plus one key does not give both the numbers and a way to test guesses; rotating it is the same
command with ``IDENTITY_PREVIOUS_HASH_KEY`` unset afterwards.

Stored form: ``key id (1 byte length + ascii) | 12-byte nonce | ciphertext+tag``; the member's primary key is
the associated data, so a ciphertext copied onto another member's row does not decrypt.

The embedded default (no keys in the environment, not production) derives development keys from SECRET_KEY with
HKDF so ``make run`` needs nothing; production settings set IDENTITY_KEYS_REQUIRED and refuse to use them."""

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

DEVELOPMENT_KEY_ID = "dev"


@dataclass(frozen=True)
class Keyring:
    keys: tuple[tuple[str, bytes], ...]  # (id, key), the first encrypts
    hash_key: bytes
    previous_hash_key: bytes | None = None

    @property
    def current_id(self) -> str:
        return self.keys[0][0]


def _derived(label: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"lighthouse-identity", info=label)
    return hkdf.derive(settings.SECRET_KEY.encode())


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise ImproperlyConfigured(f"{what} 不是有效的 base64。") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{what} 应为 32 字节（256 位）的密钥。")
    return key


def parse_keys(text: str) -> tuple[tuple[str, bytes], ...]:
    keys = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id or len(key_id) > 32 or not key_id.isascii():
            raise ImproperlyConfigured("IDENTITY_KEYS 的每一项应写成 编号:base64密钥。")
        keys.append((key_id, _decode_key(encoded, f"IDENTITY_KEYS 中的 {key_id}")))
    if len({key_id for key_id, _ in keys}) != len(keys):
        raise ImproperlyConfigured("IDENTITY_KEYS 中有重复的密钥编号。")
    return tuple(keys)


@cache
def keyring() -> Keyring:
    keys = parse_keys(getattr(settings, "IDENTITY_KEYS", ""))
    hash_text = getattr(settings, "IDENTITY_HASH_KEY", "")
    previous = getattr(settings, "IDENTITY_PREVIOUS_HASH_KEY", "")
    if keys and hash_text:
        return Keyring(
            keys=keys,
            hash_key=_decode_key(hash_text, "IDENTITY_HASH_KEY"),
            previous_hash_key=_decode_key(previous, "IDENTITY_PREVIOUS_HASH_KEY") if previous else None,
        )
    if getattr(settings, "IDENTITY_KEYS_REQUIRED", False):
        raise ImproperlyConfigured("生产环境须设置 IDENTITY_KEYS 和 IDENTITY_HASH_KEY，才能导入和读取身份证号。")
    return Keyring(keys=((DEVELOPMENT_KEY_ID, _derived(b"encrypt")),), hash_key=_derived(b"hash"))


def new_key() -> str:
    """A fresh key, as the environment takes it (for the docs and ``rotate_identity_keys --new-key``)."""
    return base64.b64encode(os.urandom(32)).decode()


def digest(number: str, *, key: bytes | None = None) -> str:
    """The look-up hash of a normalised number (hex)."""
    return hmac.new(key or keyring().hash_key, number.encode(), hashlib.sha256).hexdigest()


def seal(data: bytes, *, context: bytes) -> bytes:
    """AES-GCM under the current key; ``context`` is the associated data the opener must name again."""
    key_id, key = keyring().keys[0]
    nonce = os.urandom(12)
    return bytes([len(key_id)]) + key_id.encode() + nonce + AESGCM(key).encrypt(nonce, data, context)


def key_id_of(blob: bytes) -> str:
    return bytes(blob[1 : 1 + blob[0]]).decode()


def unseal(blob: bytes, *, context: bytes) -> bytes:
    blob = bytes(blob)
    key_id = key_id_of(blob)
    key = dict(keyring().keys).get(key_id)
    if key is None:
        raise ImproperlyConfigured(f"解密身份证号需要密钥 {key_id}，但 IDENTITY_KEYS 中没有它。")
    start = 1 + blob[0]
    return AESGCM(key).decrypt(blob[start : start + 12], blob[start + 12 :], context)


def encrypt(number: str, *, member_id: int) -> bytes:
    """A member's ID number, bound to their row (a copy on another member's row does not open)."""
    return seal(number.encode(), context=str(member_id).encode())


def decrypt(blob: bytes, *, member_id: int) -> str:
    return unseal(blob, context=str(member_id).encode()).decode()


@receiver(setting_changed)
def _forget_keyring(*, setting, **kwargs):
    """Tests and reloads that change a key setting get a fresh keyring."""
    if setting.startswith("IDENTITY_") or setting == "SECRET_KEY":
        keyring.cache_clear()
