"""The holder's photo is printed on the certificate and shown online only to who knows number and name."""

import io

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from certification.certificates import services as certificates

pytestmark = pytest.mark.django_db


def jpeg(colour=(180, 140, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (390, 520), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def photographed(decided_evaluation):
    caregiver = decided_evaluation.caregiver
    caregiver.photo.save("photo.jpg", ContentFile(jpeg()), save=True)
    certificate = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    return certificate


def test_the_photo_is_printed_from_a_copy_frozen_at_issue(photographed):
    images = [image for page in PdfReader(io.BytesIO(photographed.pdf.read())).pages for image in page.images]
    assert any(image.image.size == (390, 520) for image in images)

    # A later photo changes no certificate already issued.
    frozen = photographed.holder_photo.read()
    caregiver = photographed.caregiver
    caregiver.photo.save("photo.jpg", ContentFile(jpeg((20, 20, 20))), save=True)
    photographed.refresh_from_db()
    assert photographed.holder_photo.read() == frozen


def test_the_photo_is_shown_only_after_number_and_name(client, photographed):
    page = reverse("certification:verify", args=[photographed.verification_code])
    photo = reverse("certification:verify_photo", args=[photographed.verification_code])

    # By the QR code's verification code alone: the facts, not the face.
    html = client.get(page).content.decode()
    assert photo not in html and "按证书编号和持证人姓名查询后可查看照片" in html
    assert client.get(photo).status_code == 404

    wrong = client.get(reverse("certification:verify_form"), {"number": photographed.serial_number, "name": "李四"})
    assert wrong.status_code == 200 and client.get(photo).status_code == 404

    found = client.get(
        reverse("certification:verify_form"),
        {"number": photographed.serial_number, "name": photographed.holder_name},
    )
    assert found.status_code == 302
    assert photo in client.get(page).content.decode()
    response = client.get(photo)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == photographed.holder_photo.read()


def test_the_holder_sees_their_own_photo(client, photographed):
    client.force_login(photographed.caregiver.user)
    assert client.get(reverse("certification:verify_photo", args=[photographed.verification_code])).status_code == 200


def test_without_a_photo_nothing_is_offered(client, certificate):
    html = client.get(reverse("certification:verify", args=[certificate.verification_code])).content.decode()
    assert "verify_photo" not in html and "/photo/" not in html
    assert not certificate.holder_photo
