import re

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import DraftStateMixin, Page, RevisionMixin
from wagtail.search import index

# "4", "4.1", "4.10.2", and annex clauses such as "A.1".
CLAUSE_NUMBER_RE = re.compile(r"^[0-9A-Z]+(\.[0-9]+)*$")


class HomePage(Page):
    intro = RichTextField(_("introduction"), blank=True)
    demo_notice = models.CharField(
        _("demo notice"),
        max_length=200,
        blank=True,
        help_text=_("Shown as a banner on every page while the site holds demonstration data."),
    )

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("demo_notice")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["content.ArticlePage", "training.CourseIndexPage"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")


class ArticlePage(Page):
    """News and notices from the bureau or training bodies."""

    summary = models.CharField(_("summary"), max_length=250, blank=True)
    body = RichTextField(_("body"))

    content_panels = Page.content_panels + [FieldPanel("summary"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("summary"), index.SearchField("body")]
    parent_page_types = ["content.HomePage"]
    subpage_types = []

    class Meta:
        verbose_name = _("article")


class Standard(DraftStateMixin, RevisionMixin, index.Indexed, models.Model):
    """A local standard (地方标准), e.g. DB1405/T 038—2022."""

    class Kind(models.TextChoices):
        CARE_SERVICE = "care_service", _("Care service specification")
        INSTITUTION_RATING = "institution_rating", _("Institution rating standard")
        CAREGIVER_STAR = "caregiver_star", _("Caregiver star-level evaluation standard")
        OTHER = "other", _("Other")

    code = models.CharField(_("standard code"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, default=Kind.OTHER)
    version = models.CharField(_("version"), max_length=20, blank=True)
    issuing_body = models.CharField(_("issuing body"), max_length=120)
    effective_date = models.DateField(_("effective date"))
    document = models.ForeignKey(
        "wagtaildocs.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("PDF of the standard"),
    )
    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="standard")

    panels = [
        FieldPanel("code"),
        FieldPanel("title"),
        FieldPanel("kind"),
        FieldPanel("version"),
        FieldPanel("issuing_body"),
        FieldPanel("effective_date"),
        FieldPanel("document"),
    ]
    search_fields = [
        index.SearchField("code"),
        index.SearchField("title"),
        index.AutocompleteField("code"),
        index.AutocompleteField("title"),
        index.FilterField("kind"),
        index.FilterField("live"),
    ]

    class Meta:
        ordering = ["code"]
        verbose_name = _("care standard")
        verbose_name_plural = _("care standards")

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("content:standard_detail", args=[self.pk])

    @property
    def revisions(self):
        return self._revisions


class Clause(DraftStateMixin, RevisionMixin, index.Indexed, models.Model):
    """A numbered clause of a standard; clauses nest (5 → 5.1 → 5.1.2) through `parent`."""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="clauses", verbose_name=_("standard"))
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent clause"),
    )
    number = models.CharField(_("clause number"), max_length=20, help_text=_("For example 5.1 or A.2."))
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    sort_key = models.CharField(max_length=80, editable=False, db_index=True)
    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="clause")

    panels = [
        FieldPanel("standard"),
        FieldPanel("parent"),
        FieldPanel("number"),
        FieldPanel("title"),
        FieldPanel("text"),
    ]
    search_fields = [
        index.SearchField("number"),
        index.SearchField("title"),
        index.SearchField("text"),
        index.AutocompleteField("number"),
        index.AutocompleteField("title"),
        index.FilterField("standard"),
        index.FilterField("live"),
    ]

    class Meta:
        ordering = ["standard", "sort_key"]
        constraints = [models.UniqueConstraint(fields=["standard", "number"], name="clause_number_unique_per_standard")]
        verbose_name = _("clause")
        verbose_name_plural = _("clauses")

    def __str__(self):
        return f"{self.standard.code} {self.number} {self.title}"

    def save(self, *args, **kwargs):
        self.sort_key = self.sort_key_for(self.number)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("content:standard_detail", args=[self.standard_id]) + f"#clause-{self.pk}"

    @property
    def revisions(self):
        return self._revisions

    @property
    def depth(self) -> int:
        return self.number.count(".")

    @staticmethod
    def sort_key_for(number: str) -> str:
        # "4.10" sorts after "4.9": pad each numeric part so ordering by a plain column is correct.
        return ".".join(part.zfill(4) if part.isdigit() else part for part in number.split("."))

    def clean(self):
        super().clean()
        self.number = self.number.strip()
        if not CLAUSE_NUMBER_RE.match(self.number):
            raise ValidationError({"number": _("Write the clause number as digits separated by dots, e.g. 5.1.")})
        if self.parent_id is not None:
            if self.parent.standard_id != self.standard_id:
                raise ValidationError({"parent": _("The parent clause must belong to the same standard.")})
            ancestor = self.parent
            while ancestor is not None:
                if self.pk is not None and ancestor.pk == self.pk:
                    raise ValidationError({"parent": _("A clause cannot be nested under itself.")})
                ancestor = ancestor.parent


