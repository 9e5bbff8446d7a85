"""Every issued PDF carries the issuer's PAdES signature over the seal, accepted by poppler's pdfsig and by
pyHanko's validator; a modified file is reported as modified; the credential travels inside."""

import datetime
import http.server
import io
import re
import subprocess
import threading

import jwt as pyjwt
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader, PdfWriter

from certification.certificates import openbadges, signing
from certification.certificates import services as certificates
from certification.certificates.rendering import CREDENTIAL_FILENAME, sha256_hex

pytestmark = pytest.mark.django_db


def validate(pdf: bytes):
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    context = ValidationContext(trust_roots=list(signing.signing_identity().trust_roots))
    return signature, validate_pdf_signature(signature, context)


def pdfsig(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout


def test_an_issued_certificate_is_signed_over_its_seal_and_both_validators_accept_it(certificate, tmp_path):
    pdf = certificate.pdf.read()
    assert certificate.pdf_sha256 == sha256_hex(pdf)  # what is stored is what was signed

    signature, status = validate(pdf)
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert signature.field_name == signing.FIELD_NAME
    assert "电子印章" in status.signing_cert.subject.native["common_name"]
    assert signature.sig_object["/Filter"] == "/Adobe.PPKLite"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES

    report = pdfsig(pdf, tmp_path)
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report

    # The widget lies over the seal the template drew, on the first page, printable.
    reader = PdfReader(io.BytesIO(pdf))
    (widget,) = [annotation.get_object() for annotation in reader.pages[0]["/Annots"]]
    left, bottom, right, top = (float(value) for value in widget["/Rect"])
    assert 600 < left < right < 760 and 70 < bottom < top < 200 and right - left > 100
    assert int(widget["/F"]) & 4  # print flag
    # PDF/A: a visible widget has an appearance stream; this one draws nothing over the seal.
    appearance = widget["/AP"]["/N"].get_object()
    assert appearance.get_data().strip() == b"q Q" and not appearance.get("/Resources")


def test_the_signed_file_stays_pdf_a_3b_and_carries_the_credential(certificate, client):
    reader = PdfReader(io.BytesIO(certificate.pdf.read()))
    xml = reader.xmp_metadata.stream.get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xml) and re.search(r'pdfaid:conformance(="|>)B', xml)
    (attachment,) = reader.attachments[CREDENTIAL_FILENAME]
    (associated,) = reader.trailer["/Root"]["/AF"]  # once
    assert associated.get_object()["/AFRelationship"] == "/Alternative"

    token = attachment.decode()
    claims = pyjwt.decode(token, pyjwt.PyJWK(openbadges.public_jwk()), algorithms=["EdDSA"])
    assert claims["credentialSubject"]["id"] == f"urn:uuid:{certificate.holder_subject}"
    assert claims["name"].endswith(certificate.serial_number)


def test_a_file_changed_after_signing_is_reported_as_modified(certificate, tmp_path):
    pdf = certificate.pdf.read()

    # A byte changed inside the signed range: the digest no longer matches.
    position = pdf.index(certificate.serial_number.encode()) if certificate.serial_number.encode() in pdf else 200
    tampered = pdf[:position] + bytes([pdf[position] ^ 0x01]) + pdf[position + 1 :]
    report = pdfsig(tampered, tmp_path)
    assert "Signature is Valid." not in report
    _signature, status = validate(tampered)
    assert not status.intact and not status.bottom_line

    # A page appended afterwards (an incremental update): the signature no longer covers the whole file.
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.add_blank_page()
    appended = io.BytesIO()
    writer.write(appended)
    _signature, status = validate(appended.getvalue())
    assert status.coverage.name != "ENTIRE_FILE"
    assert "Total document signed" not in pdfsig(appended.getvalue(), tmp_path)


