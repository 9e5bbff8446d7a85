"""The public file check gives one verdict: ours and unchanged (valid or not), ours but changed, or not ours."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter

from certification.certificates import services as certificates
from certification.certificates import signing
from certification.certificates.verification import Verdict, pdf_file_check

pytestmark = pytest.mark.django_db


def check(client, data: bytes):
    response = client.post("/verify/file/", {"file": SimpleUploadedFile("证书.pdf", data)})
    assert response.status_code == 200
    html = response.content.decode()
    # One verdict at the top: never a tick beside a cross.
    assert html.count("verdict-line") == 1
    assert not ("✓" in html and "✗" in html)
    return response.context["result"], html


def test_an_unchanged_valid_certificate_is_genuine_and_names_its_signer(client, certificate):
    result, html = check(client, certificate.pdf.read())
    assert result.verdict == Verdict.GENUINE and result.certificate == certificate
    assert "电子印章" in result.signer and result.signer in html
    assert html.index("verdict-line") < html.index(certificate.serial_number)
    assert result.sha256 in html.split("technical", 1)[1]  # the digest only under the technical details


def test_an_unchanged_revoked_certificate_is_ours_but_not_valid(client, certificate, administrator):
    certificates.certificate_revoke(certificate=certificate, actor=administrator, reason="撤销测试")
    result, html = check(client, certificate.pdf.read())
    assert result.verdict == Verdict.GENUINE_NOT_IN_FORCE and result.certificate == certificate
    assert "status-invalid" in html and "已撤销" in html


def test_a_superseded_certificate_points_to_the_current_one(client, certificate, administrator):
    successor = certificates.certificate_reissue(certificate=certificate, actor=administrator, reason="更正姓名")
    result, html = check(client, certificate.pdf.read())
    assert result.verdict == Verdict.GENUINE_NOT_IN_FORCE
    assert successor.get_absolute_url() in html


def test_a_certificate_with_a_page_added_is_modified_and_tells_what_was_signed(client, certificate):
    writer = PdfWriter(io.BytesIO(certificate.pdf.read()), incremental=True)
    writer.add_blank_page()
    output = io.BytesIO()
    writer.write(output)
    result, html = check(client, output.getvalue())
    assert result.verdict == Verdict.MODIFIED and result.certificate == certificate
    assert certificate.get_absolute_url() in html and "status-invalid" in html


def test_a_certificate_with_a_byte_changed_is_modified(client, certificate):
    pdf = bytearray(certificate.pdf.read())
    pdf[300] ^= 0x01
    result, _html = check(client, bytes(pdf))
    assert result.verdict == Verdict.MODIFIED and result.certificate is None


def test_a_file_signed_by_another_key_is_not_ours_and_names_who_signed(certificate, settings, tmp_path):
    settings.PDF_SIGNING_DIR = tmp_path / "forger"
    signing.signing_identity.cache_clear()
    signing.local_ca_create(settings.PDF_SIGNING_DIR, issuer="某伪造机构")
    forged = signing.pdf_sign(certificate.pdf.read().split(b"%%EOF")[0] + b"%%EOF\n", seal_box=None)
    signing.signing_identity.cache_clear()
    settings.PDF_SIGNING_DIR = tmp_path / "ours"
    signing.local_ca_create(settings.PDF_SIGNING_DIR, issuer="晋城市医疗保障局")
    try:
        result = pdf_file_check(forged)
    finally:
        signing.signing_identity.cache_clear()
    assert result.verdict == Verdict.NOT_OURS and result.signer == "某伪造机构 电子印章"


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", b"not a pdf at all", bytes(range(256)) * 10],
    ids=["unsigned pdf", "text", "binary"],
)
def test_anything_else_is_not_ours(client, db, data):
    result, html = check(client, data)
    assert result.verdict == Verdict.NOT_OURS and result.certificate is None and not result.signer
    assert "status-invalid" in html


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n1 0 obj\n" + b"[" * 200_000 + b"]" * 200_000 + b"\nendobj\ntrailer<</Root 1 0 R>>\n%%EOF",
        b"%PDF-1.7\nxref\n0 99999999\n0000000000 65535 f \ntrailer<</Size 99999999>>\nstartxref\n9\n%%EOF",
        b"%PDF-1.7\n1 0 obj<</Type/Catalog/AcroForm<</Fields[2 0 R]>>>>endobj\n2 0 obj<</FT/Sig/V 3 0 R>>endobj\n"
        b"3 0 obj<</Type/Sig/ByteRange[0 1e5000 0 0]/Contents<00>>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF",
    ],
    ids=["nested 200000 deep", "a huge declared xref", "a forged signature with 1e5000"],
)
def test_a_hostile_pdf_is_not_ours_and_nothing_breaks(client, db, data):
    result, _html = check(client, data)
    assert result.verdict == Verdict.NOT_OURS and result.certificate is None
