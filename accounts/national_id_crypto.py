"""Identity card numbers at rest: a Fernet token per row, and an HMAC-SHA256 of the number to find and tell rows apart.

NATIONAL_ID_KEYS holds Fernet keys, comma-separated: the first encrypts, every one decrypts, so a key is rotated by
putting a new one first, re-encrypting the rows (`manage.py national_id_reencrypt`) and then dropping the old one.
NATIONAL_ID_HASH_KEY keys the HMAC and is a secret of its own: the digest of a number is the same in every row and
every process, which is what makes it searchable and unique, and is why it must not be computable without the key
(there are only some 10^9 plausible identity numbers). Where NATIONAL_ID_DERIVE_KEYS is on (development, tests) and a
key is not set, a stand-in is derived from SECRET_KEY.
"""

import base64
import binascii
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from .national_id import national_id_normalize

# Shorter hash keys are refused: the digest is only as strong as the key behind it.
HASH_KEY_MIN_LENGTH = 32
SETTINGS = ("NATIONAL_ID_KEYS", "NATIONAL_ID_HASH_KEY", "NATIONAL_ID_DERIVE_KEYS", "SECRET_KEY")


def _derived(purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"carestar national id " + purpose).derive(
        settings.SECRET_KEY.encode()
    )


def _encryption_keys() -> list[str]:
    keys = list(settings.NATIONAL_ID_KEYS)
    if not keys and settings.NATIONAL_ID_DERIVE_KEYS:
        keys = [base64.urlsafe_b64encode(_derived(b"encryption")).decode()]
    return keys


def _hash_key() -> bytes:
    key = settings.NATIONAL_ID_HASH_KEY
    if not key and settings.NATIONAL_ID_DERIVE_KEYS:
        return _derived(b"digest")
    return key.encode()


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False


def national_id_key_problems() -> list[str]:
    """What is wrong with the configured keys, in words that never repeat a key."""
    problems = []
    keys = _encryption_keys()
    if not keys:
        problems.append("NATIONAL_ID_KEYS is not set: identity card numbers cannot be encrypted or read.")
    for position, key in enumerate(keys, start=1):
        if not _is_fernet_key(key):
            problems.append(
                f"NATIONAL_ID_KEYS: key {position} of {len(keys)} is not a Fernet key (32 bytes in URL-safe base64)."
            )
    hash_key = settings.NATIONAL_ID_HASH_KEY
    if not hash_key and not settings.NATIONAL_ID_DERIVE_KEYS:
        problems.append("NATIONAL_ID_HASH_KEY is not set: identity card numbers cannot be looked up.")
    elif hash_key and len(hash_key) < HASH_KEY_MIN_LENGTH:
        problems.append(f"NATIONAL_ID_HASH_KEY is shorter than {HASH_KEY_MIN_LENGTH} characters.")
    elif hash_key and hash_key in keys:
        problems.append("NATIONAL_ID_HASH_KEY must be a secret of its own, not one of NATIONAL_ID_KEYS.")
    return problems


def national_id_keys_ensure() -> None:
    """Refuse to start a process (WSGI server, Celery worker) that could neither read nor find identity numbers."""
    problems = national_id_key_problems()
    if problems:
        raise ImproperlyConfigured(" ".join(problems) + " See README, Configuration.")


@functools.cache
def _fernets() -> tuple[Fernet, MultiFernet]:
    national_id_keys_ensure()
    fernets = [Fernet(key) for key in _encryption_keys()]
    return fernets[0], MultiFernet(fernets)


@functools.cache
def _digest_key() -> bytes:
    national_id_keys_ensure()
    return _hash_key()


@receiver(setting_changed)
def _forget_keys(*, setting, **kwargs):
    if setting in SETTINGS:
        _fernets.cache_clear()
        _digest_key.cache_clear()


def national_id_encrypt(value: str) -> str:
    """A Fernet token of the number under the first key: random, so two rows of one number never look alike."""
    return _fernets()[1].encrypt(value.encode()).decode()


def national_id_decrypt(token: str) -> str:
    try:
        return _fernets()[1].decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "An identity card number cannot be decrypted with any key in NATIONAL_ID_KEYS: the key it was "
            "encrypted with is missing (see README, Rotating the identity-number key)."
        ) from None


def national_id_token_is_current(token: str) -> bool:
    """Whether the token is already under the first key (what re-encryption may skip)."""
    try:
        _fernets()[0].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def national_id_digest(value: str) -> str:
    """The keyed hash (hex HMAC-SHA256) of the normalised number: what the database compares and keeps unique."""
    return hmac.new(_digest_key(), national_id_normalize(value).encode(), hashlib.sha256).hexdigest()
