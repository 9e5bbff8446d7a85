import math

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from django_otp.forms import OTPAuthenticationFormMixin
from wagtail.admin.forms import WagtailAdminModelForm

from .photos import photo_normalize
from .two_factor import two_factor_code_normalize


class CaregiverProfileForm(WagtailAdminModelForm):
    """A caregiver's record in the admin; a new photo needs the caregiver's consent, recorded with who saw it.

    The identity number is never sent to the page: on an existing record its box starts empty, shows the masked
    number, and keeps the number when left empty (the whole number is only shown by the audited reveal)."""

    photo_consent = forms.BooleanField(
        label=_("The caregiver agrees to this photo being printed on their certificates"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.registered_national_id = self.instance.national_id if self.instance.pk else ""
        field = self.fields.get("national_id")
        if field is not None and self.registered_national_id:
            masked = self.instance.national_id_masked
            self.initial["national_id"] = ""
            field.required = False
            field.widget.attrs.update({"placeholder": masked, "autocomplete": "off"})
            field.help_text = _("Registered: %(masked)s. Leave empty to keep it; type a number to replace it.") % {
                "masked": masked
            }

    def clean_national_id(self):
        return self.cleaned_data.get("national_id") or self.registered_national_id

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and "photo" in self.changed_data:
            return photo_normalize(photo)
        return photo

    def clean(self):
        cleaned = super().clean()
        if "photo" in self.changed_data and cleaned.get("photo") and not cleaned.get("photo_consent"):
            self.add_error("photo_consent", _("Record the caregiver's consent before saving a photo."))
        return cleaned

    def save(self, commit=True):
        previous = self.instance.__class__.objects.filter(pk=self.instance.pk).values_list("photo", flat=True).first()
        profile = super().save(commit=False)
        if "photo" in self.changed_data:
            if profile.photo:
                profile.photo_consent_at = timezone.now()
                profile.photo_consent_by = self.for_user
            else:
                profile.photo_consent_at = profile.photo_consent_by = None
        if commit:
            profile.save()
            self.save_m2m()
            if previous and "photo" in self.changed_data and previous != profile.photo.name:
                # A replaced or cleared photo is not kept: certificates hold their own copies.
                profile.photo.storage.delete(previous)
        return profile


class TwoFactorCodeForm(OTPAuthenticationFormMixin, forms.Form):
    """A code from the authenticator app, or a recovery code, checked by django-otp against the device that
    `device_for(code)` names (with django-otp's throttling: after each wrong code the next waits 1, 2, 4 … seconds).
    On success `get_user().otp_device` is the device that passed."""

    otp_token = forms.CharField(
        label=_("Verification code"),
        max_length=64,
        error_messages={"required": _("Enter the 6-digit code your authenticator app shows.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false", "autofocus": True}
        ),
    )

    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": _("Enter the 6-digit code your authenticator app shows."),
        "invalid_token": _(
            "The code is not right. Enter the code your authenticator app shows now (check that the phone's clock "
            "is right), or an unused recovery code."
        ),
        "n_failed_attempts": ngettext_lazy(
            "%(failure_count)d wrong code: wait a moment before the next try.",
            "%(failure_count)d wrong codes in a row: wait a moment before the next try.",
            "failure_count",
        ),
        "verification_not_allowed": _("Codes cannot be checked for this account at the moment; try again shortly."),
        "device_required": _("Enter the 6-digit code your authenticator app shows, or one of your recovery codes."),
    }

    def __init__(self, user, *args, device_for, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.device_for = device_for

    def clean(self):
        cleaned = super().clean()
        if "otp_token" not in cleaned:
            return cleaned
        token = two_factor_code_normalize(cleaned["otp_token"])
        device = self.device_for(token)
        cleaned["otp_token"] = token
        cleaned["otp_device"] = device.persistent_id if device is not None else None
        if device is not None:
            # Said here with the wait in seconds; django-otp checks again, under its row lock, in clean_otp.
            allowed, extra = device.verify_is_allowed()
            if not allowed and extra.get("locked_until"):
                seconds = max(1, math.ceil((extra["locked_until"] - timezone.now()).total_seconds()))
                raise forms.ValidationError(
                    ngettext(
                        "Too many wrong codes: try again in %(seconds)d second.",
                        "Too many wrong codes: try again in %(seconds)d seconds.",
                        seconds,
                    )
                    % {"seconds": seconds},
                    code="throttled",
                )
        self.clean_otp(self.user)
        return cleaned

    def get_user(self):
        return self.user
