"""Open Badges 3.0: every certificate as an OpenBadgeCredential, signed as a VC-JWT with the platform's Ed25519 key,
with revocation published in a Bitstring status list.

The holder is named by an opaque subject identifier (`urn:uuid:`), random and stable across their certificates:
nothing in a credential lets anyone recover their identity card number. A relying party matches the person by what
they are shown (name, masked number) or asks the bureau.

The VC-JWT follows OB 3.0 §8.2: `iss` is the issuer's id, `sub` the subject's id, and the header's `kid` is the URL
of the signing key's JWK (`/ob/keys/<thumbprint>/`); the key itself is never in the header.
"""

import base64
import datetime
import functools
import gzip
import os
import warnings

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from joserfc import jwt
from joserfc.jwk import OKPKey

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# The W3C minimum: 16 KiB of bits, so that one list does not single out a holder.
STATUS_LIST_SIZE = 131_072
ALGORITHM = "EdDSA"


@functools.cache
def signing_key() -> OKPKey:
    path = settings.OPENBADGES_SIGNING_KEY_FILE
    if not path.exists():
        if not settings.OPENBADGES_CREATE_KEY:
            raise ImproperlyConfigured(
                f"The Open Badges signing key {path} is missing. Create one (an Ed25519 key in PEM) and set "
                "OPENBADGES_SIGNING_KEY_FILE."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        key = OKPKey.generate_key("Ed25519")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key.as_pem(private=True))
    return OKPKey.import_key(path.read_bytes())


def key_id() -> str:
    return signing_key().thumbprint()


def key_url() -> str:
    """Where the public key is published as a JWK: the `kid` of every token."""
    return _absolute(reverse("certification:ob_key", kwargs={"kid": key_id()}))


def public_jwk() -> dict:
    return {**signing_key().as_dict(private=False), "kid": key_id(), "alg": ALGORITHM, "use": "sig"}


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def issuer_id() -> str:
    return _absolute(reverse("certification:ob_issuer"))


def issuer_profile() -> dict:
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": issuer_id(),
        "type": ["Profile"],
        "name": settings.CERTIFICATE_ISSUER,
        "url": settings.SITE_URL,
        "verificationMethod": [
            {
                "id": key_url(),
                "type": "JsonWebKey",
                "controller": issuer_id(),
                "publicKeyJwk": public_jwk(),
            }
        ],
    }


def status_list_location(certificate) -> tuple[int, int]:
    """(list number, index in the list) of a certificate's revocation bit."""
    return divmod(certificate.status_list_index, STATUS_LIST_SIZE)


def status_list_url(list_number: int) -> str:
    return _absolute(reverse("certification:ob_status_list", kwargs={"list_number": list_number}))


def subject_id(certificate) -> str:
    return f"urn:uuid:{certificate.holder_subject}"


def _timestamp(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def achievement(star_level: int) -> dict:
    return {
        "id": _absolute(reverse("certification:ob_achievement", kwargs={"star_level": star_level})),
        "type": ["Achievement"],
        "achievementType": "Certification",
        "name": f"护理员{star_level}星级",
        "description": f"长期护理保险定点护理服务人员护理技能星级评定：{star_level}星级。",
        "criteria": {
            "narrative": "依据护理员星级评定规范，经培训学时、理论考试、实操考核、从业年限等条件评定。",
        },
        "inLanguage": "zh-Hans",
    }


def credential(certificate) -> dict:
    list_number, index = status_list_location(certificate)
    status_url = status_list_url(list_number)
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": _absolute(reverse("certification:ob_credential", kwargs={"code": certificate.verification_code})),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id(), "type": ["Profile"], "name": certificate.issuer},
        "name": f"护理员星级证书 {certificate.serial_number}",
        "validFrom": _timestamp(certificate.issued_on).isoformat(),
        "validUntil": _timestamp(certificate.valid_until + datetime.timedelta(days=1)).isoformat(),
        "credentialSubject": {
            "id": subject_id(certificate),
            "type": ["AchievementSubject"],
            # The name as printed, which the relying party compares with the person in front of them.
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": certificate.holder_name,
                }
            ],
            "achievement": achievement(certificate.star_level),
        },
        "credentialStatus": {
            "id": f"{status_url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": status_url,
        },
    }


def _sign(claims: dict) -> str:
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": key_url()}
    with warnings.catch_warnings():
        # RFC 9864 prefers "Ed25519" as the name; verifiers in the field still expect "EdDSA".
        warnings.simplefilter("ignore")
        return jwt.encode(header, claims, signing_key(), algorithms=[ALGORITHM])


def _registered_claims(document: dict) -> dict:
    claims = {
        "iss": issuer_id(),
        "sub": document["credentialSubject"]["id"],
        "jti": document["id"],
        "nbf": int(datetime.datetime.fromisoformat(document["validFrom"]).timestamp()),
    }
    if "validUntil" in document:
        claims["exp"] = int(datetime.datetime.fromisoformat(document["validUntil"]).timestamp())
    return claims


def credential_jwt(certificate) -> str:
    """The VC-JWT of OB 3.0 §8.2: the credential's members are the payload, beside iss, jti, nbf and exp."""
    document = credential(certificate)
    return _sign({**document, **_registered_claims(document)})


def encode_bitstring(revoked_indexes: set[int], size: int = STATUS_LIST_SIZE) -> str:
    """Multibase base64url (no padding) of the GZIP of the bits; index 0 is the first byte's high bit."""
    bits = bytearray(size // 8)
    for index in revoked_indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def status_list_credential(list_number: int, revoked_indexes: set[int], *, now: datetime.datetime) -> dict:
    url = status_list_url(list_number)
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(),
        "validFrom": now.replace(microsecond=0).isoformat(),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bitstring(revoked_indexes),
        },
    }


def status_list_jwt(list_number: int, revoked_indexes: set[int], *, now: datetime.datetime) -> str:
    document = status_list_credential(list_number, revoked_indexes, now=now)
    return _sign({**document, **_registered_claims(document)})
