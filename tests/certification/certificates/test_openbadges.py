"""Open Badges 3.0 credentials, checked with a verifier library other than the one that signs them."""

import base64
import gzip
import json
import re
from pathlib import Path

import jsonschema
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

    assert subject["identifier"] == [
        {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": certificate.holder_name}
    ]


SCHEMA = json.loads(
    (Path(__file__).parents[2] / "data/openbadges/ob_v3p0_achievementcredential_schema.json").read_text()
)


def test_credential_validates_against_1edtech_schema(client, certificate):
    client.force_login(certificate.caregiver.user)
    credential = client.get(f"/verify/{certificate.verification_code}/badge/").json()
    jsonschema.Draft201909Validator(SCHEMA).validate(credential)
    token = client.get(f"/verify/{certificate.verification_code}/badge/?format=jwt").content.decode()
    jsonschema.Draft201909Validator(SCHEMA).validate(pyjwt.decode(token, options={"verify_signature": False}))


def test_the_schema_check_can_fail(certificate):
    broken = openbadges.credential(certificate)
    del broken["credentialSubject"]["achievement"]["criteria"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft201909Validator(SCHEMA).validate(broken)


def test_nothing_in_the_credential_leads_back_to_the_identity_number(client, certificate, assessor, rules):
    from tests.factories.certification import decided_evaluation_for

    client.force_login(certificate.caregiver.user)
    credential = client.get(f"/verify/{certificate.verification_code}/badge/").json()
    token = client.get(f"/verify/{certificate.verification_code}/badge/?format=jwt").content.decode()
    national_id = certificate.caregiver.national_id
    for text in (json.dumps(credential, ensure_ascii=False), token):
        assert national_id not in text and national_id[6:14] not in text  # nor its birth date
        assert "salt" not in text and "nationalIdentityNumber" not in text
    assert not re.search(r"[0-9a-f]{64}", json.dumps(credential))  # no digest of anything

    # The subject is opaque and stable: the same for the holder's next certificate, another for another holder.
    subject = credential["credentialSubject"]["id"]
    assert subject == f"urn:uuid:{certificate.caregiver.credential_subject}"
    later = decided_evaluation_for(caregiver=certificate.caregiver, assessor=assessor, rule_set=rules, level=3)
    upgrade = certificates.certificate_issue(evaluation_id=later.pk)
    assert openbadges.credential(upgrade)["credentialSubject"]["id"] == subject
    from tests.factories.accounts import CaregiverFactory

    assert CaregiverFactory().credential_subject != certificate.caregiver.credential_subject


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
    pem = openbadges.signing_key().as_pem(private=False)
    verifier = OB3Verifier(pem)

    verified = verifier.verify(token, check_status=True, download=downloader(client))
    assert verified.issuer.id.endswith("/ob/issuer/")

    # OB 3.0 §8.2: the key is found through `kid`, never carried in the header; sub and iss name subject and issuer.
    header = pyjwt.get_unverified_header(token)
    assert "jwk" not in header and header["alg"] == "EdDSA"
    published = client.get(header["kid"].removeprefix("http://testserver"))
    assert published.status_code == 200
    key = pyjwt.PyJWK(published.json())
    claims = pyjwt.decode(token, key, algorithms=["EdDSA"])
    assert claims["iss"] == claims["issuer"]["id"] == verified.issuer.id
    assert claims["sub"] == claims["credentialSubject"]["id"]
    assert claims["jti"].endswith("/badge/")
    profile = client.get("/ob/issuer/").json()
    assert header["kid"] in [method["id"] for method in profile["verificationMethod"]]

    certificates.certificate_revoke(certificate=certificate, actor=administrator, reason="撤销测试")
    with pytest.raises(OB3VerificationError, match="'revocation' is set"):
        verifier.verify(token, check_status=True, download=downloader(client))


def _bits(client, status_url: str) -> bytes:
    response = client.get(status_url.removeprefix("http://testserver"))
    claims = pyjwt.decode(response.content, options={"verify_signature": False})
    encoded = claims["credentialSubject"]["encodedList"][1:]
    return gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


def test_status_bits_are_drawn_at_random_and_only_the_revoked_one_is_set(
    client, certificate, second_decided_evaluation, administrator
):
    other = certificates.certificate_issue(evaluation_id=second_decided_evaluation.pk)
    indexes = {certificate.status_list_index, other.status_list_index}
    assert indexes != {certificate.pk, other.pk} and len(indexes) == 2

    certificates.certificate_revoke(certificate=certificate, actor=administrator, reason="撤销测试")
    status = openbadges.credential(certificate)["credentialStatus"]
    assert int(status["statusListIndex"]) == certificate.status_list_index % openbadges.STATUS_LIST_SIZE
    bits = _bits(client, status["statusListCredential"])
    set_bits = {n for n in range(len(bits) * 8) if bits[n // 8] & (0x80 >> (n % 8))}
    assert set_bits == {int(status["statusListIndex"])}


def test_public_json_is_readable_from_other_origins_and_the_status_list_is_fresh(client, certificate):
    origin = {"HTTP_ORIGIN": "https://wallet.example"}
    for url in (
        f"/verify/{certificate.verification_code}.json",
        "/ob/issuer/",
        f"/ob/keys/{openbadges.key_id()}/",
        "/ob/achievements/star-2/",
        "/ob/status/0/",
    ):
        response = client.get(url, **origin)
        assert response.status_code == 200, url
        assert response["Access-Control-Allow-Origin"] == "*", url
        assert "Access-Control-Allow-Credentials" not in response, url
    assert client.get("/ob/status/0/")["Cache-Control"] == "public, max-age=60"
    # Pages and the holder's own credential stay same-origin.
    assert "Access-Control-Allow-Origin" not in client.get(f"/verify/{certificate.verification_code}/", **origin)
    assert "Access-Control-Allow-Origin" not in client.get(f"/verify/{certificate.verification_code}/badge/", **origin)


def test_a_tampered_credential_fails(certificate):
    token = openbadges.credential_jwt(certificate)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload[:-4]}AAAA.{signature}"
    with pytest.raises(OB3VerificationError):
        OB3Verifier(openbadges.signing_key().as_pem(private=False)).verify(forged)


def test_bitstring_sets_the_right_bit():
    encoded = openbadges.encode_bitstring({0, 9})
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert encoded.startswith("u") and len(bits) == openbadges.STATUS_LIST_SIZE // 8
    assert bits[0] == 0b1000_0000 and bits[1] == 0b0100_0000 and not any(bits[2:])
