"""Administrator screens in the Wagtail admin: revoke and re-issue certificates, issue batches with progress."""

import tempfile
import zipfile

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.snippets.views.snippets import SnippetViewSet

from accounts.guards import AdministratorMenuItem, administrator_required
from accounts.models import County, Institution

from ..evaluations.models import EvaluationRound
from . import selectors, services
from .models import Certificate, CertificateBatch, CertificateTemplate


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, widget=forms.Textarea(attrs={"rows": 3}))


ACTIONS = {
    "revoke": (gettext_lazy("Revoke certificate"), services.certificate_revoke),
    "reissue": (gettext_lazy("Re-issue certificate"), services.certificate_reissue),
}


def certificate_action(request, pk: int, action: str):
    administrator_required(request)
    certificate = get_object_or_404(Certificate, pk=pk)
    title, service = ACTIONS[action]
    form = ReasonForm(request.POST or None)
    if form.is_valid():
        try:
            result = service(certificate=certificate, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Done: %(serial)s is now %(status)s.")
                % {"serial": result.serial_number, "status": result.get_status_display()},
            )
            return redirect(reverse("certificates:inspect", args=[result.pk]))
    return TemplateResponse(
        request,
        "certification/admin/certificate_action.html",
        {"certificate": certificate, "form": form, "page_title": title, "action": action},
    )


class BatchForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    institution = forms.ModelChoiceField(
        label=gettext_lazy("Institution"), queryset=Institution.objects.order_by("name"), required=False
    )
    county = forms.ModelChoiceField(label=gettext_lazy("County"), queryset=County.objects.all(), required=False)
    round = forms.ModelChoiceField(
        label=gettext_lazy("Evaluation round"),
        queryset=EvaluationRound.objects.order_by("-opened_at", "-pk"),
        required=False,
    )


def batch_index(request):
    administrator_required(request)
    form = BatchForm(request.POST or None)
    if form.is_valid():
        try:
            batch = services.certificate_batch_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                institution_id=getattr(form.cleaned_data["institution"], "pk", None),
                county_id=getattr(form.cleaned_data["county"], "pk", None),
                round_id=getattr(form.cleaned_data["round"], "pk", None),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("certificate_batches:detail", pk=batch.pk)
    return TemplateResponse(
        request,
        "certification/admin/batch_index.html",
        {
            "form": form,
            "batches": selectors.certificate_batches_with_progress(),
            "page_title": _("Certificate batches"),
        },
    )


def batch_detail(request, pk: int):
    administrator_required(request)
    batch = get_object_or_404(CertificateBatch, pk=pk)
    failures = (
        batch.items.filter(certificate__isnull=True).exclude(error="").select_related("evaluation__caregiver__user")
    )
    return TemplateResponse(
        request,
        "certification/admin/batch_detail.html",
        {
            "batch": batch,
            "progress": selectors.certificate_batch_progress(batch=batch),
            "failures": failures[:100],
            "page_title": batch.name,
        },
    )


def batch_zip(request, pk: int):
    """All PDFs of a batch in one ZIP, streamed from a temporary file (the stored PDFs, never re-rendered)."""
    administrator_required(request)
    batch = get_object_or_404(CertificateBatch, pk=pk)
    archive = tempfile.TemporaryFile()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as bundle:
        for certificate in Certificate.objects.filter(pk__in=batch.items.values("certificate")).only(
            "pdf", "serial_number"
        ):
            with certificate.pdf.open("rb") as handle:
                bundle.writestr(f"{certificate.serial_number}.pdf", handle.read())
    archive.seek(0)
    return FileResponse(archive, as_attachment=True, filename=f"certificates-batch-{batch.pk}.zip")


class CertificateBatchViewSet(ViewSet):
    name = "certificate_batches"
    icon = "download"
    menu_label = gettext_lazy("Certificate batches")
    add_to_admin_menu = False

    @property
    def menu_item_class(self):
        return AdministratorMenuItem

    def get_urlpatterns(self):
        return [
            path("", batch_index, name="index"),
            path("<int:pk>/", batch_detail, name="detail"),
            path("<int:pk>/zip/", batch_zip, name="zip"),
        ]


class CertificateActionViewSet(ViewSet):
    name = "certificate_actions"

    def get_urlpatterns(self):
        return [
            path("<int:pk>/revoke/", certificate_action, {"action": "revoke"}, name="revoke"),
            path("<int:pk>/reissue/", certificate_action, {"action": "reissue"}, name="reissue"),
        ]


class CertificateActionsColumn(Column):
    """Links to revoke or re-issue a valid certificate, and to its public page."""

    def get_value(self, instance):
        links = [format_html('<a href="{}" target="_blank">{}</a>', instance.get_absolute_url(), _("Public page"))]
        if instance.is_valid:
            links.append(
                format_html(
                    '<a href="{}">{}</a>', reverse("certificate_actions:reissue", args=[instance.pk]), _("Re-issue")
                )
            )
        if instance.status != Certificate.Status.REVOKED:
            links.append(
                format_html(
                    '<a href="{}">{}</a>', reverse("certificate_actions:revoke", args=[instance.pk]), _("Revoke")
                )
            )
        return format_html(" · ".join(["{}"] * len(links)), *links)


class CertificateViewSet(ModelViewSet):
    model = Certificate
    name = "certificates"
    icon = "success"
    menu_label = gettext_lazy("Certificates")
    list_display = [
        "serial_number",
        "holder_name",
        "star_level",
        "status",
        "issued_on",
        "valid_until",
        CertificateActionsColumn("actions", label=gettext_lazy("Actions")),
    ]
    list_filter = ["status", "star_level"]
    search_fields = ["serial_number", "holder_name"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "serial_number",
        "holder_name",
        "holder_national_id_masked",
        "star_level",
        "issuer",
        "issued_on",
        "valid_until",
        "status",
        "status_reason",
        "status_changed_at",
        "predecessor",
        "issue_reason",
        "pdf_sha256",
    ]
    copy_view_enabled = False
    form_fields = []


class CertificateTemplateViewSet(SnippetViewSet):
    model = CertificateTemplate
    icon = "doc-full"
    menu_label = gettext_lazy("Certificate templates")
    list_display = ["name", "is_active", "orientation"]
