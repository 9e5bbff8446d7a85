from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index


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

    def get_context(self, request, *args, **kwargs):
        from training.selectors import course_list_live

        context = super().get_context(request, *args, **kwargs)
        context["courses"] = course_list_live()[:12]
        return context


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


class Standard(index.Indexed, models.Model):
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

    panels = [
        FieldPanel("code"),
        FieldPanel("title"),
        FieldPanel("kind"),
        FieldPanel("version"),
        FieldPanel("issuing_body"),
        FieldPanel("effective_date"),
        FieldPanel("document"),
    ]
    search_fields = [index.SearchField("code"), index.SearchField("title"), index.FilterField("kind")]

    class Meta:
        ordering = ["code"]
        verbose_name = _("care standard")
        verbose_name_plural = _("care standards")

    def __str__(self):
        return f"{self.code} {self.title}"


class Clause(index.Indexed, models.Model):
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="clauses", verbose_name=_("standard"))
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent clause"),
    )
    number = models.CharField(_("clause number"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    sort_key = models.CharField(max_length=80, editable=False, db_index=True)

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
        index.FilterField("standard"),
    ]

    class Meta:
        ordering = ["standard", "sort_key"]
        constraints = [models.UniqueConstraint(fields=["standard", "number"], name="clause_number_unique_per_standard")]
        verbose_name = _("clause")
        verbose_name_plural = _("clauses")

    def __str__(self):
        return f"{self.standard.code} {self.number} {self.title}"

    def save(self, *args, **kwargs):
        # "4.10" sorts after "4.9": pad each numeric part so ordering by a plain column is correct.
        self.sort_key = ".".join(part.zfill(4) if part.isdigit() else part for part in self.number.split("."))
        super().save(*args, **kwargs)


class ServiceItem(index.Indexed, models.Model):
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
    clauses = models.ManyToManyField(
        Clause, blank=True, related_name="service_items", verbose_name=_("related clauses")
    )

    panels = [
        FieldPanel("code"),
        FieldPanel("name"),
        FieldPanel("category"),
        FieldPanel("description"),
        FieldPanel("steps"),
        FieldPanel("clauses"),
    ]
    search_fields = [index.SearchField("code"), index.SearchField("name"), index.FilterField("category")]

    class Meta:
        ordering = ["code"]
        verbose_name = _("care service item")
        verbose_name_plural = _("care service items")

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def step_list(self) -> list[str]:
        return [line.strip() for line in self.steps.splitlines() if line.strip()]
