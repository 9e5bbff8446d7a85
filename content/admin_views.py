"""Wagtail admin screens for spreadsheet imports: the upload form, the template download, the job's report."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView, View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from accounts.guards import AdministratorRequiredMixin
from content.exports import CSV_CONTENT_TYPE, attachment

from . import selectors, services
from .imports import importer_for
from .models import ImportJob, Standard
from .spreadsheets import XLSX_CONTENT_TYPE, template_csv, template_xlsx

LIBRARY_KINDS = [ImportJob.Kind.CLAUSES, ImportJob.Kind.SERVICE_ITEMS]


class SpreadsheetUploadField(forms.FileField):
    widget = forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"})


class LibraryImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=[(kind.value, kind.label) for kind in LIBRARY_KINDS],
        widget=forms.RadioSelect,
    )
    standard = forms.ModelChoiceField(
        label=gettext_lazy("Standard"),
        queryset=Standard.objects.order_by("code"),
        required=False,
        help_text=gettext_lazy(
            "Clauses: the standard they belong to. Service items: the standard their related clause numbers refer to."
        ),
    )
    file = SpreadsheetUploadField(label=gettext_lazy("Spreadsheet (.xlsx or .csv)"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == ImportJob.Kind.CLAUSES and not cleaned.get("standard"):
            self.add_error("standard", _("Choose the standard the clauses belong to."))
        return cleaned


def template_links(kinds) -> list[dict]:
    return [
        {
            "label": importer_for(kind).title(),
            "xlsx": reverse("content_imports:template", args=[kind, "xlsx"]),
            "csv": reverse("content_imports:template", args=[kind, "csv"]),
        }
        for kind in kinds
    ]


class LibraryImportView(AdministratorRequiredMixin, WagtailAdminTemplateMixin, FormView):
    template_name = "content/admin/import_form.html"
    form_class = LibraryImportForm
    page_title = gettext_lazy("Import from a spreadsheet")
    header_icon = "upload"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["templates"] = template_links(LIBRARY_KINDS)
        context["jobs"] = selectors.import_jobs_for(self.request.user).filter(kind__in=LIBRARY_KINDS)[:20]
        return context

    def form_valid(self, form):
        try:
            job = services.import_job_create(
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                user=self.request.user,
                standard=form.cleaned_data.get("standard"),
            )
        except ValidationError as error:
            form.add_error("file", error)
            return self.form_invalid(form)
        import_job_message(self.request, job)
        return redirect("content_imports:job", job.pk)


class ImportJobView(WagtailAdminTemplateMixin, TemplateView):
    """What became of an upload: progress while it is checked, then every bad row or what was written."""

    template_name = "content/admin/import_job.html"
    page_title = gettext_lazy("Spreadsheet import")
    header_icon = "upload"

    def dispatch(self, request, *args, **kwargs):
        self.job = get_object_or_404(selectors.import_jobs_for(request.user), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.job.original_name

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["job"] = self.job
        if self.job.kind == ImportJob.Kind.BATCH_ROSTER:
            context["back_url"] = reverse("training_batches:roster", args=[self.job.target_id])
        else:
            context["back_url"] = reverse("content_imports:index")
        return context


class TemplateDownloadView(View):
    def get(self, request, kind: str, extension: str):
        if not getattr(request.user, "is_authenticated", False) or not request.user.has_perm(
            "wagtailadmin.access_admin"
        ):
            raise PermissionDenied
        if kind not in ImportJob.Kind.values or extension not in ("xlsx", "csv"):
            raise Http404
        importer = importer_for(kind)
        if extension == "xlsx":
            content = template_xlsx(columns=importer.columns, examples=importer.examples(), title=importer.title())
            content_type = XLSX_CONTENT_TYPE
        else:
            content = template_csv(columns=importer.columns, examples=importer.examples())
            content_type = CSV_CONTENT_TYPE
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = attachment(f"{importer.template_name}.{extension}")
        return response


def import_job_message(request, job: ImportJob) -> None:
    if job.status == ImportJob.Status.SUCCEEDED:
        messages.success(request, _("The file was imported."))
    elif job.status == ImportJob.Status.FAILED:
        messages.error(request, _("The file was rejected and nothing was written; see the problems below."))
    else:
        messages.info(request, _("The file is large and is being checked in the background."))
