"""A plain PAdES B-B signature is made by filling in a template of pyHanko's own signature container: the same
bytes pyHanko would write for the same document digest and signature value, and a signature every validator
accepts; anything else (a time-stamp, other attributes) is left to pyHanko."""

import asyncio
import hashlib
import io

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certification.certificates import signing

pytestmark = pytest.mark.django_db


@pytest.fixture
def signer():
    return signing.signing_identity().signer


def pyhanko_container(signer, digest: bytes) -> bytes:
    """What pyHanko itself writes for this digest, with a real signature value."""
    return asyncio.run(SimpleSigner.async_sign(signer, digest, "sha256", use_pades=True)).dump()


def test_the_template_gives_back_pyhankos_own_container_for_any_digest(signer):
    template = asyncio.run(signer._template("sha256"))
    assert template is not None  # the plain signature is not silently made the slow way

    for text in (b"first document", b"second document"):
        digest = hashlib.sha256(text).digest()
        expected = pyhanko_container(signer, digest)
        signature = cms.ContentInfo.load(expected)["content"]["signer_infos"][0]["signature"].native
        assert template.container(digest, signature) == expected


def test_a_signature_from_the_template_is_the_document_digest_signed_by_the_issuer(signer):
    digest = hashlib.sha256(b"a certificate").digest()
    container = asyncio.run(signer.async_sign(digest, "sha256", use_pades=True))
    signer_info = container["content"]["signer_infos"][0]
    attributes = {attribute["type"].native: attribute["values"][0] for attribute in signer_info["signed_attrs"]}

    assert attributes["message_digest"].native == digest
    assert attributes["content_type"].native == "data"
    assert "signing_time" not in attributes  # PAdES forbids it
    assert "signing_certificate_v2" in attributes
    # The signature value is the issuer's key over the signed attributes (as a SET), checked with its public key.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    public_key = load_der_public_key(signer.signing_cert.public_key.dump())
    signed = signer_info["signed_attrs"].untag().dump()
    public_key.verify(signer_info["signature"].native, signed, ec.ECDSA(hashes.SHA256()))


def test_documents_signed_through_the_template_validate(signer):
    from certification.certificates.models import certificate_sample, default_template
    from certification.certificates.rendering import certificate_document, html_to_pdf

    document = html_to_pdf(*certificate_document(certificate_sample(), template=default_template()))
    for _ in range(2):  # the second one from the kept template
        pdf = signing.pdf_sign(document.pdf, seal_box=document.seal_box)
        (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        status = validate_pdf_signature(
            signature, ValidationContext(trust_roots=list(signing.signing_identity().trust_roots))
        )
        assert status.bottom_line and status.intact and status.valid and status.trusted


def test_a_time_stamped_or_dry_run_signature_is_left_to_pyhanko(signer, monkeypatch):
    calls = []
    original = SimpleSigner.async_sign

    async def recorded(self, *args, **kwargs):
        calls.append(kwargs)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SimpleSigner, "async_sign", recorded)
    digest = hashlib.sha256(b"x").digest()
    asyncio.run(signer._template("sha256"))  # built beforehand, so only the calls below are counted
    asyncio.run(signer.async_sign(digest, "sha256", use_pades=True))
    assert calls == []
    asyncio.run(signer.async_sign(digest, "sha256", use_pades=True, dry_run=True))
    asyncio.run(signer.async_sign(digest, "sha256", use_pades=False))
    assert len(calls) == 2


def test_a_container_not_of_the_expected_shape_gives_no_template(signer):
    digest = hashlib.sha256(b"y").digest()
    container = pyhanko_container(signer, digest)
    assert signing._SignatureTemplate.read(container, digest=digest) is not None
    # The digest it was made for is not in it: not a template of this container.
    assert signing._SignatureTemplate.read(container, digest=hashlib.sha256(b"z").digest()) is None
