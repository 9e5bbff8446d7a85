"""Open Badges 3.0 credentials, checked with a verifier library other than the one that signs them."""

import hashlib
import json

import jwt as pyjwt
import pytest
from openbadgeslib.ob3 import OB3VerificationError, OB3Verifier

from certification.certificates import openbadges
from certification.certificates import services as certificates

pytestmark = pytest.mark.django_db


def downloader(client):
    def download(url, *args, **kwargs):
        response = client.get(url.removeprefix("http://testserver"))
        assert response.status_code == 200, url
        return response.content

    return download


def test_credential_follows_the_ob3_data_model(client, certificate):
    client.force_login(certificate.caregiver.user)
    credential = client.get(f"/verify/{certificate.verification_code}/badge/").json()
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] and credential["validFrom"] and credential["name"]
    assert credential["issuer"]["type"] == ["Profile"] and credential["issuer"]["id"].endswith("/ob/issuer/")
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    achievement = subject["achievement"]
    for field in ("id", "type", "name", "description", "criteria"):
        assert achievement[field], field
    assert achievement["type"] == ["Achievement"] and achievement["criteria"]["narrative"]
    assert credential["credentialStatus"]["type"] == "BitstringStatusListEntry"

    identity = subject["identifier"][0]
    national_id = certificate.caregiver.national_id
    expected = "sha256$" + hashlib.sha256(f"{national_id}{identity['salt']}".encode()).hexdigest()
    assert identity["hashed"] is True and identity["identityHash"] == expected
    assert national_id not in json.dumps(credential)


def test_the_issuer_profile_and_key_are_published(client):
    profile = client.get("/ob/issuer/").json()
    assert profile["type"] == ["Profile"] and profile["name"]
    key = profile["verificationMethod"][0]["publicKeyJwk"]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and "d" not in key
    assert client.get(f"/ob/keys/{openbadges.key_id()}/").json()["x"] == key["x"]
    assert client.get("/ob/keys/unknown/").status_code == 404


def test_the_credential_is_only_for_its_holder_and_administrators(client, certificate, administrator):
    from tests.factories.accounts import CaregiverFactory

    url = f"/verify/{certificate.verification_code}/badge/"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(CaregiverFactory().user)
    assert client.get(url).status_code == 404
    client.force_login(administrator)
    assert client.get(url).status_code == 200


def test_the_vc_jwt_verifies_with_another_library_and_its_status_is_checked(client, certificate, administrator):
    client.force_login(certificate.caregiver.user)
    token = client.get(f"/verify/{certificate.verification_code}/badge/?format=jwt").content.decode()
    assert certificate.caregiver.national_id not in token
    pem = openbadges.signing_key().as_pem(private=False)
    verifier = OB3Verifier(pem)

    verified = verifier.verify(token, check_status=True, download=downloader(client))
    assert verified.issuer.id.endswith("/ob/issuer/")
    claims = pyjwt.decode(token, pem, algorithms=["EdDSA"])
    assert claims["iss"] == verified.issuer.id and claims["jti"].endswith("/badge/")

    certificates.certificate_revoke(certificate=certificate, actor=administrator, reason="撤销测试")
    with pytest.raises(OB3VerificationError, match="'revocation' is set"):
        verifier.verify(token, check_status=True, download=downloader(client))


def test_a_tampered_credential_fails(certificate):
    token = openbadges.credential_jwt(certificate)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload[:-4]}AAAA.{signature}"
    with pytest.raises(OB3VerificationError):
        OB3Verifier(openbadges.signing_key().as_pem(private=False)).verify(forged)


def test_bitstring_sets_the_right_bit():
    import base64
    import gzip

    encoded = openbadges.encode_bitstring({0, 9})
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert encoded.startswith("u") and len(bits) == openbadges.STATUS_LIST_SIZE // 8
    assert bits[0] == 0b1000_0000 and bits[1] == 0b0100_0000 and not any(bits[2:])
