"""A caregiver's photo: uploaded in the admin with their consent recorded, normalised, kept private."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.photos import SIZE

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(administrator):
    from accounts import services
    from accounts.models import Role

    administrator.groups.add(services.role_groups_ensure()[Role.ADMINISTRATOR])
    return administrator


def image_file(size=(600, 900), format="JPEG", exif=None) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (200, 170, 150))
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(buffer, format=format, **kwargs)
    return SimpleUploadedFile(f"王秀英-140502.{format.lower()}", buffer.getvalue(), content_type=f"image/{format}")


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {2: (35.0, 29.0, 0.0)}  # GPS latitude
    exif[0x0110] = "Phone X"  # camera model
    return exif.tobytes()


def form_data(caregiver, **extra):
    return {
        "gender": caregiver.gender,
        "national_id": caregiver.national_id,
        "institution": caregiver.institution_id,
        "employed_since": caregiver.employed_since.isoformat(),
        "practitioner_level": caregiver.practitioner_level,
        **extra,
    }


def test_a_photo_needs_the_caregivers_consent(client, administrator, caregiver):
    client.force_login(administrator)
    url = f"/admin/caregiverprofile/edit/{caregiver.pk}/"
    refused = client.post(url, form_data(caregiver, photo=image_file()))
    assert refused.status_code == 200
    assert "保存照片前，请先登记护理员本人的同意" in refused.content.decode()
    caregiver.refresh_from_db()
    assert not caregiver.photo

    saved = client.post(url, form_data(caregiver, photo=image_file(exif=gps_exif()), photo_consent="on"))
    assert saved.status_code == 302
    caregiver.refresh_from_db()
    assert caregiver.photo_consent_by == administrator and caregiver.photo_consent_at
    # Normalised: 3:4, JPEG, no metadata, a name that says nothing of the person; not under the public media.
    assert "王秀英" not in caregiver.photo.name and "140502" not in caregiver.photo.name
    with Image.open(caregiver.photo.open("rb")) as stored:
        assert stored.format == "JPEG" and stored.size == SIZE
        assert not stored.getexif()
    from django.conf import settings

    assert str(settings.PRIVATE_MEDIA_ROOT) in caregiver.photo.path


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg"), "图片"),
        (image_file(size=(100, 120)), "每边至少 150 像素"),
        (image_file(format="GIF"), ""),
    ],
    ids=["not an image", "too small", "gif"],
)
def test_a_bad_photo_is_refused_in_words_and_nothing_is_saved(client, administrator, caregiver, upload, message):
    client.force_login(administrator)
    response = client.post(
        f"/admin/caregiverprofile/edit/{caregiver.pk}/", form_data(caregiver, photo=upload, photo_consent="on")
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"].errors["photo"]
    caregiver.refresh_from_db()
    assert not caregiver.photo and caregiver.photo_consent_at is None


def test_a_manager_uploads_the_photo_of_their_own_staff_with_consent(client):
    from accounts import services
    from tests.factories.accounts import CaregiverFactory, InstitutionFactory, manager_for

    services.role_groups_ensure()
    institution = InstitutionFactory()
    own = CaregiverFactory(institution=institution, user__name="本院护理员")
    other = CaregiverFactory(user__name="他院护理员")
    manager = manager_for(institution)
    client.force_login(manager)

    listing = client.get("/admin/re-evaluation/nominations/").content.decode()
    assert f"/admin/re-evaluation/nominations/{own.pk}/photo/" in listing

    url = f"/admin/re-evaluation/nominations/{own.pk}/photo/"
    refused = client.post(url, {"photo": image_file()})
    assert refused.status_code == 200 and "保存照片前，请先登记护理员本人的同意" in refused.content.decode()
    own.refresh_from_db()
    assert not own.photo

    assert client.post(url, {"photo": image_file(), "consent": "on"}).status_code == 302
    own.refresh_from_db()
    assert own.photo and own.photo_consent_by == manager
    with Image.open(own.photo.open("rb")) as stored:
        assert stored.size == SIZE

    # Another institution's caregiver does not exist for this manager.
    assert client.get(f"/admin/re-evaluation/nominations/{other.pk}/photo/").status_code == 404
    assert (
        client.post(
            f"/admin/re-evaluation/nominations/{other.pk}/photo/", {"photo": image_file(), "consent": "on"}
        ).status_code
        == 404
    )
    other.refresh_from_db()
    assert not other.photo


def test_a_replaced_photo_leaves_no_file_behind(client, administrator, caregiver):
    client.force_login(administrator)
    url = f"/admin/caregiverprofile/edit/{caregiver.pk}/"
    client.post(url, form_data(caregiver, photo=image_file(), photo_consent="on"))
    caregiver.refresh_from_db()
    first = caregiver.photo.name
    client.post(url, form_data(caregiver, photo=image_file(size=(700, 900)), photo_consent="on"))
    caregiver.refresh_from_db()
    assert caregiver.photo.name != first
    assert not caregiver.photo.storage.exists(first) and caregiver.photo.storage.exists(caregiver.photo.name)
