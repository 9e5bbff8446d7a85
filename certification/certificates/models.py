"""Certificates (证书): the frozen record of a decision, its PDF, serial numbers, templates, reminders and batches."""

import datetime
import re

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.models import PreviewableMixin, RevisionMixin

from ..dates import add_years
from ..evaluations.models import Evaluation, EvaluationRound
from ..rules.models import STAR_LEVEL


def certificate_storage():
    # Private storage: certificate PDFs are served only through permission-checked views.
    return storages["certificates"]


class SerialCounter(models.Model):
    """The last serial number issued per fixed part of the number (serials.serial_scope, e.g. 140500-2026-#);
    bumped in the issuing transaction, so no gaps."""

    scope = models.CharField(max_length=40, unique=True)
    region = models.CharField(max_length=12)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.scope}: {self.last_value}"


class CertificateTemplate(PreviewableMixin, RevisionMixin, models.Model):
    """The layout and wording of certificates. Administrators edit it; the active one is used at issue."""

    class Orientation(models.TextChoices):
        LANDSCAPE = "landscape", _("A4 landscape")
        PORTRAIT = "portrait", _("A4 portrait")

    PLACEHOLDERS = ("holder_name", "national_id", "star_level", "stars", "issuer")

    name = models.CharField(_("name"), max_length=80)
    is_active = models.BooleanField(_("active"), default=False, help_text=_("The template used for new certificates."))
    orientation = models.CharField(
        _("layout"), max_length=20, choices=Orientation.choices, default=Orientation.LANDSCAPE
    )
    title = models.CharField(_("title"), max_length=40, default="护理员星级证书")
    subtitle = models.CharField(
        _("subtitle"), max_length=120, blank=True, default="长期护理保险定点护理服务人员 · 护理技能星级评定"
    )
    statement = models.TextField(
        _("statement"),
        default="兹证明 {holder_name}（身份证号 {national_id}）经理论考试与实操考核，"
        "依据护理员星级评定规范评定为 {stars} {star_level} 星级护理员。",
        help_text=_("Placeholders: {holder_name}, {national_id}, {star_level}, {stars}, {issuer}."),
    )
    signatory = models.CharField(_("signatory"), max_length=60, blank=True)
    accent_color = models.CharField(_("accent colour"), max_length=7, default="#a8322d")
    background = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("background image"),
    )
    seal = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("seal image"),
    )
    signature = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signature image"),
    )
    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="certificate_template")

    panels = [
        FieldPanel("name"),
        FieldPanel("is_active"),
        FieldPanel("orientation"),
        FieldPanel("title"),
        FieldPanel("subtitle"),
        FieldPanel("statement"),
        FieldPanel("signatory"),
        FieldPanel("accent_color"),
        FieldPanel("background"),
        FieldPanel("seal"),
        FieldPanel("signature"),
    ]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_certificate_template"
            )
        ]
        verbose_name = _("certificate template")
        verbose_name_plural = _("certificate templates")

    def __str__(self):
        return self.name

    @property
    def revisions(self):
        return self._revisions

    def clean(self):
        from string import Formatter

        errors = {}
        try:
            parts = [(name, spec, conversion) for _text, name, spec, conversion in Formatter().parse(self.statement)]
        except ValueError:
            errors["statement"] = _("Unbalanced braces in the statement.")
        else:
            fields = {name for name, _spec, _conversion in parts if name is not None}
            unknown = fields - set(self.PLACEHOLDERS)
            if unknown:
                errors["statement"] = _("Unknown placeholders: %(names)s") % {"names": ", ".join(sorted(unknown))}
            elif any(spec or conversion for name, spec, conversion in parts if name is not None):
                # A format spec such as {star_level:>999999999} would let a template exhaust the renderer's memory.
                errors["statement"] = _("Placeholders take no format: write them as {holder_name}.")
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", self.accent_color or ""):
            errors["accent_color"] = _("Give the colour as #RRGGBB.")
        if errors:
            raise ValidationError(errors)

    def serve_preview(self, request, mode_name):
        from .rendering import certificate_render_pdf

        pdf = certificate_render_pdf(certificate_sample(), template=self)
        return HttpResponse(pdf, content_type="application/pdf")


class CertificateQuerySet(models.QuerySet):
    def issued(self):
        """Certificates whose PDF exists: everything but those still being issued."""
        return self.exclude(status=Certificate.Status.PENDING)


