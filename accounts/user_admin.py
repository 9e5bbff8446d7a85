"""The admin's user screens with one addition: an administrator resets a user's second factor (a lost phone)
from the user's edit page. Installed through accounts.wagtail_users.UsersAppConfig."""

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from wagtail.admin.widgets.button import Button
from wagtail.users.views import users

from . import selectors, services
from .guards import administrator_required
from .models import User
from .two_factor import two_factor_required


class EditView(users.EditView):
    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if getattr(self.request.user, "is_administrator", False) and two_factor_required(self.object):
            buttons.append(
                Button(
                    _("Reset two-step verification"),
                    url=reverse("wagtailusers_users:two_factor_reset", args=[quote(self.object.pk)]),
                    icon_name="key",
                    priority=30,
                )
            )
        return buttons


def two_factor_reset(request, pk):
    """Confirm, then remove the user's authenticator app and recovery codes; their next request sets up new ones."""
    administrator_required(request)
    person = get_object_or_404(User, pk=pk)
    edit_url = reverse("wagtailusers_users:edit", args=[quote(person.pk)])
    if request.method == "POST":
        services.two_factor_reset(user=person, actor=request.user)
        messages.success(
            request,
            _("Two-step verification of %(name)s is reset: they set up a new phone when they next sign in.")
            % {"name": person.get_full_name()},
        )
        return redirect(edit_url)
    return TemplateResponse(
        request,
        "accounts/admin/two_factor_reset.html",
        {
            "person": person,
            "page_title": _("Reset two-step verification"),
            "has_device": selectors.two_factor_device_confirmed(user=person) is not None,
            "recovery_codes_remaining": selectors.recovery_codes_remaining(user=person),
            "edit_url": edit_url,
        },
    )


class UserViewSet(users.UserViewSet):
    edit_view_class = EditView

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(f"two-factor-reset/<{self.pk_path_converter}:pk>/", two_factor_reset, name="two_factor_reset"),
        ]
