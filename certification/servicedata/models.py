"""Service data the LTCI system holds about each caregiver: monthly service figures and incidents.

It arrives in import batches, from a spreadsheet or from a client system through the JSON API; a batch is
written all at once or not at all, and sending the same batch again changes nothing.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServiceDataClient(models.Model):
    """A client system (the LTCI information system of a city) that may post service data with its token."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    token_prefix = models.CharField(_("token begins with"), max_length=8, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service data client")
        verbose_name_plural = _("service data clients")

    def __str__(self):
        return self.name

    def token_set_new(self) -> str:
        """A fresh token; only its hash is kept, so it is shown once."""
        token = secrets.token_urlsafe(32)
        self.token_prefix = token[:8]
        self.token_hash = token_hash(token)
        return token


class ServiceDataImport(models.Model):
    """One batch of service data, written in one transaction."""

    class Source(models.TextChoices):
        SPREADSHEET = "spreadsheet", _("Spreadsheet")
        API = "api", _("API")

    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    client = models.ForeignKey(
        ServiceDataClient, on_delete=models.PROTECT, null=True, blank=True, related_name="imports"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The sender's own batch id (API) or the file's SHA-256 (spreadsheet): a resend is recognised by it.
    batch_key = models.CharField(_("batch"), max_length=100)
    payload_sha256 = models.CharField(max_length=64)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    months_written = models.PositiveIntegerField(_("monthly figures written"), default=0)
    incidents_written = models.PositiveIntegerField(_("incidents written"), default=0)
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "batch_key"], condition=Q(client__isnull=False), name="service_import_client_batch"
            ),
            models.UniqueConstraint(
                fields=["batch_key"], condition=Q(client__isnull=True), name="service_import_file_batch"
            ),
        ]
        verbose_name = _("service data import")
        verbose_name_plural = _("service data imports")

    def __str__(self):
        return f"{self.get_source_display()} · {self.batch_key}"


class ServiceMonth(models.Model):
    """A caregiver's service in one calendar month: hours served and the satisfaction surveys returned."""

    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile",
        on_delete=models.PROTECT,
        related_name="service_months",
        verbose_name=_("caregiver"),
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    service_hours = models.DecimalField(_("service hours"), max_digits=6, decimal_places=1, default=0)
    surveys = models.PositiveIntegerField(_("satisfaction surveys returned"), default=0)
    satisfied = models.PositiveIntegerField(_("of which satisfied"), default=0)
    imported_in = models.ForeignKey(ServiceDataImport, on_delete=models.PROTECT, related_name="months")

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["caregiver", "month"], name="service_month_unique"),
            models.CheckConstraint(condition=Q(satisfied__lte=F("surveys")), name="service_month_satisfied_le_surveys"),
        ]
        verbose_name = _("monthly service figures")
        verbose_name_plural = _("monthly service figures")

    def __str__(self):
        return f"{self.caregiver} · {self.month:%Y-%m}"


class ServiceIncident(models.Model):
    """A complaint, liability accident or ethics breach recorded by the LTCI system."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        LIABILITY_ACCIDENT = "liability_accident", _("Liability accident")
        ETHICS_BREACH = "ethics_breach", _("Ethics breach")

    caregiver = models.ForeignKey(
        "accounts.CaregiverProfile", on_delete=models.PROTECT, related_name="incidents", verbose_name=_("caregiver")
    )
    # The LTCI system's own reference: the same incident sent again updates this row, never adds one.
    reference = models.CharField(_("reference"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    occurred_on = models.DateField(_("occurred on"))
    substantiated = models.BooleanField(_("substantiated"), default=False)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    imported_in = models.ForeignKey(ServiceDataImport, on_delete=models.PROTECT, related_name="incidents")

    class Meta:
        ordering = ["-occurred_on"]
        indexes = [models.Index(fields=["caregiver", "kind", "occurred_on"])]
        verbose_name = _("service incident")
        verbose_name_plural = _("service incidents")

    def __str__(self):
        return f"{self.reference} · {self.get_kind_display()}"