def test_re_issue_and_revocation_never_touch_the_signed_file(certificate, administrator):
    original = certificate.pdf.read()
    successor = certificates.certificate_reissue(certificate=certificate, actor=administrator, reason="更正姓名")
    certificates.certificate_revoke(certificate=successor, actor=administrator, reason="撤销测试")
    certificate.refresh_from_db()
    assert certificate.pdf.read() == original and sha256_hex(original) == certificate.pdf_sha256
    _signature, status = validate(successor.pdf.read())
    assert status.bottom_line  # the re-issue is signed in its own right


def test_signing_adds_only_the_signature(certificate):
    """The rendered bytes are kept: the signature is an incremental update after them."""
    pdf = certificate.pdf.read()
    first_end = pdf.index(b"%%EOF") + len(b"%%EOF")
    assert pdf.count(b"%%EOF") == 2 and b"/ByteRange" in pdf[first_end:]


# --- A time-stamp authority on loopback -------------------------------------------------------------------


def _time_stamp_authority():
    """A TSA certificate and key (RSA, as the dummy stamper signs with PKCS#1 v1.5), issued to itself."""
    from asn1crypto import keys, x509
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "测试时间戳服务")])
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    certificate = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )


@pytest.fixture
def tsa_url():
    from asn1crypto import tsp
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    tsa_certificate, tsa_key = _time_stamp_authority()
    stamper = DummyTimeStamper(tsa_cert=tsa_certificate, tsa_key=tsa_key)
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(self.headers["Content-Type"])
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/tsa", requests, tsa_certificate
    server.shutdown()


def test_with_a_time_stamp_authority_the_signature_is_b_t_with_validation_data(
    decided_evaluation, tsa_url, settings, tmp_path
):
    from asn1crypto import pem

    url, requests, tsa_certificate = tsa_url
    settings.PDF_SIGNING_TSA_URL = url
    roots = tmp_path / "tsa-root.pem"
    roots.write_bytes(pem.armor("CERTIFICATE", tsa_certificate.dump()))
    settings.PDF_SIGNING_TRUST_ROOTS_FILE = str(roots)
    certificate = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    pdf = certificate.pdf.read()

    assert requests and all(kind == "application/timestamp-query" for kind in requests)
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    context = ValidationContext(trust_roots=[*signing.signing_identity().trust_roots, tsa_certificate])
    status = validate_pdf_signature(signature, context)
    assert status.bottom_line
    assert status.timestamp_validity is not None and status.timestamp_validity.valid  # B-T
    # Long-term validation: the certificates needed later are in the document security store.
    root = PdfFileReader(io.BytesIO(pdf)).root
    assert "/DSS" in root and len(root["/DSS"]["/Certs"]) >= 2


# --- Where the key comes from ---------------------------------------------------------------------------


@pytest.fixture
def fresh_identity():
    signing.signing_identity.cache_clear()
    yield
    signing.signing_identity.cache_clear()


def test_a_pkcs12_file_is_signed_with(tmp_path, settings, fresh_identity):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    settings.PDF_SIGNING_DIR = tmp_path / "ca"
    signing.local_ca_create(settings.PDF_SIGNING_DIR, issuer="测试医保局")
    key = serialization.load_pem_private_key((settings.PDF_SIGNING_DIR / "pdf-signing-key.pem").read_bytes(), None)
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate((settings.PDF_SIGNING_DIR / "pdf-signing.pem").read_bytes())
    ca = x509.load_pem_x509_certificate((settings.PDF_SIGNING_DIR / "pdf-signing-ca.pem").read_bytes())
    bundle = tmp_path / "seal.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", key, certificate, [ca], serialization.BestAvailableEncryption(b"secret")
        )
    )
    settings.PDF_SIGNING_CREATE = False
    settings.PDF_SIGNING_PKCS12_FILE = str(bundle)
    settings.PDF_SIGNING_PKCS12_PASSWORD = "secret"

    assert signing.signer_name() == "测试医保局 电子印章"
    assert [root.subject.native["common_name"] for root in signing.signing_identity().trust_roots] == [
        "测试医保局 证书签发测试 CA"
    ]