class ServiceItem(DraftStateMixin, RevisionMixin, index.Indexed, ClusterableModel):
    """An entry of the care service item list (护理服务项目清单)."""

    class Category(models.TextChoices):
        DAILY_LIVING = "daily_living", _("Daily living care")
        BASIC_NURSING = "basic_nursing", _("Basic nursing")
        MEDICAL_NURSING = "medical_nursing", _("Medical nursing")
        PSYCHOLOGICAL = "psychological", _("Psychological comfort")

    code = models.CharField(_("item code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    description = models.TextField(_("description"), blank=True)
    steps = models.TextField(_("steps"), blank=True, help_text=_("One step per line."))
    # Parental, so that revisions record the related clauses along with the other fields.
    clauses = ParentalManyToManyField(
        Clause, blank=True, related_name="service_items", verbose_name=_("related clauses")
    )
    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="service_item")

    panels = [
        FieldPanel("code"),
        FieldPanel("name"),
        FieldPanel("category"),
        FieldPanel("description"),
        FieldPanel("steps"),
        FieldPanel("clauses"),
    ]
    search_fields = [
        index.SearchField("code"),
        index.SearchField("name"),
        index.SearchField("description"),
        index.AutocompleteField("code"),
        index.AutocompleteField("name"),
        index.FilterField("category"),
        index.FilterField("live"),
    ]

    class Meta:
        ordering = ["code"]
        verbose_name = _("care service item")
        verbose_name_plural = _("care service items")

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("content:service_item_list") + f"#item-{self.pk}"

    @property
    def revisions(self):
        return self._revisions

    @property
    def step_list(self) -> list[str]:
        return [line.strip() for line in self.steps.splitlines() if line.strip()]


def import_storage():
    return storages["imports"]


class ImportJob(models.Model):
    """One spreadsheet upload: validated as a whole, written in one transaction or not at all."""

    class Kind(models.TextChoices):
        CLAUSES = "clauses", _("Clauses of a standard")
        SERVICE_ITEMS = "service_items", _("Care service items")
        BATCH_ROSTER = "batch_roster", _("Training batch roster")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Checking")
        SUCCEEDED = "succeeded", _("Imported")
        FAILED = "failed", _("Rejected")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(_("file"), storage=import_storage, upload_to="%Y/%m/", blank=True)
    original_name = models.CharField(_("file name"), max_length=200)
    standard = models.ForeignKey(
        Standard,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="import_jobs",
        verbose_name=_("standard"),
    )
    # The training batch of a roster import; an id rather than a foreign key because the training app
    # depends on this one, not the other way round.
    target_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="import_jobs",
        verbose_name=_("uploaded by"),
    )
    language = models.CharField(max_length=10, default=settings.LANGUAGE_CODE, editable=False)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_checked = models.PositiveIntegerField(_("rows checked"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "target_id"])]
        verbose_name = _("spreadsheet import")
        verbose_name_plural = _("spreadsheet imports")

    def __str__(self):
        return f"{self.get_kind_display()} · {self.original_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.rows_total:
            return 0
        return min(99, round(100 * self.rows_checked / self.rows_total))
