import uuid
from collections.abc import Iterable

from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.utils.translation import gettext_lazy as _

from .fields import EncryptedNationalIdField, NationalIdDigestField
from .national_id import national_id_mask, national_id_normalize, validate_national_id
from .national_id_crypto import national_id_digest


def photo_storage():
    return storages["photos"]


def photo_path(profile, filename: str) -> str:
    # Never the uploader's file name (it may hold the person's name or number).
    return f"{uuid.uuid4().hex}.jpg"


class Role(models.TextChoices):
    CAREGIVER = "caregiver", _("Caregiver")
    TRAINING_BODY = "training_body", _("Training body")
    ASSESSOR = "assessor", _("Assessor")
    MANAGER = "manager", _("Institution manager")
    ADMINISTRATOR = "administrator", _("Administrator")


class County(models.Model):
    code = models.CharField(_("division code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        ordering = ["code"]
        verbose_name = _("county")
        verbose_name_plural = _("counties")

    def __str__(self):
        return self.name


class Institution(models.Model):
    class Kind(models.TextChoices):
        MEDICAL = "medical", _("Medical institution")
        ELDERLY_CARE = "elderly_care", _("Elderly-care institution")
        HOME_CARE = "home_care", _("Home-care institution")

    code = models.CharField(_("institution code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="institutions", verbose_name=_("county"))
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        ordering = ["county__code", "name"]
        verbose_name = _("designated care institution")
        verbose_name_plural = _("designated care institutions")

    def __str__(self):
        return self.name


class TrainingBody(models.Model):
    """An organisation that authors courses and runs training batches, each in its own page subtree."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    group = models.OneToOneField(
        Group,
        on_delete=models.PROTECT,
        related_name="training_body",
        verbose_name=_("permission group"),
        help_text=_("Members of this group edit the training body's courses."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("training body")
        verbose_name_plural = _("training bodies")

    def __str__(self):
        return self.name


class User(AbstractUser):
    name = models.CharField(_("full name"), max_length=50, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CAREGIVER)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff_accounts",
        verbose_name=_("institution"),
        help_text=_("For institution managers: the institution they manage."),
    )
    training_body = models.ForeignKey(
        TrainingBody,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("training body"),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.name or self.username

    def get_full_name(self):
        return self.name or super().get_full_name() or self.username

    def has_role(self, role: Role) -> bool:
        return self.is_active and self.role == role

    @property
    def is_administrator(self) -> bool:
        return self.is_active and (self.is_superuser or self.role == Role.ADMINISTRATOR)


class CaregiverProfileQuerySet(models.QuerySet):
    # Numbers are encrypted with a random token per row: they are found by their keyed hash, never by value.
    def with_national_id(self, national_id: str) -> "CaregiverProfileQuerySet":
        return self.filter(national_id_digest=national_id_digest(national_id))

    def with_national_ids(self, national_ids: Iterable[str]) -> "CaregiverProfileQuerySet":
        return self.filter(national_id_digest__in={national_id_digest(value) for value in national_ids})


class CaregiverProfile(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    class PractitionerLevel(models.IntegerChoices):
        # 长期照护师 (occupation 4-14-01-03): level 5 is the entry level, level 3 the highest of the three.
        NONE = 0, _("None")
        LEVEL_5 = 5, _("LTC practitioner level 5")
        LEVEL_4 = 4, _("LTC practitioner level 4")
        LEVEL_3 = 3, _("LTC practitioner level 3")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="caregiver_profile")
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    # Encrypted at rest (accounts.national_id_crypto); unique and looked up through its digest.
    national_id = EncryptedNationalIdField(_("identity card number"), validators=[validate_national_id])
    national_id_digest = NationalIdDigestField(unique=True)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="caregivers", verbose_name=_("institution")
    )
    employed_since = models.DateField(_("employed since"))
    practitioner_level = models.PositiveSmallIntegerField(
        _("LTC practitioner level held"), choices=PractitionerLevel.choices, default=PractitionerLevel.NONE
    )
    # How the holder's credentials name them: random, stable across their certificates, and derived from nothing
    # about them, so that no credential handed on gives away who they are.
    credential_subject = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Printed on the holder's certificates, as Chinese certificates carry one; taken only with their consent.
    photo = models.ImageField(_("photo"), storage=photo_storage, upload_to=photo_path, blank=True)
    photo_consent_at = models.DateTimeField(_("photo consent recorded at"), null=True, blank=True, editable=False)
    photo_consent_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("photo consent recorded by"),
    )

    objects = CaregiverProfileQuerySet.as_manager()

    class Meta:
        ordering = ["user__name"]
        verbose_name = _("caregiver")
        verbose_name_plural = _("caregivers")

    def __str__(self):
        return self.user.get_full_name()

    def save(self, *args, update_fields=None, **kwargs):
        # The digest follows the number, also when only the number's field is saved.
        if update_fields is not None and "national_id" in update_fields:
            update_fields = {*update_fields, "national_id_digest"}
        super().save(*args, update_fields=update_fields, **kwargs)

    @property
    def name(self) -> str:
        return self.user.get_full_name()

    @property
    def national_id_masked(self) -> str:
        """What every screen shows, administrators' too; the whole number only through the audited reveal."""
        return national_id_mask(self.national_id)

    def clean(self):
        self.national_id = national_id_normalize(self.national_id)

    def validate_unique(self, exclude=None):
        # The database keeps the digest unique; say so against the number, the field people type.
        exclude = set(exclude or ())
        super().validate_unique(exclude=exclude | {"national_id_digest"})
        if "national_id" not in exclude and self.national_id:
            others = CaregiverProfile.objects.with_national_id(self.national_id)
            if (others.exclude(pk=self.pk) if self.pk else others).exists():
                message = _("This identity card number is already registered.")
                raise ValidationError({"national_id": ValidationError(message, code="unique")})


class AssessorProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="assessor_profile")
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessors",
        verbose_name=_("institution"),
        help_text=_("Leave empty for assessors who belong to no care institution."),
    )
    qualifications = models.TextField(_("qualifications"), blank=True)
    certificate_number = models.CharField(_("assessor certificate number"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("assessor")
        verbose_name_plural = _("assessors")

    def __str__(self):
        return self.user.get_full_name()
