"""Wagtail admin screens for service data: the spreadsheet upload, its templates, and client tokens shown once."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, View
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from accounts.guards import AdministratorRequiredMixin, administrator_required
from content.admin_views import SpreadsheetUploadField
from content.exports import CSV_CONTENT_TYPE, attachment
from content.spreadsheets import XLSX_CONTENT_TYPE, template_csv, template_xlsx

from . import clients
from .imports import SHEET_KINDS, SpreadsheetRejected, service_data_spreadsheet_import
from .models import ServiceDataClient

IMPORTS_INDEX = "service_data_imports:index"
CLIENTS_INDEX = "service_data_clients:index"


class ServiceDataUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=[(sheet.key, sheet.title) for sheet in SHEET_KINDS.values()],
        widget=forms.RadioSelect,
    )
    file = SpreadsheetUploadField(label=gettext_lazy("Spreadsheet (.xlsx or .csv)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB; split it into smaller files.")
                % {"size": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        return upload


class ServiceDataUploadView(AdministratorRequiredMixin, WagtailAdminTemplateMixin, FormView):
    template_name = "certification/admin/service_data_import.html"
    form_class = ServiceDataUploadForm
    page_title = gettext_lazy("Import service data")
    header_icon = "upload"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sheets"] = [
            {
                "title": sheet.title,
                "columns": sheet.columns,
                "xlsx": reverse("service_data_upload:template", args=[sheet.key, "xlsx"]),
                "csv": reverse("service_data_upload:template", args=[sheet.key, "csv"]),
            }
            for sheet in SHEET_KINDS.values()
        ]
        context["imports_url"] = reverse(IMPORTS_INDEX)
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        name = (upload.name or "").rsplit("/", 1)[-1]
        try:
            outcome = service_data_spreadsheet_import(
                kind=form.cleaned_data["kind"], data=upload.read(), name=name, user=self.request.user
            )
        except SpreadsheetRejected as rejected:
            return self.render_to_response(self.get_context_data(form=form, problems=rejected.problems))
        record = outcome.record
        if not outcome.created:
            messages.info(
                self.request,
                _("This file was already imported on %(when)s; nothing was written again.")
                % {"when": timezone.localtime(record.created_at).strftime("%Y-%m-%d %H:%M")},
            )
        else:
            summary = _(
                "Imported: %(months_created)s new and %(months_updated)s corrected monthly figures, "
                "%(incidents_created)s new and %(incidents_updated)s updated incidents."
            ) % {
                "months_created": outcome.months_created,
                "months_updated": outcome.months_updated,
                "incidents_created": outcome.incidents_created,
                "incidents_updated": outcome.incidents_updated,
            }
            if outcome.downgrade_checks:
                summary += " " + _(
                    "%(count)s caregivers have a newly substantiated incident; their star levels are being re-checked."
                ) % {"count": outcome.downgrade_checks}
            messages.success(self.request, summary)
        return redirect("service_data_imports:inspect", record.pk)


class TemplateDownloadView(AdministratorRequiredMixin, View):
    def get(self, request, kind: str, extension: str):
        sheet = SHEET_KINDS.get(kind)
        if sheet is None or extension not in ("xlsx", "csv"):
            raise Http404
        if extension == "xlsx":
            content = template_xlsx(columns=sheet.columns, examples=sheet.examples, title=str(sheet.title))
            content_type = XLSX_CONTENT_TYPE
        else:
            content = template_csv(columns=sheet.columns, examples=sheet.examples)
            content_type = CSV_CONTENT_TYPE
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = attachment(f"{sheet.template_name}.{extension}")
        return response


# --- Client systems and their tokens ---------------------------------------------------------------------


def _token_page(request, *, client: ServiceDataClient, token: str, title: str) -> TemplateResponse:
    response = TemplateResponse(
        request,
        "certification/admin/service_data_token.html",
        {
            "client": client,
            "token": token,
            "page_title": title,
            "endpoint": request.build_absolute_uri(reverse("certification:service_data_api")),
            "index_url": reverse(CLIENTS_INDEX),
        },
    )
    # The token is in this page only: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response


class ClientCreateView(generic.CreateView):
    """Creating a client shows its token on the next page, once; only a hash of it is kept."""

    expects_json_response = False

    def form_valid(self, form):
        client, token = clients.service_data_client_create(name=form.cleaned_data["name"], actor=self.request.user)
        return _token_page(self.request, client=client, token=token, title=_("Client created"))


def client_rotate(request, pk: int):
    administrator_required(request)
    client = get_object_or_404(ServiceDataClient, pk=pk)
    if request.method == "POST":
        token = clients.service_data_client_token_rotate(client=client, actor=request.user)
        client.refresh_from_db()
        return _token_page(request, client=client, token=token, title=_("New token"))
    return TemplateResponse(
        request,
        "certification/admin/service_data_client_action.html",
        {
            "client": client,
            "page_title": _("Replace the token"),
            "explanation": _(
                "A new token is made and shown once. The current token (beginning %(prefix)s) stops working at once: "
                "give the new one to the client system's operators before they send again."
            )
            % {"prefix": client.token_prefix},
            "button": _("Replace the token"),
            "index_url": reverse(CLIENTS_INDEX),
        },
    )


def client_active(request, pk: int):
    administrator_required(request)
    client = get_object_or_404(ServiceDataClient, pk=pk)
    activate = not client.is_active
    if request.method == "POST":
        clients.service_data_client_active_set(client=client, actor=request.user, active=activate)
        messages.success(
            request,
            (_("%(name)s may send service data again.") if activate else _("%(name)s can no longer send service data."))
            % {"name": client.name},
        )
        return redirect(CLIENTS_INDEX)
    return TemplateResponse(
        request,
        "certification/admin/service_data_client_action.html",
        {
            "client": client,
            "page_title": _("Reactivate the client") if activate else _("Deactivate the client"),
            "explanation": _("Its current token works again at once.")
            if activate
            else _("Its token is refused from now on; the data it sent stays."),
            "button": _("Reactivate") if activate else _("Deactivate"),
            "danger": not activate,
            "index_url": reverse(CLIENTS_INDEX),
        },
    )
