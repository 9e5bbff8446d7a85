"""Wagtail's redirect import, with its confirmation step refusing a form it did not send (Wagtail's own view fails
with a server error when the step's signed fields are missing)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _

SIGNED_FIELDS = ("import_file_name", "input_format")


def redirects_import_process(request):
    from wagtail.contrib.redirects.views import process_import

    if request.method == "POST" and request.user.has_perm("wagtailredirects.add_redirect"):
        if not all(request.POST.get(field) for field in SIGNED_FIELDS):
            messages.error(request, _("The import could not be confirmed: upload the file again."))
            return redirect("wagtailredirects:start_import")
    return process_import(request)


def redirects_import_urls() -> list:
    """Matched before Wagtail's own pattern for the same path."""
    return [path("admin/redirects/import/process/", redirects_import_process)]