def test_without_a_key_the_start_up_check_refuses(settings, fresh_identity, tmp_path):
    from certification.certificates import checks

    settings.PDF_SIGNING_CREATE = False
    settings.PDF_SIGNING_PKCS12_FILE = ""
    assert [error.id for error in checks.pdf_signing_check()] == ["carestar.E004"]

    signing.signing_identity.cache_clear()
    settings.PDF_SIGNING_PKCS12_FILE = str(tmp_path / "absent.p12")
    (error,) = checks.pdf_signing_check()
    assert error.id == "carestar.E004" and "absent.p12" in error.msg


def test_the_local_ca_is_created_once_and_kept(settings, fresh_identity, tmp_path):
    settings.PDF_SIGNING_DIR = tmp_path / "keys"
    first = signing.signing_certificate().sha256
    signing.signing_identity.cache_clear()
    assert signing.signing_certificate().sha256 == first
    assert oct((settings.PDF_SIGNING_DIR / "pdf-signing-key.pem").stat().st_mode & 0o777) == "0o600"


def test_signing_works_for_a_caller_inside_an_event_loop():
    import asyncio

    from certification.certificates.models import certificate_sample, default_template
    from certification.certificates.rendering import certificate_render

    rendered = certificate_render(certificate_sample(), template=default_template())

    async def caller():
        return signing.pdf_sign(rendered.pdf, seal_box=rendered.seal_box)

    _signature, status = validate(asyncio.run(caller()))
    assert status.bottom_line


SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"


def test_a_key_on_a_pkcs11_token_is_signed_with(tmp_path, settings, fresh_identity, monkeypatch):
    """SoftHSM stands for the bureau's HSM or UKey: the key never leaves it."""
    import pkcs11
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    (tmp_path / "tokens").mkdir()
    config = tmp_path / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(config))
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "carestar", "--pin", "1234", "--so-pin", "5678"],
        check=True,
        capture_output=True,
    )
    ca_dir = tmp_path / "ca"
    signing.local_ca_create(ca_dir, issuer="测试医保局")
    subprocess.run(
        ["softhsm2-util", "--import", str(ca_dir / "pdf-signing-key.pem"), "--token", "carestar"]
        + ["--label", "seal", "--id", "01", "--pin", "1234"],
        check=True,
        capture_output=True,
    )
    certificate = x509.load_pem_x509_certificate((ca_dir / "pdf-signing.pem").read_bytes())
    token = pkcs11.lib(SOFTHSM).get_token(token_label="carestar")
    with token.open(rw=True, user_pin="1234") as session:
        session.create_object(
            {
                pkcs11.Attribute.CLASS: pkcs11.ObjectClass.CERTIFICATE,
                pkcs11.Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                pkcs11.Attribute.TOKEN: True,
                pkcs11.Attribute.LABEL: "seal",
                pkcs11.Attribute.ID: b"\x01",
                pkcs11.Attribute.SUBJECT: certificate.subject.public_bytes(),
                pkcs11.Attribute.VALUE: certificate.public_bytes(serialization.Encoding.DER),
            }
        )
    settings.PDF_SIGNING_CREATE = False
    settings.PDF_SIGNING_PKCS11_MODULE = SOFTHSM
    settings.PDF_SIGNING_PKCS11_TOKEN = "carestar"
    settings.PDF_SIGNING_PKCS11_KEY_LABEL = "seal"
    settings.PDF_SIGNING_PKCS11_PIN = "1234"

    from certification.certificates.models import certificate_sample, default_template
    from certification.certificates.rendering import certificate_render

    rendered = certificate_render(certificate_sample(), template=default_template())
    signed = signing.pdf_sign(rendered.pdf, seal_box=rendered.seal_box)
    (signature,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    from asn1crypto import x509 as asn1_x509

    root = asn1_x509.Certificate.load(
        x509.load_pem_x509_certificate((ca_dir / "pdf-signing-ca.pem").read_bytes()).public_bytes(
            serialization.Encoding.DER
        )
    )
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[root], other_certs=[]))
    assert status.intact and status.valid
    assert status.signing_cert.subject.native["common_name"] == "测试医保局 电子印章"