class Certificate(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Being issued")
        VALID = "valid", _("Valid")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        SUPERSEDED = "superseded", _("Superseded")

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("Issued on the decision")
        REISSUE = "reissue", _("Re-issued (correction)")

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("evaluation")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ORIGINAL)
    predecessor = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="successor",
        verbose_name=_("supersedes"),
    )
    issue_reason = models.CharField(_("reason for issue"), max_length=200, blank=True)
    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile", on_delete=models.PROTECT, related_name="certificates", verbose_name=_("holder")
    )
    template = models.ForeignKey(
        CertificateTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
        verbose_name=_("template"),
    )
    serial_number = models.CharField(_("serial number"), max_length=32, unique=True)
    verification_code = models.CharField(_("verification code"), max_length=32, unique=True)
    # Frozen at issue: what the PDF says, even if the profile changes later.
    holder_name = models.CharField(_("holder name"), max_length=50)
    holder_national_id_masked = models.CharField(_("identity card number (masked)"), max_length=18)
    # The holder's opaque credential subject (CaregiverProfile.credential_subject): how the Open Badges credential
    # names them. Nothing derived from the identity card number leaves the platform.
    holder_subject = models.UUIDField(editable=False)
    # The holder's photo as printed (a copy, in the certificates' private storage), if they consented to one.
    holder_photo = models.FileField(storage=certificate_storage, blank=True, editable=False)
    # Its revocation bit in the Bitstring status lists: drawn at random, so it tells nothing of order or volume.
    status_list_index = models.PositiveIntegerField(unique=True, editable=False)
    star_level = models.PositiveSmallIntegerField(_("star level"), validators=STAR_LEVEL)
    issuer = models.CharField(_("issuer"), max_length=120)
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("status changed by"),
    )
    status_reason = models.CharField(_("reason"), max_length=300, blank=True)
    pdf = models.FileField(_("PDF"), storage=certificate_storage, blank=True)
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True, db_index=True)
    notified_at = models.DateTimeField(_("holder notified at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["status", "valid_until"])]
        constraints = [
            # One certificate per decision, whatever the queue redelivers: the database holds the rule.
            # Corrections are re-issues that supersede it, chained through `predecessor`.
            models.UniqueConstraint(
                fields=["evaluation"], condition=Q(kind="original"), name="one_certificate_per_decision"
            ),
            models.CheckConstraint(
                condition=Q(kind="original") | Q(predecessor__isnull=False), name="reissue_names_its_predecessor"
            ),
        ]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")

    def __str__(self):
        return self.serial_number

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("certification:verify", kwargs={"code": self.verification_code})

    @property
    def stars(self) -> str:
        return "★" * self.star_level

    @property
    def verify_url(self) -> str:
        return f"{settings.SITE_URL}{self.get_absolute_url()}"

    @property
    def is_valid(self) -> bool:
        return self.status == self.Status.VALID


class CertificateReminder(models.Model):
    """An expiry reminder sent: one per certificate and threshold, so the daily job never repeats itself."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["certificate", "days_before"], name="one_reminder_per_threshold")
        ]

    def __str__(self):
        return f"{self.certificate} −{self.days_before}d"


class CertificateBatch(models.Model):
    """Issuance of many certificates at once (an evaluation round, an institution, a county)."""

    name = models.CharField(_("name"), max_length=120)
    institution = models.ForeignKey(
        "accounts.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("institution"),
    )
    county = models.ForeignKey(
        "accounts.County", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("county")
    )
    round = models.ForeignKey(
        EvaluationRound,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificate_batches",
        verbose_name=_("evaluation round"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("certificate batch")
        verbose_name_plural = _("certificate batches")

    def __str__(self):
        return self.name


class CertificateBatchItem(models.Model):
    batch = models.ForeignKey(CertificateBatch, on_delete=models.CASCADE, related_name="items")
    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="+")
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "evaluation"], name="batch_item_unique")]

    def __str__(self):
        return f"{self.batch} · {self.evaluation_id}"


def default_template():
    """The built-in layout and wording, used until an administrator activates a template of their own."""
    return CertificateTemplate(name="默认模板")


def certificate_sample(*, holder_name: str = "王秀英", star_level: int = 3):
    """An unsaved certificate with plausible data, for previews and benchmarks."""
    today = datetime.date.today()
    return Certificate(
        serial_number=f"{settings.CERTIFICATE_REGION_CODE}-{today.year}-000123",
        verification_code="SAMPLE-Verification-0123",
        holder_name=holder_name,
        holder_national_id_masked="140502********0044",
        star_level=star_level,
        issuer=settings.CERTIFICATE_ISSUER,
        issued_on=today,
        valid_until=add_years(today, settings.CERTIFICATE_VALIDITY_YEARS),
    )
